"""Issue #11 on the real A&E series: a HYPOTHETICAL buddying partnership (not a real one) between the acute trust
with the worst 4-hour performance in the year to March 2024 and the best, starting 2024-04.  All methods run, with
honest uncertainty (placebo inference for one treated trust), the regression-to-the-mean check and spillover
exclusions present, and a report written."""

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.shared]

IND = "ae_4h_pct_all"


@pytest.fixture(scope="module")
def hypothetical(real_store):
    from partnering.store import repository as repo

    acute = repo.organisations_frame(real_store, kinds=["acute_trust"])["org_code"].tolist()
    obs = repo.observations_frame(real_store, indicators=[IND], orgs=acute)
    wide = obs.pivot_table(index="org_code", columns="period", values="value")
    year = wide.loc[:, "2023-04":"2024-03"].dropna()
    full = wide.loc[year.index].notna().all(axis=1)
    mean = year[full].mean(axis=1)
    return {"id": None, "recipient_code": mean.idxmin(), "supporter_code": mean.idxmax(), "form": "buddying",
            "start_period": "2024-04", "end_period": None, "appraisal_case_id": None, "indicators": [IND]}


def test_all_methods_on_real_ae(real_store, hypothetical, tmp_path):
    from partnering.evaluate.run import evaluate_partnership
    from partnering.report.evaluation import write_report

    evs = evaluate_partnership(real_store, hypothetical, methods="all", seed=1)
    ev = evs[IND]
    assert ev.treated == [hypothetical["recipient_code"]]
    assert {"its", "did", "sc"} <= set(ev.results), ev.errors
    for name in ("its", "did", "sc"):
        r = ev.results[name]
        assert np.isfinite(r.att) and r.ci_low < r.att < r.ci_high, name
        assert len(r.gaps) > 0
    assert ev.results["did"].details["inference"] == "placebo"  # one treated trust: no clustered-error optimism
    assert hypothetical["supporter_code"] in ev.excluded  # spillover: the supporter is no comparator
    assert hypothetical["supporter_code"] not in ev.results["did"].details["comparators"]
    assert ev.rtm is not None and "regression to the mean" in ev.rtm.details["summary"]
    assert ev.rtm.details["pre_percentile"] <= 0.1  # it was among the worst before (chosen for that)
    assert ev.verdict.verdict
    assert ev.benefits["summary"].startswith("No business case")
    out = write_report(evs, tmp_path / "evaluation.html", title="Hypothetical buddying (test)")
    assert "regression to the mean" in out.read_text()
