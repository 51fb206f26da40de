"""Interactive SPC charts: a Plotly figure as JSON, drawn in the browser by the plotly.js the plotly package ships.

The figure is drawn from the one chart specification the report and the downloads draw too
(:func:`partnering.report.chart_spec.chart_spec`): a marker on every point in the shared Making Data Count
vocabulary (:data:`~partnering.report.chart_spec.MARKERS`: colour *and* shape — circle common cause, square
improvement, triangle concern, diamond neither), the target and standards as labelled dashed lines, limits a
quantity cannot reach shown at 0 (or 100%) with the note under the chart, rebases with their reasons and the
analysts' annotations.  The hover text says which rule fired (the SPC ``explanation`` column).  Every chart has a
data table under it, so nothing depends on JavaScript.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from partnering.report.chart_spec import LIMIT_COLOUR, MARKERS, MEAN_COLOUR, NOTE_COLOUR, chart_spec

#: point type -> (Plotly symbol, colour, legend words): the shared vocabulary
POINT_STYLE = {k: (v["plotly"], v["colour"], v["label"]) for k, v in MARKERS.items()}


def _clean(v):
    if isinstance(v, (float, np.floating)) and not np.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _list(s: pd.Series) -> list:
    return [_clean(v) for v in s.tolist()]


def spc_figure(points: pd.DataFrame, title: str, unit: str = "", annotations: list[dict] | None = None, *,
               indicator_code: str | None = None, icons: dict | None = None,
               notes: pd.DataFrame | None = None) -> dict:
    """Plotly figure (as a dict) for one series' SPC points (columns x, y, mean, lpl, upl, target, point_type ...).

    ``indicator_code`` names the catalogue entry (its standards and source); ``icons`` the series'
    ``variation_icon``/``assurance_type``; ``notes`` its stored annotations and rebases
    (:func:`partnering.store.annotations.notes_frame`).  ``annotations`` (optional) marks events on the time axis —
    PDSA cycles of an improvement project (:func:`partnering.improve.cycle_annotations`): each
    ``{"x": "2025-04", "label": "PDSA 1: ...", "x_end": ...}`` becomes a vertical dotted line with its label at the
    top (and a light band to ``x_end`` where given), so a team sees whether points after a change are special cause
    (signal) or common cause (noise).  ``fig["spec"]`` is not set: the figure carries only what Plotly reads.
    """
    return figure_from_spec(chart_spec(points, title=title, unit=unit, indicator_code=indicator_code, icons=icons,
                                       notes=notes, events=annotations))


def figure_from_spec(spec: dict) -> dict:
    """The Plotly figure of a chart specification."""
    unit = spec["unit"]
    traces = []
    for k, seg in enumerate(spec["segments"]):
        for col, name, dash, colour in (("upl", "Upper process limit", "dash", LIMIT_COLOUR),
                                        ("mean", "Mean", "solid", MEAN_COLOUR),
                                        ("lpl", "Lower process limit", "dash", LIMIT_COLOUR)):
            traces.append({"type": "scatter", "mode": "lines", "name": name, "x": seg["x"], "y": seg[col],
                           "line": {"dash": dash, "color": colour, "width": 1.5}, "hoverinfo": "skip",
                           "legendgroup": col, "showlegend": k == 0})
    xs = [pt["x"] for pt in spec["points"]]
    for t in spec["targets"]:
        traces.append({"type": "scatter", "mode": "lines", "name": t["label"], "x": [xs[0], xs[-1]] if xs else [],
                       "y": [t["value"], t["value"]], "hoverinfo": "skip",
                       "line": {"dash": "dash" if t["role"] == "assurance" else "dot", "color": t["colour"],
                                "width": 1.5}})
    traces.append({"type": "scatter", "mode": "lines", "name": "Value", "x": xs,
                   "y": [pt["y"] for pt in spec["points"]],
                   "line": {"color": "#aeb7bd", "width": 1}, "hoverinfo": "skip", "showlegend": False})
    shown = set()
    for kind, m in MARKERS.items():
        sub = [pt for pt in spec["points"] if pt["type"] == kind and pt["y"] is not None]
        if not sub:
            continue
        first, _ = m["label"] not in shown, shown.add(m["label"])
        text = [f"{pd.Timestamp(pt['x']):%b %Y}: {_fmt(pt['y'], unit)}<br>{m['label']}"
                + (f"<br>{pt['explanation']}" if pt["explanation"] else "") for pt in sub]
        traces.append({"type": "scatter", "mode": "markers", "name": m["label"], "legendgroup": m["label"],
                       "x": [pt["x"] for pt in sub], "y": [pt["y"] for pt in sub],
                       "marker": {"symbol": m["plotly"], "color": m["colour"],
                                  "size": 8 if kind == "common_cause" else 11,
                                  "line": {"color": "#ffffff", "width": 1}},
                       "text": text, "hoverinfo": "text", "showlegend": first})
    layout = {"title": {"text": spec["title"], "font": {"size": 16}}, "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
              "font": {"family": "Arial, sans-serif", "color": "#212b32"}, "paper_bgcolor": "#ffffff",
              "plot_bgcolor": "#ffffff", "hovermode": "closest",
              "legend": {"orientation": "h", "y": -0.2},
              "yaxis": {"title": {"text": spec["y_label"]}, "gridcolor": "#e8edee", "zeroline": False},
              "xaxis": {"gridcolor": "#e8edee"}}
    shapes, labels = [], []
    for t in spec["targets"]:
        labels.append({"x": 1, "xref": "paper", "y": t["value"], "yref": "y", "xanchor": "right",
                       "yanchor": "bottom", "showarrow": False, "text": t["label"],
                       "font": {"size": 11, "color": t["colour"]}})
    marks = [{"x": r["period"], "label": r["label"]} for r in spec["rebases"]] + list(spec["events"])
    if marks:
        s2, l2 = _event_marks(marks)
        shapes += s2
        labels += l2
        layout["margin"]["t"] = 90
    for j, a in enumerate(spec["annotations"]):  # below its point, boxed so it reads over the lines
        labels.append({"x": a["x"], "y": a["y"] if a["y"] is not None else 0, "xref": "x", "yref": "y",
                       "text": a["text"][:60], "showarrow": True, "arrowhead": 0, "ay": 40 + 22 * (j % 2), "ax": 0,
                       "font": {"size": 11, "color": NOTE_COLOUR}, "arrowcolor": NOTE_COLOUR,
                       "bgcolor": "#ffffff", "bordercolor": NOTE_COLOUR, "borderwidth": 1})
    if spec["limit_notes"]:  # said under the time axis, above the legend (the page repeats it under the chart)
        layout["xaxis"]["title"] = {"text": " ".join(spec["limit_notes"]), "font": {"size": 11}}
    if shapes:
        layout["shapes"] = shapes
    if labels:
        layout["annotations"] = labels
    return {"data": traces, "layout": layout}


def _month_start(x) -> str:
    return pd.to_datetime(str(x)).strftime("%Y-%m-%d")


def _event_marks(events: list[dict]) -> tuple[list[dict], list[dict]]:
    """Plotly shapes (a dotted vertical line per event, a light band to its end) and labels (staggered on two
    rows above the plot so neighbouring events stay readable)."""
    shapes, labels = [], []
    for i, ev in enumerate(events):
        x0 = _month_start(ev["x"])
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x0, "x1": x0, "y0": 0, "y1": 1,
                       "line": {"color": NOTE_COLOUR, "width": 1.5, "dash": "dot"}})
        if ev.get("x_end"):
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": _month_start(ev["x_end"]),
                           "y0": 0, "y1": 1, "fillcolor": NOTE_COLOUR, "opacity": 0.06, "line": {"width": 0},
                           "layer": "below"})
        labels.append({"x": x0, "xref": "x", "yref": "paper", "y": 1.02 + 0.07 * (i % 2), "yanchor": "bottom",
                       "xanchor": "left", "showarrow": False, "text": str(ev.get("label", ""))[:60],
                       "font": {"size": 11, "color": NOTE_COLOUR}})
    return shapes, labels


def _fmt(v, unit: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "no value"
    if unit == "percent":
        return f"{v:.1f}%"
    if unit in ("weeks", "minutes", "rate", "ratio", "score"):
        return f"{v:,.2f} {unit}" if unit not in ("rate", "ratio", "score") else f"{v:,.2f}"
    return f"{v:,.0f}"


def figure_json(fig: dict) -> str:
    """JSON safe to place inside ``<script type="application/json">`` (no ``</script>`` break-out)."""
    return json.dumps(fig, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")
