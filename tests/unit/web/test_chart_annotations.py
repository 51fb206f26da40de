"""web.charts.spc_figure's optional annotations (issue #11 s.2): PDSA cycles as vertical markers; without them the
figure is unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from partnering.web.charts import spc_figure

pytestmark = pytest.mark.unit


def _points():
    x = pd.date_range("2024-01-01", periods=6, freq="MS")
    return pd.DataFrame({"x": x, "y": [1.0, 2, 3, 2, 1, 2], "mean": 1.83, "lpl": 0.0, "upl": 4.0,
                         "point_type": "common_cause"})


def test_without_annotations_the_figure_is_as_before():
    fig = spc_figure(_points(), "T", "percent")
    assert "shapes" not in fig["layout"] and "annotations" not in fig["layout"]
    assert fig == spc_figure(_points(), "T", "percent", annotations=None)


def test_each_cycle_is_a_dotted_line_with_its_label_and_a_band_to_its_end():
    fig = spc_figure(_points(), "T", annotations=[{"x": "2024-03", "label": "PDSA 1: pilot", "x_end": "2024-05"},
                                                  {"x": "2024-04", "label": "PDSA 2: spread"}])
    lines = [s for s in fig["layout"]["shapes"] if s["type"] == "line"]
    bands = [s for s in fig["layout"]["shapes"] if s["type"] == "rect"]
    assert [(s["x0"], s["line"]["dash"]) for s in lines] == [("2024-03-01", "dot"), ("2024-04-01", "dot")]
    assert [(b["x0"], b["x1"]) for b in bands] == [("2024-03-01", "2024-05-01")]
    labels = fig["layout"]["annotations"]
    assert [a["text"] for a in labels] == ["PDSA 1: pilot", "PDSA 2: spread"]
    assert labels[0]["y"] != labels[1]["y"]  # neighbours staggered so both stay readable
