"""Which of two publications of the same figure is the later one: the latest *publication* is current.

The order of loading does not decide what is current (DESIGN.md, "Data"): a revision published after the first
release supersedes it even when the first release is loaded afterwards; an older publication loaded later goes
into the history and supersedes nothing.  Each batch records when its source published it and how that is known:

* ``file``  — the file says so (the A&E workbook's "Published:" / "Revised:" cells);
* ``given`` — the person loading it said so (``--published YYYY-MM-DD``);
* ``inferred: revised`` — the file name says it is a revision (NHS England names revised A&E files "...revised...");
  it ranks after the first publication of the same month, whatever the order of loading;
* ``inferred: load time`` — nothing is known: the load date stands in for the publication date;
* ``derived from record-level data`` — computed by Partnering from records (``partnering compute indicators
  --load``), dated the day it was loaded: no publisher stands behind it.

Two publications with known dates (file or given) are ordered by date; otherwise a revision ranks after a first
release, and then by date (load date when inferred); ties go to the later load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

KNOWN = ("file", "given")
REVISED = "inferred: revised"
LOAD_TIME = "inferred: load time"
DERIVED = "derived from record-level data"
_REVISED_NAME = re.compile(r"revis", re.IGNORECASE)


@dataclass(frozen=True)
class Publication:
    batch_id: int
    published_on: date | None
    basis: str | None

    @property
    def known(self) -> bool:
        return self.basis in KNOWN

    @property
    def revised(self) -> bool:
        return self.basis == REVISED


def is_later(new: Publication, old: Publication) -> bool:
    """Whether ``new`` is a later publication than ``old`` (so its values supersede ``old``'s)."""
    if not (new.known and old.known) and new.revised != old.revised:
        return new.revised
    a, b = new.published_on, old.published_on
    if a is not None and b is not None and a != b:
        return a > b
    return new.batch_id > old.batch_id


def publication_basis(file_name: str, from_file: date | None, given: date | None, today: date) -> tuple[date, str]:
    """(publication date, how it is known) for a file being loaded today."""
    if from_file is not None:
        return from_file, "file"
    if given is not None:
        return given, "given"
    if _REVISED_NAME.search(file_name.rsplit("/", 1)[-1]):
        return today, REVISED
    return today, LOAD_TIME
