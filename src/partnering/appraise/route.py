"""Which approvals a case needs: the trust's own delegated limits, NHS England / DHSC and HM Treasury business case
thresholds, and NHS England's statutory transactions guidance for mergers, with the Competition and Markets
Authority where an independent provider is party.

Thresholds are parameters (:class:`RouteThresholds`); their defaults and sources:

* trust delegated limit for capital schemes: GBP 25m for trusts in financial distress, GBP 50m for foundation trusts
  not in distress — NHS England, *Capital investment and property business case approval guidance for NHS trusts and
  foundation trusts* (2023; HFMA summary, 16 Feb 2023); above it, the NHS England / DHSC Joint Investment
  Sub-Committee (JISC) approves;
* HM Treasury approval: capital above GBP 300m (raised from GBP 50m) and revenue above GBP 150m — NHS England,
  *Addendum to the capital investment and property business case approval guidance: capital delegated limits and
  capital approvals* (2025);
* mergers and acquisitions: every statutory transaction between trusts is reported to NHS England, assured against
  its tests (a strategic case, then a full business case, with ICB support) and needs the Secretary of State's
  approval — NHS England, *Assuring and supporting complex change: statutory transactions, including mergers and
  acquisitions* (October 2022);
* commercial transfers and significant contracts are reportable above 10% of the trust's gross assets or income
  (UK healthcare; 5% non-healthcare) — NHS England, *Assuring and supporting complex change: commercial transfers*;
* CMA merger review still applies to mergers and joint ventures with an independent provider (NHS England statutory
  transactions guidance, 2022, after the Health and Care Act 2022);
* buying services: the Provider Selection Regime (Health Care Services (Provider Selection Regime) Regulations 2023):
  a competitive process or direct award, with an 8-working-day standstill.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from partnering.appraise.model import COST_CATEGORIES

SOURCES = {
    "capital_guidance": "NHS England (2023). Capital investment and property business case approval guidance for NHS "
                        "trusts and foundation trusts.",
    "capital_addendum": "NHS England (2025). Addendum to the capital investment and property business case approval "
                        "guidance: capital delegated limits and capital approvals (HM Treasury capital limit GBP 50m "
                        "-> GBP 300m; revenue limit GBP 150m).",
    "transactions": "NHS England (2022). Assuring and supporting complex change: statutory transactions, including "
                    "mergers and acquisitions.",
    "commercial": "NHS England. Assuring and supporting complex change: commercial transfers (reporting ratios).",
    "cma": "Enterprise Act 2002 merger control; NHS England statutory transactions guidance (2022): CMA review applies "
           "where an independent provider is party.",
    "psr": "The Health Care Services (Provider Selection Regime) Regulations 2023.",
    "green_book": "HM Treasury (2022). The Green Book, chapter 4 (business case stages SOC, OBC, FBC).",
}


@dataclass(frozen=True)
class RouteThresholds:
    trust_delegated_limit_gbp: float = 50_000_000.0  # foundation trust not in distress (capital guidance 2023)
    distressed_delegated_limit_gbp: float = 25_000_000.0  # trust in financial distress (capital guidance 2023)
    hmt_capital_gbp: float = 300_000_000.0  # capital addendum 2025
    hmt_revenue_gbp: float = 150_000_000.0  # capital addendum 2025
    reportable_share_of_income: float = 0.10  # commercial transfers, UK healthcare (NHS England)


@dataclass
class Approval:
    body: str
    why: str
    source: str


@dataclass
class Route:
    option: str
    approvals: list[Approval] = field(default_factory=list)

    def bodies(self) -> list[str]:
        return [a.body for a in self.approvals]


def _whole_life(option_flows: dict[str, np.ndarray], categories) -> float:
    return float(sum(np.sum(option_flows.get(c, 0.0)) for c in categories))


def route_for_option(kind: str, flows: dict[str, np.ndarray], *, form: str | None = None,
                     in_financial_distress: bool | None = None, independent_provider_party: bool = False,
                     turnover_gbp: float | None = None, delegated_limit_gbp: float | None = None,
                     thresholds: RouteThresholds = RouteThresholds()) -> list[Approval]:
    """The approvals one option needs, from its undiscounted whole-life costs (real prices) and its kind."""
    capital = _whole_life(flows, ("capital_cost",))
    revenue = _whole_life(flows, ("revenue_cost",))
    total = _whole_life(flows, COST_CATEGORIES)
    limit = delegated_limit_gbp if delegated_limit_gbp is not None else (
        thresholds.distressed_delegated_limit_gbp if in_financial_distress else thresholds.trust_delegated_limit_gbp)
    out = [Approval("Trust board", f"whole-life cost GBP {total:,.0f} within the scheme of delegation; every "
                    "business case is approved by its own board first", SOURCES["green_book"])]
    if capital > limit:
        out.append(Approval("NHS England / DHSC Joint Investment Sub-Committee",
                            f"capital GBP {capital:,.0f} is above the trust's delegated limit GBP {limit:,.0f}",
                            SOURCES["capital_guidance"]))
    if capital > thresholds.hmt_capital_gbp or revenue > thresholds.hmt_revenue_gbp:
        out.append(Approval("HM Treasury", f"capital GBP {capital:,.0f} or revenue GBP {revenue:,.0f} is above HM "
                            f"Treasury's delegated limits (GBP {thresholds.hmt_capital_gbp:,.0f} capital, GBP "
                            f"{thresholds.hmt_revenue_gbp:,.0f} revenue)", SOURCES["capital_addendum"]))
    if kind == "merge":
        out.append(Approval("NHS England (statutory transaction assurance)",
                            "a merger or acquisition is a statutory transaction: strategic case, then full business "
                            "case, with the ICB's support", SOURCES["transactions"]))
        out.append(Approval("Secretary of State for Health and Social Care",
                            "every statutory transaction needs the Secretary of State's approval",
                            SOURCES["transactions"]))
        if independent_provider_party:
            out.append(Approval("Competition and Markets Authority", "an independent provider is party to the "
                                "merger", SOURCES["cma"]))
    if kind == "partner" and form in ("joint_venture", "management_contract", "public_private"):
        why = "a joint venture or long-term contract can be a transaction that NHS England assures"
        if turnover_gbp and total / max(len(next(iter(flows.values()), [1])), 1) > \
                thresholds.reportable_share_of_income * turnover_gbp:
            why += f" (yearly value above {thresholds.reportable_share_of_income:.0%} of the trust's income)"
        out.append(Approval("NHS England (complex change: significant contract or transfer)", why,
                            SOURCES["commercial"]))
        if independent_provider_party:
            out.append(Approval("Competition and Markets Authority", "a joint venture with an independent provider",
                                SOURCES["cma"]))
    if kind == "buy":
        out.append(Approval("Commissioner under the Provider Selection Regime",
                            "buying healthcare services follows a PSR process (direct award or competitive) with an "
                            "8-working-day standstill", SOURCES["psr"]))
        if turnover_gbp and revenue / max(len(flows.get("revenue_cost", [1])), 1) > \
                thresholds.reportable_share_of_income * turnover_gbp:
            out.append(Approval("NHS England (complex change: significant contract)",
                                "the contract's yearly value is above 10% of the trust's income",
                                SOURCES["commercial"]))
    return out


def approvals_route(case) -> list[Route]:
    """The approvals each option of a :class:`~partnering.appraise.case.DecisionCase` needs."""
    from partnering.appraise.case import option_flows

    n = case.n_years
    routes = []
    for o in case.options:
        flows = option_flows(o, n)
        routes.append(Route(o.key, route_for_option(
            o.kind, flows, form=o.form, in_financial_distress=case.route.in_financial_distress,
            independent_provider_party=case.route.independent_provider_party or (
                o.form == "independent_sector" and o.kind in ("merge", "partner")),
            turnover_gbp=case.route.turnover_gbp, delegated_limit_gbp=case.route.trust_delegated_limit_gbp)))
    return routes
