"""The official RTT Full CSV data file of January 2026 (../shared/data/nhs/rtt-full-extract): real published figures,
the NHS England interpolation method checked on twelve months of published medians, loading, and refusals."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from partnering.errors import IngestError
from partnering.ingest import rtt_extract as rx
from partnering.ingest.rtt import load_rtt
from partnering.ingest.values import parse_numbers
from partnering.store import repository as repo

pytestmark = [pytest.mark.integration, pytest.mark.shared]

MEMBER = "20260131-RTT-January-2026-full-extract.csv"


@pytest.fixture(scope="module")
def zip_path(nhs):
    return next((nhs / "rtt-full-extract").glob("Full-CSV-data-file-Jan26-*.zip"))


@pytest.fixture(scope="module")
def extract(zip_path):
    return rx.read_extract(zip_path)


@pytest.fixture(scope="module")
def frame(extract):
    return rx.measures(extract)


@pytest.fixture(scope="module")
def raw(zip_path):
    """The whole file read independently with plain pandas (the oracle for the sums)."""
    df = pd.read_csv(zip_path, dtype={"Treatment Function Code": str, "Commissioner Org Code": str})
    df = df.copy()  # one block, then the line numbers
    df["line"] = np.arange(len(df)) + 2
    return df


@pytest.fixture(scope="module")
def csv_lines(zip_path):
    with zipfile.ZipFile(zip_path) as z:
        return z.read(MEMBER).decode("utf-8").splitlines()


def test_england_total_and_the_period_from_the_file(extract):
    assert extract.period == "2026-01" and extract.rows == 183_417  # MANIFEST: 183,417 rows, Period RTT-January-2026
    # MANIFEST: England Part_2 'Total All' 7,187,677 (the C_999 rows of every provider and commissioner)
    assert extract.england["Part_2"]["all"] == 7_187_677
    assert extract.england["Part_2"]["excluding NONC"] < 7_187_677


def test_provider_totals_add_up_to_the_files_own_c999_rows(frame, raw):
    c999 = raw[raw["Treatment Function Code"] == "C_999"]
    want = c999.pivot_table(index="Provider Org Code", columns="RTT Part Type", values="Total All", aggfunc="sum")
    tot = frame[frame.treatment_function_code == "C_999"].set_index("provider_code")
    assert len(tot) == raw["Provider Org Code"].nunique() == 517
    for part, col in (("Part_2", "incomplete_pathways"), ("Part_2A", "dta_pathways"),
                      ("Part_1A", "admitted_pathways"), ("Part_1B", "nonadmitted_pathways"),
                      ("Part_3", "new_clock_starts")):
        got = tot[col].dropna()
        assert (got == want[part].reindex(got.index)).all(), part
        assert got.sum() == want[part].sum()
    # and the treatment functions of each provider add up to its total
    detail = frame[frame.treatment_function_code != "C_999"].groupby("provider_code")["incomplete_pathways"].sum()
    assert (detail.reindex(tot.index).fillna(0) == tot["incomplete_pathways"].fillna(0)).all()


def test_a_single_row_provider_read_off_the_file(frame, raw):
    # St Michael's Clinic (AHP) has one Part_2 C_999 row (line 82,953, commissioner M2L0M): Total All 1,656
    row = raw[(raw["Provider Org Code"] == "AHP") & (raw["RTT Part Type"] == "Part_2")
              & (raw["Treatment Function Code"] == "C_999")]
    assert len(row) == 1 and int(row["line"].iloc[0]) == 82_953 and int(row["Total All"].iloc[0]) == 1_656
    bands = row[rx.BAND_COLUMNS].fillna(0).to_numpy()[0]
    got = frame[(frame.provider_code == "AHP") & (frame.treatment_function_code == "C_999")].iloc[0]
    assert got.incomplete_pathways == 1_656
    assert got.incomplete_within_18w == bands[:18].sum()  # 'Gt 00 To 01' ... 'Gt 17 To 18 Weeks SUM 1' of that row
    assert got.incomplete_over_52w == bands[52:].sum() and got.new_clock_starts == 206  # Part_3 line 82,955


def test_hull_university_teaching_hospitals_rwa(frame, raw):
    # RWA: the sums of its C_999 rows over its commissioners (Part_2 'Total All', the first 18 bands, the bands from
    # 'Gt 52 To 53'); figures from the January 2026 file
    got = frame[(frame.provider_code == "RWA") & (frame.treatment_function_code == "C_999")].iloc[0]
    assert got.incomplete_pathways == 81_339 and got.incomplete_within_18w == 44_658
    assert round(got.incomplete_within_18w_pct, 1) == 54.9
    assert (got.incomplete_over_52w, got.incomplete_over_65w, got.incomplete_over_78w) == (3_157, 131, 0)
    assert (got.admitted_pathways, got.nonadmitted_pathways, got.new_clock_starts) == (3_556, 15_970, 19_136)
    assert (got.incomplete_median_weeks, got.incomplete_p92_weeks) == (16.0, 45.3)
    rwa = raw[(raw["Provider Org Code"] == "RWA") & (raw["Treatment Function Code"] == "C_999")
              & (raw["RTT Part Type"] == "Part_2")]
    assert rwa["Total All"].sum() == 81_339 and rwa[rx.BAND_COLUMNS[:18]].sum().sum() == 44_658


def test_unknown_clock_starts_count_in_completed_totals_not_in_their_waits(frame, raw):
    done = raw[(raw["Treatment Function Code"] == "C_999") & (raw["RTT Part Type"] == "Part_1B")]
    per = done.groupby("Provider Org Code")[[rx.TOTAL, rx.UNKNOWN, rx.TOTAL_ALL]].sum()
    code = per[rx.UNKNOWN].idxmax()  # the provider with most unknown clock starts
    assert per.loc[code, rx.UNKNOWN] > 0
    got = frame[(frame.provider_code == code) & (frame.treatment_function_code == "C_999")].iloc[0]
    assert got.nonadmitted_pathways == per.loc[code, rx.TOTAL_ALL]
    assert got.nonadmitted_known_clock_start == per.loc[code, rx.TOTAL]
    assert got.nonadmitted_unknown_clock_start == per.loc[code, rx.UNKNOWN]
    within = done[done["Provider Org Code"] == code][rx.BAND_COLUMNS[:18]].sum().sum()
    assert got.nonadmitted_within_18w_pct == pytest.approx(100 * within / per.loc[code, rx.TOTAL])


def test_the_interpolation_reproduces_every_published_median_and_92nd_percentile(nhs):
    """NHS England's own figures: the twelve Incomplete-Provider files carry the weekly bands and the published
    median and 92nd percentile of each provider x treatment function (blank below 20 pathways)."""
    compared = 0
    for f in sorted(glob.glob(str(nhs / "rtt-incomplete-provider" / "*.csv"))):
        raw = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        bands, _ = parse_numbers(raw[[c for c in raw.columns if c.startswith(">")] + ["104 plus"]].to_numpy(object))
        bands = np.nan_to_num(bands)
        for col, q in (("Average (median) waiting time (in weeks)", 0.5), ("92nd percentile waiting time (in weeks)",
                                                                         0.92)):
            published, _ = parse_numbers(raw[col], dash_is_zero=False)
            ours = rx.round_weeks(rx.band_percentile(bands, q))
            assert np.array_equal(np.isnan(ours), np.isnan(published)), (f, col)
            ok = ~np.isnan(published)
            assert np.abs(ours[ok] - published[ok]).max() < 1e-9, (f, col)
            compared += int(ok.sum())
    assert compared == 60_190


def test_loads_into_the_store_and_continues_the_rtt_series(zip_path, nhs, engine):
    old = next((nhs / "rtt-incomplete-provider").glob("Incomplete-Provider-Mar25-*.csv"))
    load_rtt(old, engine)
    rep = load_rtt(zip_path, engine)
    assert rep.status == "loaded" and rep.period == "2026-01" and rep.rows_rejected == 0
    assert "England waiting list 7,187,677" in rep.message
    obs = repo.observations_frame(engine, indicators=["rtt_incomplete_pathways", "rtt_over_104w"], orgs=["RWA"])
    series = obs[obs.indicator == "rtt_incomplete_pathways"].set_index("period")["value"]
    assert series["2026-01"] == 81_339 and "2025-03" in series.index  # the same indicator from both layouts
    assert obs[(obs.indicator == "rtt_over_104w")]["value"].tolist() == [0.0]
    assert load_rtt(zip_path, engine).status == "unchanged"
    units = repo.indicators_frame(engine).set_index("code")["unit"]
    assert units["rtt_completed_admitted_median_weeks"] == "weeks" and units["rtt_new_clock_starts"] == "count"


def _first_providers(csv_lines, n=3) -> list[str]:
    """The header and the rows of the file's first ``n`` providers (rows of a provider are contiguous)."""
    seen: list[str] = []
    for i, line in enumerate(csv_lines[1:], start=1):
        code = line.split(",")[3]
        if code not in seen:
            if len(seen) == n:
                return csv_lines[:i]
            seen.append(code)
    return csv_lines


def test_real_rows_tampered_so_a_treatment_function_does_not_add_up_are_refused(csv_lines, tmp_path, engine,
                                                                                 snapshot):
    lines = _first_providers(csv_lines)
    good = tmp_path / "first-providers.csv"
    good.write_text("\n".join(lines) + "\n")
    assert rx.read_extract(good).rows == len(lines) - 1  # the real rows of whole providers add up
    assert lines[0].startswith("Period,")
    k = next(i for i, ln in enumerate(lines) if ",Part_2," in ln and ",C_999," not in ln)
    cells = lines[k].split(",")
    band = 13 + 10  # 'Gt 10 To 11 Weeks SUM 1'
    cells[band] = str(int(cells[band] or 0) + 5)
    cells[-1] = str(int(cells[-1]) + 5)  # the row itself still adds up
    bad = tmp_path / "tampered.csv"
    bad.write_text("\n".join(lines[:k] + [",".join(cells)] + lines[k + 1:]) + "\n")
    before = snapshot(engine)
    with pytest.raises(IngestError) as e:
        load_rtt(bad, engine)
    assert (f"provider {cells[3]}, Part_2 (incomplete pathways), column 'Gt 10 To 11 Weeks SUM 1': the treatment "
            "functions sum to") in str(e.value)
    assert "(difference -5;" in str(e.value)
    assert snapshot(engine) == before


def test_zips_without_one_csv_and_a_file_without_a_period_are_refused(csv_lines, tmp_path, engine, snapshot):
    lines = _first_providers(csv_lines, 2)
    text = "\n".join(lines) + "\n"
    before = snapshot(engine)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr(MEMBER, text)
        z.writestr("copy.csv", text)
    with pytest.raises(IngestError, match=rf"the zip holds 2 CSV files \({MEMBER}, copy.csv\); expected exactly one"):
        load_rtt(two, engine)
    none = tmp_path / "none.zip"
    with zipfile.ZipFile(none, "w") as z:
        z.writestr("readme.txt", "no data")
    with pytest.raises(IngestError, match=r"the zip holds no CSV file \(it holds: readme.txt\)"):
        load_rtt(none, engine)
    undated = tmp_path / "undated.csv"
    undated.write_text("\n".join(ln.split(",", 1)[1] for ln in lines) + "\n")  # drop the Period column
    with pytest.raises(IngestError, match="has no 'Period' column") as e:
        load_rtt(undated, engine)
    assert e.value.row == 1 and e.value.column == "Period"
    dated = tmp_path / "dated.csv"
    dated.write_text(text)
    with pytest.raises(IngestError, match="the file's Period column says 2026-01, not 2026-02"):
        load_rtt(dated, engine, period="2026-02")
    assert snapshot(engine) == before


def test_cli_writes_the_treatment_function_table(zip_path, tmp_path):
    env = {**os.environ, "PARTNERING_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("PARTNERING_DATABASE_URL", None)
    out = tmp_path / "by-tf.csv"
    p = subprocess.run([sys.executable, "-m", "partnering", "ingest", "rtt", str(zip_path),
                        "--by-treatment-function", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "183,417 of 183,417 rows loaded" in p.stdout and "Wrote 4,178 provider x treatment function rows" in p.stdout
    table = pd.read_csv(out)
    rwa = table[(table.provider_code == "RWA") & (table.treatment_function_code == "C_110")].iloc[0]
    assert rwa.treatment_function_name == "Trauma and Orthopaedic Service" and rwa.incomplete_pathways == 4_546
