"""Method write-ups render through markdown-it-py and the nh3 allow-list: nothing executable survives."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from partnering.web.markdown import ALLOWED_TAGS, sanitise, title_of, to_html

pytestmark = pytest.mark.unit

METHODS = Path(__file__).resolve().parents[3] / "docs" / "methods"


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would see them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _dangerous(html: str) -> list[str]:
    found = []
    for tag, attrs in _Tags(html).tags:
        if tag in ("script", "style", "iframe", "object", "embed", "img", "svg", "form", "input"):
            found.append(tag)
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                found.append(f"{tag}[{name}]")
            if name in ("href", "src") and re.sub(r"[\s\x00-\x1f]", "", value or "").lower().startswith(
                    ("javascript:", "vbscript:", "data:")):
                found.append(f"{tag}[{name}={value}]")
    return found


ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](java&#x73;cript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x](https://tracker.example/pixel.png)",
    "<iframe src=https://x.example></iframe>",
    "<svg><script>alert(1)</script></svg>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_attacks_render_inert(attack):
    html = str(to_html(f"# Page\n\nBefore {attack} after.\n"))
    assert _dangerous(html) == [], html
    assert "after." in html  # the rest of the document still renders


@pytest.mark.parametrize("html,bad", [
    ('<p onclick="alert(1)">x</p>', "onclick"),
    ("<script>alert(1)</script><p>x</p>", "alert(1)"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<a href="JAVASCRIPT:alert(1)">x</a>', "JAVASCRIPT:"),
    ('<img src="x" onerror="alert(1)">', "onerror"),
    ('<table class="nhsuk-table evil" style="x:y"><tr><td>1</td></tr></table>', "evil"),
    ("<style>body{display:none}</style><p>x</p>", "display:none"),
    ("<!-- secret --><p>x</p>", "secret"),
])
def test_sanitiser_drops_what_is_not_on_the_allow_list(html, bad):
    clean = sanitise(html)
    assert bad not in clean
    assert _dangerous(clean) == []


def test_sanitiser_keeps_allowed_markup():
    html = ('<table class="nhsuk-table"><caption class="nhsuk-table__caption">c</caption><tbody>'
            '<tr class="nhsuk-table__row"><th scope="col" class="nhsuk-table__header">h</th></tr></tbody></table>'
            '<p><a href="https://www.england.nhs.uk/">NHS England</a> <a href="spc">SPC</a> <code>x</code></p>')
    clean = sanitise(html)
    for kept in ('class="nhsuk-table"', 'scope="col"', 'href="https://www.england.nhs.uk/"', 'href="spc"',
                 "<code>x</code>", "<caption"):
        assert kept in clean


def test_raw_html_is_shown_as_text():
    html = str(to_html("<b>bold?</b> & <i>x</i>"))
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html and "&amp;" in html and "<b>" not in html


def _fenced_out(md: str) -> list[str]:
    """Source lines outside fenced code blocks."""
    out, fenced = [], False
    for line in md.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return out


@pytest.mark.parametrize("page", sorted(p.name for p in METHODS.glob("*.md")))
def test_method_pages_render_headings_tables_links_and_code(page):
    md = (METHODS / page).read_text(encoding="utf-8")
    html = str(to_html(md))
    tags = _Tags(html).tags
    names = [t for t, _ in tags]
    lines = _fenced_out(md)
    headings = [ln for ln in lines if re.match(r"^#{1,6}\s", ln)]
    levels = [len(ln.split()[0]) for ln in headings]
    # every heading shows, one level down (the page has its own h1)
    assert [n for n in names if re.fullmatch(r"h[1-6]", n)] == [f"h{min(6, lv + 1)}" for lv in levels]
    delimiter_rows = [ln for ln in lines if re.match(r"^\s*\|?\s*:?-{3,}", ln) and "|" in ln]
    assert names.count("table") == len(delimiter_rows)
    assert all(a.get("scope") == "col" for t, a in tags if t == "th")
    assert names.count("caption") == names.count("table")
    fences = sum(1 for ln in md.splitlines() if ln.lstrip().startswith("```")) // 2
    assert names.count("pre") == fences
    text = "\n".join(lines)
    links = re.findall(r"(?<!!)\[[^\]]+\]\(([^)\s]+)\)", text) + re.findall(r"<(https?://[^>\s]+)>", text)
    hrefs = [a["href"] for t, a in tags if t == "a"]
    assert len(hrefs) == len(links)
    if "`" in "\n".join(lines):
        assert "code" in names
    assert set(names) <= ALLOWED_TAGS
    assert _dangerous(html) == []


def test_links_between_write_ups_point_at_their_pages():
    html = str(to_html("See [the SPC method](spc.md) and [rules](spc.md#rules), [ext](https://x.example/a.md)."))
    hrefs = [a["href"] for t, a in _Tags(html).tags if t == "a"]
    assert hrefs == ["spc", "spc#rules", "https://x.example/a.md"]


def test_table_caption_names_the_heading_above_it():
    html = str(to_html("## Limits\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n"))
    assert "Table: Limits</caption>" in html
    assert "<h3>Limits</h3>" in html
    assert "style=" not in html  # alignment styles are not on the allow-list


def test_code_block_is_escaped_and_kept_verbatim():
    html = str(to_html("```python\nif a < b and c > d:\n    print('<x>')\n```\n"))
    assert '<pre class="app-code" tabindex="0"><code>if a &lt; b and c &gt; d:\n    print(\'&lt;x&gt;\')</code></pre>' in html


def test_title_is_the_first_level_one_heading():
    assert title_of("Intro\n\n## Not this\n\n# The title\n\n# Second", "d") == "The title"
    assert title_of("```\n# not a heading\n```\n\nno title here", "fallback") == "fallback"
