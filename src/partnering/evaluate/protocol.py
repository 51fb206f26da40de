"""An analysis protocol, saved and fingerprinted before the post-period data is looked at.

Pre-specifying outcomes, comparators, windows and methods, and registering them before seeing the results, is
how the Health Foundation's Improvement Analytics Unit guards against choosing the analysis that gives the wanted
answer (e.g. Lloyd et al. 2018, *Improvement Analytics Unit: evaluation protocol*, The Health Foundation; the same
principle as trial registration, ICMJE).  The fingerprint is the SHA-256 of the protocol's canonical JSON (keys
sorted, no whitespace, UTF-8); :func:`check_protocol` recomputes it at run time and refuses a protocol changed
after it was fingerprinted (or, with ``allow_changed``, warns loudly).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from partnering.errors import ValidationError

__all__ = ["Protocol", "ProtocolChanged", "check_protocol", "check_protocol_document", "fingerprint", "load_protocol",
           "save_protocol"]

KNOWN_METHODS = ("its", "did", "cs", "sc", "rtm", "spc")


class ProtocolChanged(ValidationError):
    """The protocol's content no longer matches the fingerprint recorded when it was saved."""


@dataclass
class Protocol:
    partnership: str
    outcomes: list[str]
    start: str
    methods: list[str] = field(default_factory=lambda: ["its", "did", "sc", "rtm"])
    comparators: str = "peers"  # "peers" (the peer finder), "all", or a comma-separated list of codes
    exclude_spillover: bool = True
    pre_window: list[str] | None = None  # [first, last] period
    post_window: list[str] | None = None
    level: float = 0.95
    notes: str = ""

    def validate(self) -> None:
        if not self.outcomes:
            raise ValidationError("a protocol names at least one outcome")
        bad = [m for m in self.methods if m not in KNOWN_METHODS]
        if bad:
            raise ValidationError(f"unknown method(s) in the protocol: {bad}; known: {list(KNOWN_METHODS)}")
        if not 0 < self.level < 1:
            raise ValidationError("level must be between 0 and 1")

    def canonical(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(protocol: Protocol) -> str:
    return hashlib.sha256(protocol.canonical().encode("utf-8")).hexdigest()


def save_protocol(protocol: Protocol, path: str | Path, latest_period_seen: str | None = None) -> str:
    """Write the protocol with its fingerprint (``.json`` or ``.toml``); returns the fingerprint."""
    protocol.validate()
    fp = fingerprint(protocol)
    meta = {"fingerprint": fp, "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "latest_period_seen": latest_period_seen}
    path = Path(path)
    if path.suffix == ".toml":
        path.write_text(_toml({"protocol": asdict(protocol), "fingerprint": {k: v for k, v in meta.items()
                                                                               if v is not None}}), encoding="utf-8")
    else:
        path.write_text(json.dumps({"protocol": asdict(protocol), **meta}, indent=2), encoding="utf-8")
    return fp


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _toml(doc: dict) -> str:
    out = []
    for table, values in doc.items():
        out.append(f"[{table}]")
        out += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
        out.append("")
    return "\n".join(out)


def _from_document(doc, source) -> tuple[Protocol, dict]:
    """The protocol and its metadata from a saved document: the JSON form (``{"protocol": {...}, "fingerprint":
    "..."}``) or the TOML form (``[protocol]`` and ``[fingerprint]`` tables)."""
    try:
        stamp = doc.get("fingerprint")
        meta = dict(stamp) if isinstance(stamp, dict) else {k: doc.get(k) for k in ("fingerprint", "saved_at",
                                                                                    "latest_period_seen")}
        proto = Protocol(**doc["protocol"])
        proto.validate()
        fingerprint(proto)  # values JSON cannot write are not a protocol either
    except ValidationError:
        raise
    except (AttributeError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{source}: not a readable analysis protocol ({exc})") from exc
    return proto, meta


def load_protocol(path: str | Path) -> tuple[Protocol, dict]:
    """The protocol and its recorded metadata (fingerprint, saved_at, latest_period_seen)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        doc = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: not a readable analysis protocol ({exc})") from exc
    return _from_document(doc, path)


def _verify(proto: Protocol, meta: dict, source, allow_changed: bool) -> tuple[Protocol, list[str]]:
    recorded, now = meta.get("fingerprint"), fingerprint(proto)
    if recorded == now:
        return proto, []
    msg = (f"the analysis protocol {source} changed after it was fingerprinted (recorded {str(recorded)[:12]}..., "
           f"now {now[:12]}...): results no longer follow the pre-specified analysis")
    if not allow_changed:
        raise ProtocolChanged(msg)
    return proto, ["WARNING: " + msg]


def check_protocol(path: str | Path, allow_changed: bool = False) -> tuple[Protocol, list[str]]:
    """Load and verify a protocol: raises :class:`ProtocolChanged` when its fingerprint does not match (or, with
    ``allow_changed``, returns a loud warning)."""
    proto, meta = load_protocol(path)
    return _verify(proto, meta, path, allow_changed)


def check_protocol_document(doc: dict, source: str = "sent with the request",
                            allow_changed: bool = False) -> tuple[Protocol, list[str]]:
    """:func:`check_protocol` for a protocol already read (the saved file's content, JSON or TOML form): what the
    API's ``protocol`` field is checked with."""
    proto, meta = _from_document(doc, source)
    return _verify(proto, meta, source, allow_changed)
