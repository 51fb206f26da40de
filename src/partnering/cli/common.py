"""Shared plumbing for CLI commands: the chosen store, consoles, progress bars, table output.

Nothing heavy at import time (no pandas, SQLAlchemy, plots): ``partnering --help`` must start fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:  # pandas and rich's progress/table are imported by the commands that use them, not at start
    import pandas as pd
    from rich.progress import Progress

console = Console(soft_wrap=True)
if not console.is_terminal:  # piped or captured: wide tables rather than 80-column wrapping
    console = Console(soft_wrap=True, width=240)
err = Console(stderr=True, soft_wrap=True)


@dataclass
class State:
    db: str | None = None


state = State()


def engine():
    from partnering.store.db import get_engine

    return get_engine(state.db)


def progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False,
    )


def standard_shown(national: float | None, constitutional: float | None = None) -> str:
    """An indicator's standard as the tables show it: the national (operational) standard, and the constitutional
    one beside it where it differs; a constitutional standard alone (say the 95% for A&E types 2 and 3-4, which have
    no standard of their own) is shown "for reference", as the catalogue's ``standard_name`` says."""
    def num(v) -> float | None:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        return None if f != f else f

    n, c = num(national), num(constitutional)
    if n is None and c is None:
        return ""
    if n is None:
        return f"{c:g} (constitutional, for reference)"
    return f"{n:g}" if c is None or c == n else f"{n:g} (constitutional {c:g})"


def print_frame(df: pd.DataFrame, title: str | None = None, max_rows: int = 50, more: str | None = None) -> None:
    """``df`` as a table of at most ``max_rows`` rows; past that a line says how many more, and ``more`` (the
    command's own way to see them, e.g. "use --rows or --output") where the command has one."""
    import pandas as pd
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for c in df.columns:
        table.add_column(str(c), overflow="fold")
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*["" if (v is None or (isinstance(v, float) and pd.isna(v))) else
                        (f"{v:,.2f}" if isinstance(v, float) else str(v)) for v in row])
    console.print(table)
    if len(df) > max_rows:
        console.print(f"... {len(df) - max_rows:,} more rows not shown" + (f" ({more})" if more else ""),
                      markup=False)
