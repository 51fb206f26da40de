"""Markdown to safe HTML for the method write-ups (``docs/methods/*.md``).

Two well-kept libraries do the work, each for what it is built for:

* **markdown-it-py** parses CommonMark (https://spec.commonmark.org/) plus GitHub-style pipe tables
  (https://github.github.com/gfm/#tables-extension-) and strikethrough.  Raw HTML in the source is *not* passed
  through (``html=False``): it is shown as text.  Its link validator already refuses ``javascript:``,
  ``vbscript:``, ``file:`` and ``data:`` URLs.  Images are switched off, so nothing is loaded automatically.
* **nh3** (Python binding of the Rust ``ammonia`` sanitiser) then cleans the HTML against an allow-list of
  tags, attributes, classes and URL schemes — a second line of defence should a parser rule ever emit
  something unexpected.  Following the OWASP XSS Prevention Cheat Sheet, nothing outside the list survives:
  no ``<script>``/``<style>`` (dropped with their content), no event handlers, no ``style`` attribute, and
  only ``http``/``https``/``mailto`` or relative links.

The page gets NHS.UK frontend classes (tables, lists), a visually hidden caption naming each table after the
heading above it, and headings shifted down ``shift`` levels so the page keeps a single h1.  A relative link
to another write-up (``spc.md``) points at its page (``spc``).
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

#: tags a method page may contain after rendering (everything else is stripped, its text kept)
ALLOWED_TAGS: frozenset[str] = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "a", "strong", "em", "s", "code", "pre",
    "ul", "ol", "li", "table", "caption", "thead", "tbody", "tr", "th", "td",
})
#: attributes allowed per tag, besides the class names of :data:`ALLOWED_CLASSES`
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "ol": {"start"}, "th": {"scope"},
                                           "pre": {"tabindex"}}
#: class names allowed per tag (the NHS.UK frontend's own)
ALLOWED_CLASSES: dict[str, set[str]] = {
    "table": {"nhsuk-table"}, "caption": {"nhsuk-table__caption", "nhsuk-u-visually-hidden"},
    "thead": {"nhsuk-table__head"}, "tbody": {"nhsuk-table__body"}, "tr": {"nhsuk-table__row"},
    "th": {"nhsuk-table__header"}, "td": {"nhsuk-table__cell"}, "ul": {"nhsuk-list", "nhsuk-list--bullet"},
    "ol": {"nhsuk-list", "nhsuk-list--number"}, "pre": {"app-code"},
}
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
#: elements removed together with their content (the rest keep their text)
DROP_WITH_CONTENT: frozenset[str] = frozenset({"script", "style", "iframe", "object", "embed", "template"})

_CLASSES = {
    "table_open": "nhsuk-table", "thead_open": "nhsuk-table__head", "tbody_open": "nhsuk-table__body",
    "tr_open": "nhsuk-table__row", "th_open": "nhsuk-table__header", "td_open": "nhsuk-table__cell",
    "bullet_list_open": "nhsuk-list nhsuk-list--bullet", "ordered_list_open": "nhsuk-list nhsuk-list--number",
}
_SIBLING_DOC = re.compile(r"^[\w-]+\.md(#[\w-]*)?$")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("image")

    def fence(renderer, tokens, idx, options, env):
        # focusable, so a keyboard can scroll a wide block (WCAG 2.1.1; axe "scrollable-region-focusable")
        code = escapeHtml(tokens[idx].content.rstrip(chr(10)))
        return f'<pre class="app-code" tabindex="0"><code>{code}</code></pre>\n'

    def table_open(renderer, tokens, idx, options, env):
        caption = tokens[idx].meta.get("caption", "")
        return (f'<table class="nhsuk-table"><caption class="nhsuk-table__caption nhsuk-u-visually-hidden">'
                f"{caption}</caption>\n")

    md.add_render_rule("fence", fence)
    md.add_render_rule("code_block", fence)
    md.add_render_rule("table_open", table_open)
    return md


def _decorate(md: MarkdownIt, tokens, shift: int) -> None:
    """NHS.UK classes, shifted headings, table captions and links between write-ups, on the token stream."""
    heading = "Table"
    for i, tok in enumerate(tokens):
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(6, int(tok.tag[1]) + shift)}"
            if tok.type == "heading_open":
                heading = md.renderer.renderInline(tokens[i + 1].children or [], md.options, {})
        if tok.type in ("th_open", "td_open"):
            tok.attrs.pop("style", None)  # column alignment: not on the allow-list
            if tok.type == "th_open":
                tok.attrSet("scope", "col")
        if tok.type in _CLASSES:
            tok.attrSet("class", _CLASSES[tok.type])
        if tok.type == "table_open":
            tok.meta["caption"] = f"Table: {heading}"
        for child in tok.children or []:
            href = child.attrGet("href") if child.type == "link_open" else None
            if href and _SIBLING_DOC.match(href):
                child.attrSet("href", href.replace(".md", "", 1))


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES, allowed_classes=ALLOWED_CLASSES,
                       url_schemes=set(URL_SCHEMES), clean_content_tags=set(DROP_WITH_CONTENT), strip_comments=True)


def sanitise(html: str) -> str:
    """Clean HTML against this module's allow-list (tags, attributes, classes, URL schemes)."""
    return _cleaner().clean(html)


def to_html(md: str, shift: int = 1) -> Markup:
    """Render Markdown to sanitised HTML, safe to insert into a page."""
    parser = _parser()
    tokens = parser.parse(md.replace("\r\n", "\n"))
    _decorate(parser, tokens, shift)
    return Markup(sanitise(parser.renderer.render(tokens, parser.options, {})))


def title_of(md: str, default: str) -> str:
    """The text of the document's first level-1 heading, else ``default``."""
    tokens = _parser().parse(md)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h1":
            return tokens[i + 1].content.strip()
    return default
