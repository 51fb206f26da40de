"""The one SPC chart specification (issue #14.2): the target line wherever assurance is computed, a marker on every
point, lower limits floored at 0 with a note, and one marker vocabulary on the web (Plotly) and in the report
(matplotlib)."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from partnering.measure.spc import run_spc
from partnering.report.chart_spec import MARKERS, chart_spec, shown_limits
from partnering.report.spc_chart import POINT_STYLE as REPORT_STYLE
from partnering.report.spc_chart import draw_spec
from partnering.web.charts import POINT_STYLE as WEB_STYLE
from partnering.web.charts import figure_from_spec

pytestmark = pytest.mark.unit

MONTHS = pd.date_range("2022-01-01", periods=36, freq="MS")


def _points(y, **kw):
    data = pd.DataFrame({"series": "S", "x": MONTHS[: len(y)], "y": np.asarray(y, dtype=float)})
    res = run_spc(data, **kw)
    return res.points, res.icons.iloc[0].to_dict()


@pytest.fixture
def four_hour():
    """A 4-hour-like percentage with a step up (improvement) and a dip (concern), assured against 78."""
    rng = np.random.default_rng(3)
    y = np.r_[rng.normal(60, 2, 18), rng.normal(70, 2, 12), rng.normal(55, 2, 6)]
    return _points(y, improvement_direction="increase", target=78.0)


def test_the_target_is_a_labelled_dashed_line_wherever_assurance_is_computed(four_hour):
    pts, icons = four_hour
    assert icons["assurance_type"] in ("consistent_fail", "inconsistent", "consistent_pass")
    spec = chart_spec(pts, title="4-hour", unit="percent", indicator_code="ae_4h_pct_all", icons=icons)
    labels = {t["label"]: t for t in spec["targets"]}
    # the catalogue's 78% operational standard is what assurance is against, and the constitutional 95% beside it
    assert labels["Operational standard 78.0% (assurance)"]["value"] == 78.0
    assert labels["Constitutional standard 95.0%"]["value"] == 95.0
    web = {t["name"]: t for t in figure_from_spec(spec)["data"]}
    assert web["Operational standard 78.0% (assurance)"]["line"]["dash"] == "dash"
    assert web["Operational standard 78.0% (assurance)"]["y"] == [78.0, 78.0]
    fig = draw_spec(spec)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert lines["Operational standard 78.0% (assurance)"].get_linestyle() == "--"
    assert "Operational standard 78.0% (assurance)" in [t.get_text() for t in ax.texts]
    assert "Operational standard 78.0% (assurance)" in fig.alt_text


def test_no_target_no_target_line():
    pts, icons = _points(np.arange(24) % 5 + 10.0)
    assert icons["assurance_type"] is None or pd.isna(icons["assurance_type"])
    spec = chart_spec(pts, title="Counts", unit="count", icons=icons)
    assert spec["targets"] == []


def test_every_point_with_a_value_has_a_marker_on_both_faces(four_hour):
    pts, icons = four_hour
    pts = pts.copy()
    pts.loc[5, "y"] = np.nan  # a month not reported: no value, no marker
    spec = chart_spec(pts, title="4-hour", unit="percent", icons=icons)
    n = int(pts["y"].notna().sum())
    web_markers = [t for t in figure_from_spec(spec)["data"] if t.get("mode") == "markers"]
    assert sum(len(t["x"]) for t in web_markers) == n
    ax = draw_spec(spec).axes[0]
    assert sum(len(c.get_offsets()) for c in ax.collections) == n


def test_neutral_special_cause_points_get_markers():
    """A neutral measure (attendances): special-cause points are 'neutral_high/low' and were drawn with no marker
    on the web (its style table named a type the engine never gives)."""
    y = np.r_[np.full(12, 100.0) + np.arange(12) % 3, np.full(12, 130.0) + np.arange(12) % 3]
    pts, icons = _points(y, improvement_direction="neutral")
    kinds = set(pts["point_type"])
    assert {"special_cause_neutral_high", "special_cause_neutral_low"} & kinds
    spec = chart_spec(pts, title="Attendances", unit="count", icons=icons)
    web_markers = [t for t in figure_from_spec(spec)["data"] if t.get("mode") == "markers"]
    assert sum(len(t["x"]) for t in web_markers) == len(pts)
    assert {t["name"] for t in web_markers} >= {"Special cause: neither"}


def test_lower_limit_of_a_count_is_shown_as_zero_and_said_so():
    # small counts (waits over 65 weeks): the XmR lower limit falls below zero
    y = [12, 3, 0, 7, 1, 0, 9, 2, 0, 5, 14, 1, 0, 2, 8, 0, 3, 11, 0, 1]
    pts, icons = _points(y, improvement_direction="decrease", target=0.0)
    raw = float(pts["lpl"].iloc[-1])
    assert raw < 0
    spec = chart_spec(pts, title="Over 65 weeks", unit="count", icons=icons)
    assert min(v for seg in spec["segments"] for v in seg["lpl"]) == 0.0
    assert spec["limit_notes"] == [f"Lower process limit below zero ({raw:,.0f}) shown as 0: a count cannot be "
                                   "negative."]
    fig = draw_spec(spec)
    assert spec["limit_notes"][0] in " ".join(t.get_text() for t in fig.texts)  # under the chart
    assert spec["limit_notes"][0] in fig.alt_text
    layout = figure_from_spec(spec)["layout"]
    assert layout["xaxis"]["title"]["text"] == spec["limit_notes"][0]
    shown, notes = shown_limits(pts, "count")
    assert shown["lpl_shown"].min() == 0.0 and notes == spec["limit_notes"]
    # a quantity that may be negative (no unit known) keeps its limit
    assert shown_limits(pts, "")[0]["lpl_shown"].min() == raw


def test_a_percentage_upper_limit_is_capped_at_100():
    y = [97, 99.5, 92, 100, 95, 99, 91, 100, 98, 93, 100, 96]
    pts, _ = _points(y)
    assert pts["upl"].max() > 100
    shown, notes = shown_limits(pts, "percent")
    assert shown["upl_shown"].max() == 100.0 and "shown as 100%" in notes[-1]


def test_one_marker_vocabulary_on_the_web_and_in_the_report():
    assert set(WEB_STYLE) == set(REPORT_STYLE) == set(MARKERS)
    for kind, m in MARKERS.items():
        web_symbol, web_colour, web_label = WEB_STYLE[kind]
        colour, marker, label = REPORT_STYLE[kind]
        assert web_colour == colour == m["colour"] and web_label == label == m["label"]
        assert (web_symbol, marker) == (m["plotly"], m["mpl"])
    # the shapes mean the same on both faces: Plotly's names for matplotlib's markers
    same_shape = {"circle": "o", "square": "s", "triangle-up": "^", "diamond": "D"}
    assert all(same_shape[m["plotly"]] == m["mpl"] for m in MARKERS.values())
    # improvement and concern differ by shape, not only colour (WCAG 1.4.1)
    assert MARKERS["special_cause_improvement"]["mpl"] != MARKERS["special_cause_concern"]["mpl"]


def test_the_same_points_get_the_same_marker_on_both_faces(four_hour):
    pts, icons = four_hour
    spec = chart_spec(pts, title="4-hour", unit="percent", icons=icons)
    web = {}
    for t in figure_from_spec(spec)["data"]:
        if t.get("mode") == "markers":
            for x in t["x"]:
                web[x[:7]] = (t["marker"]["symbol"], t["marker"]["color"].lower())
    ax = draw_spec(spec).axes[0]
    plotly_of = {m["mpl"]: m["plotly"] for m in MARKERS.values()}
    report = {}
    for coll in ax.collections:
        colour = mcolors.to_hex(coll.get_facecolor()[0]).lower()
        kind = next(k for k, m in MARKERS.items() if m["colour"].lower() == colour)
        for x, _ in coll.get_offsets():
            month = pd.Timestamp(mcolors_date(x)).strftime("%Y-%m")
            report[month] = (plotly_of[MARKERS[kind]["mpl"]], colour)
    assert web == report and len(web) == len(pts)


def mcolors_date(x: float):
    import matplotlib.dates as mdates

    return mdates.num2date(x).replace(tzinfo=None)


def test_rebases_and_annotations_are_in_the_spec():
    y = np.r_[np.full(12, 45.0) + np.arange(12) % 3, np.full(12, 59.0) + np.arange(12) % 3]
    pts, icons = _points(y, rebase="2023-01-01")
    notes = pd.DataFrame([{"kind": "rebase", "period": "2023-01", "text": "Type 3 attendances reported from now"},
                          {"kind": "annotation", "period": "2022-06", "text": "Winter plan"}])
    spec = chart_spec(pts, title="4-hour", unit="percent", icons=icons, notes=notes)
    assert [r["label"] for r in spec["rebases"]] == ["Rebased 2023-01: Type 3 attendances reported from now"]
    assert len(spec["segments"]) == 2 and spec["segments"][1]["x"][0] == "2023-01-01"
    assert [(a["period"], a["text"], a["y"]) for a in spec["annotations"]] == [("2022-06", "Winter plan", y[5])]
    fig = figure_from_spec(spec)
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert "Rebased 2023-01: Type 3 attendances reported from now" in texts and "Winter plan" in texts
    drawn = draw_spec(spec)
    assert any("Rebased 2023-01" in t.get_text() for t in drawn.axes[0].texts)
    assert "Note 2022-06: Winter plan." in drawn.alt_text
