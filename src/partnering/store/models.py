"""SQLAlchemy 2 models of the store.

Codes are the keys users know (ODS codes, indicator codes), so tables are
keyed by them rather than by surrogate ids where that is natural.  Periods are
ISO months (``2025-03``).  Observations are never updated in place: a revised
publication inserts a new row and points the old one at it through
``superseded_by``, so the history is kept and "current" means
``superseded_by IS NULL``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ORG_KINDS = (
    "region",
    "icb",
    "acute_trust",
    "specialist_trust",  # acute trust with a specialist case mix (children's, women's, orthopaedic, ...)
    "mental_health_trust",
    "community_trust",
    "ambulance_trust",
    "trust",  # an NHS trust whose kind is not (yet) known
    "gp_practice",
    "independent_provider",
    "university",
    "technology_partner",
    "consultancy",
    "improvement_partner",
    "other_provider",
)

IMPROVEMENT_DIRECTIONS = ("increase", "decrease", "neutral")


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"

    org_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    icb_code: Mapped[str | None] = mapped_column(String(16), index=True)
    region_code: Mapped[str | None] = mapped_column(String(16), index=True)
    postcode: Mapped[str | None] = mapped_column(String(16))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    open_date: Mapped[date | None] = mapped_column(Date)
    close_date: Mapped[date | None] = mapped_column(Date)
    successor_code: Mapped[str | None] = mapped_column(String(16))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(200))


class Succession(Base):
    """ODS successor lookup: ``old_code`` became (part of) ``new_code`` on ``effective``."""

    __tablename__ = "successions"

    old_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    new_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    effective: Mapped[date | None] = mapped_column(Date)


class Site(Base):
    __tablename__ = "sites"

    site_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    org_code: Mapped[str | None] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(32))
    postcode: Mapped[str | None] = mapped_column(String(16))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class OrgAttribute(Base):
    """Context about an organisation used for peer finding (catchment IMD, size, age...)."""

    __tablename__ = "org_attributes"

    org_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    attribute: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(200))


class Indicator(Base):
    __tablename__ = "indicators"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32))
    improvement_direction: Mapped[str] = mapped_column(String(16))
    national_standard: Mapped[float | None] = mapped_column(Float)
    standard_name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(String(80))  # for breakdowns, e.g. per treatment function
    # who may write it: an official loader's kind ("ae-monthly", "rtt", ...) or "kpi" (organisations' own measures)
    owner: Mapped[str | None] = mapped_column(String(40))


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str | None] = mapped_column(String(7))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    observations_new: Mapped[int] = mapped_column(Integer, default=0)
    observations_superseded: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    seconds: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # loaded | unchanged
    owner_org: Mapped[str | None] = mapped_column(String(16))  # uploading organisation, for scoping
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    uploaded_by: Mapped[str | None] = mapped_column(String(120))
    message: Mapped[str | None] = mapped_column(Text)
    # when the source published the file: the latest publication's value is current, whatever the order of loading
    published_on: Mapped[date | None] = mapped_column(Date)
    publication_basis: Mapped[str | None] = mapped_column(String(40))  # file | given | inferred: revised | load time


class RejectedRow(Base):
    __tablename__ = "rejected_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    line: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)


class Observation(Base):
    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(16))
    indicator_code: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(7))
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    superseded_by: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_obs_current", "indicator_code", "org_code", "period", "superseded_by"),
        Index("ix_obs_period", "period"),
        Index("ix_obs_org", "org_code", "indicator_code", "period"),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # viewer | analyst | admin
    org_code: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    #: bumped when the password changes or is reset; a web session remembers the value it signed in with and ends
    #: when the two differ, so a password change ends the user's other sessions (OWASP ASVS 4.0.3, V3.3.3)
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class EndedSession(Base):
    """A web session signed out on the server (migration 0011).  Sessions are signed cookies, so clearing the
    cookie cannot stop a copy taken before sign-out; each session carries a random id from sign-in, and a signed-out
    id is kept here until any copy of its cookie would have expired anyway (OWASP ASVS 4.0.3, V3.3.1)."""

    __tablename__ = "ended_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ended_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    target: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class Partnership(Base):
    """A registered partnership (buddying, alliance, contract...): who with whom, in what form and for how long
    (it counts supporters' current load in ``match``), and since migration 0006 the register's record of it
    (:mod:`partnering.register`): aims, whether a regulator mandated it, status, the ingredients for success, the
    business case it came from, lessons, the period it renews, and a version number that moves with every audited
    change (each version is kept in ``partnership_versions``).  A renewal is a new row linked by ``renews_id``, so
    recipient x supporter x form is no longer unique."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_code: Mapped[str] = mapped_column(String(16), index=True)
    supporter_code: Mapped[str] = mapped_column(String(16), index=True)
    form: Mapped[str] = mapped_column(String(40))
    start_period: Mapped[str | None] = mapped_column(String(7))
    end_period: Mapped[str | None] = mapped_column(String(7))
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="active")
    mandated: Mapped[bool] = mapped_column(Boolean, default=False)
    mandated_by: Mapped[str | None] = mapped_column(String(200))
    aims: Mapped[str | None] = mapped_column(Text)
    leadership_support: Mapped[str | None] = mapped_column(Text)
    measures_agreed: Mapped[str | None] = mapped_column(Text)
    why_this_partner: Mapped[str | None] = mapped_column(Text)
    staff_engagement: Mapped[str | None] = mapped_column(Text)
    good_practice: Mapped[str | None] = mapped_column(Text)
    lessons: Mapped[str | None] = mapped_column(Text)
    appraisal_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("appraisal_cases.id", ondelete="SET NULL", name="fk_partnerships_appraisal_case"))
    renews_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="SET NULL", name="fk_partnerships_renews"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class AppraisalCase(Base):
    """A stored appraisal decision case: its TOML text (``partnering.appraise.case``), whose organisation it is,
    who made it and when; every write is audited (``appraise.case.*``)."""

    __tablename__ = "appraisal_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str | None] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(300))
    toml: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class IdHighWater(Base):
    """The highest id a table has ever given, where the database could give it again (SQLite reuses the highest
    rowid after a delete): the audit log names batches by id, so an undone batch's id is never handed out again."""

    __tablename__ = "id_high_water"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)


class PartnershipParty(Base):
    """A further party to a partnership besides its recipient and supporter: an NHS body or an independent-sector,
    university, technology or consultancy partner (``org_code`` where the store knows it, else a ``name``), with its
    role in the partnership."""

    __tablename__ = "partnership_parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    org_code: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))


class PartnershipIndicator(Base):
    """An indicator a partnership should move, with its baseline and target (and the month it should be met by);
    ``org_code`` is whose series (the recipient's where blank)."""

    __tablename__ = "partnership_indicators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(80))
    org_code: Mapped[str | None] = mapped_column(String(16))
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    target_period: Mapped[str | None] = mapped_column(String(7))


class PartnershipVersion(Base):
    """Every version of a partnership as it was saved (a JSON snapshot of the whole record): its change history."""

    __tablename__ = "partnership_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    snapshot: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("partnership_id", "version", name="uq_partnership_version"),)


class ImprovementProject(Base):
    """An improvement project of an organisation (:mod:`partnering.improve`): its aim, status, the partnership it
    belongs to (if any); drivers, PDSA cycles and progress scores hang off it."""

    __tablename__ = "improvement_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(300))
    aim: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ImprovementIdea(Base):
    """A member of staff's idea for improvement: submitted, commented on, voted for, and triaged (into a project,
    or not taken forward, with the reason)."""

    __tablename__ = "improvement_ideas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    needs_money: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="new")
    triage_note: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("improvement_projects.id", ondelete="SET NULL"), index=True)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)


class IdeaComment(Base):
    __tablename__ = "idea_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("improvement_ideas.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)
    text: Mapped[str] = mapped_column(Text)


class IdeaVote(Base):
    """One vote per person per idea."""

    __tablename__ = "idea_votes"

    idea_id: Mapped[int] = mapped_column(ForeignKey("improvement_ideas.id", ondelete="CASCADE"), primary_key=True)
    voter: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)


class DriverNode(Base):
    """A node of a project's driver diagram: a primary driver (no parent), a secondary driver (under a primary) or a
    change idea (under a secondary or primary driver); the project's aim is the root."""

    __tablename__ = "driver_nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("improvement_projects.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("driver_nodes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class PdsaCycle(Base):
    """A Plan-Do-Study-Act cycle testing a change idea, from its first month (drawn on the measures' SPC charts)."""

    __tablename__ = "pdsa_cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("improvement_projects.id", ondelete="CASCADE"), index=True)
    change_idea_id: Mapped[int | None] = mapped_column(ForeignKey("driver_nodes.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    start_period: Mapped[str] = mapped_column(String(7))
    end_period: Mapped[str | None] = mapped_column(String(7))
    plan_text: Mapped[str | None] = mapped_column(Text)
    do_text: Mapped[str | None] = mapped_column(Text)
    study_text: Mapped[str | None] = mapped_column(Text)
    act_text: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(10))  # adopt | adapt | abandon
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PdsaMeasure(Base):
    """A measure a PDSA cycle is judged by: an indicator of the store (official or an organisation's own KPI) for
    an organisation (the project's where blank)."""

    __tablename__ = "pdsa_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("pdsa_cycles.id", ondelete="CASCADE"), index=True)
    indicator_code: Mapped[str] = mapped_column(String(80))
    org_code: Mapped[str | None] = mapped_column(String(16))


class ProjectProgress(Base):
    """A progress score on the IHI assessment scale (0.5 to 5.0 in half points) given to a project in a month."""

    __tablename__ = "project_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("improvement_projects.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    score: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)


class ChartNote(Base):
    """An analyst's note on one organisation x indicator series (issue #14.3): an ``annotation`` of a month
    ("new front door model") or a ``rebase`` at a month with its reason, from which SPC recalculates the limits
    (:mod:`partnering.store.annotations`).  Who made it and when is kept; every write is audited (``chart.*``)."""

    __tablename__ = "chart_notes"
    __table_args__ = (Index("ix_chart_notes_series", "org_code", "indicator_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_code: Mapped[str] = mapped_column(String(16))
    indicator_code: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class PeerGroup(Base):
    """An organisation's chosen peer group (issue #14.5): the peers an analyst pinned instead of the automatic
    nearest neighbours, with why, who and when (:mod:`partnering.store.peer_groups`); every write is audited
    (``peers.*``)."""

    __tablename__ = "peer_groups"

    org_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    peers: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime)
