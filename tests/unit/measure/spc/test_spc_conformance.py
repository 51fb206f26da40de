"""Conformance with NHSRplotthedots 0.2.2: every pipeline case and every component case.

Every expected value comes from the conformance vectors in ``../shared/conformance/spc`` (the file's
``how_to_read`` says how): the ``oracle`` of each pipeline case (what NHSRplotthedots 0.2.2 returned, full double
precision), the ``expected`` statements transcribed from upstream tests, vignettes and issues (numbers to the
precision stated or printed there), and each component case's ``expected``. Where a statement is a sentence (e.g.
``"FALSE x35, TRUE x5, FALSE x40"``), the numbers are read out of that sentence; a sentence this module cannot read
fails the test rather than passing unchecked. Nothing expected is computed from the input or by the code under test.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from spc_conformance_file import load_conformance

from partnering.errors import ValidationError
from partnering.measure.spc import (
    assurance_type,
    engine,
    part_of_seven_trend,
    part_of_two_in_three,
    run_spc,
    seven_point_one_side_mean,
    seven_point_trend,
    two_in_three,
)
from partnering.measure.spc.point_types import special_cause_code, special_cause_type

pytestmark = [pytest.mark.unit, pytest.mark.shared]

_DATA = load_conformance() or {"cases": [], "components": []}
PIPELINE_IDS = [c["id"] for c in _DATA["cases"]] or ["<conformance file missing>"]
COMPONENT_CASES = [(c["name"], i) for c in _DATA["components"] for i in range(len(c["cases"]))] or [
    ("<conformance file missing>", 0)
]


def _case(conformance: dict, case_id: str) -> dict:
    return next(c for c in conformance["cases"] if c["id"] == case_id)


def _component(conformance: dict, name: str) -> dict:
    return next(c for c in conformance["components"] if c["name"] == name)


def _run_case(case: dict):
    inp, opts = case["input"], dict(case["options"])
    facet = "facet_field" in opts and "facet" in inp
    data = pd.DataFrame(
        {
            "series": [str(f) for f in inp["facet"]] if facet else "no facet",
            "x": inp["x"],
            "y": [np.nan if v is None else v for v in inp["y"]],
        }
    )
    kwargs = {
        k: opts[k]
        for k in ("improvement_direction", "target", "rebase", "fix_after_n_points", "screen_outliers")
        if k in opts
    }
    return run_spc(data, **kwargs)


def _same_number(got: float, want: float | None) -> bool:
    if want is None:
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)


def _nullable(value):
    return None if value is pd.NA else value


# ------------------------------------------------------------------------------------------------ the oracle


@pytest.mark.parametrize("case_id", PIPELINE_IDS)
def test_pipeline_case_matches_oracle_point_by_point(conformance, case_id):
    case = _case(conformance, case_id)
    result = _run_case(case)
    want = case["oracle"]["points"]
    got = result.points
    assert len(got) == len(want)
    for i, (row, exp) in enumerate(zip(got.itertuples(index=False), want, strict=True)):
        where = f"{case_id} point {i} ({exp['x']})"
        assert str(row.series) == str(exp["facet"]), where
        assert pd.Timestamp(row.x).date().isoformat() == exp["x"], where
        assert _same_number(row.y, exp["y"]), where
        assert row.rebase_group == exp["rebase_group"], where
        for name in ("mean", "lpl", "upl"):
            assert _same_number(getattr(row, name), exp[name]), f"{where} {name}: {getattr(row, name)} vs {exp[name]}"
        assert _nullable(row.outside_limits) == exp["outside_limits"], where
        assert _nullable(row.close_to_limits) == exp["close_to_limits"], where
        assert _nullable(row.relative_to_mean) == exp["relative_to_mean"], where
        assert row.special_cause_type == exp["special_cause_type"], where
        assert bool(row.special_cause_flag) == exp["special_cause_flag"], where
        assert row.point_type == exp["point_type"], where
        assert bool(row.short_group_warning) == exp["short_group_warning"], where


@pytest.mark.parametrize("case_id", PIPELINE_IDS)
def test_pipeline_case_icons_match_oracle(conformance, case_id):
    case = _case(conformance, case_id)
    icons = _run_case(case).icons.set_index("series")
    oracle = case["oracle"]
    variation = {i["facet"]: i["icon"] for i in oracle["icons"] if i["type"] == "variation"}
    assurance = {a["facet"]: a["assurance_type"] for a in oracle["assurance_type"]}
    assert sorted(map(str, icons.index)) == sorted(variation)
    for facet, icon in variation.items():
        assert icons.loc[facet, "variation_icon"] == icon
        assert icons.loc[facet, "assurance_type"] == assurance[facet]
    # the assurance icon names are the assurance types without "consistent_"
    shown = {i["facet"]: i["icon"] for i in oracle["icons"] if i["type"] == "assurance"}
    for facet, icon in shown.items():
        assert icons.loc[facet, "assurance_type"].removeprefix("consistent_") == icon


# ------------------------------------------------------------------------------------------ upstream statements


def _tolerance(value: float, precision: str | None) -> float:
    """Half a unit in the last digit upstream printed: the case's stated ``precision`` (``"7 significant digits"``,
    ``"rounded to 2 dp"``), else the digits of the number as transcribed (``how_to_read.expected``: "precision as
    printed there")."""
    if precision and (m := re.search(r"(\d+) significant digits", precision)):
        digits = int(m.group(1))
        exponent = math.floor(math.log10(abs(value))) if value else 0
        return 0.5 * 10.0 ** (exponent - digits + 1) + 1e-12
    if precision and (m := re.search(r"(\d+) dp", precision)):
        return 0.5 * 10.0 ** -int(m.group(1)) + 1e-12
    text = repr(float(value))
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
    return 0.5 * 10.0**-decimals + 1e-12


def _assert_printed(got: np.ndarray, value: float, precision: str | None) -> None:
    np.testing.assert_allclose(got, value, rtol=0, atol=_tolerance(value, precision))


_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _WORD_NUMBERS[word]


#: The rule a statement names -> the start of the reference's ``special_cause_type`` label for it (the labels are
#: listed in the vector file's ``how_to_read.special_cause_type``).
_RULE_LABELS = {"7-points-one-side": "7 Points", "7-point-trend": "7 Point Trend", "2-in-3": "2 in 3"}


def _check_counts(points: pd.DataFrame, stated: dict, precision: str | None) -> None:
    for name in ("mean", "lpl", "upl"):
        if name in stated:
            _assert_printed(points[name].to_numpy(float), stated[name], precision)
    if "n" in stated:
        assert len(points) == stated["n"]
    if "common_cause" in stated:
        assert int((~points["special_cause_flag"]).sum()) == stated["common_cause"]
    if "special_cause_improvement" in stated:
        assert int((points["point_type"] == "special_cause_improvement").sum()) == stated["special_cause_improvement"]


def _check_statement(case: dict, points: pd.DataFrame, statement: str) -> None:
    if m := re.match(r"(\d+) sequential (\w+) points triggered by the (\S+) rule", statement):
        n, point_type, rule = int(m.group(1)), m.group(2), m.group(3)
        flagged = points["point_type"].eq(point_type).to_numpy()
        assert flagged.sum() == n
        first = int(np.flatnonzero(flagged)[0])
        assert flagged[first : first + n].all()
        assert points["special_cause_type"].iloc[first].startswith(_RULE_LABELS[rule])
    elif m := re.match(r"all (\d+) points special cause", statement):
        assert len(points) == int(m.group(1))
        assert points["special_cause_flag"].all()
    elif statement.startswith("limits shift at the rebase point"):
        at = pd.Timestamp(case["options"]["rebase"])
        i = int(np.flatnonzero(pd.to_datetime(points["x"]) == at)[0])
        assert points["lpl"].iloc[i] != points["lpl"].iloc[i - 1]
        assert points["upl"].iloc[i] != points["upl"].iloc[i - 1]
    elif statement.startswith("reported bug") and "does not reproduce the reported flags" in statement:
        # the source names the reported flags ("... made the last 5 points special cause"); 0.2.2 (and we) differ
        m = re.search(r"made the last (\d+) points special cause", " ".join(case["source"]))
        assert not points["special_cause_flag"].iloc[-int(m.group(1)) :].all()
    else:
        pytest.fail(f"statement not understood by this test: {statement!r}")


def _check_relation(conformance: dict, case: dict, points: pd.DataFrame, relation: str) -> None:
    same_input = [c for c in conformance["cases"] if c["input"] == case["input"] and c["id"] != case["id"]]
    unscreened = [c for c in same_input if c["options"].get("screen_outliers") is False]
    named = re.findall(r"rnorm20_\w+", relation)
    if relation.startswith("lpl[1] and upl[1] differ from"):
        (other,) = named
        first = _run_case(_case(conformance, other)).points.iloc[0]
        assert points["lpl"].iloc[0] != first["lpl"] and points["upl"].iloc[0] != first["upl"]
    elif relation.startswith("lpl and upl differ from") and relation.endswith("and from the unscreened case"):
        (other,) = named
        for ref in (_case(conformance, other), *unscreened):
            first = _run_case(ref).points.iloc[0]
            assert points["lpl"].iloc[0] != first["lpl"] and points["upl"].iloc[0] != first["upl"], ref["id"]
        assert unscreened, "the vector file has the unscreened twin of this case"
    elif relation == "upl-lpl (unscreened) > upl-lpl (screened)":
        (twin,) = unscreened
        wide = _run_case(twin).points
        assert (wide["upl"] - wide["lpl"]).iloc[0] > (points["upl"] - points["lpl"]).iloc[0]
    else:
        pytest.fail(f"relation not understood by this test: {relation!r}")


@pytest.mark.parametrize("case_id", PIPELINE_IDS)
def test_pipeline_case_agrees_with_upstream_statements(conformance, case_id):
    """Where upstream states something (numbers as printed there), we agree with it too; every key of
    ``expected`` is checked, and an unknown key fails."""
    case = _case(conformance, case_id)
    expected = case.get("expected") or {}
    precision = expected.get("precision")
    result = _run_case(case)
    points = result.points
    checked = []
    for key, value in expected.items():
        if key in ("precision", "note"):
            continue
        if key == "all_points":
            _check_counts(points, value, precision)
        elif key == "summary":
            _check_counts(points, value, precision)
        elif key == "per_facet":
            for facet, stated in value.items():
                _check_counts(points[points["series"] == facet], stated, precision)
        elif key == "relative_to_mean_prefix":
            assert points["relative_to_mean"].tolist()[: len(value)] == value
        elif key == "rebase_group":
            assert points["rebase_group"].tolist() == value
        elif key == "rebase_groups":
            m = re.fullmatch(r"(\w+) sections of (\w+) points", value)
            sizes = [_count(m.group(2))] * _count(m.group(1))
            assert points["rebase_group"].value_counts().sort_index().tolist() == sizes
        elif key == "short_group_warning_caption_shown":
            assert bool(points["short_group_warning"].any()) == value
        elif key == "point_types":
            assert points["point_type"].tolist() == value
        elif key == "last_two_point_types":
            assert points["point_type"].tolist()[-2:] == value
        elif key == "variation_type":
            assert points["point_type"].iloc[-1] == value
        elif key == "assurance_type":
            assert result.icons["assurance_type"].iloc[0] == value
        elif key == "icons":
            for icon in value:
                row = result.icons[result.icons["series"] == icon["facet"]].iloc[0]
                if icon["type"] == "variation":
                    assert row["variation_icon"] == icon["icon"]
                else:
                    assert row["assurance_type"].removeprefix("consistent_") == icon["icon"]
        elif key == "statement":
            _check_statement(case, points, value)
        elif key == "relations":
            for relation in value:
                _check_relation(conformance, case, points, relation)
        else:
            pytest.fail(f"{case_id}: expected[{key!r}] is not checked by this test")
        checked.append(key)
    assert checked, f"{case_id}: upstream states nothing checkable"


# ----------------------------------------------------------------------------------------------- components


@pytest.mark.parametrize(("name", "index"), COMPONENT_CASES)
def test_component_case(conformance, name, index, monkeypatch):
    component = _component(conformance, name)
    case = component["cases"][index]
    inp, expected = case["input"], case["expected"]
    if name == "seven_point_one_side_mean":
        assert seven_point_one_side_mean(np.array(inp, dtype=float)).tolist() == expected
    elif name == "part_of_seven_trend":
        assert part_of_seven_trend(np.array(inp, dtype=float)).tolist() == expected
    elif name == "seven_point_trend":
        assert seven_point_trend(np.array(inp, dtype=float)).tolist() == expected
    elif name == "two_in_three":
        assert two_in_three(np.array(inp["close"], float), np.array(inp["rtm"], float)).tolist() == expected
    elif name == "part_of_two_in_three":
        close, rtm = np.array(inp["close"], float), np.array(inp["rtm"], float)
        assert part_of_two_in_three(two_in_three(close, rtm), close).tolist() == expected
    elif name == "special_cause_type_precedence":
        code = special_cause_code(
            np.array(inp["y"], float),
            np.array(inp["relative_to_mean"], float),
            np.array(inp["outside_limits"], float),
            np.array(inp["part_of_trend (mocked)"], float),
            np.array(inp["part_of_two_in_three (mocked)"], float),
            np.array(inp["part_of_seven_one_side (mocked)"], float),
        )
        assert list(special_cause_type(code)) == expected
    elif name == "assurance_type":
        _check_assurance(inp, expected)
    elif name == "rebase_column":
        _check_rebase(inp, expected)
    elif name == "short_group_warning":
        _check_short_groups(component, inp, expected, monkeypatch)
    elif name == "target_column":
        _check_target(inp, expected)
    elif name == "option_validation":
        _check_validation(inp, expected)
    else:  # a new component in the file must get a check here
        pytest.fail(f"no check written for component {name!r}")


_DIRECTION = {"increase": 1, "decrease": -1, "neutral": 0}

#: XmR natural process limits are mean +/- 2.66 x mean moving range (Wheeler; NHSRplotthedots ``ptd_spc_standard``).
_XMR_CONSTANT = 2.66


def _series_with_limits(rows: list[list[float]]) -> pd.DataFrame:
    """One series of two-point groups (a rebase before each), group k with limits ``rows[k]`` = (lpl, upl).

    Two points ``m - r/2, m + r/2`` have mean ``m`` and one moving range ``r``, so their limits are
    ``m -/+ 2.66 r``; solving for the stated (lpl, upl) gives ``m`` and ``r``.
    """
    y = []
    for lpl, upl in rows:
        m, r = (lpl + upl) / 2, (upl - lpl) / (2 * _XMR_CONSTANT)
        y += [m - r / 2, m + r / 2]
    return pd.DataFrame({"series": "a", "x": pd.date_range("2020-01-01", periods=len(y), freq="D"), "y": y})


def _check_assurance(inp: dict, expected) -> None:
    direction = _DIRECTION[inp["improvement_direction"]]
    if "rows_in_order(lpl,upl)" in inp:
        # the pipeline form: a series whose rows have these limits, in order; the reference uses its last row
        rows = inp["rows_in_order(lpl,upl)"]
        want = expected.split(" ")[0]
        data = _series_with_limits(rows)
        result = run_spc(
            data,
            target=inp["target"],
            improvement_direction=inp["improvement_direction"],
            rebase=[str(d.date()) for d in data["x"].iloc[2::2]],
        )
        np.testing.assert_allclose(result.points[["lpl", "upl"]].to_numpy()[1::2], rows)  # the rows as stated
        assert result.icons["assurance_type"].tolist() == [want]
        assert assurance_type(inp["target"], rows[-1][0], rows[-1][1], direction).item() == want
        return
    if inp["target"] is None:
        got = assurance_type(np.nan, 1.0, 3.0, direction)
        assert [got.item()] == expected
        return
    got = assurance_type(inp["target"], np.array(inp["lpl"], float), np.array(inp["upl"], float), direction)
    assert got.tolist() == expected


def _dates(spec: str) -> pd.DatetimeIndex:
    start, end = spec.split("..")
    return pd.date_range(start, end, freq="D")


def _check_rebase(inp: dict, expected: list) -> None:
    dates = _dates(inp["dates_per_facet"])
    data = pd.DataFrame(
        {"series": np.repeat(inp["facets"], len(dates)), "x": np.tile(dates, len(inp["facets"])), "y": 1.0}
    )
    rebase = inp["rebase"]
    if isinstance(rebase, dict):
        options = pd.DataFrame({"series": list(rebase), "rebase": [";".join(v) for v in rebase.values()]})
        points = run_spc(data, options).points
    else:
        points = run_spc(data, rebase=rebase).points
    starts = points.groupby("series", sort=False)["rebase_group"].diff().fillna(points["rebase_group"]).astype(int)
    assert starts.tolist() == expected


def _flags_stated(text: str, n_rows: int) -> list[bool]:
    """``"TRUE for all 11 rows, ..."``, ``"FALSE for all 12 rows"``, ``"all FALSE"``, ``"FALSE x35, TRUE x5"``."""
    if m := re.match(r"(TRUE|FALSE) for all (\d+) rows", text):
        return [m.group(1) == "TRUE"] * int(m.group(2))
    if m := re.fullmatch(r"all (TRUE|FALSE)", text):
        return [m.group(1) == "TRUE"] * n_rows
    runs = re.findall(r"(TRUE|FALSE) x(\d+)", text)
    assert runs, f"statement not understood by this test: {text!r}"
    return [flag for value, count in runs for flag in [value == "TRUE"] * int(count)]


def _check_short_groups(component: dict, inp: dict, expected: str, monkeypatch) -> None:
    # the reference's default threshold, as the vector file's source note states it
    default = int(re.search(r"warning_threshold', (\d+)\)", component["source"]).group(1))
    assert engine.SHORT_GROUP_THRESHOLD == default
    # upstream's test passes its own threshold: run our engine with it
    monkeypatch.setattr(engine, "SHORT_GROUP_THRESHOLD", inp["threshold"])
    sizes = inp["group_sizes"]
    n = sum(sizes)
    dates = pd.date_range("2020-01-01", periods=n, freq="D")
    rebase = [str(d.date()) for d in dates[np.cumsum(sizes)[:-1]]]
    points = run_spc(pd.DataFrame({"series": "a", "x": dates, "y": np.arange(n) % 5}), rebase=rebase).points
    assert points["short_group_warning"].tolist() == _flags_stated(expected, n)


def _target_stated(text: str, series: pd.Series) -> np.ndarray:
    """``"NA for every row"``, ``"0.9 for every row"``, ``"0.9 for facet a rows, 0.8 for facet b rows"``."""
    if text == "NA for every row":
        return np.full(len(series), np.nan)
    if m := re.fullmatch(r"([-\d.]+) for every row", text):
        return np.full(len(series), float(m.group(1)))
    per_facet = {facet: float(v) for v, facet in re.findall(r"([-\d.]+) for facet (\w+) rows", text)}
    assert per_facet, f"statement not understood by this test: {text!r}"
    return series.map(per_facet).to_numpy(float)


def _check_target(inp: dict, expected: str) -> None:
    dates = pd.date_range("2020-01-01", periods=5, freq="D")
    data = pd.DataFrame({"series": np.repeat(["a", "b"], 5), "x": np.tile(dates, 2), "y": np.arange(10.0)})
    target = inp["target"]
    if isinstance(target, dict):
        points = run_spc(data, pd.DataFrame({"series": list(target), "target": list(target.values())})).points
    else:
        points = run_spc(data, target=target).points
    np.testing.assert_array_equal(points["target"].to_numpy(float), _target_stated(expected, points["series"]))


def _check_validation(inp: dict, expected: str) -> None:
    assert expected.startswith("error")
    dates = pd.date_range("2020-01-01", periods=20, freq="D")
    data = pd.DataFrame({"series": "a", "x": dates, "y": np.arange(20.0)})
    if "fix_after_n_points" in inp:
        with pytest.raises(ValidationError, match="fix_after_n_points"):
            run_spc(data, fix_after_n_points=inp["fix_after_n_points"])
        boundary = int(re.search(r"greater than or equal to (\d+)", expected).group(1))
        run_spc(data, fix_after_n_points=boundary)  # the boundary is allowed
    elif "improvement_direction" in inp:
        with pytest.raises(ValidationError, match="improvement_direction"):
            run_spc(data, improvement_direction=inp["improvement_direction"])
        for allowed in re.search(r"match.arg over ([\w/]+)", expected).group(1).split("/"):
            run_spc(data, improvement_direction=allowed)
    elif "duplicate dates within a facet" in inp:
        with pytest.raises(ValidationError, match="more than one row"):
            run_spc(pd.concat([data, data.iloc[[3]]]))
    elif "date_field not Date/POSIXt" in inp:
        with pytest.raises(ValidationError, match="'x'"):
            run_spc(data.assign(x="not a date"))
    elif "value_field not numeric" in inp:
        with pytest.raises(ValidationError, match="'y'"):
            run_spc(data.assign(y="abc"))
    else:
        pytest.fail(f"unknown validation case {inp}")
