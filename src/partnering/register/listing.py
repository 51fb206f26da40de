"""The register as a table: every partnership with its parties' names, for lists, filters and export."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from partnering.store.models import Organisation, Partnership, PartnershipIndicator
from partnering.store.partnerships import INGREDIENTS

LIST_COLUMNS = ["id", "title", "recipient_code", "recipient_name", "supporter_code", "supporter_name", "form",
                "status", "start_period", "end_period", "mandated", "renews_id", "version", "indicators",
                "ingredients_addressed", "updated_at"]


def list_partnerships(engine: Engine, org: str | None = None, status: str | None = None,
                      form: str | None = None) -> pd.DataFrame:
    """The register, newest first: :data:`LIST_COLUMNS`.  ``org`` keeps entries where it is recipient or
    supporter; ``status`` and ``form`` filter on those fields.  ``ingredients_addressed`` counts the ingredients
    for success the entry records (of 5)."""
    cols = ["id", "title", "recipient_code", "supporter_code", "form", "status", "start_period", "end_period",
            "mandated", "renews_id", "version", "updated_at", *INGREDIENTS]
    stmt = select(*[getattr(Partnership, c) for c in cols]).order_by(Partnership.id.desc())
    if org:
        stmt = stmt.where((Partnership.recipient_code == org.upper()) | (Partnership.supporter_code == org.upper()))
    if status:
        stmt = stmt.where(Partnership.status == status)
    if form:
        stmt = stmt.where(Partnership.form == form)
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=cols)
        codes = sorted(set(df["recipient_code"]) | set(df["supporter_code"]))
        names = dict(conn.execute(select(Organisation.org_code, Organisation.name)
                                  .where(Organisation.org_code.in_(codes))).all()) if codes else {}
        inds = pd.DataFrame(conn.execute(select(PartnershipIndicator.partnership_id,
                                                PartnershipIndicator.indicator_code)).all(),
                            columns=["partnership_id", "indicator_code"])
    per = inds.groupby("partnership_id")["indicator_code"].agg(lambda s: ", ".join(dict.fromkeys(s)))
    df["recipient_name"] = df["recipient_code"].map(names)
    df["supporter_name"] = df["supporter_code"].map(names)
    df["indicators"] = df["id"].map(per).fillna("")
    df["ingredients_addressed"] = df[list(INGREDIENTS)].notna().sum(axis=1).astype(int)
    df["mandated"] = df["mandated"].astype(bool)
    return df[LIST_COLUMNS].reset_index(drop=True)
