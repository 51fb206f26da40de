"""Integrated performance report for one organisation: flags, the summary icon table and SPC charts.

Every report states, per family of data, the latest month loaded, and where a family is stale (issue #9.4,
:mod:`partnering.measure.freshness`) says so beside the segment and flags and marks its months "(stale)".

HTML: one self-contained file (inline SVG charts and icons, no external requests), readable without
JavaScript, with a data table under every chart.  PDF: the same content drawn with matplotlib
(a summary page, then two charts a page), so no browser or system library is needed.
"""

from __future__ import annotations

import textwrap
from datetime import date
from html import escape
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from partnering.errors import ValidationError
from partnering.measure.assess import Assessment
from partnering.report.icons import assurance_title, icon_svg, variation_title
from partnering.report.pages import inline_svg
from partnering.report.spc_chart import spc_figure

OGL = ("Contains public sector information licensed under the Open Government Licence v3.0 (NHS England). "
       "Organisations marked (synthetic) are invented demonstration data, not real NHS organisations.")


def _fmt(v, unit: str) -> str:
    if v is None or pd.isna(v):
        return ""
    if unit == "percent":
        return f"{v:.1f}%"
    if unit == "weeks":
        return f"{v:.1f}"
    return f"{v:,.0f}"


def _assurance(a) -> str | None:
    return None if a is None or (isinstance(a, float) and pd.isna(a)) or a == "" else str(a)


def _rows(a: Assessment, org: str) -> tuple[dict, pd.DataFrame]:
    part = a.org(org)
    icons = part["icons"].copy()
    order = {c: i for i, c in enumerate(a.metrics)}
    icons["_key"] = icons["indicator"].map(lambda c: order.get(c, 99))
    icons = icons.sort_values(["_key", "indicator"]).drop(columns="_key")
    return part["flags"], icons


def freshness_lines(a: Assessment) -> list[str]:
    """One line per family of data: its latest month loaded, and "stale" in words where it stopped well before the
    others (:mod:`partnering.measure.freshness`)."""
    fr = getattr(a, "freshness", None)
    if fr is None or fr.empty:
        return []
    newest = fr["latest_period"].max()
    return [f"{r.family_name}: latest month {r.latest_period}"
            + (f" — STALE, {int(r.months_behind)} months behind {newest}" if r.stale else "")
            for r in fr.sort_values("family_name").itertuples()]


def _stale_months(a: Assessment) -> dict[str, str]:
    """indicator code -> the last month of its family, for indicators whose family is stale."""
    fr = getattr(a, "freshness", None)
    if fr is None or fr.empty:
        return {}
    from partnering.measure.freshness import family_of

    last = {r.family: r.latest_period for r in fr[fr["stale"].astype(bool)].itertuples()}
    return {c: last[family_of(c)] for c in a.metrics + list(a.icons["indicator"].unique()) if family_of(c) in last}


def _month_cell(r, stale: dict[str, str]) -> str:
    return f"{r.latest_period} (stale)" if r.indicator in stale else str(r.latest_period)


def _series_points(a: Assessment, org: str, ind: str) -> pd.DataFrame:
    return a.points[a.points["series"] == f"{org}|{ind}"]


def render_html(a: Assessment, org: str) -> str:
    flags, icons = _rows(a, org)
    name = flags["org_name"]
    h = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Integrated performance report: {escape(name)}</title>",
        "<style>body{font-family:Arial,sans-serif;color:#212b32;max-width:1000px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}th,td{border-bottom:1px solid #d8dde0;padding:4px 8px;"
        "text-align:left;vertical-align:middle}caption{text-align:left;font-weight:bold;padding:4px 0}"
        ".flag{border-left:6px solid #005eb8;padding:4px 12px;margin:1em 0}.bad{border-color:#b34700}"
        "details{margin:0.5em 0 2em}svg{max-width:100%;height:auto}</style></head><body>",
        f"<h1>Integrated performance report: {escape(name)} ({escape(org)})</h1>",
        f"<p>{escape(flags['summary'])} Produced {date.today().isoformat()} by Partnering.</p>",
    ]
    lines = freshness_lines(a)
    note = str(flags.get("data_note") or "")
    stale = _stale_months(a)
    if lines:
        h.append("<h2>Data freshness</h2><ul class='freshness'>"
                 + "".join(f"<li>{escape(t)}</li>" for t in lines) + "</ul>")
    note_html = f"<p class='data-note'><strong>{escape(note)}</strong></p>" if note else ""
    if flags.get("persistent_difficulty"):
        h.append(f"<div class='flag bad'><h2>Persistent difficulty</h2><p>{escape(flags['difficulty_reason'])}</p>"
                 + note_html)
        if flags.get("good_practice"):
            h.append(f"<h3>Good practice to protect</h3><p>{escape(flags['good_practice'])}</p>")
        h.append("</div>")
    if flags.get("track_record"):
        h.append(f"<div class='flag'><h2>Track record of high performance</h2>"
                 f"<p>{escape(flags['track_record_reason'])}</p>{note_html}</div>")
    if note and not (flags.get("persistent_difficulty") or flags.get("track_record")):
        h.append(f"<div class='flag'><h2>Segment</h2>{note_html}</div>")
    h.append("<table><caption>Summary icon table (latest month; Making Data Count)</caption><thead><tr>"
             "<th scope='col'>Indicator</th><th scope='col'>Month</th><th scope='col'>Latest</th>"
             "<th scope='col'>Mean</th><th scope='col'>Lower limit</th><th scope='col'>Upper limit</th>"
             "<th scope='col'>Target</th><th scope='col'>Variation</th><th scope='col'>Assurance</th>"
             "</tr></thead><tbody>")
    for r in icons.itertuples():
        ass = _assurance(r.assurance_type)
        icon = icon_svg(r.variation_icon, ass, size=36) if r.variation_icon in _KNOWN else ""
        words = variation_title(r.variation_icon) if r.variation_icon in _KNOWN else r.variation_icon
        h.append(
            f"<tr><th scope='row'>{escape(r.indicator_name)}</th><td>{escape(_month_cell(r, stale))}</td>"
            f"<td>{_fmt(r.latest_value, r.unit)}</td><td>{_fmt(r.mean, r.unit)}</td><td>{_fmt(r.lpl, r.unit)}</td>"
            f"<td>{_fmt(r.upl, r.unit)}</td><td>{_fmt(r.target, r.unit)}</td>"
            f"<td>{icon}<span>{escape(words)}</span></td><td>{escape(assurance_title(ass) or 'No target')}</td></tr>")
    h.append("</tbody></table><h2>Statistical process control charts</h2>")
    for r in icons.itertuples():
        pts = _series_points(a, org, r.indicator)
        if pts.empty:
            continue
        fig = spc_figure(pts, icons=_icon_frame(r), title=r.indicator_name, y_label=_unit_label(r.unit))
        svg = inline_svg(fig)
        alt = getattr(fig, "alt_text", r.indicator_name)
        h.append(f"<h3>{escape(r.indicator_name)}</h3><figure role='img' aria-label='{escape(alt)}'>{svg}"
                 f"<figcaption>{escape(alt)}</figcaption></figure>")
        h.append(_points_table(pts, r))
    h.append(f"<footer><p>{escape(OGL)}</p></footer></body></html>")
    return "".join(h)


_KNOWN = {"common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low", "neutral_high",
          "neutral_low"}


def _icon_frame(r) -> pd.DataFrame:
    return pd.DataFrame({"series": [f"{r.org_code}|{r.indicator}"], "variation_icon": [r.variation_icon],
                         "assurance_type": [_assurance(r.assurance_type)]})


def _unit_label(unit: str) -> str:
    return {"percent": "Per cent", "count": "Count", "weeks": "Weeks"}.get(unit, unit)


def _points_table(pts: pd.DataFrame, r) -> str:
    rows = ["<details><summary>Data behind this chart</summary><table><caption>"
            f"{escape(r.indicator_name)}: monthly values and SPC status</caption><thead><tr>"
            "<th scope='col'>Month</th><th scope='col'>Value</th><th scope='col'>Mean</th>"
            "<th scope='col'>Lower limit</th><th scope='col'>Upper limit</th><th scope='col'>Point</th>"
            "</tr></thead><tbody>"]
    for p in pts.itertuples():
        month = pd.Timestamp(p.x).strftime("%Y-%m")
        rows.append(f"<tr><td>{month}</td><td>{_fmt(p.y, r.unit)}</td><td>{_fmt(p.mean, r.unit)}</td>"
                    f"<td>{_fmt(p.lpl, r.unit)}</td><td>{_fmt(p.upl, r.unit)}</td>"
                    f"<td>{escape(str(p.point_type).replace('_', ' '))}</td></tr>")
    rows.append("</tbody></table></details>")
    return "".join(rows)


def summary_texts(a: Assessment, flags: dict) -> list[str]:
    """The PDF's summary page paragraphs: the summary, the freshness per family, then each flag with the stale
    note beside it."""
    texts = [flags["summary"]]
    lines = freshness_lines(a)
    if lines:
        texts.append("Data freshness (latest month loaded per family): " + "; ".join(lines) + ".")
    note = str(flags.get("data_note") or "")
    if flags.get("persistent_difficulty"):
        texts.append("Persistent difficulty: " + flags["difficulty_reason"] + (f" {note}" if note else ""))
        if flags.get("good_practice"):
            texts.append("Good practice to protect: " + flags["good_practice"])
    if flags.get("track_record"):
        texts.append("Track record: " + flags["track_record_reason"] + (f" {note}" if note else ""))
    return texts


def write_pdf(a: Assessment, org: str, out: Path) -> None:
    flags, icons = _rows(a, org)
    tmp = out.with_name(out.name + ".partial")
    with PdfPages(tmp, metadata={"Title": f"Integrated performance report: {flags['org_name']}",
                                 "Creator": "Partnering"}) as pdf:
        fig = Figure(figsize=(11.69, 8.27))
        y = 0.95
        fig.text(0.04, y, f"Integrated performance report: {flags['org_name']} ({org})", fontsize=15,
                 fontweight="bold")
        y -= 0.05
        texts = summary_texts(a, flags)
        stale = _stale_months(a)
        for t in texts:
            wrapped = textwrap.fill(t, 150)
            fig.text(0.04, y, wrapped, fontsize=8.5, va="top")
            y -= 0.025 * (wrapped.count("\n") + 1) + 0.01
        cells = [[r.indicator_name[:60], _month_cell(r, stale), _fmt(r.latest_value, r.unit), _fmt(r.mean, r.unit),
                  _fmt(r.lpl, r.unit), _fmt(r.upl, r.unit), _fmt(r.target, r.unit),
                  r.variation_icon.replace("_", " "), (_assurance(r.assurance_type) or "no target").replace("_", " ")]
                 for r in icons.itertuples()]
        ax = fig.add_axes([0.04, 0.06, 0.92, max(0.1, y - 0.08)])
        ax.set_axis_off()
        table = ax.table(cellText=cells, colLabels=["Indicator", "Month", "Latest", "Mean", "Lower limit",
                                                   "Upper limit", "Target", "Variation", "Assurance"],
                         loc="upper left", colWidths=[0.31, 0.10, 0.07, 0.07, 0.08, 0.08, 0.06, 0.12, 0.11])
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        fig.text(0.04, 0.02, OGL, fontsize=6)
        pdf.savefig(fig)
        for r in icons.itertuples():
            pts = _series_points(a, org, r.indicator)
            if pts.empty:
                continue
            fig = spc_figure(pts, icons=_icon_frame(r), title=r.indicator_name, y_label=_unit_label(r.unit),
                             width=11.69, height=8.27 * 0.8)
            pdf.savefig(fig)
    tmp.replace(out)


def write_report(a: Assessment, org: str, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".html":
        tmp = out.with_name(out.name + ".partial")
        tmp.write_text(render_html(a, org), encoding="utf-8")
        tmp.replace(out)
    elif out.suffix.lower() == ".pdf":
        write_pdf(a, org, out)
    else:
        raise ValidationError("the report is written as .html or .pdf")
    return out
