"""Pinned peer groups (issue #14.5): the peers an analyst chose for an organisation instead of the automatic
nearest neighbours of :func:`partnering.match.service.peers_for`.

One group per organisation (everyone sees the same one), the peer codes in the order chosen, with the reason, who
set it and when. Setting and clearing are audited (actions ``peers.pin`` / ``peers.unpin``, the group before and
after), which also moves the store's data version so cached peer tables refresh. Checking that the codes are peers
of the right kind is :func:`partnering.match.service.pin_peers`'s business; who may write is the faces' (an analyst of
the organisation, or an administrator: :func:`partnering.improve.access.may_manage`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update

from partnering.errors import ValidationError
from partnering.store.audit import record
from partnering.store.models import PeerGroup

#: long enough for a sentence of reason
MAX_REASON = 500
#: at most this many pinned peers (RightCare's "Similar 10" uses 10; leave room for a bespoke list)
MAX_PEERS = 30


def _view(row) -> dict:
    return {"org_code": row.org_code, "peers": [p for p in row.peers.split(",") if p], "reason": row.reason or "",
            "set_by": row.set_by, "set_at": row.set_at.isoformat(timespec="seconds") if row.set_at else None}


def get_peer_group(engine: Engine, org_code: str) -> dict | None:
    """The pinned group of ``org_code`` (org_code, peers, reason, set_by, set_at), or None when it has none."""
    with engine.connect() as conn:
        row = conn.execute(select(PeerGroup.__table__).where(PeerGroup.org_code == org_code.upper())).first()
    return None if row is None else _view(row)


def set_peer_group(engine: Engine, org_code: str, peers: list[str], actor: str, reason: str = "") -> dict:
    """Pin ``peers`` (codes, in order) as the group of ``org_code``; replaces any earlier group. Audited."""
    code = org_code.strip().upper()
    codes = [p.strip().upper() for p in peers if p and p.strip()]
    if not codes:
        raise ValidationError("name at least one peer (or use the automatic peers)")
    if len(codes) > MAX_PEERS:
        raise ValidationError(f"{len(codes)} peers: at most {MAX_PEERS}")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationError(f"the reason is {len(reason)} characters: at most {MAX_REASON}")
    values = {"peers": ",".join(codes), "reason": reason or None, "set_by": actor, "set_at": datetime.now()}
    with engine.begin() as conn:
        old = conn.execute(select(PeerGroup.__table__).where(PeerGroup.org_code == code)).first()
        if old is None:
            conn.execute(insert(PeerGroup).values(org_code=code, **values))
        else:
            conn.execute(update(PeerGroup).where(PeerGroup.org_code == code).values(**values))
        after = {"org_code": code, "peers": codes, "reason": reason, "set_by": actor,
                 "set_at": values["set_at"].isoformat(timespec="seconds")}
        record(conn, actor, "peers.pin", code, None if old is None else _view(old), after)
    return after


def clear_peer_group(engine: Engine, org_code: str, actor: str) -> bool:
    """Go back to the automatic peers of ``org_code``; False when it had no pinned group. Audited when it had."""
    code = org_code.strip().upper()
    with engine.begin() as conn:
        old = conn.execute(select(PeerGroup.__table__).where(PeerGroup.org_code == code)).first()
        if old is None:
            return False
        conn.execute(delete(PeerGroup).where(PeerGroup.org_code == code))
        record(conn, actor, "peers.unpin", code, _view(old), None)
    return True
