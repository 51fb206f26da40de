"""SPC chart in the NHS Making Data Count style, for one series of ``SpcResult.points``.

Mean (solid), process limits (dashed grey), a dashed labelled target line, rebase markers,
optional annotations, and the variation/assurance icons in a corner. Special-cause points are
told apart three ways, not by colour alone (WCAG 2.1 SC 1.4.1): colour, marker shape and a
short label at the start of each run of flagged points ("Imp" improvement, "Con" concern,
"Neu" neutral), explained in the legend. Every
colour reaches 3:1 contrast on white (SC 1.4.11); the reference's light grey and light blue do
not, so darker equivalents are used (:func:`contrast_ratio` and the tests check them).

Use :func:`spc_figure` for a matplotlib Figure, :func:`save_chart` for SVG/PNG files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from partnering.report.icons import COMMON, CONCERN, IMPROVEMENT, NEUTRAL, TARGET, draw_icons

LIMIT = "#5E6D78"  # grey for the process limits, 5.4:1 on white
MEAN = "#212B32"  # NHS black, for the centre line

#: point type -> (colour, marker, letter, legend text)
POINT_STYLE: dict[str, tuple[str, str, str, str]] = {
    "common_cause": (COMMON, "o", "", "Common cause"),
    "special_cause_improvement": (IMPROVEMENT, "D", "Imp", "Special cause: improvement (Imp)"),
    "special_cause_concern": (CONCERN, "s", "Con", "Special cause: concern (Con)"),
    "special_cause_neutral_high": (NEUTRAL, "^", "Neu", "Special cause: neither, high (Neu)"),
    "special_cause_neutral_low": (NEUTRAL, "v", "Neu", "Special cause: neither, low (Neu)"),
}

PALETTE = {
    "improvement": IMPROVEMENT,
    "concern": CONCERN,
    "neutral": NEUTRAL,
    "common_cause": COMMON,
    "limits": LIMIT,
    "mean": MEAN,
    "target": TARGET,
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
    y_label: str = "Value",
    annotations: Mapping[Any, str] | Iterable[tuple[Any, str]] | None = None,
    width: float = 9.0,
    height: float = 4.8,
) -> Figure:
    """Draw one series. ``annotations`` maps x values (dates or integers) to short notes.

    The figure's alt text (``fig.alt_text``) describes the chart in words: mean, limits, target,
    how many special-cause points and the icons.
    """
    p = _one_series(points, series)
    series = p["series"].iloc[0]
    x = p["x"].to_numpy()
    y = p["y"].to_numpy(dtype=float)
    fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor("white")

    groups = p["rebase_group"].to_numpy()
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], len(p)]
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        xs = x[a:b]
        first = k == 0
        ax.plot(xs, p["mean"].iloc[a:b], color=MEAN, lw=1.6, label="Mean" if first else None, zorder=2)
        ax.plot(xs, p["upl"].iloc[a:b], color=LIMIT, lw=1.3, ls=(0, (6, 3)), label="Process limits" if first else None)
        ax.plot(xs, p["lpl"].iloc[a:b], color=LIMIT, lw=1.3, ls=(0, (6, 3)))
        if k > 0:
            ax.axvline(xs[0], color=MEAN, lw=1.0, ls=":", zorder=1)
            ax.annotate(
                "Rebased", (xs[0], 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                textcoords="offset points", va="top", fontsize=8, color=MEAN,
            )  # fmt: skip

    target = p["target"].dropna().unique() if "target" in p.columns else []
    if len(target):
        ax.axhline(target[0], color=TARGET, lw=1.4, ls=(0, (2, 2)), label=f"Target ({target[0]:g})", zorder=2)
        ax.annotate(
            f"Target {target[0]:g}", (1.0, target[0]), xycoords=("axes fraction", "data"), xytext=(-3, 3),
            textcoords="offset points", ha="right", va="bottom", fontsize=8, color=TARGET,
        )  # fmt: skip

    ax.plot(x, y, color=COMMON, lw=1.2, zorder=3)
    ptype = p["point_type"].astype(str).to_numpy()
    for kind, (colour, marker, letter, text) in POINT_STYLE.items():
        mask = ptype == kind
        if not mask.any():
            continue
        size = 28 if kind == "common_cause" else 52
        ax.scatter(x[mask], y[mask], s=size, marker=marker, color=colour, edgecolor="white", linewidth=0.6,
                   zorder=4, label=text)  # fmt: skip
        if letter:  # label the first point of each run of this type
            run_start = mask & ~np.r_[False, mask[:-1]]
            below = kind.endswith("low")
            for xi, yi in zip(x[run_start], y[run_start], strict=True):
                ax.annotate(letter, (xi, yi), xytext=(0, -13 if below else 7), textcoords="offset points",
                            ha="center", fontsize=8, fontweight="bold", color=colour, zorder=5)  # fmt: skip

    for xa, note in annotations.items() if isinstance(annotations, Mapping) else annotations or []:
        xa = pd.Timestamp(xa).to_datetime64() if np.issubdtype(x.dtype, np.datetime64) else xa
        hit = np.flatnonzero(x == xa)
        ya = y[hit[0]] if len(hit) else np.nanmean(y)
        ax.annotate(note, (xa, ya), xytext=(0, -26), textcoords="offset points", ha="center", fontsize=8,
                    color=MEAN, arrowprops={"arrowstyle": "-", "color": MEAN, "lw": 0.8})  # fmt: skip

    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(LIMIT)
    ax.spines["bottom"].set_color(LIMIT)
    ax.tick_params(colors=MEAN, labelsize=9)
    ax.grid(axis="y", color="#D8DDE0", lw=0.6)
    ax.set_ylabel(y_label, color=MEAN)
    ax.set_title(title or str(series), loc="left", fontsize=12, fontweight="bold", color=MEAN)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.1), ncol=3, frameon=False, fontsize=8)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.84, bottom=0.25)
    ax.margins(x=0.02, y=0.15)

    icon_titles: list[str] = []
    if icons is not None:
        row = icons[icons["series"] == series]
        if not row.empty:
            assurance = row["assurance_type"].iloc[0]
            assurance = None if pd.isna(assurance) else str(assurance)
            icon_titles = draw_icons(ax, str(row["variation_icon"].iloc[0]), assurance, corner="above right")
    fig.alt_text = _alt_text(p, series, icon_titles)
    return fig


def _alt_text(p: pd.DataFrame, series: Any, icon_titles: list[str]) -> str:
    last = p.iloc[-1]
    counts = p["point_type"].astype(str).value_counts()
    special = {k: int(v) for k, v in counts.items() if k != "common_cause"}
    parts = [
        f"SPC chart of {series}: {len(p)} points.",
        f"Latest mean {last['mean']:.4g}, process limits {last['lpl']:.4g} to {last['upl']:.4g}.",
    ]
    if "target" in p.columns and pd.notna(last["target"]):
        parts.append(f"Target {last['target']:.4g}.")
    if special:
        parts.append(
            "Special-cause points: "
            + ", ".join(f"{n} {k.removeprefix('special_cause_')}" for k, n in special.items())
            + "."
        )
    else:
        parts.append("All points show common-cause variation.")
    parts += [t + "." for t in icon_titles]
    return " ".join(parts)


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
    return [Line2D([], [], color=c, marker=m, ls="", label=t, markersize=7) for c, m, _, t in POINT_STYLE.values()]
