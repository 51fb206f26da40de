"""Defaults from evidence: transaction costs, timescales, savings rates, risks and their distributions.

The values live in ``defaults.toml`` beside this module, each with a ``source`` (a key of its ``[sources]`` table:
Gaynor et al. 2012, Fulop et al. 2002, Monitor, the King's Fund, the Dalton review, Keogh, Carter, the CMA, the
Provider Selection Regime ...) and a ``basis`` (``evidence`` when the figure is in the source, ``judgement`` when it
is a stated judgement anchored on it). A case file overrides any value through its ``[defaults]`` table, with the
same dotted path; an override without a source is marked ``basis = "user"``.

Where the evidence gives a range (merger completion time, realised merger savings), the entry carries ``low`` and
``high`` (and a ``distribution``, triangular unless said otherwise): a reference-class distribution in the sense of
Flyvbjerg's reference-class forecasting, which HM Treasury's optimism-bias guidance rests on.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from partnering.errors import ConfigError, NotFoundError

BASES = ("evidence", "judgement", "user")


@dataclass(frozen=True)
class Default:
    """One default value with where it comes from."""

    path: str
    value: Any
    source: str
    basis: str
    low: float | None = None
    high: float | None = None
    distribution: str | None = None
    note: str = ""

    @property
    def has_range(self) -> bool:
        return self.low is not None and self.high is not None

    def triangular(self) -> dict[str, float]:
        """``low, mode, high`` as multipliers of the point value (1.0 = the value), for an Uncertainty."""
        if not self.has_range or not self.value:
            return {"low": 1.0, "mode": 1.0, "high": 1.0}
        v = float(self.value)
        return {"low": float(self.low) / v, "mode": 1.0, "high": float(self.high) / v}


def _is_leaf(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node


def _merge(base: dict, over: dict, path: str = "") -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        here = f"{path}.{key}" if path else key
        if isinstance(value, dict) and not _is_leaf(value) and isinstance(out.get(key), dict) and not _is_leaf(
                out.get(key)):
            out[key] = _merge(out[key], value, here)
        elif isinstance(value, dict) and _is_leaf(out.get(key)):
            leaf = dict(out[key])
            leaf.update(value)
            if "source" not in value:
                leaf["basis"] = "user"
                leaf["source"] = "user"
            out[key] = leaf
        elif _is_leaf(out.get(key)):  # a bare value replaces the point value
            leaf = dict(out[key])
            leaf.update({"value": value, "basis": "user", "source": "user"})
            leaf.pop("low", None)
            leaf.pop("high", None)
            out[key] = leaf
        else:
            out[key] = copy.deepcopy(value)
    return out


class Defaults:
    """The loaded defaults: ``get("kinds.merge.realised_savings_share")`` gives a :class:`Default`."""

    def __init__(self, data: dict):
        self.data = data
        self.sources: dict[str, str] = dict(data.get("sources", {}))
        self.sources.setdefault("user", "Set in the case file by its authors.")
        self._check()

    def _leaves(self, node=None, path: str = ""):
        node = self.data if node is None else node
        for key, value in node.items():
            here = f"{path}.{key}" if path else key
            if _is_leaf(value):
                yield here, value
            elif isinstance(value, dict) and key not in ("sources", "meta"):
                yield from self._leaves(value, here)

    def _check(self) -> None:
        for path, leaf in self._leaves():
            src = leaf.get("source")
            if not src or src not in self.sources:
                raise ConfigError(f"appraisal default {path}: source {src!r} is not named in [sources]")
            if leaf.get("basis", "judgement") not in BASES:
                raise ConfigError(f"appraisal default {path}: basis {leaf.get('basis')!r} is not one of {BASES}")
            lo, hi, v = leaf.get("low"), leaf.get("high"), leaf.get("value")
            if lo is not None and hi is not None and isinstance(v, int | float) and not lo <= v <= hi:
                raise ConfigError(f"appraisal default {path}: value {v} is outside its range {lo}..{hi}")

    def get(self, path: str) -> Default:
        node: Any = self.data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise NotFoundError(f"no appraisal default {path!r}")
            node = node[part]
        if not _is_leaf(node):
            raise NotFoundError(f"appraisal default {path!r} is a table, not a value")
        return Default(path=path, value=node["value"], source=node.get("source", "user"),
                       basis=node.get("basis", "judgement"), low=node.get("low"), high=node.get("high"),
                       distribution=node.get("distribution"), note=node.get("note", ""))

    def value(self, path: str, fallback: Any = None) -> Any:
        try:
            return self.get(path).value
        except NotFoundError:
            return fallback

    def table(self, path: str) -> dict:
        node: Any = self.data
        for part in path.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def cite(self, path_or_key: str) -> str:
        """The full reference of a default (by its path) or of a source key."""
        if path_or_key in self.sources:
            return self.sources[path_or_key]
        return self.sources.get(self.get(path_or_key).source, "")

    def rows(self) -> list[dict]:
        """Every default as a row (path, value, low, high, basis, source, reference, note): for reports and docs."""
        out = []
        for path, leaf in self._leaves():
            out.append({"path": path, "value": leaf["value"], "low": leaf.get("low"), "high": leaf.get("high"),
                        "basis": leaf.get("basis", "judgement"), "source": leaf.get("source"),
                        "reference": self.sources.get(leaf.get("source"), ""), "note": leaf.get("note", "")})
        return out


@lru_cache(maxsize=1)
def _packaged() -> dict:
    text = resources.files("partnering.appraise").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_defaults(overrides: dict | None = None) -> Defaults:
    """The packaged defaults with a case's ``[defaults]`` overrides merged in (a new object each call)."""
    data = copy.deepcopy(_packaged())
    if overrides:
        data = _merge(data, overrides)
    return Defaults(data)
