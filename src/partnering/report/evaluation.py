"""The evaluation report for a partnership: per indicator, a plain-English summary a board can read, the charts
behind it, and each method's effect, interval and assumptions (HTML or PDF).

Shape follows :mod:`partnering.report.appraisal`: one self-contained HTML file (inline SVG, a data table under each
chart) or a PDF drawn with matplotlib (no browser needed).  Charts: the outcome of the partnered organisation
against its counterfactuals (the ITS projection and the synthetic control where run), the DiD effect by period with
its placebo band, the event study, and the SPC view rebased at the start.  The words lead: the verdict, the
regression-to-the-mean check, and the warnings, before any number.  Where the partnership came from a business case,
the realised effects by year are set beside the case's forecast benefits, saying what can and cannot be compared
(money against the indicator's units: :func:`partnering.evaluate.triangulate.realised_vs_forecast`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from partnering.errors import ValidationError
from partnering.evaluate.triangulate import method_label
from partnering.report.pages import inline_svg, text_pages

__all__ = ["board_summary", "effect_figure", "render_html", "spc_figure", "write_report"]



def _name(method: str, ev) -> str:
    """A method's name as a table heading, as on the evaluation page (with the panel's noun for its units)."""
    return method_label(method, getattr(ev, "unit_noun", "units"))


def _fmt(v) -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.3g}"


def board_summary(ev) -> list[str]:
    """Plain-English paragraphs, verdict first."""
    lines = [ev.verdict.verdict]
    if ev.rtm is not None:
        lines.append(ev.rtm.details["summary"])
    if ev.per_year is not None and not ev.per_year.empty:
        years = "; ".join(f"{int(r.year)}: {r.effect:+.3g}" for r in ev.per_year.itertuples())
        lines.append(f"Effect by year ({ev.per_year['method'].iloc[0]}): {years}. Benefits of partnering can take "
                     "years to show, so read the latest years alongside the first.")
    if ev.benefits:
        lines.append(ev.benefits["summary"])
    if ev.spc is not None:
        lines.append("SPC view: " + ev.spc.details["summary"])
    if ev.excluded:
        lines.append(f"{len(ev.excluded)} organisation(s) were kept out of the comparators because they could be "
                     "affected by the partnership (the supporter, and those in the same ICB).")
    return lines


def effect_figure(ev) -> Figure:
    """Observed outcome against the counterfactuals, and the DiD effect by period."""
    fig = Figure(figsize=(8, 4.2))
    ax, bx = fig.subplots(1, 2)
    its = ev.results.get("its")
    if its is not None and "observed" in its.gaps:
        x = [str(p) for p in its.gaps["period"]]
        ax.plot(x, its.gaps["observed"], color="#005eb8", label="observed")
        ax.plot(x, its.gaps["counterfactual"], color="#768692", ls="--", label="ITS projection")
    sc = ev.results.get("sc")
    if sc is not None and "synthetic" in sc.gaps:
        ax.plot([str(p) for p in sc.gaps["period"]], sc.gaps["synthetic"], color="#ed8b00", ls=":",
                label="synthetic control")
    ax.set_title(f"{ev.outcome} after the start", fontsize=9)
    ax.legend(fontsize=7)
    did = ev.results.get("did") or ev.results.get("cs")
    if did is not None and not did.gaps.empty:
        x = [str(p) for p in did.gaps["period"]]
        bx.axhline(0, color="black", lw=0.6)
        bx.plot(x, did.gaps["gap"], color="#005eb8", label="effect")
        if "low" in did.gaps:
            bx.fill_between(x, did.gaps["low"], did.gaps["high"], color="#005eb8", alpha=0.15,
                            label=f"{did.level:.0%} band")
        bx.set_title("Difference-in-differences effect by period", fontsize=9)
        bx.legend(fontsize=7)
    for a in (ax, bx):
        a.tick_params(axis="x", labelrotation=90, labelsize=6)
        a.xaxis.set_major_locator(__import__("matplotlib").ticker.MaxNLocator(12))
    fig.tight_layout()
    return fig


def spc_figure(ev) -> Figure | None:
    if ev.spc is None:
        return None
    pts = ev.spc.details["points"]
    fig = Figure(figsize=(8, 3.2))
    ax = fig.subplots()
    x = [str(p) for p in pts["period"]]
    ax.plot(x, pts["y"], color="#425563", marker="o", ms=2.5, lw=1)
    for col, style in (("mean", "-"), ("lpl", "--"), ("upl", "--")):
        ax.plot(x, pts[col], color="#768692", ls=style, lw=0.8)
    special = pts["point_type"].astype(str).str.startswith("special_cause")
    ax.scatter(np.array(x)[special.to_numpy()], pts.loc[special, "y"], color="#ed8b00", s=12, zorder=3,
               label="special cause")
    ax.set_title(f"SPC view of {ev.outcome}, limits rebased at the start {ev.start}", fontsize=9)
    ax.tick_params(axis="x", labelrotation=90, labelsize=6)
    ax.xaxis.set_major_locator(__import__("matplotlib").ticker.MaxNLocator(16))
    fig.tight_layout()
    return fig


#: headings of the realised-against-forecast table (:func:`partnering.evaluate.triangulate.realised_vs_forecast`)
_BENEFIT_COLUMNS = {"year": "Year", "realised_effect": "Realised effect (indicator units)",
                    "forecast_benefit_gbp": "Forecast benefit (GBP, real)",
                    "forecast_share_of_full": "Share of full benefit expected",
                    "share_of_gap_closed": "Share of the case's gap closed",
                    "forecast": "Forecast (indicator units)", "realised": "Realised (indicator units)",
                    "realised_share": "Realised / forecast"}


def realised_vs_forecast_table(ev) -> pd.DataFrame | None:
    """The realised effects by year beside the business case's forecast, formatted for reading (None without a
    case or a forecast): money as whole pounds, shares as percentages, effects to three figures."""
    b = ev.benefits or {}
    t = b.get("table")
    if t is None or t.empty:
        return None
    out = pd.DataFrame({"Year": t["year"].astype(int).astype(str)})
    for col, head in _BENEFIT_COLUMNS.items():
        if col == "year" or col not in t:
            continue
        v = t[col]
        if col == "forecast_benefit_gbp":
            out[head] = [("–" if not np.isfinite(x) else f"{x:,.0f}") for x in v]
        elif col.startswith(("forecast_share", "share_of", "realised_share")):
            out[head] = [("–" if not np.isfinite(x) else f"{x:.0%}") for x in v]
        else:
            out[head] = [_fmt(float(x)) for x in v]
    return out


def realised_vs_forecast_lines(ev) -> list[str]:
    """What can and cannot be compared, in words (the summary itself is in :func:`board_summary`)."""
    b = ev.benefits or {}
    lines = [f"Compared: {c}." for c in b.get("comparable") or []]
    lines += [f"Not compared: {c}." for c in b.get("not_comparable") or []]
    return lines


def _realised_vs_forecast_html(ev) -> list[str]:
    t = realised_vs_forecast_table(ev)
    if t is None:
        return []
    h = ["<h3>Realised against the business case's forecast</h3>"]
    lines = realised_vs_forecast_lines(ev)
    if lines:
        h.append("<ul>" + "".join(f"<li>{escape(x)}</li>" for x in lines) + "</ul>")
    h.append(t.to_html(index=False, escape=True))
    return h


def methods_table(ev) -> pd.DataFrame:
    rows = dict(ev.results)
    if ev.rtm is not None:
        rows["rtm"] = ev.rtm
    return pd.DataFrame([{"method": _name(k, ev), "effect": _fmt(r.att),
                          "interval": f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)} ({r.level:.0%})",
                          "p-value": _fmt(r.p_value), "pre-period fit (RMSPE)": _fmt(r.rmspe_pre)}
                         for k, r in rows.items()])


def render_html(evaluations: Mapping, title: str = "Partnership evaluation") -> str:
    h = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>",
         "<style>body{font-family:Arial,sans-serif;max-width:60em;margin:2em auto;color:#212b32}"
         "table{border-collapse:collapse}td,th{border:1px solid #d8dde0;padding:.3em .6em;text-align:left}"
         ".warn{color:#8a1538}</style></head><body>",
         f"<h1>{escape(title)}</h1><p>Prepared {date.today().isoformat()}. Each outcome is evaluated by several "
         "methods; where they agree the verdict says so, where they disagree it says that instead.</p>"]
    for ind, ev in evaluations.items():
        h.append(f"<h2>{escape(str(ind))}</h2>")
        h += [f"<p>{escape(p)}</p>" for p in board_summary(ev)]
        h.append(methods_table(ev).to_html(index=False, escape=True))
        h += _realised_vs_forecast_html(ev)
        h.append("<figure>" + inline_svg(effect_figure(ev)) + "<figcaption>Observed against what the methods expect "
                 "without the partnership, and the effect by period.</figcaption></figure>")
        f = spc_figure(ev)
        if f is not None:
            h.append("<figure>" + inline_svg(f) + "<figcaption>SPC chart with limits rebased at the start.</figcaption>"
                     "</figure>")
        if ev.warnings or ev.errors:
            h.append("<h3>Warnings</h3><ul class='warn'>")
            h += [f"<li>{escape(w)}</li>" for w in ev.warnings]
            h += [f"<li>{escape(m)} not run: {escape(e)}</li>" for m, e in ev.errors.items()]
            h.append("</ul>")
        h.append("<h3>Assumptions</h3><ul>")
        for k, r in ev.results.items():
            h += [f"<li>{escape(_name(k, ev))}: {escape(a)}</li>" for a in r.assumptions]
        h.append("</ul>")
    h.append("</body></html>")
    return "\n".join(h)


def _benefit_rows(ev) -> list[str]:
    t = realised_vs_forecast_table(ev)
    if t is None:
        return []
    return ["Realised against forecast by year:"] + ["; ".join(f"{k}: {v}" for k, v in r.items())
                                                     for r in t.to_dict("records")]


def write_report(evaluations: Mapping, out: str | Path, title: str = "Partnership evaluation") -> Path:
    """Write the report as HTML or PDF, chosen by the file's suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        out.write_text(render_html(evaluations, title), encoding="utf-8")
    elif suffix == ".pdf":
        with PdfPages(out) as pdf:
            for ind, ev in evaluations.items():
                t = methods_table(ev)
                lines = board_summary(ev) + ["Methods:"] + [
                    f"{r['method']}: {r['effect']} ({r['interval']}), p {r['p-value']}" for r in t.to_dict("records")
                ] + realised_vs_forecast_lines(ev) + _benefit_rows(ev) + ["Warnings:"] + list(ev.warnings)
                text_pages(pdf, f"{title}: {ind}", lines, paragraph_gap=0.008)
                pdf.savefig(effect_figure(ev))
                f = spc_figure(ev)
                if f is not None:
                    pdf.savefig(f)
    else:
        raise ValidationError(f"{out}: the report must be .html or .pdf")
    return out
