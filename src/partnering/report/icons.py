"""Making Data Count variation and assurance icons, as matplotlib drawings and standalone SVG.

The app's icons (:mod:`partnering.web.icons`, drawn on every page) in the same style: a filled circle for the
variation icon (H or L for a special cause high or low, a zigzag for common cause) and a filled rounded square for
the assurance icon (P pass, F fail, ? inconsistent), white letters, a dark outline.  Each icon carries a text title
so screen readers announce it, and the letter says what the colour says (WCAG 2.2 SC 1.4.1).  Colours are the
accessible palette of :mod:`partnering.report.spc_chart` (all >= 3:1 contrast on white, SC 1.4.11): Making Data
Count's blue, orange, purple and grey (NHS England, "Making Data Count", 2019), darkened.
"""

from __future__ import annotations

from html import escape

from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyBboxPatch

#: Accessible palette (hex, contrast on white computed in tests): NHS Blue, a dark orange in
#: place of MDC's light orange, NHS Purple, NHS Dark Grey.
IMPROVEMENT = "#005EB8"
CONCERN = "#B34700"
NEUTRAL = "#330072"
COMMON = "#425563"
TARGET = "#212B32"

_VARIATION = {
    "common_cause": (COMMON, "", "Common cause variation: no significant change"),
    "improvement_high": (IMPROVEMENT, "H", "Special cause variation: improvement (higher)"),
    "improvement_low": (IMPROVEMENT, "L", "Special cause variation: improvement (lower)"),
    "concern_high": (CONCERN, "H", "Special cause variation: concern (higher)"),
    "concern_low": (CONCERN, "L", "Special cause variation: concern (lower)"),
    "neutral_high": (NEUTRAL, "H", "Special cause variation: neither improvement nor concern (higher)"),
    "neutral_low": (NEUTRAL, "L", "Special cause variation: neither improvement nor concern (lower)"),
}
_ASSURANCE = {
    "consistent_pass": (IMPROVEMENT, "P", "Assurance: the process will consistently meet the target"),
    "consistent_fail": (CONCERN, "F", "Assurance: the process will consistently fail the target"),
    "inconsistent": (COMMON, "?", "Assurance: the process will sometimes meet and sometimes fail the target"),
}


def variation_title(variation_icon: str) -> str:
    return _VARIATION[variation_icon][2]


def assurance_title(assurance_type: str | None) -> str | None:
    return None if assurance_type is None else _ASSURANCE[assurance_type][2]


def _icons(variation_icon: str, assurance_type: str | None) -> list[tuple[str, str, str, str]]:
    if variation_icon not in _VARIATION:
        raise ValueError(f"unknown variation icon {variation_icon!r}")
    if assurance_type is not None and assurance_type not in _ASSURANCE:
        raise ValueError(f"unknown assurance type {assurance_type!r}")
    out = [("variation", *_VARIATION[variation_icon])]
    if assurance_type is not None:
        out.append(("assurance", *_ASSURANCE[assurance_type]))
    return out


INK = "#212B32"
_ZIGZAG = [(-0.6, 0.05), (-0.3, -0.2), (0.0, 0.25), (0.3, -0.2), (0.6, 0.05)]


def icon_svg(variation_icon: str, assurance_type: str | None = None, size: int = 48) -> str:
    """Standalone SVG of the variation icon (and the assurance icon when there is one).

    Each icon is a ``<g role="img">`` with a ``<title>``; the whole SVG has an ``aria-label``.
    """
    icons = _icons(variation_icon, assurance_type)
    r = size / 2 - 2
    width = size * len(icons) + 8 * (len(icons) - 1)
    label = "; ".join(title for _, _, _, title in icons)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{size}" '
        f'viewBox="0 0 {width} {size}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for i, (kind, colour, letter, title) in enumerate(icons):
        cx = size / 2 + i * (size + 8)
        cy = size / 2
        parts.append(f'<g class="spc-icon spc-icon-{kind}" role="img" aria-label="{escape(title)}">')
        parts.append(f"<title>{escape(title)}</title>")
        if kind == "assurance":
            parts.append(f'<rect x="{cx - r}" y="{cy - r}" width="{2 * r}" height="{2 * r}" rx="{r * 0.35:.1f}" '
                         f'fill="{colour}" stroke="{INK}" stroke-width="1"/>')
        else:
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{colour}" stroke="{INK}" stroke-width="1"/>')
        if letter:
            parts.append(
                f'<text x="{cx}" y="{cy}" text-anchor="middle" dominant-baseline="central" '
                f'font-family="Frutiger, Arial, sans-serif" font-weight="bold" font-size="{size * 0.5:.0f}" '
                f'fill="#FFFFFF">{escape(letter)}</text>'
            )
        else:  # common cause: a zigzag, as the app's icon
            pts = " ".join(f"{cx + dx * r:.1f},{cy - dy * r:.1f}" for dx, dy in _ZIGZAG)
            parts.append(f'<polyline points="{pts}" fill="none" stroke="#FFFFFF" stroke-width="{size / 14:.1f}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def draw_icon(ax: Axes, kind: str, colour: str, letter: str, title: str) -> None:
    """One icon filling ``ax`` (an inset or a table cell's axes): the same drawing as :func:`icon_svg`."""
    ax.set_axis_off()
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_aspect("equal", adjustable="box")
    if kind == "assurance":
        patch = FancyBboxPatch((-0.85, -0.85), 1.7, 1.7, boxstyle="round,pad=0,rounding_size=0.3", facecolor=colour,
                               edgecolor=INK, linewidth=0.8, gid=f"spc-icon-{kind}")
    else:
        patch = Circle((0, 0), 0.9, facecolor=colour, edgecolor=INK, linewidth=0.8, gid=f"spc-icon-{kind}")
    ax.add_patch(patch)
    if letter:
        ax.text(0, -0.04, letter, ha="center", va="center", color="white", fontsize=11, fontweight="bold")
    else:
        xs, ys = zip(*_ZIGZAG)
        ax.plot(xs, ys, color="white", lw=1.8)
    ax.set_title(title, fontsize=0.1, alpha=0)  # text title carried into SVG output


def icon_parts(variation_icon: str, assurance_type: str | None = None) -> list[tuple[str, str, str, str]]:
    """(kind, colour, letter, title) of each icon to draw, for callers that lay icons out themselves."""
    return _icons(variation_icon, assurance_type)


def draw_icons(
    ax: Axes, variation_icon: str, assurance_type: str | None = None, *, corner: str = "upper right", size: float = 0.12
) -> list[str]:
    """Draw the icons in a corner of ``ax`` (``upper/lower left/right`` inside the axes, or
    ``above right``/``above left`` in the title row); returns their titles.

    The titles are also set as the patches' ``gid`` so they reach an SVG export, and listed in the
    chart's alt text by :func:`partnering.report.spc_chart.spc_figure`.
    """
    icons = _icons(variation_icon, assurance_type)
    fig = ax.figure
    # keep the icons round: size is a fraction of the axes height
    bbox = ax.get_position()
    aspect = (bbox.height * fig.get_figheight()) / (bbox.width * fig.get_figwidth())
    ry = size / 2
    rx = ry * aspect
    right = corner.endswith("right")
    top = corner.startswith(("upper", "above"))
    above = corner.startswith("above")  # in the title row, outside the plotting area
    titles = []
    for i, (kind, colour, letter, title) in enumerate(reversed(icons) if right else icons):
        step = (2 * rx + 0.01) * i
        cx = (1 - 0.01 - rx - step) if right else (0.01 + rx + step)
        cy = (1 + 0.03 + ry) if above else (1 - 0.02 - ry) if top else (0.02 + ry)
        inset = ax.inset_axes([cx - rx, cy - ry, 2 * rx, 2 * ry])
        draw_icon(inset, kind, colour, letter, title)
        titles.append(title)
    return list(reversed(titles)) if right else titles
