"""SPC chart and icons: accessible colours, shapes and labels, SVG/PNG output, icon SVG titles."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from partnering.measure.spc import VARIATION_ICONS, run_spc
from partnering.report.icons import icon_svg
from partnering.report.spc_chart import PALETTE, POINT_STYLE, contrast_ratio, save_chart, spc_figure

pytestmark = pytest.mark.unit

#: NHSRplotthedots 0.2.2 ptd_spc_colours() defaults that fail 3:1 (its concern orange #e46c0a passes)
REFERENCE_DEFAULTS = {"common_cause / limits": "#a6a6a6", "improvement": "#00b0f0"}


def test_contrast_ratio_matches_wcag_examples():
    assert contrast_ratio("#000000") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)  # the well-known AA grey


@pytest.mark.parametrize("name", sorted(PALETTE))
def test_every_chart_colour_reaches_3_to_1_on_white(name):
    assert contrast_ratio(PALETTE[name]) >= 3.0


@pytest.mark.parametrize("name", sorted(REFERENCE_DEFAULTS))
def test_reference_default_colours_fail_3_to_1(name):
    assert contrast_ratio(REFERENCE_DEFAULTS[name]) < 3.0


def test_special_cause_types_differ_by_shape_and_label_not_only_colour():
    special = {k: v for k, v in POINT_STYLE.items() if k != "common_cause"}
    improvement, concern = special["special_cause_improvement"], special["special_cause_concern"]
    assert improvement[1] != concern[1] and improvement[2] != concern[2]
    meanings = {k.removesuffix("_high").removesuffix("_low"): v[1] for k, v in POINT_STYLE.items()}
    assert len(set(meanings.values())) == len(meanings) == 4  # common, improvement, concern, neither: own shapes
    assert all(v[2] for v in special.values())


@pytest.fixture
def result():
    rng = np.random.default_rng(4)
    y = np.r_[rng.normal(10, 1, 24), rng.normal(14, 1, 12)]
    y[5] = np.nan
    data = pd.DataFrame({"series": "A", "x": pd.date_range("2021-01-01", periods=36, freq="MS"), "y": y})
    return run_spc(data, rebase="2023-01-01", target=12.0)


def test_chart_draws_mean_limits_target_rebase_icons_and_alt_text(result, tmp_path):
    fig = spc_figure(result.points, icons=result.icons, annotations={"2022-06-01": "New pathway"})
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Mean" in labels and "Process limits" in labels and "Target 12 (assurance)" in labels
    texts = [t.get_text() for t in ax.texts]
    assert "Rebased 2023-01" in texts and "Target 12 (assurance)" in texts and "New pathway" in texts
    flagged = result.points["point_type"].astype(str)
    for kind, (_, _, legend) in POINT_STYLE.items():
        if (flagged == kind).any():
            assert legend in labels
    assert "Assurance" in fig.alt_text and "SPC chart of A" in fig.alt_text
    svg = save_chart(fig, tmp_path / "a.svg").read_text()
    assert svg.startswith("<?xml") and "spc-icon-variation" in svg
    png = save_chart(fig, tmp_path / "a.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    with pytest.raises(ValueError, match="format"):
        save_chart(fig, tmp_path / "a.gif")


def test_chart_needs_one_series(result):
    two = pd.concat([result.points, result.points.assign(series="B")])
    with pytest.raises(ValueError, match="which one"):
        spc_figure(two)
    assert spc_figure(two, "B").axes[0].get_title(loc="left") == "B"


@pytest.mark.parametrize("variation", VARIATION_ICONS)
@pytest.mark.parametrize("assurance", [None, "consistent_pass", "consistent_fail", "inconsistent"])
def test_icon_svg_is_valid_with_titles(variation, assurance):
    svg = icon_svg(variation, assurance)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    groups = root.findall(f"{ns}g")
    assert len(groups) == (1 if assurance is None else 2)
    for g in groups:
        assert g.find(f"{ns}title").text and g.get("role") == "img"
    letters = [t.text for t in root.iter(f"{ns}text")]
    if variation.endswith("_high"):
        assert "H" in letters
    if variation.endswith("_low"):
        assert "L" in letters
    if assurance:
        assert {"consistent_pass": "P", "consistent_fail": "F", "inconsistent": "?"}[assurance] in letters
    with pytest.raises(ValueError):
        icon_svg("sideways")
