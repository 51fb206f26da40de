"""The appraisal report: a Five-Case-shaped business case (HTML and PDF) and an XLSX for the finance team.

Shape: HM Treasury's Five Case Model (Green Book 2022, chapter 4; *Guide to developing the project business case*,
2018) — led by the strategic and economic cases, then the commercial, financial and management cases as far as the
decision case informs them. Charts a board can challenge: the NPSV distribution of every option (Monte Carlo), the
tornado of the preferred option, and the cash-flow profile. HTML is one self-contained file (inline SVG, a data table
under each chart); the PDF is drawn with matplotlib as :mod:`partnering.report.performance` does, so no browser is
needed. The XLSX holds every cash flow with its optimism-bias uplift and discount factor, and every result table,
as values (no formulas), laid out like the DHSC CIA model's sheets so a finance team can tick them off.
"""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from partnering.errors import ValidationError
from partnering.report.pages import inline_svg, text_pages

GBP_M = 1e6


def _m(v) -> str:
    """Money in £ millions as a board paper writes it: ``£18.98m``, ``−£3.87m`` (the sign before the pound sign)."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return f"{'−' if v < 0 else ''}£{abs(v) / GBP_M:,.2f}m"


def _in_unit(v, unit: str) -> str:
    """A metric's value in its own unit, rounded as the pages show it (``91.0%``, ``12.3 weeks``); a dash for none."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if unit == "percent":
        return f"{v:.1f}%"
    return f"{v:,.1f} {unit}".rstrip()


def _r(v, fmt="{:.2f}") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return fmt.format(v)


# ------------------------------------------------------------------------------------------------ charts


def npsv_figure(res) -> Figure:
    """Box-and-whisker of each option's simulated NPSV (P10-P90 box, P50 line), deterministic NPSV marked."""
    fig = Figure(figsize=(8, 0.6 + 0.55 * len(res.summary)))
    ax = fig.add_subplot(111)
    keys = list(res.summary.index)
    draws = np.asarray(res.npsv_draws) / GBP_M
    stats = []
    for i, k in enumerate(keys):
        d = draws[:, i]
        p5, p10, p50, p90, p95 = np.percentile(d, [5, 10, 50, 90, 95])
        stats.append({"label": k, "whislo": p5, "q1": p10, "med": p50, "q3": p90, "whishi": p95, "fliers": []})
    ax.bxp(stats, orientation="horizontal", showfliers=False)
    ax.plot(res.results.loc[keys, "npsv"].to_numpy() / GBP_M, np.arange(1, len(keys) + 1), "D", color="#005eb8",
            label="deterministic NPSV")
    ax.axvline(0, color="#425563", lw=0.8)
    ax.set_xlabel(f"NPSV, £m ({res.case.case.price_base_year} prices): box P10-P90, line P50, whiskers P5-P95")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Net present social value: the spread of the simulations")
    fig.tight_layout()
    return fig


def tornado_figure(res) -> Figure:
    t = res.tornado.head(12).iloc[::-1]
    fig = Figure(figsize=(8, 0.6 + 0.4 * max(len(t), 1)))
    ax = fig.add_subplot(111)
    base = float(res.results.loc[res.tornado_option, "npsv"]) / GBP_M
    lo = t["npsv_low"].to_numpy() / GBP_M if "npsv_low" in t else np.zeros(len(t))
    hi = t["npsv_high"].to_numpy() / GBP_M if "npsv_high" in t else np.zeros(len(t))
    y = np.arange(len(t))
    ax.barh(y, lo - base, left=base, color="#ae2573", label="input at its low value")
    ax.barh(y, hi - base, left=base, color="#007f3b", label="input at its high value")
    ax.set_yticks(y, [str(s)[:40] for s in t["input"]])
    ax.axvline(base, color="#425563", lw=0.8)
    ax.set_xlabel("NPSV, £m")
    ax.set_title(f"Tornado: what moves the NPSV of {res.tornado_option} most")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def cashflow_figure(res) -> Figure:
    cf = res.cash_flows
    keys = list(res.summary.index)
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_subplot(111)
    signed = cf.assign(v=cf["adjusted_value"] * cf["sign"] * np.where(cf["category"] == "qalys", 0, 1))
    net = signed.groupby(["option", "year"])["v"].sum().unstack("option").reindex(columns=keys).fillna(0) / GBP_M
    for k in keys:
        ax.plot(net.index, net[k], marker="o", ms=3, label=k)
    ax.axhline(0, color="#425563", lw=0.8)
    ax.set_xlabel("year (0 = price base year)")
    ax.set_ylabel("net cash flow, £m real (undiscounted)")
    ax.set_title("Cash-flow profile after optimism bias (monetised, QALYs excluded)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------ tables


def options_table(res) -> pd.DataFrame:
    t = res.table().reset_index()
    return t


def _html_table(df: pd.DataFrame, caption: str, money: tuple[str, ...] = ()) -> str:
    h = [f"<table><caption>{escape(caption)}</caption><thead><tr>"]
    h += [f"<th scope='col'>{escape(str(c))}</th>" for c in df.columns]
    h.append("</tr></thead><tbody>")
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row):
            if c in money:
                cells.append(_m(v))
            elif isinstance(v, float):
                cells.append(_r(v))
            else:
                cells.append("" if v is None else escape(str(v)))
        h.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    h.append("</tbody></table>")
    return "".join(h)


MONEY = ("npsv", "pv_costs", "pv_benefits", "mean", "p10", "p50", "p90", "npsv_low", "npsv_high", "swing", "base")


def render_html(res) -> str:
    c = res.case
    meta = c.case
    tab = options_table(res)
    rec = res.recommendation
    gaps = pd.DataFrame([g.model_dump() for g in c.problem.gaps]) if c.problem.gaps else pd.DataFrame()
    h = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
         f"<title>{escape(meta.title)}</title><style>body{{font-family:Arial,sans-serif;max-width:60rem;margin:auto;"
         "color:#212b32;line-height:1.4}table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
         "th,td{border:1px solid #768692;padding:0.25em 0.5em;text-align:left}caption{font-weight:bold;"
         "text-align:left}.rec{border-left:8px solid #005eb8;padding:0.5em 1em;background:#f0f4f5}</style>"
         "</head><body><main>",
         f"<h1>{escape(meta.title)}</h1>",
         f"<p>Business case stage: {escape(meta.stage)}. Money in GBP, real terms, {meta.price_base_year} prices; "
         f"Green Book {escape(meta.vintage)} discounting; {res.economic.draws:,} Monte Carlo draws (seed "
         f"{res.economic.seed}). Prepared {date.today().isoformat()}.</p>"]
    if meta.synthetic:
        h.append("<p><strong>Synthetic demonstration data: not a real NHS organisation.</strong></p>")
    h.append(f"<div class='rec'><h2>Recommendation</h2><p>{escape(rec.text)}</p><ul>"
             + "".join(f"<li>{escape(r)}</li>" for r in rec.reasons)
             + f"<li>Expected value of perfect information: {_m(res.evpi)} — the most it is worth paying to "
               "learn more before deciding.</li></ul></div>")
    h.append("<h2>1. Strategic case</h2>")
    h.append(f"<p>{escape(c.problem.summary)}</p>")
    if c.problem.evidence:
        h.append(f"<p>{escape(c.problem.evidence)}</p>")
    if not gaps.empty:
        cols = [x for x in ("name", "unit", "value", "period", "standard", "median", "top_quartile",
                            "variation_icon", "assurance") if x in gaps.columns]
        h.append(_html_table(gaps[cols], "Gaps to close (key metrics in their own units)"))
    if c.long_list:
        ll = pd.DataFrame([e.model_dump() for e in c.long_list])
        h.append(_html_table(ll, "Long list by the options framework (Green Book 2022, A1 Box 17)"))
    for p in res.problems:
        h.append(f"<p><strong>Shortlist:</strong> {escape(p)}</p>")
    h.append("<h2>2. Economic case</h2>")
    cols = [x for x in ("option", "name", "kind", "npsv", "pv_costs", "pv_benefits", "bcr",
                        "npsv_per_public_pound", "p10", "p50", "p90", "p_best", "mcda_score", "mcda_rank")
            if x in tab.columns]
    h.append(_html_table(tab[cols], "Shortlisted options: net present social value (NPSV), present values, "
                                    "benefit-cost ratio (reported, not a gate), Monte Carlo percentiles and the "
                                    "probability each option is best", MONEY))
    h.append("<figure>" + inline_svg(npsv_figure(res)) + "<figcaption>Spread of simulated NPSV per option (table above "
             "gives P10, P50, P90).</figcaption></figure>")
    tor = res.tornado
    h.append("<figure>" + inline_svg(tornado_figure(res)) + "</figure>")
    h.append(_html_table(tor.head(12), f"Tornado data: {res.tornado_option}", MONEY))
    h.append("<figure>" + inline_svg(cashflow_figure(res)) + "</figure>")
    sw = res.switching
    h.append(_html_table(sw.head(30), "Switching values: the change in each input that makes the NPSV zero or "
                                      "changes the preferred option"))
    if res.mcda is not None:
        mt = res.mcda.table().reset_index()
        h.append("<h3>What money misses: multi-criteria analysis (swing weights)</h3>")
        h.append(_html_table(mt, "MCDA scores (0-100), weighted score and rank"))
        h.append(_html_table(res.mcda.sensitivity, "Rank reversal: the weight at which the top option changes"))
    h.append("<h2>3. Commercial case</h2><ul>")
    for o in c.options:
        partner = f" with {escape(o.partner.name or o.partner.org_code)} ({o.partner.org_code})" if o.partner else ""
        form = f", {escape(o.form)}" if o.form else ""
        h.append(f"<li><strong>{escape(o.name)}</strong> ({escape(o.kind)}{form}){partner}: "
                 + escape(o.notes or o.description) + "</li>")
    h.append("</ul><h2>4. Financial case</h2>")
    fin = res.results[["pv_capital_cost", "pv_revenue_cost", "pv_transaction_cost", "pv_cash_releasing_benefit",
                       "pv_public_spend"]].reset_index()
    h.append(_html_table(fin, "Present values by category (affordability detail in the XLSX)",
                         tuple(fin.columns[1:])))
    h.append("<h2>5. Management case: approvals route</h2>")
    for r in res.routes:
        h.append(f"<h3>{escape(r.option)}</h3><ul>" + "".join(
            f"<li>{escape(a.body)}: {escape(a.why)} <em>({escape(a.source)})</em></li>" for a in r.approvals)
                 + "</ul>")
    if res.warnings:
        h.append("<h2>Caveats</h2><ul>" + "".join(f"<li>{escape(w)}</li>" for w in res.warnings) + "</ul>")
    h.append("</main></body></html>")
    return "\n".join(h)


def pdf_lines(res) -> list[str]:
    """The report's text pages, led by the recommendation and the strategic and economic cases (Five Case Model);
    lines starting with two spaces are set as a fixed-width table."""
    c = res.case
    meta = c.case
    tab = options_table(res)
    lines = [f"Business case stage {meta.stage}. Money in GBP, real terms, {meta.price_base_year} prices; Green Book "
             f"{meta.vintage} discounting; {res.economic.draws:,} Monte Carlo draws (seed {res.economic.seed}). "
             f"Prepared {date.today().isoformat()}.", ""]
    if meta.synthetic:
        lines += ["Synthetic demonstration data: not a real NHS organisation.", ""]
    lines += ["RECOMMENDATION", res.recommendation.text, *res.recommendation.reasons,
              f"Expected value of perfect information: {_m(res.evpi)} (the most it is worth paying to learn more "
              "before deciding).", "", "1. STRATEGIC CASE", c.problem.summary, c.problem.evidence]
    if c.problem.gaps:
        lines += ["", "Gaps to close (key metrics in their own units):",
                  f"  {'metric':52} {'month':7} {'value':>8} {'standard':>8} {'median':>8} {'top 25%':>8}"]
        for g in c.problem.gaps:
            lines.append(f"  {(g.name or g.indicator)[:52]:52} {g.period or '':7} {_in_unit(g.value, g.unit):>8} "
                         f"{_in_unit(g.standard, g.unit):>8} {_in_unit(g.median, g.unit):>8} "
                         f"{_in_unit(g.top_quartile, g.unit):>8}")
    if res.problems:
        lines += [f"Shortlist: {p}" for p in res.problems]
    else:
        lines.append("The shortlist holds business as usual, a do-minimum option, the preferred way forward and at "
                     "least one other alternative (Green Book 2022, 5.53).")
    lines += ["", "2. ECONOMIC CASE",
              "NPSV against business as usual, after optimism bias; P10/P50/P90 of the simulated NPSV; P(best): the "
              "share of simulations in which the option has the highest NPSV; BCR reported, not a gate.",
              f"  {'option':24} {'NPSV':>9} {'BCR':>5} {'P10':>9} {'P50':>9} {'P90':>9} {'P(best)':>7}"
              + ("  MCDA" if "mcda_rank" in tab.columns else "")]
    for row in tab.itertuples(index=False):
        mcda = f"  {row.mcda_score:4.0f} ({row.mcda_rank})" if "mcda_rank" in tab.columns else ""
        lines.append(f"  {row.option[:24]:24} {_m(row.npsv):>9} {_r(row.bcr):>5} {_m(row.p10):>9} "
                     f"{_m(row.p50):>9} {_m(row.p90):>9} {row.p_best:>7.0%}{mcda}")
    lines += ["", "Options:"] + [f"  {o.key[:24]:24} {o.name}"[:110] for o in c.options]
    lines += ["", "3. COMMERCIAL CASE"]
    for o in c.options:
        who = ""
        if o.partner:
            p = o.partner
            who = f" with {p.name or p.org_code} ({p.org_code})"
            if p.travel_minutes is not None:
                who += f", {p.travel_minutes:.0f} minutes away"
            if p.track_record:
                who += ", with a track record of high performance"
        d = o.ramp.delay_years if o.ramp else 0.0
        delay = f"; benefits start after {d:g} year{'' if d == 1 else 's'}" if d else ""
        tx = sum(t.amount for t in o.transaction_costs)
        txt = f"; transaction costs {_m(tx)}" if tx else ""
        lines.append(f"{o.name} ({o.kind}{', ' + o.form if o.form else ''}){who}{delay}{txt}.")
    lines += ["", "4. FINANCIAL CASE (present values, £m; every yearly flow is in the XLSX)",
              f"  {'option':24} {'capital':>9} {'revenue':>9} {'transact.':>9} {'cash rel.':>9} {'public':>9}"]
    for key, r in res.results.iterrows():
        lines.append(f"  {str(key)[:24]:24} {_m(r['pv_capital_cost']):>9} {_m(r['pv_revenue_cost']):>9} "
                     f"{_m(r['pv_transaction_cost']):>9} {_m(r['pv_cash_releasing_benefit']):>9} "
                     f"{_m(r['pv_public_spend']):>9}")
    lines += ["", "5. MANAGEMENT CASE: APPROVALS ROUTE"]
    for r in res.routes:
        lines.append(f"{r.option}: " + "; ".join(f"{a.body} ({a.why})" for a in r.approvals))
    lines += ["", "CAVEATS", *res.warnings]
    return lines


def write_pdf(res, out: Path) -> None:
    with PdfPages(out) as pdf:
        text_pages(pdf, res.case.case.title, pdf_lines(res), monospace_indented=True)
        for fig in (npsv_figure(res), tornado_figure(res), cashflow_figure(res)):
            pdf.savefig(fig)


def write_report(res, out: str | Path) -> Path:
    """Write the report as HTML or PDF, chosen by the file's suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        out.write_text(render_html(res), encoding="utf-8")
    elif suffix == ".pdf":
        write_pdf(res, out)
    else:
        raise ValidationError(f"{out}: the report must be .html or .pdf")
    return out


def xlsx_sheets(res) -> dict[str, pd.DataFrame]:
    """The sheets of the finance workbook, as values."""
    c = res.case.case
    about = pd.DataFrame({"item": ["title", "price base year", "prices", "Green Book vintage", "draws", "seed",
                                   "prepared"],
                          "value": [c.title, c.price_base_year, "GBP, real terms", c.vintage, res.economic.draws,
                                    res.economic.seed, date.today().isoformat()]})
    cf = res.cash_flows
    factors = cf[["year", "calendar_year", "category", "discount_factor"]].drop_duplicates(["year", "category"])
    factors = factors.assign(schedule=np.where(factors["category"] == "qalys", "health", "standard")) \
        .drop(columns="category").drop_duplicates(["year", "schedule"]).sort_values(["schedule", "year"])
    sheets = {
        "About": about,
        "Results": res.table().reset_index(),
        "Present values": res.results.drop(columns=["unmonetisable"], errors="ignore").reset_index(),
        "Cash flows": cf,
        "Discount factors": factors,
        "Monte Carlo": res.summary.reset_index(),
        "Switching values": res.switching,
        "Tornado": res.tornado,
    }
    if res.mcda is not None:
        sheets["MCDA"] = res.mcda.table().reset_index()
        sheets["MCDA rank reversal"] = res.mcda.sensitivity
    sheets["Route"] = pd.DataFrame([{"option": r.option, "body": a.body, "why": a.why, "source": a.source}
                                    for r in res.routes for a in r.approvals])
    return sheets


def write_xlsx(res, out: str | Path) -> Path:
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ValidationError(f"{out}: the workbook must be .xlsx")
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        for name, df in xlsx_sheets(res).items():
            df.to_excel(xw, sheet_name=name[:31], index=False)
    return out
