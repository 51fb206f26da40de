"""partnering.register: validated, audited, versioned writes; renewals; import with row-level errors; export; the
migration that keeps existing partnerships (issue #11 s.1)."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import insert, select

from partnering import register as reg
from partnering.errors import AccessDenied, NotFoundError, ValidationError
from partnering.store.models import AuditEvent, Organisation

pytestmark = pytest.mark.unit


@pytest.fixture
def store(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(insert(Organisation), [{"org_code": c, "name": f"Trust {c}", "kind": k} for c, k in
                                            (("RA1", "acute_trust"), ("RB2", "acute_trust"),
                                             ("XC2", "technology_partner"))])
    return sqlite_engine


BASE = {"recipient_code": "ra1", "supporter_code": "RB2", "form": "buddying", "start_period": "2024-04"}


def test_add_keeps_version_one_and_audits_the_whole_entry(store):
    rec = reg.add_partnership(store, {**BASE, "parties": [{"role": "technology_partner", "org_code": "xc2"}],
                                      "targets": [{"indicator_code": "ae_4h_pct_all", "baseline": 70,
                                                   "target": 78, "target_period": "2025-03"}]}, "a@nhs")
    assert (rec.recipient_code, rec.version, rec.party_codes) == ("RA1", 1, ["RA1", "RB2", "XC2"])
    assert rec.targets[0].org_code == "RA1"  # the recipient's series where none is named
    with store.connect() as conn:
        ev = conn.execute(select(AuditEvent.action, AuditEvent.actor, AuditEvent.target)).all()
    assert ev == [("register.partnership.create", "a@nhs", f"partnership {rec.id}")]


def test_every_problem_is_listed_with_its_field(store):
    with pytest.raises(reg.EntryInvalid) as exc:
        reg.add_partnership(store, {**BASE, "form": "friendship", "start_period": "2024-13"})
    assert sorted(f for f, _ in exc.value.problems) == ["form", "start_period"]
    with pytest.raises(reg.EntryInvalid) as exc:
        reg.add_partnership(store, {**BASE, "supporter_code": "ZZ9",
                                    "targets": [{"indicator_code": "no_such_indicator"}]})
    assert dict(exc.value.problems) == {"supporter_code": "no organisation ZZ9 in the store",
                                        "targets.0.indicator_code": "no indicator no_such_indicator in the store"}


def test_update_versions_and_refuses_a_stale_edit(store):
    rec = reg.add_partnership(store, BASE)
    assert reg.update_partnership(store, rec.id, {"lessons": "Start with flow"}, expected_version=1).version == 2
    assert reg.update_partnership(store, rec.id, {"lessons": "Start with flow"}).version == 2  # nothing changed
    with pytest.raises(ValidationError, match="changed by someone else"):
        reg.update_partnership(store, rec.id, {"aims": "x"}, expected_version=1)
    history = reg.partnership_history(store, rec.id)
    assert [(h["version"], h["action"]) for h in history] == [(2, "update"), (1, "create")]
    assert history[1]["snapshot"]["lessons"] is None and history[0]["snapshot"]["lessons"] == "Start with flow"


def test_renewal_is_a_new_linked_period_of_the_same_pair_and_form(store):
    """Failed before migration 0006: the unique constraint on recipient x supporter x form refused a second row."""
    first = reg.add_partnership(store, BASE)
    second = reg.renew_partnership(store, first.id, "2025-04")
    assert (second.renews_id, second.start_period, second.form) == (first.id, "2025-04", "buddying")
    old = reg.get_partnership(store, first.id)
    assert (old.end_period, old.status) == ("2025-03", "ended")
    with pytest.raises(reg.EntryInvalid, match="starts after"):
        reg.renew_partnership(store, second.id, "2025-01")


def test_end_records_lessons(store):
    rec = reg.end_partnership(store, reg.add_partnership(store, BASE).id, "2025-09", lessons="Too short")
    assert (rec.status, rec.end_period, rec.lessons, rec.version) == ("ended", "2025-09", "Too short", 2)


def test_import_reports_every_row_problem_and_writes_nothing(store, tmp_path):
    f = tmp_path / "reg.csv"
    pd.DataFrame([
        {"recipient_code": "RA1", "supporter_code": "RB2", "form": "buddying", "mandated": "yes",
         "targets": "ae_4h_pct_all:70:78:2025-03", "parties": "university:University of Ulstead"},
        {"recipient_code": "RA1", "supporter_code": "ZZ9", "form": "buddying", "mandated": "no",
         "targets": "", "parties": ""},
        {"recipient_code": "RA1", "supporter_code": "RB2", "form": "buddying", "mandated": "perhaps",
         "targets": "", "parties": ""},
        {"recipient_code": "RA1", "supporter_code": "RB2", "form": "alliance", "mandated": "no",
         "targets": "ae_4h_pct_all:seventy", "parties": ""},
    ]).to_csv(f, index=False)
    res = reg.import_partnerships(store, f, "cli:test")
    assert [(e.row, e.column) for e in res.errors] == [(3, "supporter_code"), (4, "mandated"), (5, "targets")]
    assert res.created == []
    assert reg.list_partnerships(store).empty


def test_export_then_import_round_trip_updates_only_what_changed(store, tmp_path):
    rec = reg.add_partnership(store, {**BASE, "mandated_by": "NHS England",
                                      "parties": [{"role": "university", "name": "University of Ulstead"}],
                                      "targets": [{"indicator_code": "ae_4h_pct_all", "target": 78}]})
    reg.add_partnership(store, {**BASE, "form": "alliance"})
    for ext in ("csv", "xlsx"):
        path = tmp_path / f"out.{ext}"
        reg.export_partnerships(store, path)
        res = reg.import_partnerships(store, path)
        assert res.ok and sorted(res.unchanged) == [1, 2] and res.updated == [] and res.created == []
    df = reg.register_frame(store)
    df.loc[df["id"] == rec.id, "lessons"] = "Agree measures first"
    df.to_csv(tmp_path / "edited.csv", index=False)
    res = reg.import_partnerships(store, tmp_path / "edited.csv")
    assert res.updated == [rec.id]
    again = reg.get_partnership(store, rec.id)
    assert (again.lessons, again.mandated, again.mandated_by, again.version) == \
        ("Agree measures first", True, "NHS England", 2)
    assert again.parties[2].name == "University of Ulstead" and again.targets[0].target == 78


def test_write_access_follows_the_parties():
    codes = ["RA1", "RB2"]
    assert reg.may_write("analyst", "rb2", codes) and reg.may_write("admin", None, codes)
    assert not reg.may_write("analyst", "RC3", codes) and not reg.may_write("viewer", "RA1", codes)
    with pytest.raises(AccessDenied, match="analyst role"):
        reg.require_write("viewer", "RA1", codes)


def test_unknown_partnership_is_not_found(store):
    with pytest.raises(NotFoundError, match="no partnership 99"):
        reg.get_partnership(store, 99)


def test_migration_0006_keeps_existing_partnerships(tmp_path):
    """A store at 0005 with a partnership upgrades in place: the row is kept, active or ended by its end month."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from partnering.store.db import alembic_config

    eng = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.execute(text("INSERT INTO partnerships (recipient_code, supporter_code, form, start_period, end_period) "
                          "VALUES ('RA1', 'RB2', 'buddying', '2019-04', '2021-03'), "
                          "('RA1', 'RC3', 'buddying', '2024-04', NULL)"))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        rows = conn.execute(text("SELECT supporter_code, status, version, mandated FROM partnerships ORDER BY id"))
        assert [tuple(r) for r in rows] == [("RB2", "ended", 1, 0), ("RC3", "active", 1, 0)]
        conn.execute(text("INSERT INTO partnerships (recipient_code, supporter_code, form, status, version, mandated) "
                          "VALUES ('RA1', 'RB2', 'buddying', 'active', 1, 0)"))  # the same pair again: a renewal
    eng.dispose()
