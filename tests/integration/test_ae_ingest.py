"""A&E loader on the real NHS England files in ../shared/data/nhs (36 months + the official workbook)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from partnering.errors import IngestError
from partnering.ingest.ae import load_ae, parse_ae
from partnering.store import repository as repo

pytestmark = [pytest.mark.integration, pytest.mark.shared]


def _files(nhs):
    return sorted((nhs / "ae-monthly").glob("*.csv"))


def test_all_36_months_parse_and_add_up_to_their_england_row(nhs):
    files = _files(nhs)
    assert len(files) == 36
    periods = set()
    for f in files:
        data = f.read_bytes()
        parsed = parse_ae(data, str(f))
        periods.add(parsed.period)
        # independent check of the published total row, read with plain pandas
        raw = pd.read_csv(f, dtype=str, keep_default_na=False)
        code = raw["Org Code"].str.strip().str.upper()
        total = raw[code.isin(["TOTAL", ""])]
        assert len(total) == 1, f.name
        t1_total = float(total["A&E attendances Type 1"].iloc[0]) + float(
            total["A&E attendances Booked Appointments Type 1"].iloc[0])
        obs = parsed.observations
        t1 = obs[obs.indicator == "ae_attendances_type1"]["value"].sum()
        assert t1 == t1_total, f.name
        assert len(parsed.rejected) == 0, (f.name, parsed.rejected[:3])
    assert len(periods) == 36 and min(periods) == "2023-04" and max(periods) == "2026-03"


def test_march_2025_csv_equals_the_official_workbook_england_row(nhs):
    csv = next(f for f in _files(nhs) if f.name == "Monthly-AE-March-2025.csv")
    xls = nhs / "ae-workbook" / "March-2025-AE-by-provider.xls"
    a = parse_ae(csv.read_bytes(), str(csv)).observations
    b = parse_ae(xls.read_bytes(), str(xls)).observations
    for ind, published in (("ae_attendances_total", 2_389_064), ("ae_attendances_type1", 1_450_686),
                           ("ae_over_4h_total", 597_748), ("ae_emergency_admissions", 551_129),
                           ("ae_dta_over_4h", 133_957), ("ae_dta_over_12h", 46_766)):
        assert a[a.indicator == ind]["value"].sum() == published, ind
        assert b[b.indicator == ind]["value"].sum() == published, ind
    pct = a[a.indicator == "ae_4h_pct_all"]
    # the workbook's England "Percentage in 4 hours or less (all)" is 0.7497982473470782
    assert 100 * pct.numerator.sum() / pct.denominator.sum() == pytest.approx(74.97982473470782, abs=1e-9)
    merged = a.merge(b, on=["org_code", "indicator", "period"], suffixes=("_csv", "_xls"))
    assert len(merged) == len(a) == len(b)
    assert np.allclose(merged.value_csv, merged.value_xls)


def test_load_all_months_then_reload_changes_nothing(nhs, engine, snapshot):
    files = _files(nhs)
    for f in files:
        rep = load_ae(f, engine)
        assert rep.status == "loaded" and rep.rows_rejected == 0
    before = snapshot(engine)
    for f in files:
        assert load_ae(f, engine).status == "unchanged"
    assert snapshot(engine) == before
    c = repo.counts(engine)
    assert c["observations_superseded"] == 0
    obs = repo.observations_frame(engine, ["ae_attendances_total"], join_successors=False)
    assert obs["period"].nunique() == 36
    # a trust that reports every month: Bedfordshire Hospitals (RC9), March 2025 = 26,625 (workbook row)
    rc9 = obs[(obs.org_code == "RC9") & (obs.period == "2025-03")]
    assert rc9["value"].iloc[0] == 26_625
    orgs = repo.organisations_frame(engine)
    assert (orgs.set_index("org_code").loc["RC9", "kind"]) == "acute_trust"


def _edit(src, dst, fn):
    text = src.read_text(encoding="utf-8-sig")
    dst.write_text(fn(text), encoding="utf-8", newline="")
    return dst


def test_revision_supersedes_and_keeps_history(nhs, engine, tmp_path):
    f = next(f for f in _files(nhs) if f.name == "Monthly-AE-March-2025.csv")
    load_ae(f, engine)

    def revise(text):
        lines = text.splitlines(keepends=True)
        header = lines[0].rstrip("\r\n").split(",")
        i1 = header.index("A&E attendances Type 1")
        for k, line in enumerate(lines):
            parts = line.rstrip("\r\n").split(",")
            if parts[1].strip() == "RC9" or parts[1].strip().upper() == "TOTAL":
                parts[i1] = str(int(parts[i1]) + 10)
                lines[k] = ",".join(parts) + "\r\n"
        return "".join(lines)

    revised = _edit(f, tmp_path / "Monthly-AE-March-2025-revised-again.csv", revise)
    rep = load_ae(revised, engine)
    assert rep.status == "loaded"
    # type 1, total attendances and both 4-hour percentages of RC9 change
    assert rep.observations_new == 4 and rep.observations_superseded == 4
    cur = repo.observations_frame(engine, ["ae_attendances_total"], ["RC9"], join_successors=False)
    assert cur[cur.period == "2025-03"]["value"].iloc[0] == 26_635
    hist = repo.observations_frame(engine, ["ae_attendances_total"], history=True, join_successors=False)
    rc9 = hist[(hist.org_code == "RC9") & (hist.period == "2025-03")]
    assert sorted(rc9["value"]) == [26_625, 26_635]
    assert rc9["superseded_by"].notna().sum() == 1


@pytest.mark.parametrize(
    "name,edit,message",
    [
        ("truncated.csv", lambda t: "".join(t.splitlines(keepends=True)[:120]), "no England total row"),
        ("hand-edited.csv",
         lambda t: re.sub(r"(,RC9,[^,]*,[^,]*,)(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 500), t),
         r"do not add up .*difference \+500"),
        ("two-months.csv", lambda t: t.replace("MSitAE-MARCH-2025,RC9", "MSitAE-APRIL-2025,RC9"),
         "more than one month"),
        ("wrong-columns.csv", lambda t: t.replace("A&E attendances Type 1", "Attendances Type One", 1),
         "no column for att_t1"),
        ("duplicate-org.csv", lambda t: t + "MSitAE-MARCH-2025,RC9,X,Y" + ",0" * 18 + "\n", "more than one row"),
    ],
)
def test_bad_files_are_refused_and_write_nothing(nhs, engine, tmp_path, snapshot, name, edit, message):
    good = next(f for f in _files(nhs) if f.name == "Monthly-AE-February-2025-revised.csv")
    load_ae(good, engine)
    before = snapshot(engine)
    src = next(f for f in _files(nhs) if f.name == "Monthly-AE-March-2025.csv")
    bad = _edit(src, tmp_path / f"March-2025-{name}", edit)
    with pytest.raises(IngestError, match=message):
        load_ae(bad, engine)
    assert snapshot(engine) == before


def test_impossible_row_is_rejected_with_line_and_reason(nhs, engine, tmp_path):
    src = next(f for f in _files(nhs) if f.name == "Monthly-AE-March-2025.csv")
    lines = src.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    i_over = header.index("Attendances over 4hrs Other Department")
    k = next(i for i, ln in enumerate(lines) if ln.split(",")[1] == "RC9")
    parts = lines[k].split(",")
    total_k = next(i for i, ln in enumerate(lines) if ln.split(",")[1].strip().upper() == "TOTAL")
    tparts = lines[total_k].split(",")
    parts[i_over] = str(int(parts[i_over]) + 100_000)
    tparts[i_over] = str(int(tparts[i_over]) + 100_000)
    lines[k], lines[total_k] = ",".join(parts), ",".join(tparts)
    bad = tmp_path / "Monthly-AE-March-2025.csv"
    bad.write_text("\n".join(lines) + "\n")
    rep = load_ae(bad, engine)
    assert rep.rows_rejected == 1
    rej = repo.rejected_frame(engine, rep.batch_id)
    assert rej["line"].iloc[0] == k + 1
    assert "exceed attendances" in rej["reason"].iloc[0]
    assert repo.observations_frame(engine, ["ae_attendances_total"], ["RC9"]).empty


def _old_layout(text: str, style: str) -> str:
    """Rewrite a 22-column file as the 16-column layouts of 2019-20 or Apr-Jul 2020 (booked folded in)."""
    df = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
    df = df.loc[:, [c for c in df.columns if not c.startswith("Unnamed")]]
    num = lambda c: pd.to_numeric(df[c])  # noqa: E731
    out = df[["Period", "Org Code", "Parent Org", "Org name"]].copy()
    pre = "Number of " if style == "2019" else ""
    out[f"{pre}A&E attendances Type 1"] = num("A&E attendances Type 1") + num(
        "A&E attendances Booked Appointments Type 1")
    out[f"{pre}A&E attendances Type 2"] = num("A&E attendances Type 2") + num(
        "A&E attendances Booked Appointments Type 2")
    out[f"{pre}A&E attendances Other A&E Department"] = num("A&E attendances Other A&E Department") + num(
        "A&E attendances Booked Appointments Other Department")
    over = "Number of attendances over 4hrs" if style == "2019" else "Attendances over 4hrs"
    out[f"{over} Type 1"] = num("Attendances over 4hrs Type 1") + num("Attendances over 4hrs Booked Appointments Type 1")
    out[f"{over} Type 2"] = num("Attendances over 4hrs Type 2") + num("Attendances over 4hrs Booked Appointments Type 2")
    out[f"{over} Other A&E Department" if style == "2019" else f"{over} Other Department"] = num(
        "Attendances over 4hrs Other Department") + num("Attendances over 4hrs Booked Appointments Other Department")
    for c in df.columns[16:]:
        out[c] = df[c]
    assert out.shape[1] == 16
    return out.to_csv(index=False, lineterminator="\r\n")


@pytest.mark.parametrize("style", ["2019", "2020"])
def test_older_16_column_layouts_give_the_same_figures(nhs, tmp_path, style):
    src = next(f for f in _files(nhs) if f.name == "Monthly-AE-March-2025.csv")
    new = parse_ae(src.read_bytes(), str(src)).observations
    old_file = tmp_path / f"AE-by-provider-March-{style}.csv"
    old_file.write_text(_old_layout(src.read_text(encoding="utf-8-sig"), style), encoding="utf-8")
    old = parse_ae(old_file.read_bytes(), str(old_file)).observations
    m = new.merge(old, on=["org_code", "indicator", "period"], suffixes=("_new", "_old"))
    assert len(m) == len(new) == len(old)
    assert np.allclose(m.value_new, m.value_old, equal_nan=True)


def test_junk_trailing_columns_and_spelling_quirks_are_handled(nhs):
    sep = next(f for f in _files(nhs) if f.name == "Monthly-AE-September-2024.csv")
    assert sep.read_text().splitlines()[0].endswith(",,,,,,") or ",,,,,," in sep.read_text().splitlines()[1]
    p = parse_ae(sep.read_bytes(), str(sep))
    assert p.period == "2024-09" and not p.rejected
    feb = next(f for f in _files(nhs) if f.name == "February-2026-CSV-Dl8t54.csv")
    p = parse_ae(feb.read_bytes(), str(feb))  # total row carries a normal period label
    assert p.period == "2026-02"


def test_not_a_csv_and_binary_are_refused(tmp_path, engine, snapshot):
    before = snapshot(engine)
    b = tmp_path / "March-2025.csv"
    b.write_bytes(b"\x00\x01\x02garbage" * 100)
    with pytest.raises(IngestError, match="binary"):
        load_ae(b, engine)
    e = tmp_path / "empty-March-2025.csv"
    e.write_text("")
    with pytest.raises(IngestError):
        load_ae(e, engine)
    with pytest.raises(IngestError, match="file not found"):
        load_ae(tmp_path / "nope.csv", engine)
    assert snapshot(engine) == before
