"""Interactive SPC charts: a Plotly figure as JSON, drawn in the browser by the plotly.js the plotly package ships.

Special-cause points differ by marker *shape* as well as colour (triangle concern, square improvement, diamond
neutral, circle common cause), and the hover text says which rule fired (the SPC ``explanation`` column).
Every chart has a data table under it, so nothing depends on JavaScript.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

POINT_STYLE = {
    "common_cause": ("circle", "#5c6b77", "Common cause"),
    "special_cause_improvement": ("square", "#005eb8", "Special cause improvement"),
    "special_cause_concern": ("triangle-up", "#b35c00", "Special cause concern"),
    "special_cause_neutral": ("diamond", "#5b2d90", "Special cause neutral"),
}


def _clean(v):
    if isinstance(v, (float, np.floating)) and not np.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _list(s: pd.Series) -> list:
    return [_clean(v) for v in s.tolist()]


def spc_figure(points: pd.DataFrame, title: str, unit: str = "", annotations: list[dict] | None = None) -> dict:
    """Plotly figure (as a dict) for one series' SPC points (columns x, y, mean, lpl, upl, target, point_type ...).

    ``annotations`` (optional) marks events on the time axis — PDSA cycles of an improvement project
    (:func:`partnering.improve.cycle_annotations`): each ``{"x": "2025-04", "label": "PDSA 1: ...", "x_end": ...}``
    becomes a vertical dotted line with its label at the top (and a light band to ``x_end`` where given), so a team
    sees whether points after a change are special cause (signal) or common cause (noise).
    """
    pts = points.sort_values("x")
    x = pd.to_datetime(pts["x"]).dt.strftime("%Y-%m-%d").tolist()
    traces = []
    for col, name, dash, colour in (("upl", "Upper process limit", "dash", "#4c6272"),
                                    ("mean", "Mean", "solid", "#212b32"),
                                    ("lpl", "Lower process limit", "dash", "#4c6272"),
                                    ("target", "Target", "dot", "#007f3b")):
        if col in pts and pts[col].notna().any():
            traces.append({"type": "scatter", "mode": "lines", "name": name, "x": x, "y": _list(pts[col]),
                           "line": {"dash": dash, "color": colour, "width": 1.5}, "hoverinfo": "skip"})
    traces.append({"type": "scatter", "mode": "lines", "name": "Value", "x": x, "y": _list(pts["y"]),
                   "line": {"color": "#aeb7bd", "width": 1}, "hoverinfo": "skip", "showlegend": False})
    for pt, (symbol, colour, label) in POINT_STYLE.items():
        sub = pts[pts["point_type"] == pt]
        if sub.empty:
            continue
        expl = sub["explanation"].fillna("") if "explanation" in sub else pd.Series([""] * len(sub))
        text = [f"{pd.to_datetime(xx):%b %Y}: {_fmt(yy, unit)}<br>{label}" + (f"<br>{e}" if e else "")
                for xx, yy, e in zip(sub["x"], sub["y"], expl)]
        traces.append({"type": "scatter", "mode": "markers", "name": label,
                       "x": pd.to_datetime(sub["x"]).dt.strftime("%Y-%m-%d").tolist(), "y": _list(sub["y"]),
                       "marker": {"symbol": symbol, "color": colour, "size": 9 if pt == "common_cause" else 12,
                                  "line": {"color": "#212b32", "width": 1}},
                       "text": text, "hoverinfo": "text"})
    layout = {"title": {"text": title, "font": {"size": 16}}, "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
              "font": {"family": "Arial, sans-serif", "color": "#212b32"}, "paper_bgcolor": "#ffffff",
              "plot_bgcolor": "#ffffff", "hovermode": "closest",
              "legend": {"orientation": "h", "y": -0.2},
              "yaxis": {"title": {"text": unit}, "gridcolor": "#e8edee", "zeroline": False},
              "xaxis": {"gridcolor": "#e8edee"}}
    if annotations:
        layout["shapes"], layout["annotations"] = _event_marks(annotations)
        layout["margin"]["t"] = 90
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
                       "line": {"color": "#330072", "width": 1.5, "dash": "dot"}})
        if ev.get("x_end"):
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": _month_start(ev["x_end"]),
                           "y0": 0, "y1": 1, "fillcolor": "#330072", "opacity": 0.06, "line": {"width": 0},
                           "layer": "below"})
        labels.append({"x": x0, "xref": "x", "yref": "paper", "y": 1.02 + 0.07 * (i % 2), "yanchor": "bottom",
                       "xanchor": "left", "showarrow": False, "text": str(ev.get("label", ""))[:60],
                       "font": {"size": 11, "color": "#330072"}})
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
