"""Pieces every report shares: a matplotlib figure inlined as SVG in HTML, and A4 pages of wrapped text in a PDF."""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

A4_PORTRAIT = (8.27, 11.69)  # inches


def inline_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element (the XML prologue dropped) to place inside an HTML ``<figure>``."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.find("<svg"):]


def text_pages(pdf: PdfPages, title: str, lines: list[str], *, monospace_indented: bool = False,
               paragraph_gap: float = 0.0) -> None:
    """``lines`` wrapped onto as many A4 pages as they need, under ``title`` on the first.

    ``monospace_indented``: lines starting with two spaces are table rows, set in a smaller monospace font;
    ``paragraph_gap``: extra space (in figure fractions) after each line given.
    """
    fig = Figure(figsize=A4_PORTRAIT)
    fig.text(0.07, 0.95, title, fontsize=14, weight="bold", va="top")
    y = 0.91
    for line in lines:
        mono = monospace_indented and line.startswith("  ")
        for part in (textwrap.wrap(line, 110, subsequent_indent="  ") if mono else textwrap.wrap(line, 100)) or [""]:
            if y < 0.05:
                pdf.savefig(fig)
                fig = Figure(figsize=A4_PORTRAIT)
                y = 0.95
            fig.text(0.07, y, part, fontsize=7.5 if mono else 8.5, va="top", family="monospace" if mono else None)
            y -= 0.018
        y -= paragraph_gap
    pdf.savefig(fig)
