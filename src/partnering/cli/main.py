"""The ``partnering`` command: a thin face over the library.

Each group of commands lives in its own module exposing ``register(app)``;
this module only assembles them and turns library errors into one clear line.
"""

from __future__ import annotations

import importlib
import shutil
import sys

import typer
import typer.rich_utils
from rich.console import Console

from partnering.config import terminal_width_setting
from partnering.errors import PartneringError

app = typer.Typer(
    name="partnering",
    help="Partnering: measure NHS performance, find partners, plan buddying, evidence the choice.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)

#: ``--help`` is laid out at least this wide, so option names and command summaries are never cut with "…"
#: (typer's rich help truncates what does not fit: at 80 columns "--create-organisati…"); wider terminals use
#: their width. ``TERMINAL_WIDTH`` (typer's own setting) still wins.
HELP_MIN_WIDTH = 100
if not terminal_width_setting():
    typer.rich_utils.MAX_WIDTH = max(shutil.get_terminal_size((80, 24)).columns, HELP_MIN_WIDTH)

# One module per command group; each defines register(app).
COMMAND_MODULES = (
    "partnering.cli.core",
    "partnering.cli.measure",
    "partnering.cli.match",
    "partnering.cli.spc",
    "partnering.cli.web",
    "partnering.cli.appraise",
    "partnering.cli.register",
    "partnering.cli.improve",
    "partnering.cli.evaluate",
    "partnering.cli.design",
    "partnering.cli.notes",
    "partnering.cli.compute",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def run() -> None:
    """Entry point: Typer/Click handle usage errors (exit 2); library errors become one line and exit 2."""
    try:
        app(standalone_mode=True)
    except PartneringError as exc:
        err_console.print(f"[bold red]Error:[/] {exc.user_message()}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
