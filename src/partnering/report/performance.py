"""Integrated performance report — the board pack — for one organisation: flags with their reasons, the summary icon
table with the Making Data Count icons, SPC charts (with the analysts' annotations and rebases), peers and candidate
partners, and the latest month of each family of data.

Every report states, per family of data, the latest month loaded, and where a family is stale (issue #9.4,
:mod:`partnering.measure.freshness`) says so beside the segment and flags and marks its months "(stale)".
Indicator and organisation names are printed in full (wrapped, never cut), organisations in the NHS's title case
(:func:`partnering.store.names.display_name`, applied when the store is read).

HTML: one self-contained file (inline SVG charts and icons, no external requests), readable without
JavaScript, with a data table under every chart.  PDF: the same content drawn with matplotlib (A4 landscape: a
summary page, the icon table with the icons drawn, peers and partners, then one chart a page), so no browser or
system library is needed.  Charts are drawn from the shared chart specification
(:func:`partnering.report.chart_spec.chart_spec`) as on the web pages.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from partnering.errors import ValidationError
from partnering.measure.assess import Assessment
from partnering.report.chart_spec import chart_spec, shown_limits
from partnering.report.icons import assurance_title, draw_icon, icon_parts, icon_svg, variation_title
from partnering.report.pages import inline_svg
from partnering.report.spc_chart import draw_spec

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


@dataclass
class PackExtras:
    """What a board pack adds to the assessment: the organisation's chart notes (annotations and rebases,
    :func:`partnering.store.annotations.notes_frame`), its peers and its candidate partners (the frames
    :mod:`partnering.match.service` returns), and why there are none where there can be none."""

    notes: pd.DataFrame | None = None
    peers: pd.DataFrame | None = None
    partners: pd.DataFrame | None = None
    partners_reason: str = ""


def _notes_of(extras: PackExtras | None, ind: str) -> pd.DataFrame | None:
    n = extras.notes if extras is not None else None
    if n is None or n.empty:
        return None
    return n[n["indicator"] == ind]


def _spec(a: Assessment, org: str, r, extras: PackExtras | None) -> dict | None:
    pts = _series_points(a, org, r.indicator)
    if pts.empty:
        return None
    return chart_spec(pts, title=r.indicator_name, unit=r.unit, indicator_code=r.indicator,
                      icons={"variation_icon": r.variation_icon, "assurance_type": _assurance(r.assurance_type)},
                      notes=_notes_of(extras, r.indicator), data_date=str(r.latest_period))


def _limit_cells(r) -> tuple[str, str, str]:
    """Lower and upper limit as shown (a quantity that cannot be negative: 0, and a mark), and the note."""
    shown, notes = shown_limits(pd.DataFrame({"lpl": [r.lpl], "upl": [r.upl]}), r.unit)
    lo, hi = _fmt(shown["lpl_shown"].iloc[0], r.unit), _fmt(shown["upl_shown"].iloc[0], r.unit)
    moved_lo = pd.notna(r.lpl) and shown["lpl_shown"].iloc[0] != r.lpl
    moved_hi = pd.notna(r.upl) and shown["upl_shown"].iloc[0] != r.upl
    return lo + ("*" if moved_lo else ""), hi + ("*" if moved_hi else ""), " ".join(notes)


LIMIT_FOOTNOTE = ("* A process limit beyond what the quantity can take (below 0, or above 100%) is shown at 0 (or "
                  "100%): the limits are computed as Making Data Count computes them, unclamped.")


def _named_rows(df: pd.DataFrame | None, code_cols: tuple[str, ...]) -> list[dict]:
    return [] if df is None or df.empty else df.to_dict("records")


def _peer_cells(p: dict) -> list[str]:
    name = p.get("peer_code_name") or p.get("peer_name") or p.get("peer_code") or ""
    rank = p.get("rank")
    return [f"{name} ({p.get('peer_code', '')})", "" if rank is None or pd.isna(rank) else f"{int(rank)}",
            _num(p.get("similarity"), 2), str(p.get("reason") or p.get("explanation") or "")]


def _partner_cells(p: dict) -> list[str]:
    code = p.get("supporter") or p.get("partner_code") or p.get("candidate_code") or ""
    name = p.get("supporter_name") or p.get("partner_code_name") or p.get("candidate_code_name") or code
    rank = p.get("rank")
    kind = str(p.get("supporter_kind_label") or p.get("supporter_kind") or "").replace("_", " ")
    return [f"{name} ({code})", "" if rank is None or pd.isna(rank) else f"{int(rank)}", kind.capitalize(),
            _num(p.get("score"), 1), _num(p.get("travel_minutes"), 0), str(p.get("reason") or "")]


def _num(v, digits: int) -> str:
    try:
        return "" if v is None or pd.isna(v) else f"{float(v):,.{digits}f}"
    except (TypeError, ValueError):
        return str(v)


PEER_HEADINGS = ["Peer", "Rank", "Similarity", "Why"]
PARTNER_HEADINGS = ["Candidate", "Rank", "Kind", "Suitability", "Travel (minutes)", "Why they could help"]


def render_html(a: Assessment, org: str, extras: PackExtras | None = None) -> str:
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
    moved = False
    for r in icons.itertuples():
        ass = _assurance(r.assurance_type)
        icon = icon_svg(r.variation_icon, ass, size=36) if r.variation_icon in _KNOWN else ""
        words = variation_title(r.variation_icon) if r.variation_icon in _KNOWN else r.variation_icon
        lo, hi, why = _limit_cells(r)
        moved = moved or bool(why)
        h.append(
            f"<tr><th scope='row'>{escape(r.indicator_name)}</th><td>{escape(_month_cell(r, stale))}</td>"
            f"<td>{_fmt(r.latest_value, r.unit)}</td><td>{_fmt(r.mean, r.unit)}</td><td>{lo}</td>"
            f"<td>{hi}</td><td>{_fmt(r.target, r.unit)}</td>"
            f"<td>{icon}<span>{escape(words)}</span></td><td>{escape(assurance_title(ass) or 'No target')}</td></tr>")
    h.append("</tbody></table>")
    if moved:
        h.append(f"<p>{escape(LIMIT_FOOTNOTE)}</p>")
    h.append("<h2>Statistical process control charts</h2>")
    for r in icons.itertuples():
        spec = _spec(a, org, r, extras)
        if spec is None:
            continue
        fig = draw_spec(spec)
        svg = inline_svg(fig)
        alt = getattr(fig, "alt_text", r.indicator_name)
        h.append(f"<h3>{escape(r.indicator_name)}</h3><figure role='img' aria-label='{escape(alt)}'>{svg}"
                 f"<figcaption>{escape(alt)}</figcaption></figure>")
        h.append(_points_table(_series_points(a, org, r.indicator), r))
    if extras is not None:
        h.append(_html_table("Similar organisations (peers)", PEER_HEADINGS,
                             [_peer_cells(p) for p in _named_rows(extras.peers, ())],
                             "No peers: this organisation has no context data to compare."))
        h.append(_html_table("Candidate partners", PARTNER_HEADINGS,
                             [_partner_cells(p) for p in _named_rows(extras.partners, ())],
                             "No candidate partners"
                             f"{': ' + extras.partners_reason if extras.partners_reason else ''}."))
    h.append(f"<footer><p>{escape(OGL)}</p></footer></body></html>")
    return "".join(h)


def _html_table(title: str, headings: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<h2>{escape(title)}</h2><p>{escape(empty)}</p>"
    head = "".join(f"<th scope='col'>{escape(x)}</th>" for x in headings)
    body = "".join("<tr><th scope='row'>" + escape(c[0]) + "</th>" + "".join(f"<td>{escape(x)}</td>" for x in c[1:])
                   + "</tr>" for c in rows)
    return f"<h2>{escape(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_KNOWN = {"common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low", "neutral_high",
          "neutral_low"}


def _unit_label(unit: str) -> str:
    return {"percent": "Per cent", "count": "Count", "weeks": "Weeks"}.get(unit, unit)


def _points_table(pts: pd.DataFrame, r) -> str:
    shown, notes = shown_limits(pts, r.unit)
    rows = ["<details><summary>Data behind this chart</summary><table><caption>"
            f"{escape(r.indicator_name)}: monthly values and SPC status</caption><thead><tr>"
            "<th scope='col'>Month</th><th scope='col'>Value</th><th scope='col'>Mean</th>"
            "<th scope='col'>Lower limit</th><th scope='col'>Upper limit</th><th scope='col'>Point</th>"
            "</tr></thead><tbody>"]
    for p in shown.itertuples():
        month = pd.Timestamp(p.x).strftime("%Y-%m")
        rows.append(f"<tr><td>{month}</td><td>{_fmt(p.y, r.unit)}</td><td>{_fmt(p.mean, r.unit)}</td>"
                    f"<td>{_fmt(p.lpl_shown, r.unit)}</td><td>{_fmt(p.upl_shown, r.unit)}</td>"
                    f"<td>{escape(str(p.point_type).replace('_', ' '))}</td></tr>")
    rows.append("</tbody></table>" + "".join(f"<p>{escape(n)}</p>" for n in notes) + "</details>")
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


A4_LANDSCAPE = (11.69, 8.27)  # inches


class _Pages:
    """A4 landscape pages with wrapped text and tables whose rows grow to fit their text (nothing is cut)."""

    LINE = 0.0205  # one line of 8-point text, as a fraction of the page height

    def __init__(self, pdf: PdfPages, footer: str):
        self.pdf, self.footer = pdf, footer
        self.fig: Figure | None = None
        self.y = 0.0

    def new(self) -> None:
        self.flush()
        self.fig = Figure(figsize=A4_LANDSCAPE)
        self.fig.text(0.04, 0.02, self.footer, fontsize=6, color="#4c6272")
        self.y = 0.95

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def room(self, need: float) -> None:
        if self.fig is None or self.y - need < 0.06:
            self.new()

    def heading(self, text: str, size: float = 13) -> None:
        self.room(0.08)
        self.fig.text(0.04, self.y, text, fontsize=size, fontweight="bold", va="top", color="#212b32")
        self.y -= 0.045 if size >= 13 else 0.035

    def paragraph(self, text: str, width: int = 165, size: float = 8.5) -> None:
        for part in textwrap.wrap(text, width) or [""]:
            self.room(self.LINE)
            self.fig.text(0.04, self.y, part, fontsize=size, va="top")
            self.y -= self.LINE
        self.y -= 0.008

    def table(self, headings: list[str], rows: list[list], widths: list[float], *, icons: dict[int, list] | None
              = None, icon_cols: tuple[int, ...] = ()) -> None:
        """Rows of text cells (wrapped to their column) and, for ``icon_cols``, cells of icons: a list of
        (kind, colour, letter, title) drawn as the app draws them, followed by the words."""
        x0 = 0.04
        xs = [x0 + sum(widths[:i]) for i in range(len(widths))]
        chars = [max(6, int(w * 185)) for w in widths]  # ~185 characters of 7.5-point text across the page

        def head():
            self.room(0.05)
            for x, t in zip(xs, headings):
                self.fig.text(x, self.y, t, fontsize=7.5, fontweight="bold", va="top")
            self.y -= self.LINE * 1.3
            self.fig.add_artist(Line2D([x0, x0 + sum(widths)], [self.y + 0.004] * 2, color="#212b32", lw=0.8))

        head()
        for i, cells in enumerate(rows):
            wrapped = [textwrap.wrap(str(c), chars[j]) or [""] for j, c in enumerate(cells)]
            lines = max(len(w) for w in wrapped)
            icon_here = icons and i in icons
            height = max(lines * self.LINE * 0.9, 0.048 if icon_here else 0) + 0.008
            if self.fig is None or self.y - height < 0.06:
                self.new()
                head()
            for j, (x, w) in enumerate(zip(xs, wrapped)):
                if j in icon_cols and icon_here:
                    parts = icons[i][icon_cols.index(j)]
                    for k, part in enumerate(parts):
                        ax = self.fig.add_axes([x + k * 0.034, self.y - 0.044, 0.03, 0.042])
                        draw_icon(ax, *part)
                    self.fig.text(x + 0.034 * max(1, len(parts)) + 0.003, self.y - 0.004, "\n".join(w), fontsize=7,
                                  va="top")
                    continue
                self.fig.text(x, self.y - 0.004, "\n".join(w), fontsize=7.5, va="top",
                              fontweight="bold" if j == 0 else None)
            self.y -= height
            self.fig.add_artist(Line2D([x0, x0 + sum(widths)], [self.y + 0.003] * 2, color="#d8dde0", lw=0.5))
        self.y -= 0.02


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def write_pdf(a: Assessment, org: str, out: Path, extras: PackExtras | None = None) -> None:
    flags, icons = _rows(a, org)
    title = f"Integrated performance report: {flags['org_name']} ({org})"
    tmp = out.with_name(out.name + ".partial")
    with PdfPages(tmp, metadata={"Title": title, "Creator": "Partnering"}) as pdf:
        pages = _Pages(pdf, OGL)
        pages.new()
        pages.heading(title, 15)
        pages.paragraph(f"Produced {date.today().isoformat()} by Partnering.")
        for t in summary_texts(a, flags):
            pages.paragraph(t)
        stale = _stale_months(a)
        pages.heading("Summary icon table (latest month; Making Data Count)", 12)
        rows, drawn, moved = [], {}, False
        for i, r in enumerate(icons.itertuples()):
            ass = _assurance(r.assurance_type)
            lo, hi, why = _limit_cells(r)
            moved = moved or bool(why)
            known = r.variation_icon in _KNOWN
            parts = icon_parts(r.variation_icon, ass) if known else []
            drawn[i] = [parts[:1], parts[1:]]
            rows.append([r.indicator_name, _month_cell(r, stale), _fmt(r.latest_value, r.unit),
                         _fmt(r.mean, r.unit), lo, hi, _fmt(r.target, r.unit),
                         _sentence(variation_title(r.variation_icon).split(": ", 1)[-1]) if known
                         else str(r.variation_icon),
                         _sentence((assurance_title(ass) or "Assurance: no target").split(": ", 1)[-1])])
        pages.table(["Indicator", "Month", "Latest", "Mean", "Lower limit", "Upper limit", "Target", "Variation",
                     "Assurance"], rows, [0.25, 0.085, 0.06, 0.06, 0.065, 0.065, 0.05, 0.145, 0.145],
                    icons=drawn, icon_cols=(7, 8))
        if moved:
            pages.paragraph(LIMIT_FOOTNOTE, size=7.5)
        if extras is not None:
            pages.heading("Similar organisations (peers)", 12)
            peer_rows = [_peer_cells(p) for p in _named_rows(extras.peers, ())]
            if peer_rows:
                pages.table(PEER_HEADINGS, peer_rows, [0.32, 0.05, 0.08, 0.47])
            else:
                pages.paragraph("No peers: this organisation has no context data to compare.")
            pages.heading("Candidate partners", 12)
            partner_rows = [_partner_cells(p) for p in _named_rows(extras.partners, ())]
            if partner_rows:
                pages.table(PARTNER_HEADINGS, partner_rows, [0.26, 0.04, 0.09, 0.07, 0.1, 0.36])
            else:
                pages.paragraph("No candidate partners" + (f": {extras.partners_reason}." if extras.partners_reason
                                                           else "."))
        pages.flush()
        for r in icons.itertuples():
            spec = _spec(a, org, r, extras)
            if spec is None:
                continue
            pdf.savefig(draw_spec(spec, width=A4_LANDSCAPE[0], height=A4_LANDSCAPE[1] * 0.8))
    tmp.replace(out)


def write_report(a: Assessment, org: str, out: str | Path, extras: PackExtras | None = None) -> Path:
    """The report of ``org`` as ``.html`` or ``.pdf``; with ``extras`` (notes, peers, partners) the board pack."""
    out = Path(out)
    a.org(org)  # an organisation not assessed is refused before anything is written
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".html":
        tmp = out.with_name(out.name + ".partial")
        tmp.write_text(render_html(a, org, extras), encoding="utf-8")
        tmp.replace(out)
    elif out.suffix.lower() == ".pdf":
        write_pdf(a, org, out, extras)
    else:
        raise ValidationError("the report is written as .html or .pdf")
    return out


def pack_extras(engine, a: Assessment, org: str) -> PackExtras:
    """Notes, peers and candidate partners of ``org`` read from the store (the command line's board pack; the web
    passes its cached ones)."""
    from partnering.errors import NotFoundError
    from partnering.match import service
    from partnering.store.annotations import notes_frame

    try:
        peers = service.peers_for(engine, org, assessment=a).rename(columns={"explanation": "reason"})
    except (NotFoundError, ValidationError):
        peers = None
    reason = ""
    try:
        partners = service.partner_candidates(engine, org, assessment=a)
    except (NotFoundError, ValidationError) as exc:  # e.g. no catchment context to match on: the pack says why
        partners, reason = None, exc.user_message()
    names = dict(zip(a.flags["org_code"], a.flags["org_name"]))
    if peers is not None and not peers.empty and "peer_code_name" not in peers.columns:
        peers = peers.assign(peer_code_name=peers["peer_code"].map(names))
    return PackExtras(notes_frame(engine, [org]), peers, partners, reason)
