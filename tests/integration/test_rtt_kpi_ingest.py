"""RTT Incomplete-Provider and generic KPI loaders; successor codes joining series."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from partnering.errors import IngestError, NotFoundError
from partnering.ingest.kpi import load_kpi, parse_kpi
from partnering.ingest.rtt import load_rtt, parse_rtt
from partnering.store import repository as repo

pytestmark = pytest.mark.integration


def _trusts(engine, *codes):
    """Organisations the store knows (a KPI file may only write for known organisations)."""
    orgs = pd.DataFrame({"org_code": list(codes), "name": [f"Trust {c}" for c in codes], "kind": "acute_trust"})
    with engine.begin() as conn:
        repo.upsert_organisations(conn, orgs)


def _rtt(nhs, month="Mar25"):
    return next((nhs / "rtt-incomplete-provider").glob(f"Incomplete-Provider-{month}-*.csv"))


@pytest.mark.shared
def test_rtt_month_from_file_name_and_real_figures(nhs):
    f = _rtt(nhs)
    p = parse_rtt(f.read_bytes(), str(f))
    assert p.period == "2025-03" and not p.rejected
    obs = p.observations.set_index(["org_code", "indicator"])
    # Barts Health (R1H), total C_999 row, checked against the raw file with plain pandas
    raw = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    row = raw[(raw["Provider Code"] == "R1H") & (raw["Treatment Function Code"] == "C_999")].iloc[0]
    as_num = lambda s: float(s.replace(",", "").replace("%", "")) if s != "-" else 0.0  # noqa: E731
    assert obs.loc[("R1H", "rtt_incomplete_pathways"), "value"] == as_num(row["Total number of incomplete pathways"])
    assert obs.loc[("R1H", "rtt_within_18w_pct"), "value"] == pytest.approx(as_num(row["% within 18 weeks"]), abs=0.05)
    assert obs.loc[("R1H", "rtt_over_52w"), "value"] == as_num(row["Total 52 plus weeks"])
    assert obs.loc[("R1H", "rtt_median_wait_weeks"), "value"] == as_num(row["Average (median) waiting time (in weeks)"])
    # breakdown per treatment function
    assert ("R1H", "rtt_incomplete_pathways:C_110") in obs.index
    tf_sum = sum(v for (o, i), v in obs["value"].items() if o == "R1H" and i.startswith("rtt_incomplete_pathways:"))
    assert tf_sum == obs.loc[("R1H", "rtt_incomplete_pathways"), "value"]


@pytest.mark.shared
def test_rtt_without_a_knowable_month_is_refused(nhs, tmp_path, engine, snapshot):
    before = snapshot(engine)
    f = tmp_path / "waiting-list.csv"
    f.write_bytes(_rtt(nhs).read_bytes())
    with pytest.raises(IngestError, match="month cannot be read"):
        load_rtt(f, engine)
    assert snapshot(engine) == before
    rep = load_rtt(f, engine, period="2025-03")
    assert rep.period == "2025-03" and rep.observations_new > 20_000
    with pytest.raises(IngestError, match="not an ISO month"):
        load_rtt(f, engine, period="March")


@pytest.mark.shared
def test_rtt_cut_file_and_bad_cells(nhs, tmp_path, engine, snapshot):
    src = _rtt(nhs).read_text(encoding="utf-8-sig").splitlines()
    cut = tmp_path / "Incomplete-Provider-Mar25-cut.csv"
    # drop one treatment-function row of the first provider: its C_999 total no longer adds up
    k = next(i for i, ln in enumerate(src) if ",C_110," in ln)
    cut.write_text("\n".join(src[:k] + src[k + 1:]) + "\n")
    before = snapshot(engine)
    with pytest.raises(IngestError, match="C_999 total row"):
        load_rtt(cut, engine)
    assert snapshot(engine) == before
    # a non-numeric median is rejected with its line and column; the rest loads
    bad = tmp_path / "Incomplete-Provider-Mar25-bad.csv"
    lines = list(src)
    parts = next((i, ln) for i, ln in enumerate(lines) if ",C_120," in ln)
    i = parts[0]
    cells = pd.read_csv(io.StringIO(lines[0] + "\n" + lines[i]), dtype=str, keep_default_na=False).iloc[0]
    cells["Average (median) waiting time (in weeks)"] = "n/a"
    lines[i] = ",".join(f'"{c}"' for c in cells.tolist())
    bad.write_text("\n".join(lines) + "\n")
    rep = load_rtt(bad, engine)
    assert rep.rows_rejected == 1
    rej = repo.rejected_frame(engine, rep.batch_id).iloc[0]
    assert rej["line"] == i + 1 and rej["column"] == "Average (median) waiting time (in weeks)"
    assert "'n/a' is not a number" in rej["reason"]


def test_kpi_csv_xlsx_parquet_and_rejections(tmp_path, engine, snapshot):
    df = pd.DataFrame({
        "org_code": ["RAA", "RAA", "RBB", "", "RCC", "RDD", "RAA"],
        "indicator": ["falls_per_1000", "falls_per_1000", "falls_per_1000", "x", "ae_4h_pct_all", "y",
                      "falls_per_1000"],
        "period": ["2025-01", "2025-02", "Feb 2025", "2025-01", "2025-01", "2025-13", "2025-01"],
        "numerator": ["", "", "", "", "120", "", ""],
        "denominator": ["", "", "", "", "100", "", ""],
        "value": ["3.1", "2,900", "4.5%", "1", "", "2", "3.3"],
    })
    f = tmp_path / "kpis.csv"
    df.to_csv(f, index=False)
    _trusts(engine, "RAA", "RBB", "RCC", "RDD")
    rep = load_kpi(f, engine)
    assert rep.rows_read == 7 and rep.rows_loaded == 3
    rej = repo.rejected_frame(engine, rep.batch_id)
    reasons = dict(zip(rej["line"], rej["reason"]))
    assert reasons[5] == "empty organisation code"
    assert "exceeds denominator" in reasons[6]
    assert "is not a month" in reasons[7]
    assert "duplicate" in reasons[8]
    obs = repo.observations_frame(engine, ["falls_per_1000"]).set_index(["org_code", "period"])["value"]
    assert obs[("RAA", "2025-02")] == 2900 and obs[("RBB", "2025-02")] == 4.5
    # the same data as XLSX and Parquet load identically (nothing new: same values)
    good = df.iloc[[0, 1, 2]]
    for ext in ("xlsx", "parquet"):
        g = tmp_path / f"kpis.{ext}"
        (good.to_excel(g, index=False) if ext == "xlsx" else good.to_parquet(g, index=False))
        r = load_kpi(g, engine)
        assert r.rows_loaded == 3 and r.observations_new == 0, ext
    before = snapshot(engine)
    assert load_kpi(f, engine).status == "unchanged"
    assert snapshot(engine) == before
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("code,kpi,month,val\nRAA,x,2025-01,1\n")
    with pytest.raises(IngestError, match="has no 'org_code' column"):
        load_kpi(wrong, engine)
    assert snapshot(engine) == before


def test_kpi_hostile_cells_are_rejected_not_executed(tmp_path):
    f = tmp_path / "hostile.csv"
    f.write_text("org_code,indicator,period,value\n"
                 "RAA'; DROP TABLE observations;--,x,2025-01,1\n"
                 "=cmd|' /C calc'!A0,x,2025-01,1\n"
                 "RAA,x,2025-01,1e309\n"
                 "RAA,x,2025-01,nan\n")
    p = parse_kpi(f.read_bytes(), str(f))
    assert p.rows_loaded == 0
    assert [r[1] for r in p.rejected] == ["org_code", "org_code", "value", "value"]


def test_successor_codes_join_a_series_across_a_merger(tmp_path, engine):
    from partnering.ingest.base import Parsed, commit_parsed

    orgs = pd.DataFrame({"org_code": ["ROLD", "RNEW"], "name": ["Old Trust", "New Trust"],
                         "kind": ["acute_trust", "acute_trust"], "successor_code": ["RNEW", None]})
    obs = pd.DataFrame({
        "org_code": ["ROLD", "ROLD", "RNEW", "RNEW", "ROLD"],
        "indicator": ["ae_attendances_total", "ae_attendances_total", "ae_attendances_total", "ae_attendances_total",
                      "ae_4h_pct_all"],
        "period": ["2024-01", "2024-02", "2024-02", "2024-03", "2024-02"],
        "numerator": [None, None, None, None, 80], "denominator": [None, None, None, None, 100],
        "value": [100, 110, 200, 320, 80.0],
    })
    obs2 = pd.DataFrame({"org_code": ["RNEW"], "indicator": ["ae_4h_pct_all"], "period": ["2024-02"],
                         "numerator": [150], "denominator": [200], "value": [75.0]})
    commit_parsed(Parsed(kind="ae-monthly", file="merger.csv", organisations=orgs,
                         observations=pd.concat([obs, obs2], ignore_index=True)), "x1", engine)
    joined = repo.observations_frame(engine, ["ae_attendances_total", "ae_4h_pct_all"])
    att = joined[joined.indicator == "ae_attendances_total"].set_index("period")
    assert list(att["org_code"].unique()) == ["RNEW"]
    assert att["value"].to_dict() == {"2024-01": 100, "2024-02": 310, "2024-03": 320}
    pct = joined[joined.indicator == "ae_4h_pct_all"].iloc[0]
    assert pct["value"] == pytest.approx(100 * 230 / 300)
    raw = repo.observations_frame(engine, ["ae_attendances_total"], join_successors=False)
    assert set(raw["org_code"]) == {"ROLD", "RNEW"}


def test_identical_private_uploads_are_kept_apart_by_organisation(tmp_path, engine):
    f = tmp_path / "kpis.csv"
    f.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2025-01,3.1\n")
    _trusts(engine, "RAA", "RBB")
    a = load_kpi(f, engine, owner_org="RAA", published=False)
    assert a.status == "loaded"
    # the same bytes from another organisation are its own upload, not "unchanged" (which would name RAA's batch)
    b = load_kpi(f, engine, owner_org="RBB", published=False)
    assert b.status == "loaded" and b.batch_id != a.batch_id
    assert load_kpi(f, engine, owner_org="RBB", published=False).status == "unchanged"
    seen_by_b = repo.observations_frame(engine, ["falls_per_1000"], viewer_org="RBB", viewer_is_admin=False)
    assert len(seen_by_b) == 1
    # a later official (published) load of the same bytes is loaded as published data
    c = load_kpi(f, engine)
    assert c.status == "loaded"
    seen_by_anyone = repo.observations_frame(engine, ["falls_per_1000"], viewer_org=None, viewer_is_admin=False)
    assert len(seen_by_anyone) == 1


def test_a_private_upload_never_hides_published_values(tmp_path, engine):
    pub = tmp_path / "official.csv"
    pub.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2025-01,3.1\n")
    _trusts(engine, "RAA")
    load_kpi(pub, engine)
    draft = tmp_path / "draft.csv"
    draft.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2025-01,9.9\n")
    rep = load_kpi(draft, engine, owner_org="RBB", published=False)
    assert rep.observations_new == 1 and rep.observations_superseded == 0

    def seen(org, admin=False):
        df = repo.observations_frame(engine, ["falls_per_1000"], viewer_org=org, viewer_is_admin=admin)
        return df["value"].tolist()

    assert seen(None) == [3.1]  # everyone else: the published value
    assert seen("RCC") == [3.1]
    assert seen("RBB") == [9.9]  # the uploader sees its own draft
    assert seen(None, admin=True) == [3.1]  # admins: published first


def test_publishing_an_upload_makes_it_everyones_current_value_and_keeps_history(tmp_path, engine):
    pub = tmp_path / "official.csv"
    pub.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2025-01,3.1\nRAA,falls_per_1000,2025-02,3.0\n")
    _trusts(engine, "RAA")
    load_kpi(pub, engine)
    draft = tmp_path / "draft.csv"
    draft.write_text("org_code,indicator,period,value\nRAA,falls_per_1000,2025-01,9.9\nRAA,falls_per_1000,2025-03,2.0\n")
    rep = load_kpi(draft, engine, owner_org="RAA", published=False)

    def seen(org=None):
        df = repo.observations_frame(engine, ["falls_per_1000"], viewer_org=org, viewer_is_admin=False)
        return dict(zip(df["period"], df["value"]))

    assert seen() == {"2025-01": 3.1, "2025-02": 3.0}
    with engine.begin() as conn:
        assert repo.publish_batch(conn, rep.batch_id) == (2, 1)
        assert repo.publish_batch(conn, rep.batch_id) == (0, 0)  # already published: nothing changes
    assert seen() == {"2025-01": 9.9, "2025-02": 3.0, "2025-03": 2.0}
    hist = repo.observations_frame(engine, ["falls_per_1000"], history=True)
    jan = hist[hist.period == "2025-01"]
    assert sorted(jan["value"]) == [3.1, 9.9] and jan["superseded_by"].notna().sum() == 1
    with pytest.raises(NotFoundError):
        with engine.begin() as conn:
            repo.publish_batch(conn, 99_999)
