"""``partnering spc``: the contract other tools rely on (subprocess, real exit codes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.unit


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "partnering", "spc", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def input_csv(tmp_path: Path) -> Path:
    rows = ["series,x,y"]
    for s, offset in (("A", 0), ("B", 100)):
        for i in range(20):
            y = "" if (s == "A" and i == 5) else str(offset + (i % 4) + (30 if (s == "B" and i == 19) else 0))
            rows.append(f"{s},2021-{1 + i // 28:02d}-{1 + i % 28:02d},{y}")
    return _write(tmp_path / "in.csv", "\n".join(rows) + "\n")


def test_writes_points_and_icons(tmp_path, input_csv):
    options = _write(
        tmp_path / "opt.csv",
        "series,improvement_direction,target,rebase,fix_after_n_points,screen_outliers\n"
        "B,decrease,90,2021-01-11,,FALSE\n",
    )
    out, icons = tmp_path / "points.csv", tmp_path / "icons.csv"
    proc = _run(input_csv, "--out", out, "--icons", icons, "--options", options, "--target", "1")
    assert proc.returncode == 0, proc.stderr
    points = pd.read_csv(out)
    assert len(points) == 40 and points["x"].iloc[0] == "2021-01-01"
    assert {"mean", "lpl", "upl", "point_type", "explanation", "lower_2sigma"} <= set(points.columns)
    b = points[points["series"] == "B"]
    assert b["rebase_group"].tolist() == [0] * 10 + [1] * 10
    assert b["point_type"].iloc[-1] == "special_cause_concern"
    assert pd.isna(points.loc[(points["series"] == "A"), "y"].iloc[5])
    ic = pd.read_csv(icons).set_index("series")
    assert ic.loc["B", "variation_icon"] == "concern_high"
    assert ic.loc["B", "assurance_type"] == "consistent_fail"
    assert ic.loc["A", "assurance_type"] == "inconsistent"


def test_keyword_options(tmp_path, input_csv):
    out = tmp_path / "p.csv"
    proc = _run(
        input_csv,
        "--out",
        out,
        "--improvement-direction",
        "neutral",
        "--rebase",
        "2021-01-11",
        "--fix-after-n-points",
        "12",
        "--no-screen-outliers",
    )
    assert proc.returncode == 0, proc.stderr
    points = pd.read_csv(out)
    assert points["rebase_group"].max() == 1
    assert set(points["point_type"]) <= {"common_cause", "special_cause_neutral_high", "special_cause_neutral_low"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("series,x\nA,2021-01-01\n", "in.csv, line 1: missing column 'y'"),
        ("series,x,y\nA,2021-01-01,1\nA,2021-01-02,lots\n", "in.csv, line 3, column 'y': y must be a number"),
        ("series,x,y\nA,2021-01-01,1\nA,01/02/2021,2\n", "in.csv, line 3, column 'x': x must be an ISO date"),
        ("series,x,y\nA,2021-01-01,1\nA,2021-01-01,2\n", "in.csv, line 3, column 'x': series 'A' already has a row"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, text, expected):
    bad = _write(tmp_path / "in.csv", text)
    proc = _run(bad, "--out", tmp_path / "o.csv")
    assert proc.returncode == 2
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert expected in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("series,target\nZ,3\n", "opt.csv, line 2, column 'series': series 'Z' is not in the input"),
        ("series,improvement_direction\nA,up\n", "opt.csv, line 2, column 'improvement_direction'"),
        ("series,fix_after_n_points\nA,3\n", "opt.csv, line 2, column 'fix_after_n_points'"),
        ("series,screen_outliers\nA,perhaps\n", "opt.csv, line 2, column 'screen_outliers'"),
        ("series,rebase\nA,2021-99-01\n", "opt.csv: series 'A': rebase"),
    ],
)
def test_bad_options_file(tmp_path, input_csv, text, expected):
    opt = _write(tmp_path / "opt.csv", text)
    proc = _run(input_csv, "--out", tmp_path / "o.csv", "--options", opt)
    assert proc.returncode == 2
    assert expected in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_keyword_value(tmp_path, input_csv):
    proc = _run(input_csv, "--out", tmp_path / "o.csv", "--improvement-direction", "up")
    assert proc.returncode == 2 and "improvement_direction" in proc.stderr
