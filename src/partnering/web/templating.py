"""The one Jinja environment of the web face: templates per stage, the NHS.UK frontend macros, shared filters.

Templates live in ``web/templates/<stage>/`` (``system``, ``organisation``, ``match``, ``data``, ``accounts``; later
stages add their own folder) with the layout, macros and error page in ``web/templates/shared/``.  The NHS.UK
components (``header``, ``footer``, ``nhsuk/template.jinja``) come from the ``nhsuk-frontend-jinja`` package.
Templates are read once (``auto_reload=False``): no per-render file checks.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from markupsafe import Markup

from partnering.web import icons

TEMPLATES = Path(__file__).with_name("templates")


def num(v, digits: int = 1, unit: str = "") -> str:
    """A number as the pages show it: thousands separators, ``%`` for percentages, an en dash for NaN."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "" if v is None else str(v)
    if f != f:
        return "–"
    if unit == "percent":
        return f"{f:.{digits}f}%"
    if unit == "count" or (digits == 0):
        return f"{f:,.0f}"
    return f"{f:,.{digits}f}"


def yesno(v) -> str:
    return "Yes" if bool(v) and str(v) != "nan" else "No"


@lru_cache(maxsize=1)
def template_env() -> Environment:
    """The one Jinja environment (templates are read once: no per-render file checks)."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), PackageLoader("nhsuk_frontend_jinja")]),
        undefined=ChainableUndefined, autoescape=True, auto_reload=False,
    )
    env.globals.update(variation_icon=icons.variation_icon, assurance_icon=icons.assurance_icon,
                       icon_sprite=icons.sprite, VARIATION_SHORT=icons.VARIATION_SHORT,
                       ASSURANCE_SHORT=icons.ASSURANCE_SHORT)
    env.filters["num"] = num
    env.filters["yesno"] = yesno
    return env


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """Starlette's template responses over :func:`template_env`."""
    return Jinja2Templates(env=template_env())


def render_fragment(template: str, **ctx) -> Markup:
    """A template rendered to safe HTML outside a request (a page body prepared once and cached)."""
    return Markup(template_env().get_template(template).render(**ctx))
