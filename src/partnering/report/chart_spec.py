"""One SPC chart specification for every face (issue #14.2): the web page's Plotly chart
(:func:`partnering.web.charts.spc_figure`), the PDF/HTML report's and the downloads' matplotlib chart
(:func:`partnering.report.spc_chart.spc_figure`) and the API all draw what :func:`chart_spec` says.

What it says, following NHS England's *Making Data Count* (MDC; "Making Data Count: Getting started", 2019, and
"Strengthening your decisions", 2019/2023; https://www.england.nhs.uk/publication/making-data-count/):

* **a marker on every point** (:data:`MARKERS`): MDC colours points grey for common cause, blue for special-cause
  improvement, orange for special-cause concern and purple for special cause that is neither (NHSRplotthedots 0.2.2
  ``ptd_spc_colours``: #7b7d7d, #289de0, #fab428, #361475).  Those light colours fall below 3:1 on white (WCAG 2.2
  SC 1.4.11), so the same hues are darkened (:mod:`partnering.report.icons`), and every kind also has its own
  **shape** and legend words, so meaning is never carried by colour alone (SC 1.4.1): circle common cause, square
  improvement, triangle concern, diamond neither.  The web, the report and the downloads use this one table.
* **the target or standard as a labelled dashed line** wherever an assurance icon is computed (the target SPC
  assures against), and the indicator's constitutional standard beside it where the catalogue has a different one
  (the 95% of A&E within 4 hours, while assurance is against the 78% operational standard);
* **limits a quantity cannot pass**: the engine's limits are the reference's, unclamped (docs/methods/spc.md), but
  a count, a percentage, a wait cannot be below 0 (nor a percentage above 100), so a lower limit below 0 is
  *shown* as 0 (an upper limit above 100% as 100) and the chart and its table say so (:func:`shown_limits`);
* **rebases** (a vertical line with "Rebased: <reason>") and **annotations** of months
  (:mod:`partnering.store.annotations`), and improvement-project events (PDSA cycles) where a page passes them;
* the title, the latest month of data and a **source line**, so a downloaded chart stands on its own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from partnering.indicators.catalogue import DEFAULT_CATALOGUE, format_value, indicator, load_catalogue
from partnering.report.icons import COMMON, CONCERN, IMPROVEMENT, NEUTRAL, TARGET

#: point type -> marker: legend words, colour, Plotly symbol, matplotlib marker.  One vocabulary everywhere.
MARKERS: dict[str, dict[str, str]] = {
    "common_cause": {"label": "Common cause", "colour": COMMON, "plotly": "circle", "mpl": "o"},
    "special_cause_improvement": {"label": "Special cause: improvement", "colour": IMPROVEMENT, "plotly": "square",
                                  "mpl": "s"},
    "special_cause_concern": {"label": "Special cause: concern", "colour": CONCERN, "plotly": "triangle-up",
                              "mpl": "^"},
    # high or low is read off the chart (above or below the mean), so both share one marker and one legend entry
    "special_cause_neutral_high": {"label": "Special cause: neither", "colour": NEUTRAL, "plotly": "diamond",
                                   "mpl": "D"},
    "special_cause_neutral_low": {"label": "Special cause: neither", "colour": NEUTRAL, "plotly": "diamond",
                                  "mpl": "D"},
}
#: the words a page uses to explain the shapes (the same table)
MARKER_WORDS = ("a circle for common cause, a square for special-cause improvement, a triangle for special-cause "
                "concern and a diamond for special cause that is neither")
LIMIT_COLOUR = "#5E6D78"  # process limits, 5.4:1 on white
MEAN_COLOUR = "#212B32"  # NHS black
REFERENCE_COLOUR = "#4C6272"  # a second (reference) standard, NHS dark grey
NOTE_COLOUR = "#330072"  # annotations and rebases, NHS purple
#: units whose values cannot be negative (the catalogue's units: counts, percentages, waits, rates)
NON_NEGATIVE_UNITS = frozenset({"count", "percent", "weeks", "days", "minutes", "hours", "rate", "ratio"})
UNIT_WORDS = {"count": "a count", "percent": "a percentage", "weeks": "a wait", "days": "a number of days",
              "minutes": "a time", "hours": "a time", "rate": "a rate", "ratio": "a ratio"}
Y_LABELS = {"percent": "Per cent", "count": "Count", "weeks": "Weeks", "minutes": "Minutes", "days": "Days"}


def _num(v):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _month(x) -> str:
    return pd.Timestamp(x).strftime("%Y-%m")


def _day(x) -> str:
    return pd.Timestamp(x).strftime("%Y-%m-%d")


def shown_limits(points: pd.DataFrame, unit: str) -> tuple[pd.DataFrame, list[str]]:
    """``points`` with ``lpl_shown``/``upl_shown`` (limits a quantity of ``unit`` can reach: a lower limit below 0
    shown as 0, an upper limit above 100% as 100) and the sentences that say so (empty when nothing was moved)."""
    out = points.copy()
    lpl = pd.to_numeric(out["lpl"], errors="coerce") if "lpl" in out else pd.Series(np.nan, index=out.index)
    upl = pd.to_numeric(out["upl"], errors="coerce") if "upl" in out else pd.Series(np.nan, index=out.index)
    notes = []
    if unit in NON_NEGATIVE_UNITS:
        low = lpl < 0
        if low.any():
            worst = float(lpl[low].min())
            notes.append(f"Lower process limit below zero ({format_value(worst, unit)}) shown as 0: "
                         f"{UNIT_WORDS.get(unit, 'the value')} cannot be negative.")
        lpl = lpl.where(~low, 0.0)
    if unit == "percent":
        high = upl > 100
        if high.any():
            notes.append(f"Upper process limit above 100% ({format_value(float(upl[high].max()), unit)}) shown as "
                         "100%: a percentage cannot exceed 100.")
        upl = upl.where(~high, 100.0)
    out["lpl_shown"], out["upl_shown"] = lpl, upl
    return out, notes


@lru_cache(maxsize=4)
def _source_names(path: str) -> dict[str, str]:
    """``[AE]`` -> its first line in the catalogue's "Sources" comment block."""
    out = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return out
    for m in re.finditer(r"^# \[(\w+)\]\s+(.+)$", text, flags=re.M):
        out[m.group(1)] = m.group(2).strip()
    return out


def source_line(indicator_code: str | None, data_date: str | None = None) -> str:
    """"Source: NHS England, "A&E Attendances ..." monthly statistics. Data to 2026-03." (the catalogue's source)."""
    d = indicator(indicator_code) if indicator_code else None
    src = ""
    if d is not None and d.source:
        names = _source_names(str(DEFAULT_CATALOGUE))
        src = re.sub(r"\[(\w+)\]", lambda m: names.get(m.group(1), m.group(0)), d.source).strip()
    elif d is not None and not d.official:
        src = "the organisation's own measure (uploaded)"
    parts = [f"Source: {src.rstrip('.')}." if src else "Source: values in the Partnering store."]
    if data_date:
        parts.append(f"Data to {data_date}.")
    return " ".join(parts)


def _targets(p: pd.DataFrame, unit: str, indicator_code: str | None, assurance) -> list[dict]:
    tv = p["target"].dropna().unique() if "target" in p.columns else []
    d = indicator(indicator_code, load_catalogue()) if indicator_code else None
    out = []
    if len(tv):
        value = float(tv[-1])
        what = "Target" if d is None or d.national_standard is None else _standard_word(d)
        out.append({"value": value, "role": "assurance", "colour": TARGET,
                    "label": f"{what} {format_value(value, unit)}" + (" (assurance)" if assurance else "")})
    if d is not None and d.constitutional_standard is not None and \
            not any(abs(t["value"] - d.constitutional_standard) < 1e-9 for t in out):
        out.append({"value": float(d.constitutional_standard), "role": "reference", "colour": REFERENCE_COLOUR,
                    "label": f"Constitutional standard {format_value(d.constitutional_standard, unit)}"})
    return out


def _standard_word(d) -> str:
    name = (d.standard_name or "").lower()
    for word in ("operational standard", "interim national ambition", "constitutional standard"):
        if name.startswith(word):
            return word.capitalize()
    return "Standard"


def chart_spec(points: pd.DataFrame, *, title: str, unit: str = "", indicator_code: str | None = None,
               icons: dict | None = None, notes: pd.DataFrame | None = None, events: list[dict] | None = None,
               data_date: str | None = None) -> dict:
    """The specification of one series' SPC chart (plain JSON-able values).

    ``points`` are one series' SPC points (``x, y, mean, lpl, upl``, optionally ``target, point_type,
    explanation, rebase_group``); ``icons`` its ``variation_icon``/``assurance_type``; ``notes`` the series' chart
    notes (:func:`partnering.store.annotations.notes_frame`); ``events`` improvement-project events
    (``{"x", "label", "x_end"}``).  Keys: ``title, unit, y_label, points, markers, segments, targets,
    limit_notes, rebases, annotations, events, icons, data_date, source, alt``.
    """
    p = points.sort_values("x").reset_index(drop=True)
    p, limit_notes = shown_limits(p, unit)
    ptype = p["point_type"].astype(str) if "point_type" in p else pd.Series("common_cause", index=p.index)
    expl = p["explanation"] if "explanation" in p else pd.Series("", index=p.index)
    pts = [{"x": _day(x), "y": _num(y), "type": t if t in MARKERS else "common_cause",
            "explanation": e if isinstance(e, str) else ""}
           for x, y, t, e in zip(p["x"], p["y"], ptype, expl)]
    groups = p["rebase_group"].to_numpy() if "rebase_group" in p else np.zeros(len(p), dtype=int)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if len(p) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(p)]
    segments = [{"x": [_day(x) for x in p["x"].iloc[a:b]], "mean": [_num(v) for v in p["mean"].iloc[a:b]],
                 "lpl": [_num(v) for v in p["lpl_shown"].iloc[a:b]], "upl": [_num(v) for v in p["upl_shown"].iloc[a:b]]}
                for a, b in zip(starts, ends)]
    notes = notes if notes is not None else pd.DataFrame(columns=["kind", "period", "text"])
    reasons = {r.period: r.text for r in notes[notes["kind"] == "rebase"].itertuples()} if not notes.empty else {}
    rebases = []
    for a in starts[1:]:
        month = _month(p["x"].iloc[a])
        rebases.append({"x": _day(p["x"].iloc[a]), "period": month,
                        "label": f"Rebased {month}" + (f": {reasons[month]}" if month in reasons else "")})
    y_at = {pt["x"][:7]: pt["y"] for pt in pts}
    annotations = [{"x": f"{r.period}-01", "period": r.period, "y": y_at.get(r.period), "text": r.text}
                   for r in notes[notes["kind"] == "annotation"].itertuples()] if not notes.empty else []
    assurance = (icons or {}).get("assurance_type")
    assurance = None if assurance is None or (isinstance(assurance, float) and np.isnan(assurance)) else assurance
    variation = (icons or {}).get("variation_icon")
    variation = None if variation is None or (isinstance(variation, float) and np.isnan(variation)) else variation
    if data_date is None:
        valued = [pt["x"][:7] for pt in pts if pt["y"] is not None]
        data_date = valued[-1] if valued else None
    spec = {
        "title": title, "unit": unit, "y_label": Y_LABELS.get(unit, unit or "Value"),
        "indicator": indicator_code, "points": pts,
        "markers": {k: v for k, v in MARKERS.items() if any(pt["type"] == k for pt in pts if pt["y"] is not None)},
        "segments": segments, "targets": _targets(p, unit, indicator_code, assurance),
        "limit_notes": limit_notes, "rebases": rebases, "annotations": annotations,
        "events": [dict(e) for e in events or []],
        "icons": {"variation_icon": variation, "assurance_type": assurance},
        "data_date": data_date, "source": source_line(indicator_code, data_date),
    }
    spec["alt"] = alt_text(spec)
    return spec


def alt_text(spec: dict) -> str:
    """The chart in words: points, latest mean and limits, targets, special-cause counts, rebases, notes."""
    pts = [pt for pt in spec["points"] if pt["y"] is not None]
    unit = spec["unit"]
    parts = [f"SPC chart of {spec['title']}: {len(pts)} monthly values"
             + (f" to {spec['data_date']}." if spec["data_date"] else ".")]
    if spec["segments"]:
        last = spec["segments"][-1]
        m, lo, hi = last["mean"][-1], last["lpl"][-1], last["upl"][-1]
        if m is not None:
            parts.append(f"Latest mean {format_value(m, unit)}, process limits {format_value(lo, unit)} to "
                         f"{format_value(hi, unit)}.")
    parts += [t["label"] + "." for t in spec["targets"]]
    counts: dict[str, int] = {}
    for pt in pts:
        counts[pt["type"]] = counts.get(pt["type"], 0) + 1
    special: dict[str, int] = {}
    for k, n in counts.items():
        if k != "common_cause":
            special[MARKERS[k]["label"]] = special.get(MARKERS[k]["label"], 0) + n
    parts.append("Special-cause points: " + ", ".join(f"{n} {k.split(': ', 1)[1]}" for k, n in special.items()) + "."
                 if special else "All points show common-cause variation.")
    parts += [r["label"] + "." for r in spec["rebases"]]
    parts += [f"Note {a['period']}: {a['text']}." for a in spec["annotations"]]
    parts += spec["limit_notes"]
    return " ".join(parts)
