"""One pair parser for the CLI, the web forms and the API (partnering.match.pairs.parse_pairs)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnering.errors import ValidationError
from partnering.match.pairs import parse_pairs
from partnering.match.service import parse_pairs as service_parse_pairs

pytestmark = pytest.mark.unit

code = st.from_regex(r"[A-Za-z0-9]{1,6}", fullmatch=True)
pairs = st.lists(st.tuples(code, code), min_size=0, max_size=6)
within = st.sampled_from([":", "-", ">", " ", "->", " - ", "\t", " : ", "  >  "])
between = st.sampled_from([",", ";", "\n", ", ", " ;\n", "\r\n", ",,"])


def _expected(ps):
    out = []
    for r, s in ps:
        p = (r.upper(), s.upper())
        if p not in out:
            out.append(p)
    return tuple(out)


def test_both_old_syntaxes_are_read():
    # the CLI/service wrote REC:SUP items; the web form wrote "R1-S1, R2-S2" or one pair per line
    assert parse_pairs(["rj6:rqm", "R1H:RQX"], "required") == (("RJ6", "RQM"), ("R1H", "RQX"))
    assert parse_pairs("ZA1-ZB2, ZA3 ZB4\nZA5>ZB6; ZA7 -> ZB8", "forbid") == (
        ("ZA1", "ZB2"), ("ZA3", "ZB4"), ("ZA5", "ZB6"), ("ZA7", "ZB8"))
    assert parse_pairs([("za1", " zb2 ")]) == (("ZA1", "ZB2"),)
    assert parse_pairs(None) == () and parse_pairs("") == () and parse_pairs(" , ;\n") == ()
    assert service_parse_pairs is parse_pairs


@pytest.mark.parametrize("bad", ["ZA1", "ZA1:ZB2:ZC3", "ZA1/ZB2", "ZA1.ZB2", ["ZA1"], [("ZA1", "ZB2", "ZC3")],
                                 [("ZA1", "")], [(1, 2)], [None], 5, ["ZA1:ZB2", "ZC3"]])
def test_bad_pairs_raise_a_validation_error_naming_the_input(bad):
    with pytest.raises(ValidationError, match="Pairs to forbid"):
        parse_pairs(bad, "Pairs to forbid")


def test_the_web_message_is_kept():
    with pytest.raises(ValidationError, match="not a pair of organisation codes"):
        parse_pairs("ZA1", "forbid")


@settings(max_examples=200, deadline=None)
@given(pairs, within, between)
def test_text_round_trip(ps, sep, gap):
    text = gap.join(f"{r}{sep}{s}" for r, s in ps)
    assert parse_pairs(text, "x") == _expected(ps)


@settings(max_examples=200, deadline=None)
@given(pairs, within)
def test_list_of_texts_and_list_of_tuples_agree(ps, sep):
    as_texts = [f" {r}{sep}{s} " for r, s in ps]
    assert parse_pairs(as_texts, "x") == parse_pairs(ps, "x") == _expected(ps)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_gives_pairs_of_codes_or_a_validation_error(text):
    try:
        got = parse_pairs(text, "x")
    except ValidationError:
        return
    for pair in got:
        assert len(pair) == 2 and all(re.fullmatch(r"[A-Z0-9_]+", c) for c in pair)
    assert len(set(got)) == len(got)
