"""The regression-snapshot helper (tests/snapshot.py): writes, compares, and explains differences readably."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from snapshot import UPDATE_ENV, check_snapshot, describe_difference, to_csv_text, update_requested

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parents[1]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"org": ["RB", "RA", "RC"], "segment": [2, 4, 1], "score": [0.5, 0.125, 1 / 3],
                         "flag": [False, True, False]})


def test_update_writes_sorted_csv_and_an_equal_frame_then_passes(tmp_path):
    check_snapshot(_frame(), "flags", ["org"], update=True, directory=tmp_path)
    text = (tmp_path / "flags.csv").read_text()
    assert text == "org,segment,score,flag\nRA,4,0.125,True\nRB,2,0.5,False\nRC,1,0.33333333,False\n"
    shuffled = _frame().sample(frac=1, random_state=3)
    check_snapshot(shuffled, "flags", ["org"], directory=tmp_path)  # row order of the input does not matter


def test_a_missing_snapshot_fails_and_says_how_to_make_it(tmp_path):
    with pytest.raises(pytest.fail.Exception, match="no snapshot .*flags.csv: run the test with --update-snapshots"):
        check_snapshot(_frame(), "flags", ["org"], directory=tmp_path)
    assert not (tmp_path / "flags.csv").exists()


def test_a_changed_cell_fails_naming_the_row_column_and_both_values(tmp_path):
    check_snapshot(_frame(), "flags", ["org"], update=True, directory=tmp_path)
    changed = _frame()
    changed.loc[changed.org == "RA", "segment"] = 3
    changed.loc[changed.org == "RA", "flag"] = False
    with pytest.raises(pytest.fail.Exception) as err:
        check_snapshot(changed, "flags", ["org"], directory=tmp_path)
    message = str(err.value)
    assert "snapshot flags.csv differs" in message
    assert "1 row(s) changed of 3 in both" in message
    assert "changed: org=RA: segment: '4' -> '3'; flag: 'True' -> 'False'" in message
    assert "RB" not in message and "RC" not in message


def test_rows_and_columns_added_or_removed_are_listed():
    old = to_csv_text(_frame(), ["org"])
    new = _frame()[lambda d: d.org != "RB"].drop(columns="flag").assign(kind="acute")
    new = pd.concat([new, pd.DataFrame({"org": ["RZ"], "segment": [1], "score": [0.25], "kind": ["acute"]})])
    lines = describe_difference(old, to_csv_text(new, ["org"]), ["org"])
    assert lines[0] == "0 row(s) changed of 2 in both"
    assert "columns removed: flag" in lines
    assert "columns added: kind" in lines
    assert "row removed: org=RB: segment=2, score=0.5, flag=False" in lines
    assert "row added: org=RZ: segment=1, score=0.25, kind=acute" in lines


def test_composite_keys_and_equal_texts():
    frame = pd.DataFrame({"recipient": ["A", "A"], "role": ["lead", "second"], "supporter": ["X", "Y"]})
    text = to_csv_text(frame, ["recipient", "role"])
    assert describe_difference(text, text, ["recipient", "role"]) == []
    moved = frame.assign(supporter=["X", "Z"])
    lines = describe_difference(text, to_csv_text(moved, ["recipient", "role"]), ["recipient", "role"])
    assert lines == ["1 row(s) changed of 2 in both", "changed: recipient=A, role=second: supporter: 'Y' -> 'Z'"]


def test_update_is_requested_by_the_environment(monkeypatch):
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    assert update_requested() is False
    monkeypatch.setenv(UPDATE_ENV, "1")
    assert update_requested() is True
    monkeypatch.setenv(UPDATE_ENV, "0")
    assert update_requested() is False


def test_the_update_option_rewrites_through_the_fixture(pytester, tmp_path, monkeypatch):
    """``--update-snapshots`` on the command line reaches the ``regression_snapshot`` fixture of tests/conftest.py."""
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    monkeypatch.setenv("PYTHONPATH", str(TESTS))  # where tests/snapshot.py lives, for the pytest subprocess
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    pytester.makeini("[pytest]\nmarkers =\n    unit: kind\n")
    store = tmp_path / "snaps"
    pytester.makepyfile(test_snap=f"""
        import pandas as pd
        import pytest

        pytestmark = pytest.mark.unit

        def test_it(regression_snapshot):
            regression_snapshot(pd.DataFrame({{"k": [1], "v": [2]}}), "one", key=["k"], directory=r"{store}")
    """)
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    first.assert_outcomes(failed=1)
    assert not (store / "one.csv").exists()
    made = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--update-snapshots")
    made.assert_outcomes(passed=1)
    assert (store / "one.csv").read_text() == "k,v\n1,2\n"
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    again.assert_outcomes(passed=1)
