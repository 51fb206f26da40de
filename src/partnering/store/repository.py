"""Repositories: the store's read and write operations, returning plain DataFrames.

Everything above the store (measure, match, the faces) reads through here; no
ORM object leaves this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection

from partnering.indicators.catalogue import KPI_OWNER, IndicatorDef, indicator, load_catalogue
from partnering.store.audit import last_event_id, record
from partnering.store.models import (
    IdHighWater,
    ImportBatch,
    Indicator,
    Observation,
    Organisation,
    OrgAttribute,
    RejectedRow,
    Site,
    Succession,
)
from partnering.store.names import display_name
from partnering.store.publication import DERIVED, Publication, is_later

ORG_COLUMNS = [
    "org_code",
    "name",
    "kind",
    "icb_code",
    "region_code",
    "postcode",
    "latitude",
    "longitude",
    "open_date",
    "close_date",
    "successor_code",
    "synthetic",
    "source",
]
OBS_COLUMNS = ["org_code", "indicator", "period", "numerator", "denominator", "value"]


def _none(v):
    """NaN / NaT / pandas NA -> None, numpy scalars -> Python scalars."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.date()
    return v


def _records(df: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    cols = [c for c in columns if c in df.columns]
    return [{c: _none(v) for c, v in zip(cols, row)} for row in df[cols].itertuples(index=False, name=None)]


# --------------------------------------------------------------------------- organisations


def upsert_organisations(conn: Connection, orgs: pd.DataFrame, overwrite: bool = True) -> int:
    """Insert organisations, updating those already present when ``overwrite``.

    Columns missing from ``orgs`` (or null in a row) never erase what the store
    already knows, so loading a file that lacks coordinates keeps earlier ones.
    """
    if orgs.empty:
        return 0
    orgs = orgs.drop_duplicates("org_code", keep="last")
    existing = {
        r.org_code: r
        for r in conn.execute(select(Organisation).where(Organisation.org_code.in_(list(orgs["org_code"]))))
    }
    new_rows, changed = [], 0
    for rec in _records(orgs, ORG_COLUMNS):
        old = existing.get(rec["org_code"])
        if old is None:
            rec.setdefault("synthetic", False)
            rec.setdefault("name", rec["org_code"])
            rec.setdefault("kind", "other_provider")
            new_rows.append(rec)
        elif overwrite:
            values = {k: v for k, v in rec.items() if k != "org_code" and v is not None and getattr(old, k) != v}
            if values:
                conn.execute(update(Organisation).where(Organisation.org_code == rec["org_code"]).values(**values))
                changed += 1
    if new_rows:
        conn.execute(insert(Organisation), new_rows)
    return len(new_rows) + changed


def ensure_organisations(conn: Connection, codes_names: pd.DataFrame, kind_of) -> int:
    """Create minimal rows for organisations first seen in a performance file (name and kind only)."""
    known = set(conn.execute(select(Organisation.org_code)).scalars())
    missing = codes_names[~codes_names["org_code"].isin(known)].drop_duplicates("org_code")
    if missing.empty:
        return 0
    rows = [
        {"org_code": c, "name": n or c, "kind": kind_of(c), "synthetic": False, "source": "seen in performance file"}
        for c, n in zip(missing["org_code"], missing["name"])
    ]
    conn.execute(insert(Organisation), rows)
    return len(rows)


def _with_display_names(df: pd.DataFrame) -> pd.DataFrame:
    """``name`` for display in the NHS's own title case, ``official_name`` the stored string (for matching)
    — computed at read, no migration (:func:`partnering.store.names.display_name`)."""
    official = df["name"] if "name" in df else pd.Series(dtype=object)
    df = df.assign(official_name=official)
    if not df.empty:
        df["name"] = [display_name(n) for n in official]
    return df


def organisations_frame(engine: Engine | Connection, kinds: Iterable[str] | None = None) -> pd.DataFrame:
    """Organisations (:data:`ORG_COLUMNS` and ``official_name``): ``name`` is for display, in the NHS's own title
    case where ODS stores capitals; ``official_name`` is the string as stored, for matching."""
    stmt = select(*[getattr(Organisation, c) for c in ORG_COLUMNS])
    if kinds:
        stmt = stmt.where(Organisation.kind.in_(list(kinds)))
    return _with_display_names(_read(engine, stmt.order_by(Organisation.org_code)))


def upsert_successions(conn: Connection, succ: pd.DataFrame) -> int:
    if succ.empty:
        return 0
    existing = {tuple(r) for r in conn.execute(select(Succession.old_code, Succession.new_code))}
    rows = [
        r
        for r in _records(succ, ["old_code", "new_code", "effective"])
        if (r["old_code"], r["new_code"]) not in existing
    ]
    if rows:
        conn.execute(insert(Succession), rows)
    return len(rows)


_SUCCESSOR_CACHE: dict[str, tuple[object, dict[str, str]]] = {}


def data_version(engine: Engine | Connection) -> tuple:
    """Changes with any write that results depend on.

    Batches (organisations and successions change only through batches) and every audited write — publishes,
    and the registers of later stages — which :mod:`partnering.store.audit` records in the same transaction.
    """
    with _conn(engine) as conn:
        batches = tuple(conn.execute(select(func.max(ImportBatch.id), func.count(ImportBatch.id))).one())
        return batches + (last_event_id(conn),)


def successor_map(engine: Engine | Connection) -> dict[str, str]:
    """Cached :func:`_successor_map`, recomputed when the store's data version changes."""
    key = str(engine.engine.url if isinstance(engine, Connection) else engine.url)
    version = data_version(engine)
    hit = _SUCCESSOR_CACHE.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    smap = _successor_map(engine)
    _SUCCESSOR_CACHE[key] = (version, smap)
    return smap


def _successor_map(engine: Engine | Connection) -> dict[str, str]:
    """old code -> the code it finally became, following chains (A->B->C gives A->C).

    Sources: ``successions`` (ODS successor file) and ``organisations.successor_code``.
    Where one old code has several successors (a split), the one with the latest
    effective date wins, then the alphabetically first, so the choice is stable.
    """
    s = _read(engine, select(Succession.old_code, Succession.new_code, Succession.effective))
    o = _read(
        engine,
        select(Organisation.org_code.label("old_code"), Organisation.successor_code.label("new_code")).where(
            Organisation.successor_code.is_not(None)
        ),
    )
    o["effective"] = None
    both = pd.concat([s, o], ignore_index=True)
    both = both[both["old_code"] != both["new_code"]]
    both = both.sort_values(["old_code", "effective", "new_code"], ascending=[True, False, True], na_position="last")
    direct = dict(zip(both.drop_duplicates("old_code")["old_code"], both.drop_duplicates("old_code")["new_code"]))
    final: dict[str, str] = {}
    for start in direct:
        seen, code = {start}, direct[start]
        while code in direct and code not in seen:
            seen.add(code)
            code = direct[code]
        final[start] = code
    return final


# --------------------------------------------------------------------------- sites, attributes


def replace_sites(conn: Connection, sites: pd.DataFrame) -> int:
    if sites.empty:
        return 0
    codes = list(sites["site_code"].unique())
    for i in range(0, len(codes), 500):
        conn.execute(delete(Site).where(Site.site_code.in_(codes[i : i + 500])))
    cols = ["site_code", "org_code", "name", "sector", "postcode", "latitude", "longitude"]
    conn.execute(insert(Site), _records(sites.drop_duplicates("site_code", keep="last"), cols))
    return len(codes)


def sites_frame(engine: Engine | Connection) -> pd.DataFrame:
    return _read(engine, select(Site).order_by(Site.site_code))


def replace_attributes(conn: Connection, attrs: pd.DataFrame) -> int:
    """Set (org_code, attribute) -> value, replacing earlier values of the same pairs."""
    if attrs.empty:
        return 0
    attrs = attrs.drop_duplicates(["org_code", "attribute"], keep="last")
    for attr, grp in attrs.groupby("attribute"):
        codes = list(grp["org_code"])
        for i in range(0, len(codes), 500):
            conn.execute(
                delete(OrgAttribute).where(
                    OrgAttribute.attribute == attr, OrgAttribute.org_code.in_(codes[i : i + 500])
                )
            )
    conn.execute(insert(OrgAttribute), _records(attrs, ["org_code", "attribute", "value", "source"]))
    return len(attrs)


def attributes_frame(engine: Engine | Connection, wide: bool = True) -> pd.DataFrame:
    df = _read(engine, select(OrgAttribute.org_code, OrgAttribute.attribute, OrgAttribute.value, OrgAttribute.source))
    if not wide:
        return df
    if df.empty:
        return pd.DataFrame(index=pd.Index([], name="org_code"))
    return df.pivot(index="org_code", columns="attribute", values="value")


# --------------------------------------------------------------------------- indicators


def ensure_indicators(conn: Connection, codes: Iterable[str], units: dict[str, str] | None = None) -> list[str]:
    """Make sure every indicator code has a row, from the catalogue (breakdowns inherit their parent).

    A code the catalogue does not know is an organisation's own KPI (owner ``kpi``), of the unit its file declared
    (``units``; a plain number, ``score``, when none was declared).
    """
    codes = set(codes)
    known = set(conn.execute(select(Indicator.code)).scalars())
    cat = load_catalogue()
    rows = []
    for code in sorted(codes - known):
        d = indicator(code, cat)
        if d is None:
            d = IndicatorDef(
                code=code, name=code, unit=(units or {}).get(code, "score"), improvement_direction="neutral",
                source="user KPI file", owner=KPI_OWNER,
            )
        rows.append(_indicator_row(d))
    if rows:
        conn.execute(insert(Indicator), rows)
    return [r["code"] for r in rows]


def indicator_rules(conn: Connection, codes: Iterable[str]) -> pd.DataFrame:
    """Unit, owner and bounds of each code, from the store where it has the indicator, else from the catalogue.

    Indexed by code; a code known to neither has NaN unit and owner (a new KPI).
    """
    codes = sorted(set(codes))
    stored = {r.code: (r.unit, r.owner) for r in conn.execute(
        select(Indicator.code, Indicator.unit, Indicator.owner).where(Indicator.code.in_(codes))) if codes}
    cat = load_catalogue()
    rows = []
    for code in codes:
        d = indicator(code, cat)
        unit, owner = stored.get(code, (d.unit, d.owner) if d is not None else (None, None))
        extra = d.extra if d is not None else {}
        lo, hi = extra.get("min"), extra.get("max")
        rows.append((code, unit, owner if owner is not None else (d.owner if d is not None else None),
                     float(lo) if lo is not None else np.nan, float(hi) if hi is not None else np.nan))
    return pd.DataFrame(rows, columns=["code", "unit", "owner", "lower", "upper"]).set_index("code")


def known_organisations(conn: Connection, codes: Iterable[str]) -> set[str]:
    codes = sorted(set(codes))
    out: set[str] = set()
    for i in range(0, len(codes), 900):
        out.update(conn.execute(select(Organisation.org_code).where(
            Organisation.org_code.in_(codes[i: i + 900]))).scalars())
    return out


def _indicator_row(d: IndicatorDef) -> dict:
    return {
        "code": d.code,
        "name": d.name,
        "unit": d.unit,
        "improvement_direction": d.improvement_direction,
        "national_standard": d.national_standard,
        "standard_name": d.standard_name,
        "source": d.source,
        "owner": d.owner,
        "parent_code": d.parent_code,
    }


def sync_catalogue(conn: Connection) -> int:
    """Write the catalogue's definitions over the stored ones (users may edit the TOML)."""
    cat = load_catalogue()
    n = 0
    for d in cat.values():
        row = _indicator_row(d)
        res = conn.execute(update(Indicator).where(Indicator.code == d.code).values(**row))
        if res.rowcount == 0:
            conn.execute(insert(Indicator), [row])
        n += 1
    return n


def indicators_frame(engine: Engine | Connection, include_breakdowns: bool = False) -> pd.DataFrame:
    stmt = select(Indicator).order_by(Indicator.code)
    if not include_breakdowns:
        stmt = stmt.where(Indicator.parent_code.is_(None))
    return _read(engine, stmt)


# --------------------------------------------------------------------------- batches


def find_batch_by_checksum(
    conn: Connection, kind: str, checksum: str, owner_org: str | None = None, published: bool = True
) -> ImportBatch | None:
    """An earlier batch of the same bytes that makes loading them again pointless for this uploader.

    A published load matches only a published batch.  An unpublished upload by an organisation matches a
    published batch or that organisation's own unpublished one — never another organisation's private
    upload (which it could neither see nor be told about).
    """
    stmt = select(ImportBatch).where(ImportBatch.kind == kind, ImportBatch.checksum == checksum)
    if published:
        stmt = stmt.where(ImportBatch.published.is_(True))
    else:
        stmt = stmt.where(
            (ImportBatch.published.is_(True))
            | ((ImportBatch.owner_org == owner_org) if owner_org is not None else ImportBatch.owner_org.is_(None))
        )
    return conn.execute(stmt.order_by(ImportBatch.id).limit(1)).first()


def create_batch(conn: Connection, **values) -> int:
    values.setdefault("started_at", datetime.now())
    values.setdefault("status", "loading")
    if conn.dialect.name == "sqlite":  # past the highest id ever given: an undone batch's id is never reused
        given = conn.execute(select(IdHighWater.last_id).where(
            IdHighWater.table_name == ImportBatch.__tablename__)).scalar_one_or_none() or 0
        values["id"] = max(given, conn.execute(select(func.max(ImportBatch.id))).scalar_one() or 0) + 1
    res = conn.execute(insert(ImportBatch).values(**values))
    return int(res.inserted_primary_key[0])


def finish_batch(conn: Connection, batch_id: int, **values) -> None:
    conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(**values))


def publish_batch(conn: Connection, batch_id: int, actor: str | None = None) -> tuple[int, int]:
    """Make an unpublished upload visible to everyone.

    Its current values join the published history: published values of the same organisation,
    indicator and month are superseded by them (and kept as history).  Returns (values published,
    published values superseded); publishing a published batch changes nothing.  The change is audited
    (``data.publish``) in the same transaction, by ``actor`` (default: the command line's user).
    """
    from partnering.errors import NotFoundError

    batch = conn.execute(select(ImportBatch).where(ImportBatch.id == batch_id)).first()
    if batch is None:
        raise NotFoundError(f"import batch {batch_id} does not exist")
    if batch.published:
        return 0, 0
    o = Observation
    mine = pd.DataFrame(
        conn.execute(
            select(o.id, o.org_code, o.indicator_code, o.period).where(
                o.batch_id == batch_id, o.superseded_by.is_(None)
            )
        ).all(),
        columns=["new_id", "org_code", "indicator", "period"],
    )
    superseded = 0
    if not mine.empty:
        cur = _current_for(conn, sorted(mine["indicator"].unique()), sorted(mine["period"].unique()), True, None)
        link = mine.merge(cur[["id_old", "org_code", "indicator", "period"]], on=["org_code", "indicator", "period"])
        if not link.empty:
            conn.execute(
                text("UPDATE observations SET superseded_by = :new_id WHERE id = :old_id"),
                [{"new_id": int(n), "old_id": int(x)} for n, x in zip(link["new_id"], link["id_old"])],
            )
        superseded = len(link)
    conn.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(published=True, observations_superseded=ImportBatch.observations_superseded + superseded)
    )
    record(conn, actor, "data.publish", f"batch {batch_id}", {"published": False},
           {"published": True, "values_published": len(mine), "values_superseded": superseded})
    return len(mine), superseded


PREVIEW_COLUMNS = [*OBS_COLUMNS, "published_value", "published_numerator", "published_denominator",
                   "published_batch_id"]


def publish_preview(engine: Engine | Connection, batch_id: int) -> pd.DataFrame:
    """What :func:`publish_batch` would do, without doing it: the upload's current values, each with the published
    value it would supersede (``published_value``, ``published_numerator``, ``published_denominator`` and
    ``published_batch_id``; NaN where nothing published has that organisation, indicator and month yet).

    The same match as :func:`publish_batch` (the published current value of each organisation × indicator × month),
    so what the preview shows is what publishing replaces.  An already published batch supersedes nothing.
    """
    from partnering.errors import NotFoundError

    with _conn(engine) as conn:
        batch = conn.execute(select(ImportBatch.id, ImportBatch.published).where(ImportBatch.id == batch_id)).first()
        if batch is None:
            raise NotFoundError(f"import batch {batch_id} does not exist")
        o = Observation
        mine = _read(conn, select(o.org_code, o.indicator_code.label("indicator"), o.period, o.numerator,
                                  o.denominator, o.value).where(o.batch_id == batch_id, o.superseded_by.is_(None)))
        for c in ("numerator", "denominator", "value"):
            mine[c] = pd.to_numeric(mine[c], errors="coerce").astype(float)
        key = ["org_code", "indicator", "period"]
        if mine.empty or batch.published:
            cur = pd.DataFrame(columns=[*key, "batch_old", "numerator", "denominator", "value"])
        else:
            cur = _current_for(conn, sorted(mine["indicator"].unique()), sorted(mine["period"].unique()), True, None)
            cur = cur[cur["batch_old"] != batch_id]
    cur = cur.rename(columns={"value": "published_value", "numerator": "published_numerator",
                              "denominator": "published_denominator", "batch_old": "published_batch_id"})
    out = mine.merge(cur[[*key, "published_value", "published_numerator", "published_denominator",
                          "published_batch_id"]], on=key, how="left")
    for c in ("published_value", "published_numerator", "published_denominator", "published_batch_id"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out[PREVIEW_COLUMNS].sort_values(key).reset_index(drop=True)


def latest_periods(
    engine: Engine | Connection, *, viewer_org: str | None = None, viewer_is_admin: bool = True
) -> pd.DataFrame:
    """The latest month with a current value of each indicator (``indicator, period``; breakdowns left out), scoped
    by viewer as :func:`observations_frame` is: one grouped query, for freshness (:mod:`partnering.measure.freshness`).
    """
    o, b = Observation, ImportBatch
    stmt = (select(o.indicator_code.label("indicator"), func.max(o.period).label("period"))
            .join(b, b.id == o.batch_id)
            .where(o.superseded_by.is_(None), o.value.is_not(None), ~o.indicator_code.contains(":")))
    if not viewer_is_admin:
        visible = b.published.is_(True)
        if viewer_org:
            visible = visible | (b.owner_org == viewer_org)
        stmt = stmt.where(visible)
    return _read(engine, stmt.group_by(o.indicator_code).order_by(o.indicator_code))


def has_unpublished(engine: Engine | Connection) -> bool:
    """Whether any upload is still unpublished (then some viewers see figures others do not)."""
    with _conn(engine) as conn:
        return conn.execute(select(ImportBatch.id).where(ImportBatch.published.is_(False)).limit(1)).first() is not None


def derived_keys(engine: Engine | Connection, indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """``org_code, indicator, period`` of every current value a batch derived from record-level data holds
    (publication basis :data:`partnering.store.publication.DERIVED`; ``partnering compute indicators --load``), so
    that downloads can publish them under small-number suppression.  One cheap query when there is none."""
    o, b = Observation, ImportBatch
    cols = ["org_code", "indicator", "period"]
    with _conn(engine) as conn:
        if conn.execute(select(b.id).where(b.publication_basis == DERIVED).limit(1)).first() is None:
            return pd.DataFrame(columns=cols)
    stmt = (select(o.org_code, o.indicator_code.label("indicator"), o.period).join(b, b.id == o.batch_id)
            .where(o.superseded_by.is_(None), b.publication_basis == DERIVED))
    codes = sorted(set(indicators or ()))
    if codes:
        stmt = stmt.where(o.indicator_code.in_(codes))
    return _read(engine, stmt)[cols]


def add_rejections(conn: Connection, batch_id: int, rejected: Sequence[tuple[int | None, str | None, str]]) -> None:
    if rejected:
        conn.execute(
            insert(RejectedRow),
            [{"batch_id": batch_id, "line": ln, "column": col, "reason": why} for ln, col, why in rejected],
        )


def batches_frame(
    engine: Engine | Connection,
    limit: int | None = None,
    *,
    viewer_org: str | None = None,
    viewer_is_admin: bool = True,
) -> pd.DataFrame:
    """Import batches, newest first, that a viewer may see, scoped as :func:`observations_frame` scopes values:
    published batches, and unpublished uploads only to their own organisation's users (``viewer_org``) and admins.
    """
    stmt = select(ImportBatch).order_by(ImportBatch.id.desc())
    if not viewer_is_admin:
        visible = ImportBatch.published.is_(True) | ImportBatch.published.is_(None)
        if viewer_org:
            visible = visible | (ImportBatch.owner_org == viewer_org)
        stmt = stmt.where(visible)
    if limit:
        stmt = stmt.limit(limit)
    return _read(engine, stmt)


def rejected_frame(engine: Engine | Connection, batch_id: int | None = None) -> pd.DataFrame:
    stmt = select(RejectedRow, ImportBatch.file_name).join(ImportBatch, ImportBatch.id == RejectedRow.batch_id)
    if batch_id is not None:
        stmt = stmt.where(RejectedRow.batch_id == batch_id)
    return _read(engine, stmt.order_by(RejectedRow.batch_id, RejectedRow.line))


# --------------------------------------------------------------------------- observations


def write_observations(
    conn: Connection, batch_id: int, obs: pd.DataFrame, published: bool = True, owner_org: str | None = None
) -> tuple[int, int]:
    """Insert new and changed observations; point the values they replace at them.

    ``obs`` has columns ``org_code, indicator, period, numerator, denominator, value``
    and one row per key.  A row identical to the current stored one (NaN equal to
    NaN, values equal within 1e-9) is skipped, so reloading changes nothing.

    Versions are kept per visibility scope: published data supersedes only published
    data, and an organisation's unpublished upload supersedes only that organisation's
    earlier unpublished values — a private upload never hides published values from
    anyone else.

    The latest *publication* is current (:mod:`partnering.store.publication`): a value from
    an older publication than the current one's is kept as history, superseded at once by
    the current value.  Returns (new rows, superseded rows, rows kept as older history).
    """
    if obs.empty:
        return 0, 0, 0
    obs = obs[OBS_COLUMNS].copy()
    for c in ("numerator", "denominator", "value"):
        obs[c] = pd.to_numeric(obs[c], errors="coerce").astype(float)
    periods = sorted(obs["period"].unique())
    inds = sorted(obs["indicator"].unique())
    cur = _current_for(conn, inds, periods, published, owner_org)
    key = ["org_code", "indicator", "period"]
    merged = obs.merge(cur, on=key, how="left", suffixes=("", "_old"))
    same = np.ones(len(merged), dtype=bool)
    for c in ("numerator", "denominator", "value"):
        a, b = merged[c].to_numpy(), merged[f"{c}_old"].to_numpy()
        same &= (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(a)))
    has_old = merged["id_old"].notna().to_numpy()
    todo = merged[~(same & has_old)]
    if todo.empty:
        return 0, 0, 0
    later = _later_than_current(conn, batch_id, todo)
    rows = _obs_tuples(todo, batch_id)
    ph = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        "INSERT INTO observations (org_code, indicator_code, period, numerator, denominator, value, batch_id) "
        f"VALUES ({', '.join([ph] * 7)})",
        rows,
    )
    old = todo[todo["id_old"].notna() & later]
    older = todo[todo["id_old"].notna() & ~later]
    if not (old.empty and older.empty):
        new_ids = pd.DataFrame(
            conn.execute(
                select(Observation.id, Observation.org_code, Observation.indicator_code, Observation.period).where(
                    Observation.batch_id == batch_id
                )
            ).all(),
            columns=["new_id", "org_code", "indicator", "period"],
        )
        link = old[key + ["id_old"]].merge(new_ids, on=key)
        if not link.empty:
            conn.execute(
                text("UPDATE observations SET superseded_by = :new_id WHERE id = :old_id"),
                [{"new_id": int(n), "old_id": int(o)} for n, o in zip(link["new_id"], link["id_old"])],
            )
        hist = older[key + ["id_old"]].merge(new_ids, on=key)
        if not hist.empty:  # an older publication: history under the current value, superseding nothing
            conn.execute(
                text("UPDATE observations SET superseded_by = :cur WHERE id = :new_id"),
                [{"cur": int(o), "new_id": int(n)} for n, o in zip(hist["new_id"], hist["id_old"])],
            )
    return len(rows), len(old), len(older)


def publications(conn: Connection, batch_ids: Iterable[int]) -> dict[int, Publication]:
    ids = sorted({int(b) for b in batch_ids})
    out = {}
    for i in range(0, len(ids), 900):
        for r in conn.execute(select(ImportBatch.id, ImportBatch.published_on, ImportBatch.publication_basis).where(
                ImportBatch.id.in_(ids[i: i + 900]))):
            out[int(r.id)] = Publication(int(r.id), r.published_on, r.publication_basis)
    return out


def _later_than_current(conn: Connection, batch_id: int, todo: pd.DataFrame) -> np.ndarray:
    """Per row of ``todo``: True where this batch's publication is later than the current value's (or none)."""
    has_old = todo["id_old"].notna().to_numpy()
    if not has_old.any():
        return np.ones(len(todo), dtype=bool)
    pubs = publications(conn, [batch_id, *todo.loc[has_old, "batch_old"].astype(int).unique()])
    mine = pubs[int(batch_id)]
    verdict = {b: is_later(mine, p) for b, p in pubs.items() if b != int(batch_id)}
    return np.array([True if not h else verdict[int(b)] for h, b in zip(has_old, todo["batch_old"])], dtype=bool)


def _obs_tuples(df: pd.DataFrame, batch_id: int) -> list[tuple]:
    """Rows as plain Python tuples (None for missing) for a driver-level executemany."""
    cols = [df[c].to_numpy(dtype=object) for c in ("org_code", "indicator", "period")]
    for c in ("numerator", "denominator", "value"):
        a = df[c].to_numpy(dtype=float)
        cols.append(np.where(np.isnan(a), None, a).astype(object))
    cols = [c.tolist() for c in cols]
    return list(zip(*cols, [batch_id] * len(df)))


def _current_for(
    conn: Connection, inds: list[str], periods: list[str], published: bool = True, owner_org: str | None = None
) -> pd.DataFrame:
    b = ImportBatch
    if published:
        scope = b.published.is_(True)
    else:
        scope = b.published.is_(False) & (b.owner_org == owner_org if owner_org is not None else b.owner_org.is_(None))
    frames = []
    for i in range(0, len(inds), 400):
        stmt = select(
            Observation.id.label("id_old"),
            Observation.batch_id.label("batch_old"),
            Observation.org_code,
            Observation.indicator_code.label("indicator"),
            Observation.period,
            Observation.numerator,
            Observation.denominator,
            Observation.value,
        ).join(b, b.id == Observation.batch_id).where(
            Observation.superseded_by.is_(None),
            Observation.indicator_code.in_(inds[i : i + 400]),
            Observation.period.in_(periods),
            scope,
        )
        frames.append(
            pd.DataFrame(
                conn.execute(stmt).all(),
                columns=["id_old", "batch_old", "org_code", "indicator", "period", "numerator", "denominator",
                         "value"],
            )
        )
    cur = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for c in ("numerator", "denominator", "value"):
        cur[c] = pd.to_numeric(cur[c], errors="coerce").astype(float)
    return cur


def observations_frame(
    engine: Engine | Connection,
    indicators: Sequence[str] | None = None,
    orgs: Sequence[str] | None = None,
    *,
    join_successors: bool = True,
    include_breakdowns: bool = False,
    viewer_org: str | None = None,
    viewer_is_admin: bool = True,
    history: bool = False,
) -> pd.DataFrame:
    """Current observations as a DataFrame with columns ``org_code, indicator, period, numerator, denominator, value``.

    ``join_successors`` maps every code to the organisation it finally became
    (ODS successor lookup) and combines rows of merged organisations for the same
    month: counts and numerators/denominators are added, ratios recomputed from
    them, other values weighted where a weight exists (:func:`_combine_duplicates`:
    a median wait by the same month's pathway count, a mean by its denominator) and
    averaged unweighted only where none does.  Unpublished uploads are seen
    only by their own organisation's users (``viewer_org``) and admins.
    ``history=True`` returns every version with ``batch_id`` and ``superseded_by``.
    """
    o, b = Observation, ImportBatch
    cols = [
        o.org_code,
        o.indicator_code.label("indicator"),
        o.period,
        o.numerator,
        o.denominator,
        o.value,
    ]
    if history:
        cols += [o.batch_id, o.superseded_by]
    stmt = select(*cols).join(b, b.id == o.batch_id)
    if not history:
        stmt = stmt.where(o.superseded_by.is_(None))
    if indicators:
        stmt = stmt.where(o.indicator_code.in_(list(indicators)))
    elif not include_breakdowns:
        stmt = stmt.where(~o.indicator_code.contains(":"))
    if not viewer_is_admin:
        if viewer_org:
            stmt = stmt.where((b.published.is_(True)) | (b.owner_org == viewer_org))
        else:
            stmt = stmt.where(b.published.is_(True))
    if not history:
        stmt = stmt.add_columns(b.published.label("_published"), b.owner_org.label("_owner"), o.batch_id.label("_bid"))
    smap = successor_map(engine) if join_successors and not history else {}
    if orgs:
        # read only the wanted organisations and the codes that became them (filtered in SQL, not pandas)
        wanted = set(orgs)
        codes = wanted | {old for old, new in smap.items() if new in wanted}
        if len(codes) <= 2000:
            stmt = stmt.where(o.org_code.in_(sorted(codes)))
    df = _read(engine, stmt)
    for c in ("numerator", "denominator", "value"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    if not history:
        df = _one_version_per_key(df, viewer_org)
    if join_successors and not history and not df.empty:
        if smap:
            mapped = df["org_code"].map(smap)
            if mapped.notna().any():
                merged = df.assign(_orig=df["org_code"], org_code=mapped.fillna(df["org_code"]))
                weights = _merger_weights(engine, merged, viewer_org=viewer_org, viewer_is_admin=viewer_is_admin)
                df = _combine_duplicates(merged, weights).drop(columns="_orig")
    if orgs:
        df = df[df["org_code"].isin(list(orgs))]
    return df.sort_values(["indicator", "org_code", "period"]).reset_index(drop=True)


def _one_version_per_key(df: pd.DataFrame, viewer_org: str | None) -> pd.DataFrame:
    """Where a key has a current value in several scopes, keep one: the viewer's own unpublished value
    (their draft) first, then the published value, then (admins only) the newest other unpublished one."""
    if df.empty:
        return df.drop(columns=["_published", "_owner", "_bid"], errors="ignore")
    published = df["_published"].astype(bool)
    own = (~published) & (df["_owner"] == viewer_org) if viewer_org else pd.Series(False, index=df.index)
    df = df.assign(_rank=np.where(own, 0, np.where(published, 1, 2)))
    key = ["org_code", "indicator", "period"]
    if df.duplicated(key).any():
        df = df.sort_values(["_rank", "_bid"], ascending=[True, False]).drop_duplicates(key, keep="first")
    return df.drop(columns=["_published", "_owner", "_bid", "_rank"])


def weight_indicator(code: str, catalogue=None) -> str | None:
    """The indicator whose value weights ``code`` when values of merged organisations are combined: the
    catalogue's ``weighted_by`` (e.g. ``rtt_median_wait_weeks`` by ``rtt_incomplete_pathways``); a breakdown
    ``parent:part`` is weighted by the same part of its parent's weight."""
    cat = catalogue or load_catalogue()
    parent, _, part = code.partition(":")
    d = cat.get(parent)
    by = d.extra.get("weighted_by") if d is not None else None
    if not by:
        return None
    return f"{by}:{part}" if part else str(by)


def _merger_weights(engine, merged: pd.DataFrame, **viewer) -> pd.DataFrame:
    """Current values of the weight indicators for the pre-merger codes (``_orig``) of rows that will be combined:
    ``_orig, indicator (the weighted one), period, weight``."""
    key = ["org_code", "indicator", "period"]
    dup = merged[merged.duplicated(key, keep=False)]
    out = pd.DataFrame(columns=["_orig", "indicator", "period", "weight"])
    if dup.empty:
        return out
    cat = load_catalogue()
    by = {c: weight_indicator(c, cat) for c in dup["indicator"].unique()}
    by = {c: w for c, w in by.items() if w}
    if not by:
        return out
    need = dup[dup["indicator"].isin(list(by))]
    have = merged[merged["indicator"].isin(set(by.values()))]
    missing = set(by.values()) - set(have["indicator"])
    if missing:  # the weights were not asked for: read them for the merged organisations only
        extra = observations_frame(engine, sorted(missing), sorted(set(need["_orig"])), join_successors=False,
                                   include_breakdowns=True, **viewer).rename(columns={"org_code": "_orig"})
        have = pd.concat([have[["_orig", "indicator", "period", "value"]], extra[["_orig", "indicator", "period",
                                                                                    "value"]]], ignore_index=True)
    parts = []
    for code, w in by.items():
        got = have[have["indicator"] == w][["_orig", "period", "value"]].rename(columns={"value": "weight"})
        parts.append(got.assign(indicator=code))
    return pd.concat([out, *parts], ignore_index=True) if parts else out


def _combine_duplicates(df: pd.DataFrame, weights: pd.DataFrame | None = None) -> pd.DataFrame:
    """Combine the rows of organisations that merged into one (same successor, indicator and month).

    * counts, numerators and denominators are added, and a percentage with both recomputed from them;
    * any other value (a median or percentile wait, a mean, a rate) is a weighted mean: by its denominator where
      every row has one, else by the catalogue's ``weighted_by`` indicator of the same organisation and month
      (``weights``: a median wait by the pathway count — each trust's median stands for its share of the merged
      waiting list);
    * only where no row has a weight is it averaged unweighted: nothing says how large each part was.

    A pathway-weighted mean of medians is not the median of the merged waiting list (that needs the week-band
    distribution, which the store does not keep); it is the closest the stored values allow, and nearer than an
    unweighted mean when the merging trusts differ in size (docs/data-dictionary.md, "Merged organisations").
    """
    key = ["org_code", "indicator", "period"]
    dup = df.duplicated(key, keep=False)
    if not dup.any():
        return df
    single, multi = df[~dup], df[dup].copy()
    multi["_w"] = np.nan
    den_ok = multi["denominator"].gt(0)
    multi.loc[den_ok, "_w"] = multi.loc[den_ok, "denominator"]
    if weights is not None and not weights.empty and "_orig" in multi:
        w = multi[["_orig", "indicator", "period"]].merge(
            weights.drop_duplicates(["_orig", "indicator", "period"]), on=["_orig", "indicator", "period"],
            how="left")["weight"].to_numpy(dtype=float)
        multi["_w2"] = w
    else:
        multi["_w2"] = np.nan
    cat = load_catalogue()
    parts = []
    for code, grp in multi.groupby("indicator"):
        d = indicator(code, cat)
        is_count = d is not None and d.unit == "count"
        g = grp.groupby(key, sort=False)
        agg = g.agg(numerator=("numerator", lambda s: s.sum(min_count=1)),
                    denominator=("denominator", lambda s: s.sum(min_count=1)))
        if is_count:
            agg["value"] = g["value"].sum()
        else:
            # the weight of each row: its denominator where every row in the group has one, else the weight
            # indicator where every row has that, else none (an unweighted mean)
            by_den = g["_w"].transform(lambda s: s.notna().all())
            by_ind = g["_w2"].transform(lambda s: s.notna().all() and (s > 0).any())
            wt = np.where(by_den, grp["_w"], np.where(by_ind, grp["_w2"], 1.0))
            tmp = grp.assign(_wv=grp["value"] * wt, _wt=np.where(grp["value"].notna(), wt, np.nan))
            s = tmp.groupby(key, sort=False)[["_wv", "_wt"]].sum(min_count=1)
            agg["value"] = s["_wv"] / s["_wt"].where(s["_wt"] > 0)
        agg = agg.reset_index()
        if d is not None and d.unit == "percent":
            ok = agg["denominator"] > 0
            agg.loc[ok, "value"] = 100.0 * agg.loc[ok, "numerator"] / agg.loc[ok, "denominator"]
        parts.append(agg)
    single = single.drop(columns=[c for c in ("_w", "_w2") if c in single])
    return pd.concat([single, *parts], ignore_index=True)


def counts(engine: Engine | Connection) -> dict[str, int]:
    """How many rows each main table holds (current observations only)."""
    out = {}
    with _conn(engine) as conn:
        for label, model in (
            ("organisations", Organisation),
            ("sites", Site),
            ("indicators", Indicator),
            ("batches", ImportBatch),
            ("rejected_rows", RejectedRow),
        ):
            out[label] = conn.execute(select(func.count()).select_from(model)).scalar_one()
        out["observations"] = conn.execute(
            select(func.count()).select_from(Observation).where(Observation.superseded_by.is_(None))
        ).scalar_one()
        out["observations_superseded"] = conn.execute(
            select(func.count()).select_from(Observation).where(Observation.superseded_by.is_not(None))
        ).scalar_one()
    return out


def periods_range(engine: Engine | Connection) -> tuple[str | None, str | None]:
    with _conn(engine) as conn:
        row = conn.execute(select(func.min(Observation.period), func.max(Observation.period))).first()
    return (row[0], row[1]) if row else (None, None)


# --------------------------------------------------------------------------- helpers


class _conn:
    def __init__(self, bind):
        self.bind = bind
        self._c = None

    def __enter__(self) -> Connection:
        if isinstance(self.bind, Connection):
            return self.bind
        self._c = self.bind.connect()
        return self._c

    def __exit__(self, *exc):
        if self._c is not None:
            self._c.close()


def _read(bind, stmt) -> pd.DataFrame:
    with _conn(bind) as conn:
        res = conn.execute(stmt)
        keys = list(res.keys())
        rows = [tuple(r) for r in res.all()]  # plain tuples: pandas probes Row objects attribute by attribute
        return pd.DataFrame.from_records(rows, columns=keys) if rows else pd.DataFrame(columns=keys)


def parse_iso_date(s) -> date | None:
    if s is None or (isinstance(s, float) and np.isnan(s)) or str(s).strip() == "":
        return None
    s = str(s).strip()
    try:
        if len(s) == 8 and s.isdigit():
            return date(int(s[:4]), int(s[4:6]), int(s[6:]))
        return date.fromisoformat(s[:10])
    except ValueError:
        return None


# --------------------------------------------------------------------------- reads for matching (plain frames)
# The match stage reads the store only through these (issue #8 s.1): no ORM object or connection leaves here.


def organisations_by_code(engine: Engine | Connection, codes: Iterable[str]) -> pd.DataFrame:
    """Rows of :data:`ORG_COLUMNS` (and ``official_name``; ``name`` for display, as in :func:`organisations_frame`)
    for the given organisation codes (unknown codes are simply absent)."""
    codes = sorted({str(c) for c in codes})
    if not codes:
        return pd.DataFrame(columns=[*ORG_COLUMNS, "official_name"])
    parts = [
        _read(engine, select(*[getattr(Organisation, c) for c in ORG_COLUMNS]).where(
            Organisation.org_code.in_(codes[i : i + 500])))
        for i in range(0, len(codes), 500)
    ]
    return _with_display_names(pd.concat(parts, ignore_index=True).sort_values("org_code", ignore_index=True))


def org_attributes_long(
    engine: Engine | Connection, attributes: Iterable[str], orgs: Iterable[str] | None = None
) -> pd.DataFrame:
    """Long ``org_code, attribute, value`` rows of the named attributes (optionally only for ``orgs``)."""
    stmt = select(OrgAttribute.org_code, OrgAttribute.attribute, OrgAttribute.value).where(
        OrgAttribute.attribute.in_(list(attributes))
    )
    df = _read(engine, stmt)
    if orgs is not None:
        df = df[df["org_code"].isin(set(orgs))].reset_index(drop=True)
    return df


def partnerships_frame(engine: Engine | Connection, active_in: str | None = None) -> pd.DataFrame:
    """Registered partnerships: ``recipient_code, supporter_code, form, start_period, end_period``, then the
    register's ``id, status, mandated, renews_id`` (migration 0006; a renewal is a separate row linked by
    ``renews_id``).  One partnership with its parties and targets: :func:`partnering.store.partnerships.
    get_partnership`.

    ``active_in`` (an ISO month) keeps those not ended before that month (open-ended ones included).
    """
    from partnering.store.models import Partnership

    cols = ["recipient_code", "supporter_code", "form", "start_period", "end_period", "id", "status", "mandated",
            "renews_id"]
    df = _read(engine, select(*[getattr(Partnership, c) for c in cols]).order_by(Partnership.id))
    if active_in:
        end = df["end_period"]
        df = df[end.isna() | (end.astype(str) >= str(active_in))].reset_index(drop=True)
    return df
