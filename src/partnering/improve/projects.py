"""Improvement projects: aim, status, the partnership they belong to, a driver diagram (aim -> primary drivers ->
secondary drivers -> change ideas: a tree), PDSA cycles each linked to the measures it is judged by (indicator
codes of the store, official or an organisation's own KPIs), and progress scores on the IHI scale
(:mod:`partnering.improve.progress`).  Every write is audited (``improve.project.*``, ``improve.driver.*``,
``improve.cycle.*``, ``improve.progress.*``).

Driver diagrams follow the Model for Improvement's use of them (Bennett & Provost, "What's your theory? Driver
diagram serves as tool for building and testing theories for improvement", *Quality Progress*, 2015; NHS England
and NHS Improvement, *Online library of Quality, Service Improvement and Redesign tools: Driver diagrams*, 2022).
PDSA cycles are those of Langley et al., *The Improvement Guide*, 2nd edition, 2009.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update

from partnering.errors import NotFoundError, ValidationError
from partnering.improve.progress import check_score, label
from partnering.store import audit
from partnering.store.models import (
    DriverNode,
    ImprovementIdea,
    ImprovementProject,
    Indicator,
    Organisation,
    Partnership,
    PdsaCycle,
    PdsaMeasure,
    ProjectProgress,
)

PROJECT_STATUSES = {"active": "Active", "completed": "Completed", "stopped": "Stopped"}
DRIVER_KINDS = {"primary": "Primary driver", "secondary": "Secondary driver", "change_idea": "Change idea"}
#: which kind of node may sit under which (None: at the top, under the aim)
DRIVER_PARENTS = {"primary": (None,), "secondary": ("primary",), "change_idea": ("primary", "secondary")}
DECISIONS = {"adopt": "Adopt", "adapt": "Adapt", "abandon": "Abandon"}
ISO_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
PROJECT_COLUMNS = ["id", "org_code", "title", "aim", "status", "partnership_id", "created_by", "created_at",
                   "updated_at"]
CYCLE_COLUMNS = ["id", "project_id", "change_idea_id", "title", "start_period", "end_period", "plan_text",
                 "do_text", "study_text", "act_text", "decision", "created_by", "created_at"]


@dataclass
class DriverTreeNode:
    id: int
    kind: str
    text: str
    children: list["DriverTreeNode"] = field(default_factory=list)


@dataclass
class Project:
    """A project with everything on its page."""

    id: int
    org_code: str
    title: str
    aim: str | None
    status: str
    partnership_id: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    drivers: list[DriverTreeNode] = field(default_factory=list)
    cycles: list[dict] = field(default_factory=list)
    progress: list[dict] = field(default_factory=list)
    ideas: list[dict] = field(default_factory=list)

    @property
    def latest_score(self) -> float | None:
        return self.progress[-1]["score"] if self.progress else None

    @property
    def measures(self) -> list[tuple[str, str]]:
        """Every (indicator_code, org_code) any cycle is judged by, each once, in the order first named."""
        return list(dict.fromkeys((m["indicator_code"], m["org_code"]) for c in self.cycles for m in c["measures"]))


def _month(v, what: str, required: bool = False) -> str | None:
    v = (v or "").strip() if isinstance(v, str) or v is None else str(v)
    if not v:
        if required:
            raise ValidationError(f"{what} is required (an ISO month such as 2025-04)")
        return None
    if not ISO_MONTH.fullmatch(v):
        raise ValidationError(f"{what} must be an ISO month such as 2025-04 (got {v!r})")
    return v


def _required(v, what: str, limit: int) -> str:
    v = (v or "").strip()
    if not v:
        raise ValidationError(f"{what} is required")
    if len(v) > limit:
        raise ValidationError(f"{what} is longer than {limit:,} characters")
    return v


def _project_row(conn: Connection, project_id: int) -> dict:
    row = conn.execute(select(*[getattr(ImprovementProject, c) for c in PROJECT_COLUMNS])
                       .where(ImprovementProject.id == int(project_id))).first()
    if row is None:
        raise NotFoundError(f"no improvement project {project_id}")
    return dict(zip(PROJECT_COLUMNS, row))


def _check_partnership(conn: Connection, partnership_id) -> int | None:
    if partnership_id in (None, ""):
        return None
    pid = int(partnership_id)
    if conn.execute(select(Partnership.id).where(Partnership.id == pid)).first() is None:
        raise NotFoundError(f"no partnership {pid} in the register")
    return pid


def create_project(engine: Engine, org_code: str, title: str, aim: str | None = None,
                   partnership_id: int | None = None, from_idea: int | None = None,
                   actor: str | None = None) -> int:
    """A new project of ``org_code``; ``from_idea`` accepts that idea into it.  Returns its id."""
    actor = actor or audit.default_actor()
    now = datetime.now()
    with engine.begin() as conn:
        code = (org_code or "").strip().upper()
        if not code or conn.execute(select(Organisation.org_code).where(Organisation.org_code == code)).first() \
                is None:
            raise NotFoundError(f"no organisation {code or '(none given)'} in the store")
        row = {"org_code": code, "title": _required(title, "the project's title", 300),
               "aim": (aim or "").strip() or None, "status": "active",
               "partnership_id": _check_partnership(conn, partnership_id), "created_by": actor,
               "created_at": now, "updated_at": now}
        pid = int(conn.execute(insert(ImprovementProject).values(**row)).inserted_primary_key[0])
        audit.record(conn, actor, "improve.project.create", f"project {pid}", None, row)
        if from_idea is not None:
            idea_org = conn.execute(select(ImprovementIdea.org_code).where(ImprovementIdea.id == int(from_idea))) \
                .scalar_one_or_none()
            if idea_org is None:
                raise NotFoundError(f"no idea {from_idea}")
            if idea_org != code:
                raise ValidationError(f"idea {from_idea} belongs to {idea_org}, not {code}")
            conn.execute(update(ImprovementIdea).where(ImprovementIdea.id == int(from_idea))
                         .values(status="accepted", project_id=pid))
            audit.record(conn, actor, "improve.idea.triage", f"idea {from_idea}", None,
                         {"status": "accepted", "project_id": pid})
    return pid


def update_project(engine: Engine, project_id: int, actor: str | None = None, **changes) -> dict:
    """Change a project's ``title``, ``aim``, ``status`` or ``partnership_id``."""
    actor = actor or audit.default_actor()
    allowed = {"title", "aim", "status", "partnership_id"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(f"cannot change {', '.join(unknown)} of a project (only {', '.join(sorted(allowed))})")
    with engine.begin() as conn:
        before = _project_row(conn, project_id)
        values = {}
        if "title" in changes:
            values["title"] = _required(changes["title"], "the project's title", 300)
        if "aim" in changes:
            values["aim"] = (changes["aim"] or "").strip() or None
        if "status" in changes:
            if changes["status"] not in PROJECT_STATUSES:
                raise ValidationError(f"status must be one of {', '.join(PROJECT_STATUSES)}")
            values["status"] = changes["status"]
        if "partnership_id" in changes:
            values["partnership_id"] = _check_partnership(conn, changes["partnership_id"])
        values["updated_at"] = datetime.now()
        conn.execute(update(ImprovementProject).where(ImprovementProject.id == int(project_id)).values(**values))
        after = _project_row(conn, project_id)
        audit.record(conn, actor, "improve.project.update", f"project {project_id}", before, after)
    return after


def add_driver(engine: Engine, project_id: int, kind: str, text: str, parent_id: int | None = None,
               actor: str | None = None) -> int:
    """Add a node to the driver diagram: a ``primary`` driver (under the aim), a ``secondary`` driver (under a
    primary one) or a ``change_idea`` (under a primary or secondary driver)."""
    actor = actor or audit.default_actor()
    if kind not in DRIVER_KINDS:
        raise ValidationError(f"kind must be one of {', '.join(DRIVER_KINDS)}")
    with engine.begin() as conn:
        _project_row(conn, project_id)
        parent_kind = None
        if parent_id is not None:
            parent = conn.execute(select(DriverNode.project_id, DriverNode.kind)
                                  .where(DriverNode.id == int(parent_id))).first()
            if parent is None or parent.project_id != int(project_id):
                raise NotFoundError(f"no driver {parent_id} in project {project_id}")
            parent_kind = parent.kind
        if parent_kind not in DRIVER_PARENTS[kind]:
            where = "under the aim (no parent)" if DRIVER_PARENTS[kind] == (None,) else \
                "under a " + " or ".join(DRIVER_KINDS[k].lower() for k in DRIVER_PARENTS[kind])
            raise ValidationError(f"a {DRIVER_KINDS[kind].lower()} goes {where}")
        n = conn.execute(select(DriverNode.id).where(DriverNode.project_id == int(project_id))).all()
        row = {"project_id": int(project_id), "parent_id": parent_id, "kind": kind,
               "text": _required(text, "the driver's text", 2_000), "position": len(n)}
        did = int(conn.execute(insert(DriverNode).values(**row)).inserted_primary_key[0])
        audit.record(conn, actor, "improve.driver.add", f"project {project_id}", None, {"id": did, **row})
    return did


def remove_driver(engine: Engine, project_id: int, driver_id: int, actor: str | None = None) -> None:
    """Remove a driver and everything under it (cycles that tested a removed change idea keep their record)."""
    actor = actor or audit.default_actor()
    with engine.begin() as conn:
        row = conn.execute(select(DriverNode.kind, DriverNode.text)
                           .where(DriverNode.id == int(driver_id), DriverNode.project_id == int(project_id))).first()
        if row is None:
            raise NotFoundError(f"no driver {driver_id} in project {project_id}")
        conn.execute(delete(DriverNode).where(DriverNode.id == int(driver_id)))
        audit.record(conn, actor, "improve.driver.remove", f"project {project_id}",
                     {"id": int(driver_id), "kind": row.kind, "text": row.text}, None)


def _measures(conn: Connection, measures, org_code: str) -> list[dict]:
    out = []
    for m in measures or []:
        code, org = (m, None) if isinstance(m, str) else (m[0], m[1] if len(m) > 1 else None)
        code = (code or "").strip()
        if "@" in code:
            code, org = code.split("@", 1)
        if not code:
            continue
        if conn.execute(select(Indicator.code).where(Indicator.code == code)).first() is None:
            raise NotFoundError(f"no indicator {code} in the store (a measure is an indicator code, official or "
                                "an organisation's own KPI)")
        out.append({"indicator_code": code, "org_code": (org or org_code).strip().upper()})
    return list({(m["indicator_code"], m["org_code"]): m for m in out}.values())


def add_cycle(engine: Engine, project_id: int, title: str, start_period: str, measures=(),
              change_idea_id: int | None = None, end_period: str | None = None, plan: str | None = None,
              do: str | None = None, study: str | None = None, act: str | None = None, decision: str | None = None,
              actor: str | None = None) -> int:
    """A PDSA cycle from ``start_period`` judged by ``measures`` (indicator codes, ``CODE@ORG`` for another
    organisation's series; the project's organisation by default), testing ``change_idea_id`` if given."""
    actor = actor or audit.default_actor()
    with engine.begin() as conn:
        proj = _project_row(conn, project_id)
        row = _cycle_values(conn, proj, title, start_period, end_period, change_idea_id, plan, do, study, act,
                            decision)
        row.update(project_id=int(project_id), created_by=actor, created_at=datetime.now())
        cid = int(conn.execute(insert(PdsaCycle).values(**row)).inserted_primary_key[0])
        ms = _measures(conn, measures, proj["org_code"])
        if ms:
            conn.execute(insert(PdsaMeasure), [{"cycle_id": cid, **m} for m in ms])
        audit.record(conn, actor, "improve.cycle.add", f"project {project_id}", None,
                     {"id": cid, **row, "measures": ms})
    return cid


def _cycle_values(conn, proj, title, start_period, end_period, change_idea_id, plan, do, study, act, decision):
    start = _month(start_period, "the cycle's first month", required=True)
    end = _month(end_period, "the cycle's last month")
    if end and end < start:
        raise ValidationError(f"the cycle ends ({end}) before it starts ({start})")
    if decision not in (None, "") and decision not in DECISIONS:
        raise ValidationError(f"decision must be one of {', '.join(DECISIONS)}")
    if change_idea_id not in (None, ""):
        node = conn.execute(select(DriverNode.project_id, DriverNode.kind)
                            .where(DriverNode.id == int(change_idea_id))).first()
        if node is None or node.project_id != proj["id"] or node.kind != "change_idea":
            raise NotFoundError(f"no change idea {change_idea_id} in project {proj['id']}")
    return {"title": _required(title, "the cycle's title", 300), "start_period": start, "end_period": end,
            "change_idea_id": int(change_idea_id) if change_idea_id not in (None, "") else None,
            "plan_text": (plan or "").strip() or None, "do_text": (do or "").strip() or None,
            "study_text": (study or "").strip() or None, "act_text": (act or "").strip() or None,
            "decision": decision or None}


def update_cycle(engine: Engine, cycle_id: int, actor: str | None = None, measures=None, **changes) -> dict:
    """Change a cycle's fields (``title, start_period, end_period, change_idea_id, plan, do, study, act,
    decision``) and, when given, replace its ``measures``."""
    actor = actor or audit.default_actor()
    allowed = {"title", "start_period", "end_period", "change_idea_id", "plan", "do", "study", "act", "decision"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(f"cannot change {', '.join(unknown)} of a cycle (only {', '.join(sorted(allowed))})")
    with engine.begin() as conn:
        before = _cycle_row(conn, cycle_id)
        proj = _project_row(conn, before["project_id"])
        cur = {"title": before["title"], "start_period": before["start_period"], "end_period": before["end_period"],
               "change_idea_id": before["change_idea_id"], "plan": before["plan_text"], "do": before["do_text"],
               "study": before["study_text"], "act": before["act_text"], "decision": before["decision"]}
        cur.update(changes)
        values = _cycle_values(conn, proj, **cur)
        conn.execute(update(PdsaCycle).where(PdsaCycle.id == int(cycle_id)).values(**values))
        if measures is not None:
            conn.execute(delete(PdsaMeasure).where(PdsaMeasure.cycle_id == int(cycle_id)))
            ms = _measures(conn, measures, proj["org_code"])
            if ms:
                conn.execute(insert(PdsaMeasure), [{"cycle_id": int(cycle_id), **m} for m in ms])
        after = _cycle_row(conn, cycle_id)
        audit.record(conn, actor, "improve.cycle.update", f"cycle {cycle_id}", before, after)
    return after


def _cycle_row(conn: Connection, cycle_id: int) -> dict:
    row = conn.execute(select(*[getattr(PdsaCycle, c) for c in CYCLE_COLUMNS])
                       .where(PdsaCycle.id == int(cycle_id))).first()
    if row is None:
        raise NotFoundError(f"no PDSA cycle {cycle_id}")
    d = dict(zip(CYCLE_COLUMNS, row))
    d["measures"] = [dict(r._mapping) for r in conn.execute(
        select(PdsaMeasure.indicator_code, PdsaMeasure.org_code).where(PdsaMeasure.cycle_id == int(cycle_id))
        .order_by(PdsaMeasure.id))]
    return d


def project_of_cycle(engine: Engine, cycle_id: int) -> int:
    with engine.connect() as conn:
        return _cycle_row(conn, cycle_id)["project_id"]


def record_progress(engine: Engine, project_id: int, period: str, score, note: str | None = None,
                    actor: str | None = None) -> int:
    """A progress score for the project in ``period`` on the IHI assessment scale (0.5 to 5.0)."""
    actor = actor or audit.default_actor()
    s = check_score(score)
    month = _month(period, "the month of the score", required=True)
    with engine.begin() as conn:
        _project_row(conn, project_id)
        row = {"project_id": int(project_id), "period": month, "score": s, "note": (note or "").strip() or None,
               "recorded_by": actor, "recorded_at": datetime.now()}
        sid = int(conn.execute(insert(ProjectProgress).values(**row)).inserted_primary_key[0])
        audit.record(conn, actor, "improve.progress.record", f"project {project_id}", None,
                     {**row, "label": label(s)})
    return sid


def _tree(rows: list[dict]) -> list[DriverTreeNode]:
    nodes = {r["id"]: DriverTreeNode(r["id"], r["kind"], r["text"]) for r in rows}
    top = []
    for r in rows:
        (nodes[r["parent_id"]].children if r["parent_id"] in nodes else top).append(nodes[r["id"]])
    return top


def get_project(engine: Engine, project_id: int) -> Project:
    """A project with its driver tree, cycles (each with its measures), progress scores and ideas."""
    with engine.connect() as conn:
        proj = _project_row(conn, project_id)
        drivers = [dict(r._mapping) for r in conn.execute(
            select(DriverNode.id, DriverNode.parent_id, DriverNode.kind, DriverNode.text)
            .where(DriverNode.project_id == int(project_id)).order_by(DriverNode.position, DriverNode.id))]
        cycle_ids = conn.execute(select(PdsaCycle.id).where(PdsaCycle.project_id == int(project_id))
                                 .order_by(PdsaCycle.start_period, PdsaCycle.id)).scalars().all()
        cycles = [_cycle_row(conn, c) for c in cycle_ids]
        progress = [dict(r._mapping) | {"label": label(r.score)} for r in conn.execute(
            select(ProjectProgress.period, ProjectProgress.score, ProjectProgress.note, ProjectProgress.recorded_by)
            .where(ProjectProgress.project_id == int(project_id))
            .order_by(ProjectProgress.period, ProjectProgress.id))]
        ideas = [dict(r._mapping) for r in conn.execute(
            select(ImprovementIdea.id, ImprovementIdea.title).where(ImprovementIdea.project_id == int(project_id)))]
    return Project(**proj, drivers=_tree(drivers), cycles=cycles, progress=progress, ideas=ideas)


def list_projects(engine: Engine, org_code: str | None = None, partnership_id: int | None = None,
                  orgs: list[str] | None = None) -> pd.DataFrame:
    """Projects, newest first, with the latest progress score and the number of cycles; ``orgs`` keeps those of
    any of these organisations (a user's scope)."""
    stmt = select(*[getattr(ImprovementProject, c) for c in PROJECT_COLUMNS]).order_by(ImprovementProject.id.desc())
    if org_code:
        stmt = stmt.where(ImprovementProject.org_code == org_code.upper())
    if orgs is not None:
        stmt = stmt.where(ImprovementProject.org_code.in_([o.upper() for o in orgs]))
    if partnership_id is not None:
        stmt = stmt.where(ImprovementProject.partnership_id == int(partnership_id))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=PROJECT_COLUMNS)
        scores = pd.DataFrame(conn.execute(select(ProjectProgress.project_id, ProjectProgress.period,
                                                  ProjectProgress.score).order_by(ProjectProgress.period,
                                                                                  ProjectProgress.id)).all(),
                              columns=["project_id", "period", "score"])
        cycles = pd.DataFrame(conn.execute(select(PdsaCycle.project_id)).all(), columns=["project_id"])
    df["latest_score"] = df["id"].map(scores.groupby("project_id")["score"].last())
    df["cycles"] = df["id"].map(cycles.groupby("project_id").size()).fillna(0).astype(int)
    return df


def cycle_annotations(project: Project, indicator_code: str, org_code: str | None = None) -> list[dict]:
    """The project's PDSA cycles judged by this measure, as chart annotations: ``x`` (the cycle's first month),
    ``x_end`` (its last, or None), ``label`` ("PDSA 2: title"), in start order (for
    :func:`partnering.web.charts.spc_figure`'s ``annotations``)."""
    org = (org_code or project.org_code).upper()
    out = []
    for n, c in enumerate(project.cycles, start=1):
        if any(m["indicator_code"] == indicator_code and m["org_code"] == org for m in c["measures"]):
            out.append({"x": c["start_period"], "x_end": c["end_period"], "label": f"PDSA {n}: {c['title']}",
                        "cycle_id": c["id"], "decision": c["decision"]})
    return out
