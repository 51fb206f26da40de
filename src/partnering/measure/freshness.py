"""How fresh each family of data is, so that no segment, flag or reason silently rests on stale data.

A *family* is the set of indicators one source publishes (the indicator's ``owner`` in ``indicators.toml``:
``ae-monthly``, ``rtt``, ...; organisations' own measures are the family ``kpi``).  Its latest month is the last
month with any value.  A family whose latest month is :data:`STALE_AFTER_MONTHS` or more behind the freshest
family is *stale*: the months after its end rest on the other families alone, and every face says so.

Default: NHS England publishes A&E and RTT statistics monthly, about six weeks after the month's end, on the same
statistical release calendar (NHS England, "Statistical work areas", release calendar); a family three months behind
the others has missed at least two monthly releases, which is no longer publication lag but data not loaded.
"""

from __future__ import annotations

import pandas as pd

from partnering.indicators.catalogue import KPI_OWNER, RECORD_LEVEL_OWNER, indicator

#: months behind the freshest family from which a family is stale (two missed monthly releases; see above)
STALE_AFTER_MONTHS = 3

FAMILY_NAMES = {"ae-monthly": "A&E", "rtt": "RTT", KPI_OWNER: "own measures",
                RECORD_LEVEL_OWNER: "A&E from record-level data",
                "cancer-waiting-times": "Cancer waiting times", "diagnostics-dm01": "Diagnostics (DM01)",
                "ambulance-ambsys": "Ambulance (AmbSYS)", "staff-survey": "NHS Staff Survey",
                "beds-overnight": "Beds (KH03)", "cancelled-operations": "Cancelled operations"}
#: months between a family's publications where it is not monthly (../shared/data/nhs MANIFEST: KH03 beds and QMCO
#: cancelled operations are quarterly, the NHS Staff Survey annual): such a family is stale only when it is behind
#: by more than its own interval as well (a quarterly file is not late two months after its quarter)
FAMILY_INTERVAL_MONTHS = {"beds-overnight": 3, "cancelled-operations": 3, "staff-survey": 12}
COLUMNS = ["family", "family_name", "indicators", "latest_period", "months_behind", "stale"]


def family_of(code: str, catalogue=None) -> str:
    d = indicator(code, catalogue)
    return (d.owner if d is not None and d.owner else KPI_OWNER)


def _months_between(a: str, b: str) -> int:
    """Whole months from ISO month ``a`` to ``b`` (b later gives a positive number)."""
    return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:7]) - int(a[5:7])


def data_freshness(obs: pd.DataFrame, catalogue=None, stale_after: int = STALE_AFTER_MONTHS) -> pd.DataFrame:
    """One row per family in ``obs`` (org_code, indicator, period, value): its latest month with a value, how many
    months it is behind the freshest family, and whether that makes it stale."""
    have = obs[obs["value"].notna()] if "value" in obs else obs
    if have.empty:
        return pd.DataFrame(columns=COLUMNS)
    fam = have["indicator"].map(lambda c: family_of(c.split(":", 1)[0], catalogue))
    g = have.assign(family=fam).groupby("family")
    out = pd.DataFrame({
        "latest_period": g["period"].max(),
        "indicators": g["indicator"].agg(lambda s: ", ".join(sorted(set(s)))),
    }).reset_index()
    newest = out["latest_period"].max()
    out["months_behind"] = [_months_between(p, newest) for p in out["latest_period"]]
    out["stale"] = out["months_behind"] >= stale_after + out["family"].map(
        lambda f: FAMILY_INTERVAL_MONTHS.get(f, 1) - 1)
    out["family_name"] = out["family"].map(lambda f: FAMILY_NAMES.get(f, f))
    return out[COLUMNS].sort_values(["stale", "family"]).reset_index(drop=True)


def stale_note(freshness: pd.DataFrame, families: set[str] | None = None) -> str:
    """One sentence naming each stale family (of ``families``, when given) and the month its data end; "" if none."""
    if freshness.empty:
        return ""
    stale = freshness[freshness["stale"]]
    if families is not None:
        stale = stale[stale["family"].isin(families)]
    if stale.empty:
        return ""
    newest = freshness["latest_period"].max()
    parts = [f"{r.family_name} data end in {r.latest_period}, {r.months_behind} months before the latest month "
             f"({newest})" for r in stale.itertuples()]
    return ("Stale data: " + "; ".join(parts) + ". Months after that rest on the other metrics alone.")


def store_freshness(engine, catalogue=None, stale_after: int = STALE_AFTER_MONTHS, *, viewer_org: str | None = None,
                    viewer_is_admin: bool = True) -> pd.DataFrame:
    """:func:`data_freshness` of the whole store, from one grouped query (the latest month of each indicator,
    :func:`partnering.store.repository.latest_periods`) instead of every value: cheap enough for every page and
    API answer.  ``viewer_org``/``viewer_is_admin`` scope unpublished uploads as the store's reads do."""
    from partnering.store import repository as repo

    latest = repo.latest_periods(engine, viewer_org=viewer_org, viewer_is_admin=viewer_is_admin)
    if latest.empty:
        return pd.DataFrame(columns=COLUMNS)
    return data_freshness(latest.assign(value=1.0), catalogue, stale_after)
