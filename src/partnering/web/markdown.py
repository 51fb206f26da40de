"""A small, safe Markdown-to-HTML converter for the method write-ups (``docs/methods/*.md``).

Handles headings, paragraphs, lists, fenced code, pipe tables, emphasis, inline code and links.  All text
is HTML-escaped first, so a document cannot inject markup; only http(s) and relative links are kept, and
links are plain ``<a href>`` (nothing is loaded automatically).  Headings are shifted down one level so the
page keeps a single h1.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITAL = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\w)")


def _inline(text: str) -> str:
    s = str(escape(text))
    codes: list[str] = []

    def keep(m):
        codes.append(f"<code>{m.group(1)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    s = _CODE.sub(keep, s)

    def link(m):
        label, href = m.group(1), m.group(2)
        if not (href.startswith(("http://", "https://", "/", "#")) or re.match(r"^[\w./-]+$", href)):
            return label
        return f'<a href="{href}">{label}</a>'

    s = _LINK.sub(link, s)
    s = _BOLD.sub(r"<strong>\1</strong>", s)
    s = _ITAL.sub(r"<em>\1</em>", s)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], s)


def _table(lines: list[str], caption: str) -> str:
    def cells(line):
        return [c.strip() for c in line.strip().strip("|").split("|")]

    head = cells(lines[0])
    body = [cells(ln) for ln in lines[2:]]
    out = [f'<table class="nhsuk-table"><caption class="nhsuk-table__caption nhsuk-u-visually-hidden">'
           f'{_inline(caption)}</caption><thead class="nhsuk-table__head"><tr class="nhsuk-table__row">']
    out += [f'<th scope="col" class="nhsuk-table__header">{_inline(c)}</th>' for c in head]
    out.append('</tr></thead><tbody class="nhsuk-table__body">')
    for row in body:
        out.append('<tr class="nhsuk-table__row">' +
                   "".join(f'<td class="nhsuk-table__cell">{_inline(c)}</td>' for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def to_html(md: str, shift: int = 1) -> Markup:
    lines = md.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    para: list[str] = []
    heading = "Table"
    i = 0

    def flush():
        if para:
            out.append(f"<p>{_inline(' '.join(p.strip() for p in para))}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            flush()
            code = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            out.append(f'<pre class="app-code"><code>{escape(chr(10).join(code))}</code></pre>')
            i += 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            flush()
            level = min(6, len(m.group(1)) + shift)
            heading = m.group(2).strip()
            out.append(f"<h{level}>{_inline(m.group(2).strip())}</h{level}>")
            i += 1
            continue
        if line.strip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|?[\s:|-]+\|?\s*$", lines[i + 1]) \
                and "-" in lines[i + 1]:
            flush()
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i])
                i += 1
            out.append(_table(block, f"Table: {heading}"))
            continue
        m = re.match(r"^\s*([-*+]|\d+[.)])\s+(.*)$", line)
        if m:
            flush()
            ordered = m.group(1)[0].isdigit()
            items = []
            while i < len(lines):
                m = re.match(r"^\s*([-*+]|\d+[.)])\s+(.*)$", lines[i])
                if m:
                    items.append(m.group(2))
                elif lines[i].startswith(("  ", "\t")) and lines[i].strip() and items:
                    items[-1] += " " + lines[i].strip()
                else:
                    break
                i += 1
            tag, cls = ("ol", "nhsuk-list nhsuk-list--number") if ordered else ("ul", "nhsuk-list nhsuk-list--bullet")
            out.append(f'<{tag} class="{cls}">' + "".join(f"<li>{_inline(t)}</li>" for t in items) + f"</{tag}>")
            continue
        if not line.strip():
            flush()
        else:
            para.append(line)
        i += 1
    flush()
    return Markup("\n".join(out))


def title_of(md: str, default: str) -> str:
    for line in md.splitlines():
        m = re.match(r"^#\s+(.*)$", line)
        if m:
            return m.group(1).strip()
    return default
