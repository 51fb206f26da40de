"""The record-level indicators in the catalogue (issue #15): every definition has an entry, the ones only records
give belong to ``ae-record-level`` (which no published file's loader is), freshness names their family, and the
publication rules send anything derived from records through small-number suppression under its own name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from partnering.compute.load import KINDS, owners
from partnering.definitions.measures import MEASURES
from partnering.indicators.catalogue import RECORD_LEVEL_OWNER, load_catalogue
from partnering.ingest import LOADERS, rules
from partnering.measure.freshness import data_freshness
from partnering.report.suppression import (
    AS_PUBLISHED,
    DERIVED_SUPPRESSION,
    RULE_COLUMN,
    SMALL_NUMBER_SUPPRESSION,
    SUPPRESSED,
    apply_publication_rules,
    rule_for,
    rules_applied,
)

pytestmark = pytest.mark.unit

NEW = ("ae_4h_pct_type2", "ae_4h_pct_other", "ae_12h_from_arrival_pct")


def test_every_definition_is_in_the_catalogue_with_its_unit_and_loader():
    cat = load_catalogue()
    assert all(m.in_catalogue for m in MEASURES.values())
    kinds = owners(MEASURES)
    for code, m in MEASURES.items():
        assert cat[code].unit == m.unit, code
        assert kinds[code] == ("rtt" if code.startswith("rtt_") else
                               RECORD_LEVEL_OWNER if code in NEW else "ae-monthly"), code
    assert set(kinds.values()) == set(KINDS)
    # directions and standards a reader of the SPC charts relies on
    assert cat["ae_12h_from_arrival_pct"].improvement_direction == "decrease"
    assert cat["ae_12h_from_arrival_pct"].national_standard == 10.0
    assert {cat[c].improvement_direction for c in NEW[:2]} == {"increase"}
    assert all(cat[c].numerator and cat[c].denominator and cat[c].source.startswith("[ECDS]") for c in NEW)


def test_no_published_file_or_kpi_file_may_write_them():
    assert RECORD_LEVEL_OWNER not in LOADERS  # nothing `partnering ingest` or an upload can name
    for kind in LOADERS:
        if kind in rules.WRITES_ANY_INDICATOR:
            continue
        assert not rules.may_write(kind, RECORD_LEVEL_OWNER), kind
    assert rules.may_write(RECORD_LEVEL_OWNER, RECORD_LEVEL_OWNER)


def test_freshness_shows_them_as_their_own_family():
    obs = pd.DataFrame({"org_code": ["R1A"] * 3, "indicator": ["ae_4h_pct_all", "ae_12h_from_arrival_pct",
                                                                "ae_4h_pct_other"],
                        "period": ["2025-03", "2025-02", "2025-02"], "value": [70.0, 5.0, 98.0]})
    fr = data_freshness(obs).set_index("family")
    assert fr.loc[RECORD_LEVEL_OWNER, "family_name"] == "A&E from record-level data"
    assert fr.loc[RECORD_LEVEL_OWNER, "indicators"] == "ae_12h_from_arrival_pct, ae_4h_pct_other"
    assert fr.loc[RECORD_LEVEL_OWNER, "months_behind"] == 1 and not fr.loc[RECORD_LEVEL_OWNER, "stale"]
    assert fr.loc["ae-monthly", "indicators"] == "ae_4h_pct_all"  # published A&E keeps its own family


def test_rule_for_a_derived_figure():
    assert rule_for("ae_attendances_type2") == AS_PUBLISHED
    assert rule_for("ae_attendances_type2", derived=True) == DERIVED_SUPPRESSION
    assert rule_for("ae_12h_from_arrival_pct") == DERIVED_SUPPRESSION  # only records give it, whatever the flag
    assert rule_for("ae_attendances_type2", published=False, derived=True) == SMALL_NUMBER_SUPPRESSION
    assert rule_for("my_kpi") == SMALL_NUMBER_SUPPRESSION


def test_derived_rows_are_suppressed_and_named():
    df = pd.DataFrame({"org_code": ["R1A"] * 4,
                       "indicator": ["ae_attendances_type2", "ae_attendances_type2", "ae_4h_pct_all",
                                     "ae_4h_pct_all"],
                       "period": ["2024-12", "2025-01", "2024-12", "2025-01"],
                       "numerator": [np.nan, np.nan, 3.0, 3.0], "denominator": [np.nan, np.nan, 6.0, 6.0],
                       "value": [3.0, 12.0, 50.0, 50.0]})
    out = apply_publication_rules(df, derived=[False, True, False, True])
    assert out[RULE_COLUMN].tolist() == [AS_PUBLISHED, DERIVED_SUPPRESSION, AS_PUBLISHED, DERIVED_SUPPRESSION]
    assert out["value"].tolist() == [3.0, 10, 50.0, SUPPRESSED]  # 12 rounds to 10; 3 of 6 would reveal 3
    assert out.loc[3, ["numerator", "denominator"]].tolist() == [SUPPRESSED, SUPPRESSED]
    notes = rules_applied(out)
    assert len(notes) == 2 and notes[1].startswith(DERIVED_SUPPRESSION + ": figures Partnering computed")
