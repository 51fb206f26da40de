"""``partnering annotate`` / ``partnering rebase`` / ``partnering notes``: annotations of a month and SPC rebases on
an organisation's charts (issue #14.3), from the command line.

A thin face over :mod:`partnering.store.annotations`: every write is audited as ``cli:<operating-system user>``
and can be put back with ``partnering notes undo EVENT`` (the event ids are in ``partnering audit``).  A rebase
restarts the series' SPC mean and limits from its month in ``assess``, ``report`` and the web app.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from partnering.cli import common

notes_app = typer.Typer(help="Annotations and rebases on organisations' SPC charts: list, change, delete, undo.",
                        no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _show(note) -> None:
    what = "Rebase" if note.kind == "rebase" else "Annotation"
    common.console.print(f"{what} {note.id}: {note.org_code} {note.indicator} {note.period}: {note.text} "
                         f"({note.created_by}, {note.created_at:%Y-%m-%d %H:%M})", highlight=False)


@notes_app.command("list")
def list_notes(org: Annotated[Optional[str], typer.Option("--org", help="Only this organisation (ODS code).")] = None,
               indicator: Annotated[Optional[str], typer.Option("--indicator", help="Only this indicator.")] = None,
               as_json: JSON = False) -> None:
    """The annotations and rebases recorded, by organisation, indicator and month."""
    from partnering.store.annotations import notes_frame

    df = notes_frame(common.engine(), [org] if org else None, [indicator] if indicator else None)
    if as_json:
        typer.echo(df.to_json(orient="records", date_format="iso"))
        return
    if df.empty:
        common.console.print("No annotations or rebases recorded.")
        return
    common.print_frame(df[["id", "org_code", "indicator", "period", "kind", "text", "created_by"]],
                       "Annotations and rebases", 200)


@notes_app.command("change")
def change(note_id: Annotated[int, typer.Argument(help="The note's id (partnering notes list).")],
           text: Annotated[Optional[str], typer.Option("--text", help="New text (a rebase: its reason).")] = None,
           period: Annotated[Optional[str], typer.Option("--period", help="New month, YYYY-MM.")] = None) -> None:
    """Change a note's text or month (audited)."""
    from partnering.store.annotations import change_note

    _show(change_note(common.engine(), note_id, text=text, period=period))


@notes_app.command("delete")
def delete(note_id: Annotated[int, typer.Argument(help="The note's id (partnering notes list).")]) -> None:
    """Delete a note (audited: ``partnering notes undo EVENT`` brings it back)."""
    from partnering.store.annotations import delete_note

    note = delete_note(common.engine(), note_id)
    common.console.print(f"Deleted note {note.id} ({note.kind} {note.org_code} {note.indicator} {note.period}).",
                         highlight=False)


@notes_app.command("undo")
def undo(event_id: Annotated[int, typer.Argument(help="The audit event of the change (partnering audit).")]) -> None:
    """Put a note back as it was before an audited change (an add is removed, a change reverted, a delete
    restored)."""
    from partnering.store.annotations import undo_change

    note = undo_change(common.engine(), event_id)
    if note is None:
        common.console.print(f"Undid event {event_id}: the note it added is removed.")
    else:
        _show(note)


def register(app: typer.Typer) -> None:
    app.add_typer(notes_app, name="notes")

    @app.command()
    def annotate(org: Annotated[str, typer.Argument(help="ODS code of the organisation.")],
                 indicator: Annotated[str, typer.Argument(help="Indicator code, e.g. ae_4h_pct_all.")],
                 period: Annotated[str, typer.Argument(help="The month, YYYY-MM.")],
                 text: Annotated[str, typer.Argument(help="What happened, e.g. 'New front door model'.")],
                 as_json: JSON = False) -> None:
        """Annotate a month of an organisation's SPC chart (shown on the chart, in the report and the exports)."""
        from partnering.store.annotations import add_note

        note = add_note(common.engine(), org, indicator, period, "annotation", text)
        typer.echo(json.dumps(note.audit_view())) if as_json else _show(note)

    @app.command()
    def rebase(org: Annotated[str, typer.Argument(help="ODS code of the organisation.")],
               indicator: Annotated[str, typer.Argument(help="Indicator code, e.g. ae_4h_pct_all.")],
               period: Annotated[str, typer.Argument(help="The first month of the new process, YYYY-MM.")],
               reason: Annotated[str, typer.Option("--reason", help="Why the process changed (required).")],
               as_json: JSON = False) -> None:
        """Record a rebase: the series' SPC mean and limits are recalculated from this month (Making Data Count:
        only for a sustained change with a known reason)."""
        from partnering.store.annotations import add_note

        note = add_note(common.engine(), org, indicator, period, "rebase", reason)
        typer.echo(json.dumps(note.audit_view())) if as_json else _show(note)
