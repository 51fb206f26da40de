"""Funding by weighted need and consolidation on the real files in ../shared (issue #12 s.3-4): practices and
areas load, the IoD 2025 local-authority average score is reproduced from LSOA scores, and the CLI answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.shared]


def test_practices_load_with_deprivation_and_age(shared):
    from partnering.design.allocation import AGE_SEX_BANDS, practice_units

    u = practice_units(shared / "data")
    assert 6_300 <= len(u) <= 6_400 and u["code"].is_unique
    assert u["population"].sum() == pytest.approx(62.57e6, rel=0.01)  # registered patients, July 2023
    assert u["deprivation"].between(0.4, 95).all()
    np.testing.assert_allclose(u[list(AGE_SEX_BANDS)].sum(axis=1), 1.0)
    assert u.attrs["national_age_fallback"] < 20


def test_iod_area_average_score_reproduced(shared):
    from partnering.design.allocation import reproduce_imd_area_scores

    rep = reproduce_imd_area_scores(shared / "data")
    assert len(rep) == 296
    # population-weighted mean of LSOA scores (Census 2021 populations; the IoD used mid-year estimates)
    assert rep["difference"].abs().median() < 0.05
    assert rep["difference"].abs().max() < 0.5


def test_cli_allocation_and_consolidation(shared, tmp_path):
    from typer.testing import CliRunner

    from partnering.cli.main import app

    runner = CliRunner()
    out = runner.invoke(app, ["design", "allocation", "--units", "areas", "--budget", "1e9", "--draws", "20",
                              "--rows", "5", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["summary"]["units"] == 296 and len(data["units"]) == 5
    assert sum(1 for w in data["weights"].values() if w["basis"] == "placeholder") >= 6

    case = tmp_path / "case.toml"
    case.write_text('[case]\ntitle = "t"\nprice_base_year = 2025\n\n[[options]]\nkey = "bau"\nname = "BAU"\n'
                    'kind = "bau"\n', encoding="utf-8")
    out = runner.invoke(app, ["design", "consolidation", "--trusts", "RAA,RBB", "--turnover", "RAA=500000000",
                              "--into-case", str(case), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["added_to_case"]["option"] == "consolidation_merger"
    assert data["turnover_supplied"] == {"RAA": True, "RBB": False}
    assert "consolidation_merger" in case.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["design", "consolidation", "--trusts", "RAA"])
    from partnering.errors import ValidationError

    assert isinstance(bad.exception, ValidationError)  # main() turns it into one line and exit 2


def test_census_age_bands_rebuilt_to_65_and_over(shared):
    """The file's older_* columns hold 65-74 only (demographr's stray comma) and its younger_* count under-ones
    twice: the reader rebuilds 65+ as total - (younger - under-ones) - working age."""
    import pandas as pd

    from partnering.design.allocation import read_census_age_sex

    path = shared / "data/geo/areas/census2021-age-sex-ltla21.csv"
    raw = pd.read_csv(path).set_index("ltla21_code")
    mid = pd.read_csv(shared / "data/geo/areas/population-mid2020-ltla21-single-year-of-age.csv").set_index(
        "ltla21_code")
    age = read_census_age_sex(path)
    h, r = age.loc["E06000001"], raw.loc["E06000001"]  # Hartlepool: total 92,347, the file's six bands 85,360
    assert r[["younger_females", "working_age_females", "older_females", "younger_males", "working_age_males",
              "older_males"]].sum() == 85_360
    under_one = (mid.loc["E06000001", "0"] / mid.loc["E06000001", "total_population"] * r[
        ["total_females", "total_males"]].to_numpy()).round()
    assert h["older_females"] == 47_656 - (9_038 - under_one[0]) - 29_161
    assert h["older_males"] == 44_691 - (9_532 - under_one[1]) - 27_298
    assert h["older_females"] + h["older_males"] == 18_275  # 19.8% of 92,347; the file's 65-74 alone: 10,331
    bands = ["younger_females", "working_age_females", "older_females", "younger_males", "working_age_males",
             "older_males"]
    assert (age[bands].sum(axis=1) == age["total_population"]).all()  # every resident in one band
    e = age[age.index.str.startswith("E")].sum()
    # ONS: 18.4% of England aged 65+ in Census 2021 (the file's 65-74 columns gave 9.8%; the remainder alone 17.4%)
    assert (e["older_females"] + e["older_males"]) / e["total_population"] == pytest.approx(0.184, abs=0.002)
    assert (e["younger_females"] + e["younger_males"]) / e["total_population"] == pytest.approx(0.185, abs=0.002)
    # without the single-year file only the stray comma is mended: older = total - younger - working age
    alone = read_census_age_sex(path, single_year=shared / "no-such-file.csv")
    assert alone.loc["E06000001", "older_females"] + alone.loc["E06000001", "older_males"] == 17_318
