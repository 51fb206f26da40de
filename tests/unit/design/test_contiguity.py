"""design.contiguity on hand-drawn squares: rook neighbours (a shared edge, not a corner) and islands joined by
their shortest crossing, reported as such (issue #12 s.1)."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from partnering.design.contiguity import contiguity, is_connected

pytestmark = pytest.mark.unit


def test_shared_edges_make_neighbours_and_corners_do_not():
    # A | B side by side; C touches B only at a corner; D is an island 0.5 degrees east of B
    geoms = [box(0, 50, 1, 51), box(1, 50, 2, 51), box(2, 51, 3, 52), box(2.5, 50, 3, 50.5)]
    c = contiguity(["A", "B", "C", "D"], geoms)
    assert [(a, b) for a, b, _ in c.edges] == [("A", "B")]
    assert c.edges[0][2] == pytest.approx(1.0)
    # C and D have no land neighbour: each joins by its shortest crossing, and the graph becomes connected
    crossed = {frozenset((x.a, x.b)) for x in c.crossings}
    assert len(c.crossings) == 2
    assert frozenset(("B", "D")) in crossed  # 0.5 degrees of longitude at 50 N is about 36 km
    gap = next(x.km for x in c.crossings if {x.a, x.b} == {"B", "D"})
    assert 30 < gap < 40
    assert is_connected(set(range(4)), c.neighbours())


def test_is_connected_sees_a_gap():
    nb = [[1], [0, 2], [1, 3], [2]]
    assert is_connected({0, 1, 2}, nb)
    assert not is_connected({0, 2}, nb)
