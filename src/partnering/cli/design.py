"""``partnering design ...``: system design (issue #12) — regions, shared-service networks, consolidation savings,
funding by weighted need.  One module per tool, each exposing ``register(design_app)``; heavy imports stay inside
the commands (the CLI's start-up must stay fast)."""

from __future__ import annotations

import importlib

import typer

DESIGN_MODULES = ("partnering.cli.design_regions", "partnering.cli.design_network", "partnering.cli.design_money")


def register(app: typer.Typer) -> None:
    design = typer.Typer(help="Design the system: regional groups, shared services, consolidation, funding by need.",
                         no_args_is_help=True)
    for name in DESIGN_MODULES:
        importlib.import_module(name).register(design)
    app.add_typer(design, name="design")
