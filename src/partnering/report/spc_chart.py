"""SPC chart in the NHS Making Data Count style, for one series of ``SpcResult.points``, drawn with matplotlib
from the one chart specification every face shares (:func:`partnering.report.chart_spec.chart_spec`).

Mean (solid), process limits (dashed grey; a limit a quantity cannot reach shown at 0 or 100% and said so under
the chart), the target used for assurance and any other standard as labelled dashed lines, a marker on every point
(:data:`partnering.report.chart_spec.MARKERS`: colour *and* shape, WCAG 2.2 SC 1.4.1), rebases (a dotted line with
"Rebased <month>: <reason>"), annotations of months, the variation/assurance icons in the title row, and under the
chart the latest month of data and the source line.  Every colour reaches 3:1 contrast on white (SC 1.4.11); the
reference's light grey and light blue do not, so darker equivalents are used (:func:`contrast_ratio` and the tests
check them).

Use :func:`spc_figure` for a matplotlib Figure (or :func:`draw_spec` for a spec already made), :func:`save_chart`
for SVG/PNG files.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from partnering.report.chart_spec import (
    LIMIT_COLOUR,
    MARKERS,
    MEAN_COLOUR,
    NOTE_COLOUR,
    REFERENCE_COLOUR,
    chart_spec,
)
from partnering.report.icons import COMMON, CONCERN, IMPROVEMENT, NEUTRAL, TARGET, draw_icons

LIMIT = LIMIT_COLOUR
MEAN = MEAN_COLOUR

#: point type -> (colour, marker, legend text): the shared vocabulary (:data:`chart_spec.MARKERS`)
POINT_STYLE: dict[str, tuple[str, str, str]] = {k: (v["colour"], v["mpl"], v["label"]) for k, v in MARKERS.items()}

PALETTE = {
    "improvement": IMPROVEMENT,
    "concern": CONCERN,
    "neutral": NEUTRAL,
    "common_cause": COMMON,
    "limits": LIMIT,
    "mean": MEAN,
    "target": TARGET,
    "reference": REFERENCE_COLOUR,
    "notes": NOTE_COLOUR,
}


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a ``#RRGGBB`` colour."""
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(foreground: str, background: str = "#FFFFFF") -> float:
    """WCAG 2.1 contrast ratio, (L1 + 0.05) / (L2 + 0.05)."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def _one_series(points: pd.DataFrame, series: Any) -> pd.DataFrame:
    if "series" not in points.columns:
        return points.sort_values("x").reset_index(drop=True)
    if series is None:
        labels = points["series"].unique()
        if len(labels) != 1:
            raise ValueError(f"points hold {len(labels)} series: say which one to draw")
        series = labels[0]
    sub = points[points["series"] == series]
    if sub.empty:
        raise ValueError(f"series {series!r} is not in the points")
    return sub.sort_values("x").reset_index(drop=True)


def spc_figure(
    points: pd.DataFrame,
    series: Any = None,
    *,
    icons: pd.DataFrame | None = None,
    title: str | None = None,
    y_label: str | None = None,
    unit: str = "",
    indicator_code: str | None = None,
    notes: pd.DataFrame | None = None,
    annotations: Mapping[Any, str] | Iterable[tuple[Any, str]] | None = None,
    width: float = 9.0,
    height: float = 4.8,
) -> Figure:
    """Draw one series.  ``notes`` are the series' stored chart notes (annotations and rebase reasons,
    :func:`partnering.store.annotations.notes_frame`); ``annotations`` maps further x values to short notes.

    The figure's alt text (``fig.alt_text``) describes the chart in words; ``fig.spec`` is the specification drawn.
    """
    p = _one_series(points, series)
    label = p["series"].iloc[0] if "series" in p.columns else (title or "")
    icon_row = {}
    if icons is not None and not icons.empty:
        row = icons[icons["series"] == label] if "series" in icons.columns else icons
        if not row.empty:
            icon_row = row.iloc[0].to_dict()
    extra = annotations.items() if isinstance(annotations, Mapping) else annotations or []
    extra_notes = pd.DataFrame([{"kind": "annotation", "period": pd.Timestamp(x).strftime("%Y-%m"), "text": t}
                                for x, t in extra], columns=["kind", "period", "text"])
    if notes is not None and not notes.empty:
        extra_notes = pd.concat([notes[["kind", "period", "text"]], extra_notes], ignore_index=True)
    spec = chart_spec(p, title=title or str(label), unit=unit, indicator_code=indicator_code, icons=icon_row,
                      notes=extra_notes)
    if y_label:
        spec["y_label"] = y_label
    return draw_spec(spec, width=width, height=height)


def draw_spec(spec: dict, *, width: float = 9.0, height: float = 4.8, footer: bool = True) -> Figure:
    """A matplotlib Figure of one chart specification (:func:`partnering.report.chart_spec.chart_spec`)."""
    fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor("white")
    for k, seg in enumerate(spec["segments"]):
        xs = pd.to_datetime(seg["x"])
        mean = np.array([np.nan if v is None else v for v in seg["mean"]], dtype=float)
        lpl = np.array([np.nan if v is None else v for v in seg["lpl"]], dtype=float)
        upl = np.array([np.nan if v is None else v for v in seg["upl"]], dtype=float)
        ax.plot(xs, mean, color=MEAN, lw=1.6, label="Mean" if k == 0 else None, zorder=2)
        ax.plot(xs, upl, color=LIMIT, lw=1.3, ls=(0, (6, 3)), label="Process limits" if k == 0 else None)
        ax.plot(xs, lpl, color=LIMIT, lw=1.3, ls=(0, (6, 3)))
    all_x = pd.to_datetime([pt["x"] for pt in spec["points"]])
    for i, r in enumerate(spec["rebases"]):
        x0 = pd.Timestamp(r["x"])
        ax.axvline(x0, color=NOTE_COLOUR, lw=1.2, ls=":", zorder=1)
        # the reason in full, wrapped to the side of the line with more room (a rebase late in the series: left)
        span = (all_x.max() - all_x.min()) or pd.Timedelta(days=1)
        frac = (x0 - all_x.min()) / span
        right = frac > 0.6
        room = max(25, int(width * 11 * (frac if right else 1 - frac) * 0.85))
        ax.annotate(textwrap.fill(r["label"], room), (x0, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(-3 if right else 3, -3 - 11 * i), textcoords="offset points", va="top",
                    ha="right" if right else "left", fontsize=8, color=NOTE_COLOUR, fontweight="bold",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    for t in spec["targets"]:
        dash = (0, (4, 2)) if t["role"] == "assurance" else (0, (1.5, 2))
        ax.axhline(t["value"], color=t["colour"], lw=1.4, ls=dash, label=t["label"], zorder=2)
        ax.annotate(t["label"], (1.0, t["value"]), xycoords=("axes fraction", "data"), xytext=(-3, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize=8, color=t["colour"])
    xs = pd.to_datetime([pt["x"] for pt in spec["points"]])
    ys = np.array([np.nan if pt["y"] is None else pt["y"] for pt in spec["points"]], dtype=float)
    kinds = np.array([pt["type"] for pt in spec["points"]])
    ax.plot(xs, ys, color=COMMON, lw=1.1, zorder=3)
    for kind, m in MARKERS.items():
        mask = (kinds == kind) & ~np.isnan(ys)
        if not mask.any():
            continue
        size = 22 if kind == "common_cause" else 48
        label = m["label"] if m["label"] not in ax.get_legend_handles_labels()[1] else None
        ax.scatter(xs[mask], ys[mask], s=size, marker=m["mpl"], color=m["colour"], edgecolor="white",
                   linewidth=0.6, zorder=4, label=label)
    for j, a in enumerate(spec["annotations"]):
        xa = pd.Timestamp(a["x"])
        ya = a["y"] if a["y"] is not None else np.nanmean(ys)
        # the note sits in the plot's bottom band (staggered on two rows), a thin line joining it to its point
        ax.annotate(textwrap.shorten(a["text"], int(width * 6)), (xa, ya), xytext=(xa, 0.03 + 0.06 * (j % 2)),
                    textcoords=("data", "axes fraction"), ha="center", va="bottom", fontsize=8, color=NOTE_COLOUR,
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": NOTE_COLOUR, "lw": 0.6},
                    arrowprops={"arrowstyle": "-", "color": NOTE_COLOUR, "lw": 0.8}, zorder=6)
    for ev in spec["events"]:
        ax.axvline(pd.Timestamp(str(ev["x"])), color=NOTE_COLOUR, lw=1.0, ls=":")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(LIMIT)
    ax.spines["bottom"].set_color(LIMIT)
    ax.tick_params(colors=MEAN, labelsize=9)
    ax.grid(axis="y", color="#D8DDE0", lw=0.6)
    ax.set_ylabel(spec["y_label"], color=MEAN)
    # a long title (indicator and organisation) wraps rather than run off the figure: names are never cut
    title = textwrap.fill(spec["title"], max(30, int(width * 8.5)))
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold", color=MEAN, pad=14)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.1), ncol=3, frameon=False, fontsize=8)
    bottom = 0.30 if footer else 0.25
    fig.subplots_adjust(left=0.09, right=0.98, top=0.84 - 0.05 * title.count("\n"), bottom=bottom)
    ax.margins(x=0.02, y=0.25 if spec["annotations"] else 0.15)
    if footer:
        lines = [*spec["limit_notes"], spec["source"]]
        fig.text(0.01, 0.01, "\n".join(textwrap.fill(t, int(width * 17)) for t in lines), fontsize=7, color=MEAN,
                 va="bottom")
    icon_titles: list[str] = []
    variation = spec["icons"]["variation_icon"]
    if variation:
        icon_titles = draw_icons(ax, str(variation), spec["icons"]["assurance_type"], corner="above right")
    fig.alt_text = spec["alt"] + ("" if not icon_titles else " " + " ".join(t + "." for t in icon_titles))
    fig.spec = spec
    return fig


def save_chart(fig: Figure, path: str | Path) -> Path:
    """Write the figure as SVG or PNG (by suffix), with its alt text as the SVG/PNG description."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    alt = getattr(fig, "alt_text", "")
    if suffix == ".svg":
        fig.savefig(path, format="svg", metadata={"Title": alt[:200], "Description": alt})
    elif suffix == ".png":
        fig.savefig(path, format="png", dpi=150, metadata={"Title": alt[:200], "Description": alt})
    else:
        raise ValueError(f"unsupported chart format {suffix!r} (use .svg or .png)")
    return path


def legend_handles() -> list[Line2D]:
    """Legend entries for every point style (for reports that draw their own legend)."""
    return [Line2D([], [], color=c, marker=m, ls="", label=t, markersize=7) for c, m, t in POINT_STYLE.values()]
