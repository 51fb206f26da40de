"""One parser for (recipient, supporter) pairs, as the CLI, the web forms and the API write them.

Accepted, and mixed freely:

* text: pairs separated by commas, semicolons or new lines; within a pair, the recipient's code then the
  supporter's, separated by spaces, ``:``, ``-`` or ``>`` (so ``RJ6:RQM``, ``RJ6-RQM``, ``RJ6 RQM``,
  ``RJ6 -> RQM`` and ``RJ6>RQM`` are the same pair);
* an iterable whose items are such text (the CLI's repeated ``--require RJ6:RQM``) or ``(recipient, supporter)``
  2-sequences.

Codes are upper-cased and must be letters, digits (or _), as organisation codes of the NHS England Organisation Data
Service (ODS) and of the partner catalogue are. A pair repeated is kept once, in first-seen order. Anything else raises
:class:`~partnering.errors.ValidationError` naming the offending text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from partnering.errors import ValidationError

__all__ = ["parse_pairs"]

Pair = tuple[str, str]

_BETWEEN_PAIRS = re.compile(r"[,;\r\n]+")
_WITHIN_PAIR = re.compile(r"[\s:>\-]+")
_CODE = re.compile(r"[A-Z0-9_]+")


def _code(raw, what: str, text) -> str:
    code = str(raw).strip().upper() if isinstance(raw, str) else None
    if not code or not _CODE.fullmatch(code):
        raise ValidationError(f"{what}: {text!r} does not name two organisation codes (letters, digits or _)")
    return code


def _from_text(text: str, what: str) -> list[Pair]:
    out = []
    for raw in _BETWEEN_PAIRS.split(text):
        bits = [b for b in _WITHIN_PAIR.split(raw) if b]
        if not bits:
            continue
        if len(bits) != 2:
            raise ValidationError(f"{what}: {raw.strip()!r} is not a pair of organisation codes (write the "
                                  "recipient then the supporter, e.g. 'RJ6:RQM' or 'RJ6-RQM')")
        out.append((_code(bits[0], what, raw.strip()), _code(bits[1], what, raw.strip())))
    return out


def parse_pairs(pairs: str | Iterable | None, what: str = "pairs") -> tuple[Pair, ...]:
    """``(recipient, supporter)`` code pairs from text, an iterable of texts or 2-sequences, or ``None``.

    ``what`` names the input in error messages (e.g. ``"required"``, ``"Pairs to forbid"``).
    """
    if pairs is None:
        return ()
    items = [pairs] if isinstance(pairs, str) else pairs
    try:
        items = list(items)
    except TypeError:
        raise ValidationError(f"{what}: expected text or a list of pairs, got {type(pairs).__name__}") from None
    out: list[Pair] = []
    for item in items:
        if isinstance(item, str):
            out.extend(_from_text(item, what))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            out.append((_code(item[0], what, item), _code(item[1], what, item)))
        else:
            raise ValidationError(f"{what}: {item!r} is not a (recipient, supporter) pair")
    return tuple(dict.fromkeys(out))
