"""XmR limits: hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from partnering.measure.spc.limits import LIMIT_FACTOR, TWO_SIGMA_FACTOR, moving_ranges, xmr_limits
from partnering.measure.spc.segments import Segments

pytestmark = pytest.mark.unit


def _limits(y, fix=np.inf, screen=True):
    y = np.asarray(y, float)
    seg = Segments.single(len(y))
    return xmr_limits(y, seg, np.full(len(y), fix), np.full(len(y), screen))


def test_mean_and_limits_by_hand():
    lim = _limits([1, 3, 2, 4])
    # moving ranges 2, 1, 2 -> mean 5/3 (none >= 3.267 x 5/3)
    assert lim.mean[0] == pytest.approx(2.5)
    assert lim.upl[0] == pytest.approx(2.5 + 2.66 * 5 / 3)
    assert lim.lower_2sigma[0] == pytest.approx(2.5 - TWO_SIGMA_FACTOR * 5 / 3)
    assert TWO_SIGMA_FACTOR == pytest.approx(2 * LIMIT_FACTOR / 3)


def test_missing_value_voids_both_neighbouring_ranges():
    mr = moving_ranges(np.array([1, 2, np.nan, 5, 9.0]), np.array([True, False, False, False, False]))
    assert np.isnan(mr[[0, 2, 3]]).all() and mr[1] == 1 and mr[4] == 4


def test_screening_drops_large_ranges_once():
    y = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 20]
    screened, raw = _limits(y), _limits(y, screen=False)
    # raw mean MR = (10 + 20) / 11; 20 >= 3.267 x that, so screened mean MR = 1
    assert raw.upl[0] - raw.mean[0] == pytest.approx(2.66 * 30 / 11)
    assert screened.upl[0] - screened.mean[0] == pytest.approx(2.66)


def test_fix_after_counts_missing_rows_and_limits_are_not_clamped():
    y = [np.nan] + [1.0, 2.0] * 6 + [100.0] * 5
    lim = _limits(y, fix=12)
    # first 12 rows: one missing, then 1,2,1,2,... (11 values, mean 16/11)
    assert lim.mean[-1] == pytest.approx(16 / 11)
    assert lim.lpl[0] < 0
