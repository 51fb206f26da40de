"""API operation summaries: each operation's ``summary=``, else the first sentence of its docstring.

FastAPI names an operation without ``summary=`` after its function ("Plan Get", "Spc For"); the docstring only
becomes the description. :func:`summarise` gives every route a real summary from its docstring so the OpenAPI
document and ``/api/v1/docs`` read as sentences; ``tests/integration/web/test_api_summaries.py`` refuses an
operation still named after its function.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi.routing import APIRoute


def _routes(router) -> Iterator[APIRoute]:
    for r in router.routes:
        if isinstance(r, APIRoute):
            yield r
        elif getattr(r, "original_router", None) is not None:  # FastAPI >= 0.16x keeps included routers whole
            yield from _routes(r.original_router)


def first_sentence(text: str) -> str:
    """The first sentence of a docstring (up to the first full stop followed by a space outside brackets, or the
    first blank line), on one line, without the full stop and without reST markup (``code``, :func:`x`)."""
    para = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    para = " ".join(para.split())
    para = re.sub(r":\w+:`~?([^`]+)`", r"\1", para).replace("``", "")
    depth = 0
    for i, ch in enumerate(para):
        depth += (ch in "([") - (ch in ")]")
        if ch == "." and depth <= 0 and (i + 1 == len(para) or para[i + 1] == " "):
            return para[:i].strip()
    return para.rstrip(".").strip()


def summarise(router) -> None:
    """Give every API route of ``router`` (included routers too) a summary from its docstring where it has none."""
    for route in _routes(router):
        if not route.summary and route.description:
            route.summary = first_sentence(route.description)
