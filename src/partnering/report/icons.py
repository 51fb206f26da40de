"""Making Data Count variation and assurance icons, as matplotlib drawings and standalone SVG.

Small circles in the MDC style: the variation icon shows where the latest point sits (a letter
H or L for a special cause high or low, an arrow-free dot pattern for common cause), the
assurance icon whether the target will be met (P pass, F fail, ? inconsistent). Each icon
carries a text title so screen readers announce it. Colours are the accessible palette of
:mod:`partnering.report.spc_chart` (all >= 3:1 contrast on white, WCAG 2.1 SC 1.4.11).
"""

from __future__ import annotations

from html import escape

from matplotlib.axes import Axes
from matplotlib.patches import Circle

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
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="#FFFFFF" stroke="{colour}" stroke-width="3"/>')
        if letter:
            parts.append(
                f'<text x="{cx}" y="{cy}" text-anchor="middle" dominant-baseline="central" '
                f'font-family="Frutiger, Arial, sans-serif" font-weight="bold" font-size="{size * 0.45:.0f}" '
                f'fill="{colour}">{escape(letter)}</text>'
            )
        else:  # common cause: a row of dots, as the MDC icon
            for dx in (-0.45, 0, 0.45):
                parts.append(f'<circle cx="{cx + dx * r:.1f}" cy="{cy}" r="{r * 0.12:.1f}" fill="{colour}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


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
    # keep the circles round: size is a fraction of the axes height
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
        inset.set_axis_off()
        inset.set_xlim(-1, 1)
        inset.set_ylim(-1, 1)
        circle = Circle((0, 0), 0.9, facecolor="white", edgecolor=colour, linewidth=2.5, gid=f"spc-icon-{kind}")
        inset.add_patch(circle)
        if letter:
            inset.text(0, 0, letter, ha="center", va="center", color=colour, fontsize=11, fontweight="bold")
        else:
            for dx in (-0.4, 0, 0.4):
                inset.add_patch(Circle((dx, 0), 0.11, color=colour))
        inset.set_title(title, fontsize=0.1, alpha=0)  # text title carried into SVG output
        titles.append(title)
    return titles
