"""The indicator catalogue: codes, names, units, improvement directions, standards and sources.

Read from ``indicators.toml`` beside this module, or from the file named by
``PARTNERING_INDICATORS``.  Breakdowns (for example RTT per treatment function)
use the code ``<parent>:<breakdown>`` and inherit everything from the parent.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from partnering.config import Settings
from partnering.errors import ConfigError

DEFAULT_CATALOGUE = Path(__file__).with_name("indicators.toml")
UNITS = ("percent", "count", "weeks", "rate", "ratio", "minutes", "score")
DIRECTIONS = ("increase", "decrease", "neutral")
KPI_OWNER = "kpi"  # owner of indicators that organisations define and load themselves
#: owner of the A&E indicators only record-level data gives (``partnering compute indicators --load`` writes them in
#: batches of this kind; no published file's loader has it): docs/record-level.md
RECORD_LEVEL_OWNER = "ae-record-level"


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    unit: str
    improvement_direction: str
    national_standard: float | None = None
    constitutional_standard: float | None = None
    standard_name: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    key: bool = False
    source: str | None = None
    parent_code: str | None = None
    owner: str | None = None  # the official loader that alone may write it; None = an organisation's own KPI
    extra: dict = field(default_factory=dict)

    @property
    def official(self) -> bool:
        return self.owner is not None and self.owner != KPI_OWNER

    @property
    def is_ratio(self) -> bool:
        return self.unit == "percent" and self.denominator is not None

    def breakdown(self, suffix: str, label: str) -> "IndicatorDef":
        return IndicatorDef(
            code=f"{self.code}:{suffix}",
            name=f"{self.name} — {label}",
            unit=self.unit,
            improvement_direction=self.improvement_direction,
            national_standard=self.national_standard,
            constitutional_standard=self.constitutional_standard,
            standard_name=self.standard_name,
            numerator=self.numerator,
            denominator=self.denominator,
            key=False,
            source=self.source,
            parent_code=self.code,
            owner=self.owner,
        )


def _parse(path: Path) -> dict[str, IndicatorDef]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the indicator catalogue: {exc}") from exc
    out: dict[str, IndicatorDef] = {}
    for code, spec in raw.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: [{code}] must be a table")
        for req in ("name", "unit", "improvement_direction"):
            if req not in spec:
                raise ConfigError(f"{path}: [{code}] lacks '{req}'")
        if spec["unit"] not in UNITS:
            raise ConfigError(f"{path}: [{code}] unit {spec['unit']!r} is not one of {', '.join(UNITS)}")
        if spec["improvement_direction"] not in DIRECTIONS:
            raise ConfigError(f"{path}: [{code}] improvement_direction must be one of {', '.join(DIRECTIONS)}")
        known = {f for f in IndicatorDef.__dataclass_fields__ if f not in ("code", "extra", "parent_code")}
        out[code] = IndicatorDef(
            code=code,
            **{k: v for k, v in spec.items() if k in known},
            extra={k: v for k, v in spec.items() if k not in known},
        )
    return out


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> dict[str, IndicatorDef]:
    return _parse(Path(path))


def load_catalogue(path: str | Path | None = None) -> dict[str, IndicatorDef]:
    p = Path(path or Settings.from_env().indicators or DEFAULT_CATALOGUE)
    try:
        mtime = p.stat().st_mtime
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the indicator catalogue: {exc}") from exc
    return _load_cached(str(p), mtime)


def indicator(code: str, catalogue: dict[str, IndicatorDef] | None = None) -> IndicatorDef | None:
    """Definition for ``code``, resolving ``parent:breakdown`` codes to their parent's definition."""
    cat = catalogue or load_catalogue()
    if code in cat:
        return cat[code]
    if ":" in code:
        parent, _, suffix = code.partition(":")
        if parent in cat:
            return cat[parent].breakdown(suffix, suffix)
    return None


def format_value(v, unit: str) -> str:
    """A value as people read it in a sentence: 61.2%, 14.5 weeks, 1,234 ("n/a" when missing)."""
    try:
        missing = v is None or v != v
    except TypeError:
        missing = False
    if missing:
        return "n/a"
    if unit == "percent":
        return f"{v:.1f}%"
    if unit == "weeks":
        return f"{v:.1f} weeks"
    if unit == "minutes":
        return f"{v:.1f} minutes"
    if unit == "score":  # the NHS Staff Survey publishes theme scores (0-10) to two decimal places
        return f"{v:.2f}"
    if unit == "rate":  # averages and ratios (e.g. beds available per day): one decimal place, not a whole count
        return f"{v:,.1f}"
    return f"{v:,.0f}"
