"""The command line's table files: CSV and Parquet (by extension) hold the same values in ``spc``, ``export`` and
``assess --out``; a bad file is one clear line naming file, line and column; ``--help`` starts without the heavy
libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.integration

HEAVY = ("pandas", "numpy", "pyarrow", "scipy", "sqlalchemy", "plotly", "matplotlib", "fastapi")


def run(*args, home: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PARTNERING_HOME": str(home), "COLUMNS": "200"}
    env.pop("PARTNERING_DATABASE_URL", None)
    p = subprocess.run([sys.executable, "-m", "partnering", *map(str, args)], capture_output=True, text=True,
                       env=env, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


@pytest.mark.parametrize("argv", [["--help"], ["spc", "--help"], ["export", "--help"], ["assess", "--help"]])
def test_help_imports_none_of_the_heavy_libraries(tmp_path, argv):
    probe = (
        "import json, sys\n"
        f"sys.argv = ['partnering', *{argv!r}]\n"
        "from partnering.cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PARTNERING_HOME": str(tmp_path)})
    assert p.returncode == 0, p.stderr
    assert "Usage" in p.stdout
    assert json.loads(p.stdout.strip().splitlines()[-1]) == []


# ------------------------------------------------------------------------------------------------------ spc


@pytest.fixture
def spc_inputs(tmp_path) -> dict[str, Path]:
    """Twelve monthly series (one with a hole, one with a shift and a rebase) as CSV and as Parquet."""
    rng = np.random.default_rng(8)
    months = pd.date_range("2021-01-01", periods=30, freq="MS")
    frames = []
    for i in range(12):
        y = np.round(rng.normal(50 + i, 3, len(months)), 2)
        if i == 3:
            y[18:] += 12
        if i == 5:
            y[7] = np.nan
        frames.append(pd.DataFrame({"series": f"S{i:02d}", "x": months, "y": y}))
    data = pd.concat(frames, ignore_index=True)
    options = pd.DataFrame({"series": ["S03", "S04", "S07"], "improvement_direction": ["decrease", "neutral", ""],
                            "target": ["55", "", "40.5"], "rebase": ["2022-07-01", "", ""],
                            "fix_after_n_points": ["", "", "12"], "screen_outliers": ["FALSE", "", ""]})
    paths = {"csv": tmp_path / "in.csv", "parquet": tmp_path / "in.parquet",
             "opt_csv": tmp_path / "opt.csv", "opt_parquet": tmp_path / "opt.parquet"}
    text = data.assign(x=data["x"].dt.strftime("%Y-%m-%d"))
    text.to_csv(paths["csv"], index=False)
    data.to_parquet(paths["parquet"], index=False)
    options.to_csv(paths["opt_csv"], index=False)
    options.to_parquet(paths["opt_parquet"], index=False)
    return paths


def _value(v):
    """One cell as a user reads it, whatever the file: missing, a number (flags as 1/0), or text."""
    if v is None or v is pd.NA or v == "" or (isinstance(v, float) and np.isnan(v)):  # CSV: empty = missing
        return None
    if isinstance(v, bool | np.bool_):
        return float(v)
    if isinstance(v, str) and v in ("True", "False"):
        return float(v == "True")
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    return str(v)


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    """A frame cell by cell as plain values (dates as ISO text, categories as text, flags as 1/0)."""
    return pd.DataFrame({c: [_value(v) for v in df[c].astype(object)] for c in df.columns}, dtype=object)


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"series": str})


def test_spc_csv_and_parquet_give_identical_values(tmp_path, spc_inputs):
    run("spc", spc_inputs["csv"], "--out", tmp_path / "p.csv", "--icons", tmp_path / "i.csv",
        "--options", spc_inputs["opt_csv"], home=tmp_path)
    run("spc", spc_inputs["parquet"], "--out", tmp_path / "p.parquet", "--icons", tmp_path / "i.parquet",
        "--options", spc_inputs["opt_parquet"], home=tmp_path)
    run("spc", spc_inputs["csv"], "--out", tmp_path / "mixed.parquet", "--options", spc_inputs["opt_parquet"],
        home=tmp_path)
    points_csv = _read_csv(tmp_path / "p.csv")
    points_parquet = pd.read_parquet(tmp_path / "p.parquet")
    assert len(points_csv) == 360 and list(points_csv.columns) == list(points_parquet.columns)
    pd.testing.assert_frame_equal(_comparable(points_csv), _comparable(points_parquet), check_dtype=False)
    pd.testing.assert_frame_equal(_comparable(points_parquet), _comparable(pd.read_parquet(tmp_path / "mixed.parquet")))
    pd.testing.assert_frame_equal(_comparable(_read_csv(tmp_path / "i.csv")),
                                  _comparable(pd.read_parquet(tmp_path / "i.parquet")), check_dtype=False)
    # the options took effect through both formats: S03 rebased, S05's hole kept as missing
    s03 = points_parquet[points_parquet["series"] == "S03"]
    assert s03["rebase_group"].tolist() == [0] * 18 + [1] * 12
    assert points_parquet[points_parquet["series"] == "S05"]["y"].isna().sum() == 1
    assert str(pd.read_parquet(tmp_path / "p.parquet")["x"].iloc[0]) == "2021-01-01"


def test_spc_output_name_decides_the_format(tmp_path, spc_inputs):
    p = run("spc", spc_inputs["csv"], "--out", tmp_path / "p.xlsx", home=tmp_path, check=False)
    assert p.returncode == 2 and "must end in .csv or .parquet" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "p.xlsx").exists()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("csv", "in.csv, line 4, column 'y': y must be a number or empty (got 'lots')"),
     ("parquet", "in.parquet, line 3, column 'y': y must be a number or empty (got 'lots')")],
)
def test_spc_bad_input_is_one_line_with_file_row_column(tmp_path, fmt, expected):
    bad = pd.DataFrame({"series": ["A", "A", "A"], "x": ["2021-01-01", "2021-02-01", "2021-03-01"],
                        "y": ["1", "2", "lots"]})
    path = tmp_path / f"in.{fmt}"
    bad.to_csv(path, index=False) if fmt == "csv" else bad.to_parquet(path, index=False)
    p = run("spc", path, "--out", tmp_path / "o.csv", home=tmp_path, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0] == f"Error: {path.parent}/{expected}"
    assert not (tmp_path / "o.csv").exists()


def test_spc_unreadable_parquet(tmp_path):
    path = tmp_path / "in.parquet"
    path.write_text("series,x,y\nA,2021-01-01,1\n")
    p = run("spc", path, "--out", tmp_path / "o.csv", home=tmp_path, check=False)
    assert p.returncode == 2 and "in.parquet: not a readable Parquet file" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------------ export, assess


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    run("demo", home=home)
    return home


def test_export_csv_and_parquet_by_extension_hold_the_same_values(demo_home, tmp_path):
    run("export", "observations", "--out", tmp_path / "obs.csv", "--indicator", "ae_4h_pct_all", home=demo_home)
    run("export", "observations", "--out", tmp_path / "obs.parquet", "--indicator", "ae_4h_pct_all",
        home=demo_home)
    a = pd.read_csv(tmp_path / "obs.csv", dtype={"period": str, "org_code": str})
    b = pd.read_parquet(tmp_path / "obs.parquet")
    assert len(a) > 1000 and list(a.columns) == ["org_code", "indicator", "period", "numerator", "denominator",
                                                 "value"]
    pd.testing.assert_frame_equal(_comparable(a), _comparable(b), check_dtype=False)
    # --format still wins over the extension
    run("export", "observations", "--format", "csv", "--out", tmp_path / "obs.dat", "--indicator",
        "ae_4h_pct_all", home=demo_home)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "obs.dat", dtype={"period": str, "org_code": str}), a)


def test_assess_out_csv_and_parquet_hold_the_same_values(demo_home, tmp_path):
    run("assess", "--out", tmp_path / "a.csv", home=demo_home)
    run("assess", "--out", tmp_path / "a.parquet", home=demo_home)
    a = pd.read_csv(tmp_path / "a.csv", keep_default_na=False, na_values=[""], dtype={"latest_period": str})
    b = pd.read_parquet(tmp_path / "a.parquet")
    assert len(a) > 100 and {"persistent_difficulty", "variation_icon", "segment"} <= set(a.columns)
    pd.testing.assert_frame_equal(_comparable(a), _comparable(b), check_dtype=False)
    run("assess", "--out", tmp_path / "a.xlsx", home=demo_home)
    book = pd.read_excel(tmp_path / "a.xlsx", sheet_name=None)
    assert list(book)[:2] == ["flags", "icon table"] and "notes" in book
    assert len(book["icon table"]) == len(b)


def test_assess_refuses_an_unknown_extension_before_working(demo_home, tmp_path):
    p = run("assess", "--out", tmp_path / "a.txt", home=demo_home, check=False)
    assert p.returncode == 2 and "must end in .csv or .parquet or .xlsx" in p.stderr
    assert "Traceback" not in p.stderr and not (tmp_path / "a.txt").exists()
