"""The partnership register (issue #11 s.1): every partnership recorded with its parties, form, whether a regulator
mandated it, its period, aims, the indicators it should move with targets, status, the ingredients for success, the
business case it came from, lessons and its full change history; renewals are new periods linked to the last.

Reads come from the store (:mod:`partnering.store.partnerships`, so that ``evaluate`` below reads the same records);
writes are validated, audited and versioned here (:mod:`partnering.register.changes`); files in
:mod:`partnering.register.files`; who may write in :mod:`partnering.register.access`.  docs/register.md.
"""

from partnering.register.access import may_write, require_write
from partnering.register.changes import (
    EntryInvalid,
    add_partnership,
    end_partnership,
    renew_partnership,
    update_partnership,
    validate_entry,
)
from partnering.register.entry import FORMS, PARTY_ROLES, STATUSES, PartnershipEntry
from partnering.register.files import ImportResult, export_partnerships, import_partnerships, register_frame
from partnering.register.listing import list_partnerships
from partnering.store.partnerships import (
    INGREDIENTS,
    PartnershipRecord,
    Party,
    Target,
    get_partnership,
    partnership_history,
    partnership_targets_frame,
)

__all__ = [
    "FORMS", "INGREDIENTS", "PARTY_ROLES", "STATUSES", "EntryInvalid", "ImportResult", "Party", "PartnershipEntry",
    "PartnershipRecord", "Target", "add_partnership", "end_partnership", "export_partnerships", "get_partnership",
    "import_partnerships", "list_partnerships", "may_write", "partnership_history", "partnership_targets_frame",
    "register_frame", "renew_partnership", "require_write", "update_partnership", "validate_entry",
]
