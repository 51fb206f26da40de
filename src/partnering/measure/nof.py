"""The NHS Oversight Framework 2025/26 metric table: which of the Framework's scored metrics Partnering has.

The table is data (``nof_metrics.toml`` beside this module, with its sources): per Framework metric its domain,
definition, scoring rule, direction and the Partnering indicators that measure it.  :func:`nof_metrics` reads it,
:func:`framework_indicators` gives the indicators segmentation scores by default (the Framework's ranked metrics
that the catalogue has), :func:`metric_status` says per metric whether Partnering has it ("in", "proxy", "no data
loaded", "missing") for the methods page, and :func:`agreement` measures how closely a Partnering league table
agrees with NHS England's published segments and ranks.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.errors import ConfigError
from partnering.indicators.catalogue import load_catalogue

NOF_TABLE = Path(__file__).with_name("nof_metrics.toml")
SCORING = ("ranked", "discrete", "manual")

#: Columns of :func:`metric_status`.
STATUS_COLUMNS = ["metric", "nof_id", "name", "domain", "trust_types", "scoring", "direction", "indicator", "status",
                  "ingest_kind", "source_file", "source", "note"]


@dataclass(frozen=True)
class NofMetric:
    key: str
    name: str
    domain: str
    trust_types: tuple[str, ...]
    definition: str
    scoring: str
    direction: str
    indicators: tuple[str, ...] = ()
    nof_id: str = ""
    id_source: str = ""
    basis: str = ""
    proxy: bool = False
    ingest_kind: str = ""
    source_file: str = ""
    source: str = ""
    note: str = ""
    interval_months: int | None = None  # how often a value is published, when the data alone cannot tell


@lru_cache(maxsize=4)
def _read(path: str) -> tuple[NofMetric, ...]:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the Oversight Framework metric table: {exc}") from exc
    out = []
    fields = set(NofMetric.__dataclass_fields__) - {"key"}
    for key, spec in raw.items():
        missing = [f for f in ("name", "domain", "trust_types", "definition", "scoring", "direction") if f not in spec]
        if missing:
            raise ConfigError(f"{path}: [{key}] lacks {', '.join(missing)}")
        if spec["scoring"] not in SCORING:
            raise ConfigError(f"{path}: [{key}] scoring must be one of {', '.join(SCORING)}")
        if spec["direction"] not in ("increase", "decrease"):
            raise ConfigError(f"{path}: [{key}] direction must be increase or decrease")
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k in fields}
        out.append(NofMetric(key=key, **kw))
    return tuple(out)


def nof_metrics(path: str | Path | None = None) -> list[NofMetric]:
    """The Framework's metrics, in the table's order (by domain)."""
    return list(_read(str(path or NOF_TABLE)))


def indicator_for(metric: NofMetric, catalogue) -> str | None:
    """The first of the metric's Partnering indicators that the catalogue defines, or ``None``."""
    return next((c for c in metric.indicators if c in catalogue), None)


def framework_indicators(catalogue=None, trust_type: str = "acute", path=None) -> list[str]:
    """Indicators that measure the Framework's scored metrics for ``trust_type`` and that the catalogue defines,
    in catalogue order.  Only metrics scored by rank among trusts ([SPEC]) are included: a discrete score needs the
    Framework's categories and a manual one the trust's own plan, neither of which Partnering holds."""
    cat = catalogue or load_catalogue()
    want = {indicator_for(m, cat) for m in nof_metrics(path) if trust_type in m.trust_types and m.scoring == "ranked"}
    return [c for c in cat if c in want]


FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}


def interval_hints(path=None, catalogue=None) -> dict[str, int]:
    """indicator -> months between publications, where the metric table (``interval_months``) or the catalogue
    (``frequency = "quarterly"`` / ``"annual"``) says so: used when the data hold a single publication."""
    cat = catalogue or load_catalogue()
    out = {c: FREQUENCY_MONTHS[d.extra["frequency"]] for c, d in cat.items()
           if d.extra.get("frequency") in FREQUENCY_MONTHS}
    out.update({c: m.interval_months for m in nof_metrics(path) if m.interval_months for c in m.indicators})
    return out


def _has_data(code: str, cat, with_data: set[str]) -> bool:
    """Stored values, or (a derived rate) values for every indicator it is derived from."""
    inputs = cat[code].extra.get("derived_from") if code in cat else None
    return code in with_data or bool(inputs) and all(c in with_data for c in inputs)


def metric_status(catalogue=None, with_data: set[str] | None = None, trust_type: str | None = None,
                  path=None) -> pd.DataFrame:
    """One row per Framework metric: whether Partnering has it, through which indicator, from which file.

    ``status``: "in" (the catalogue defines an indicator for it and, when ``with_data`` is given, data are loaded),
    "proxy" (the same, but the indicator approximates the metric: see ``note``), "no data loaded" (defined but
    nothing in the store), "missing" (no open source Partnering reads), "not scored by Partnering" (a discrete or
    manual score).  ``with_data``: the indicator codes that have values (``None`` = do not check the store).
    """
    cat = catalogue or load_catalogue()
    rows = []
    for m in nof_metrics(path):
        if trust_type and trust_type not in m.trust_types:
            continue
        ind = indicator_for(m, cat)
        if m.scoring != "ranked":
            status = "not scored by Partnering"
        elif ind is None:
            status = "missing"
        elif with_data is not None and not _has_data(ind, cat, with_data):
            status = "no data loaded"
        else:
            status = "proxy" if m.proxy else "in"
        rows.append({"metric": m.key, "nof_id": m.nof_id, "name": m.name, "domain": m.domain,
                     "trust_types": ", ".join(m.trust_types), "scoring": m.scoring, "direction": m.direction,
                     "indicator": ind or "", "status": status, "ingest_kind": m.ingest_kind if ind else "",
                     "source_file": m.source_file if ind else "", "source": m.source, "note": m.note})
    return pd.DataFrame(rows, columns=STATUS_COLUMNS)


# ---------------------------------------------------------------------------------------------- agreement


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN with fewer than 3 pairs."""
    if len(a) < 3:
        return float("nan")
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def agreement(ours: pd.DataFrame, published: pd.DataFrame) -> dict:
    """How closely Partnering's league table (``ours``: org_code, segment, avg_score, rank) agrees with published
    figures (``published``: org_code and any of published_segment, published_rank).

    Returns the trusts compared, the share in the same segment (where a segment is published), Spearman's rank
    correlation between our rank and the published rank (where a rank is published; per ``rank_scope`` too, when
    the published figures say which table each rank is from), and the rows side by side (``rows``) so each
    difference can be explained.
    """
    both = published.merge(ours, on="org_code", how="left")
    seg = both.dropna(subset=["published_segment", "segment"]) if "published_segment" in both else both.iloc[0:0]
    rk = both.dropna(subset=["published_rank", "rank"]) if "published_rank" in both else both.iloc[0:0]
    return {
        "published": len(published),
        "matched": int(both["segment"].notna().sum()),
        "segments_compared": len(seg),
        "same_segment": int((seg["published_segment"].astype(int) == seg["segment"].astype(int)).sum()),
        "share_same_segment": float((seg["published_segment"].astype(int) == seg["segment"].astype(int)).mean())
        if len(seg) else float("nan"),
        "within_one_segment": float(((seg["published_segment"] - seg["segment"]).abs() <= 1).mean())
        if len(seg) else float("nan"),
        "ranks_compared": len(rk),
        "rank_correlation": _spearman(rk["published_rank"].to_numpy(float), rk["rank"].to_numpy(float)),
        # published ranks of different tables (all acute trusts; non-specialist ones) are compared table by table
        "rank_correlation_by_scope": {
            str(k): (len(g), _spearman(g["published_rank"].to_numpy(float), g["rank"].to_numpy(float)))
            for k, g in rk.groupby("rank_scope")} if "rank_scope" in rk else {},
        "rows": both,
    }


# ---------------------------------------------------------------------------------------------- from the store

def read_published(path, quarter: str | None = None) -> pd.DataFrame:
    """Published figures to compare with (a CSV: org_code and published_segment and/or published_rank; a
    ``quarter`` column is filtered on when ``quarter`` is given).  Refused with the reason when it is not that."""
    from partnering.errors import IngestError

    try:
        pub = pd.read_csv(path, dtype={"org_code": str})
    except (OSError, ValueError) as exc:
        raise IngestError(str(path), f"cannot read the published figures: {exc}") from exc
    have = [c for c in ("published_segment", "published_rank") if c in pub.columns]
    if "org_code" not in pub.columns or not have:
        raise IngestError(str(path), "needs the columns org_code and published_segment or published_rank",
                          column="org_code" if "org_code" not in pub.columns else "published_segment")
    if quarter is not None:
        if "quarter" not in pub.columns:
            raise IngestError(str(path), "has no quarter column to choose rows by", column="quarter")
        pub = pub[pub["quarter"] == quarter]
    for c in have:
        bad = pd.to_numeric(pub[c], errors="coerce").isna() & pub[c].notna()
        if bad.any():
            first = pub.index[bad.to_numpy()][0]  # the file's row: header is line 1
            raise IngestError(str(path), f"{c} {pub.loc[first, c]!r} is not a number", row=int(first) + 2, column=c)
        pub[c] = pd.to_numeric(pub[c])
    return pub
