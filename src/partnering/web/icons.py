"""Making Data Count variation and assurance icons as small inline SVGs with a text alternative.

Meaning is never carried by colour alone: each icon has a letter (H/L for the direction of special cause,
P/F/? for assurance) and a ``<title>`` plus ``aria-label`` that say it in words.  Colours follow Making Data
Count (blue improvement, orange concern, grey common cause, purple neutral), darkened where needed for
3:1 contrast against white (WCAG 2.2 SC 1.4.11).
"""

from __future__ import annotations

from markupsafe import Markup, escape

VARIATION_TEXT = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause improvement: values higher than expected",
    "improvement_low": "Special cause improvement: values lower than expected",
    "concern_high": "Special cause concern: values higher than expected",
    "concern_low": "Special cause concern: values lower than expected",
    "neutral_high": "Special cause variation, neither better nor worse: higher",
    "neutral_low": "Special cause variation, neither better nor worse: lower",
}
ASSURANCE_TEXT = {
    "consistent_pass": "Will consistently meet the target",
    "consistent_fail": "Will consistently fail the target",
    "inconsistent": "May meet or miss the target (inconsistent)",
    None: "No target to assure against",
}
VARIATION_SHORT = {
    "common_cause": "Common cause", "improvement_high": "Improvement (high)", "improvement_low": "Improvement (low)",
    "concern_high": "Concern (high)", "concern_low": "Concern (low)", "neutral_high": "Neutral (high)",
    "neutral_low": "Neutral (low)",
}
ASSURANCE_SHORT = {"consistent_pass": "Pass", "consistent_fail": "Fail", "inconsistent": "Inconsistent", None: "None"}

BLUE, ORANGE, GREY, PURPLE, INK = "#005eb8", "#b35c00", "#5c6b77", "#5b2d90", "#212b32"


def _shape(fill: str, letter: str, shape: str) -> str:
    if shape == "circle":
        body = f'<circle cx="12" cy="12" r="10.5" fill="{fill}" stroke="{INK}" stroke-width="1"/>'
    else:  # assurance: rounded square
        body = f'<rect x="1.5" y="1.5" width="21" height="21" rx="4" fill="{fill}" stroke="{INK}" stroke-width="1"/>'
    if letter == "~":
        return body + ('<path d="M5 13 L8 10 L11 14 L14 10 L17 13 L19 11" fill="none" stroke="#ffffff" '
                       'stroke-width="2"/>')
    return body + (f'<text x="12" y="16.5" text-anchor="middle" font-family="Arial, sans-serif" font-size="13" '
                   f'font-weight="bold" fill="#ffffff">{escape(letter)}</text>')


def _variation_parts(code: str) -> tuple[str, str]:
    if code == "common_cause":
        return GREY, "~"
    kind, side = code.split("_")
    return {"improvement": BLUE, "concern": ORANGE, "neutral": PURPLE}[kind], ("H" if side == "high" else "L")


_ASSURANCE_PARTS = {"consistent_pass": (BLUE, "P"), "consistent_fail": (ORANGE, "F"), "inconsistent": (GREY, "?")}


def sprite() -> Markup:
    """Every icon once, as ``<symbol>``s; icons on the page ``<use>`` them (keeps big tables small)."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" style="display:none" aria-hidden="true">']
    for code in VARIATION_TEXT:
        fill, letter = _variation_parts(code)
        parts.append(f'<symbol id="app-icon-{code}" viewBox="0 0 24 24">{_shape(fill, letter, "circle")}</symbol>')
    for code, (fill, letter) in _ASSURANCE_PARTS.items():
        parts.append(f'<symbol id="app-icon-{code}" viewBox="0 0 24 24">{_shape(fill, letter, "square")}</symbol>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _use(code: str, label: str, size: int) -> Markup:
    lbl = escape(label)
    return Markup(f'<svg class="app-icon" width="{size}" height="{size}" viewBox="0 0 24 24" role="img" '
                  f'focusable="false"><title>{lbl}</title><use href="#app-icon-{code}"/></svg>')


def variation_icon(code, size: int = 28) -> Markup:
    if not isinstance(code, str) or code not in VARIATION_TEXT:
        return Markup('<span class="app-icon-none">No data</span>')
    return _use(code, VARIATION_TEXT[code], size)


def assurance_icon(code, size: int = 28) -> Markup:
    if not isinstance(code, str) or code not in _ASSURANCE_PARTS:
        return Markup('<span class="app-icon-none">No target</span>')
    return _use(code, ASSURANCE_TEXT[code], size)


def standalone_icon(code: str, size: int = 28) -> Markup:
    """A self-contained icon (no sprite needed), e.g. for export."""
    if code in _ASSURANCE_PARTS:
        fill, letter = _ASSURANCE_PARTS[code]
        body, label = _shape(fill, letter, "square"), ASSURANCE_TEXT[code]
    else:
        fill, letter = _variation_parts(code)
        body, label = _shape(fill, letter, "circle"), VARIATION_TEXT[code]
    lbl = escape(label)
    return Markup(f'<svg class="app-icon" width="{size}" height="{size}" viewBox="0 0 24 24" role="img" '
                  f'aria-label="{lbl}" focusable="false"><title>{lbl}</title>{body}</svg>')
