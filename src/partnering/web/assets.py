"""Copy the compiled front-end assets from ``node_modules`` into ``static/vendor`` (run at set-up).

``scripts/setup.sh`` runs ``npm ci`` (versions pinned by ``package-lock.json``) and then
``python -m partnering.web.assets``.  Nothing is fetched at run time: the app serves

* NHS.UK frontend (``nhsuk-frontend``, the version ``nhsuk-frontend-jinja`` targets) CSS, JS and images.
  The compiled CSS declares ``@font-face`` rules that load Frutiger from ``assets.nhs.uk``; those rules are
  removed here so no font request leaves the machine and text falls back to Arial (the CSS's own fallback).
* Swagger UI (``swagger-ui-dist``) for ``/api/v1/docs``.
* axe-core, for the accessibility tests only (never referenced by a page).

plotly.js is not copied: the app serves the ``plotly.min.js`` that the plotly Python package bundles.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from partnering.config import REPO_ROOT

STATIC = Path(__file__).with_name("static")
VENDOR = STATIC / "vendor"
FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
REMOTE_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)


def strip_remote_fonts(css: str) -> str:
    """Remove every ``@font-face`` rule (they point at a remote font server) and any other remote ``url()``."""
    css = FONT_FACE.sub("", css)
    return REMOTE_URL.sub("none", css)


def plotly_js() -> Path:
    """The ``plotly.min.js`` bundled with the plotly Python package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def install(node_modules: Path | None = None, vendor: Path = VENDOR) -> list[Path]:
    nm = Path(node_modules or REPO_ROOT / "node_modules")
    nhs = nm / "nhsuk-frontend" / "dist" / "nhsuk"
    if not nhs.is_dir():
        raise SystemExit(f"{nhs} not found: run `npm ci` in {REPO_ROOT} first")
    written: list[Path] = []
    out = vendor / "nhsuk"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    css = strip_remote_fonts((nhs / "nhsuk-frontend.min.css").read_text(encoding="utf-8"))
    (out / "nhsuk-frontend.min.css").write_text(css, encoding="utf-8")
    shutil.copy2(nhs / "nhsuk-frontend.min.js", out / "nhsuk-frontend.min.js")
    shutil.copytree(nhs / "assets", out / "assets")
    written += [out / "nhsuk-frontend.min.css", out / "nhsuk-frontend.min.js", out / "assets"]
    swagger = nm / "swagger-ui-dist"
    if swagger.is_dir():
        sw = vendor / "swagger-ui"
        sw.mkdir(parents=True, exist_ok=True)
        for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
            shutil.copy2(swagger / name, sw / name)
            written.append(sw / name)
    axe = nm / "axe-core" / "axe.min.js"
    if axe.is_file():
        (vendor / "axe").mkdir(parents=True, exist_ok=True)
        shutil.copy2(axe, vendor / "axe" / "axe.min.js")
        written.append(vendor / "axe" / "axe.min.js")
    return written


def main() -> None:
    written = install()
    print(f"Copied {len(written)} front-end asset(s) into {VENDOR}")


if __name__ == "__main__":
    main()
    sys.exit(0)
