"""Organisation names as the NHS writes them, computed at read from the official string ODS stores.

The ODS files (NHS England Organisation Data Service, ``etr.csv``) carry names in capitals
("HULL UNIVERSITY TEACHING HOSPITALS NHS TRUST"); NHS England's own publications title them in mixed case
("Hull University Teaching Hospitals NHS Trust": the A&E monthly workbook's *Provider Level Data* and
*Acute Trust Mapping* sheets, the NHS Oversight Framework league tables).  :func:`display_name` turns the one into
the other; the stored official string is never changed, so matching keeps using it.

Rules (the NHS's style for organisation names, NHS identity guidelines, "Organisation names"; checked against the
A&E workbook's names — ``tests/unit/store/test_org_names.py``):

* each word starts with a capital, the rest lower case — also after a hyphen or an opening bracket
  ("Weston Area Health" / "Hospital (Bath)"), but not after an apostrophe ("King's", "St George's");
* acronyms stay in capitals: :data:`ACRONYMS` (NHS, ICB, UK, CIC ...);
* the small words :data:`SMALL_WORDS` (and, of, the, for, in, on, at, upon ...) are lower case except as the first
  word ("The Newcastle upon Tyne Hospitals NHS Foundation Trust");
* letters after a digit stay lower case ("2gether NHS Foundation Trust");
* a name that already has a lower-case letter was written by a person (or a file in mixed case): left as it is.
"""

from __future__ import annotations

import re

#: Kept in capitals: the acronyms found in NHS organisation names (ODS etr/ecsp files and NHS England's workbooks).
ACRONYMS = frozenset({
    "NHS", "ICB", "ICS", "CCG", "STP", "UK", "GP", "GPS", "CIC", "LLP", "PLC", "UTC", "UCC", "MIU", "PCN", "WIC",
    "ENT", "HIV", "II", "III", "IV",
})
#: Lower case when not the first word (the NHS's own titles: "Barking, Havering and Redbridge ...",
#: "University Hospitals of Morecambe Bay ...", "The Newcastle upon Tyne Hospitals ...").
SMALL_WORDS = frozenset({"and", "of", "the", "for", "in", "on", "at", "upon", "with", "by", "to", "a", "an"})

_WORD = re.compile(r"[A-Za-z0-9']+")


def _word(token: str, first: bool) -> str:
    low = token.lower()
    bare = low.strip("'")
    if bare.upper() in ACRONYMS:
        return token.upper()
    if not first and bare in SMALL_WORDS:
        return low
    out, start = [], True
    for ch in low:
        if start and ch.isalpha():
            out.append(ch.upper())
            start = False
        else:
            out.append(ch)
            if ch.isalnum():
                start = False
    return "".join(out)


def display_name(official: str | None) -> str | None:
    """The name in the NHS's own title case for a stored official name; mixed-case names are returned unchanged."""
    if official is None or not isinstance(official, str) or any(c.islower() for c in official):
        return official
    first = True

    def repl(m: re.Match) -> str:
        nonlocal first
        out = _word(m.group(0), first)
        first = False
        return out

    return _WORD.sub(repl, official)
