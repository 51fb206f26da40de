"""``partnering partnerships``: the partnership register from the command line (issue #11 s.1).

A thin face over :mod:`partnering.register`: list, show (with the change history), add, update, end, renew, and
CSV/XLSX import (every row-level problem on its own line: file, line, column, reason) and export.  Writes are
audited as ``cli:<operating-system user>``.  The library is imported inside the commands (``--help`` stays fast).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from partnering.cli import common
from partnering.errors import ValidationError

partnerships_app = typer.Typer(help="The partnership register: record, change, end, renew, import and export "
                                    "partnerships.", no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]
PARTY = Annotated[list[str] | None, typer.Option(
    "--party", help="A further party, role:CODE-or-name (repeat), e.g. university:'University of Ulstead'; roles: "
                    "partner, independent_sector, university, technology_partner, consultancy, commissioner, "
                    "regulator.")]
TARGET = Annotated[list[str] | None, typer.Option(
    "--target", help="An indicator to move, code[@ORG]:baseline:target:month (repeat), e.g. "
                     "ae_4h_pct_all:71.2:78:2026-03.")]


def _print_record(rec, history=None) -> None:
    from partnering.register import INGREDIENTS

    c = common.console
    c.print(f"[bold]Partnership {rec.id}[/] (version {rec.version}): {rec.title or ''}", highlight=False)
    c.print(f"{rec.recipient_code} supported by {rec.supporter_code}, {rec.form}, {rec.status}, "
            f"{rec.start_period or '?'} to {rec.end_period or 'open'}"
            + (f", mandated by {rec.mandated_by or 'a regulator'}" if rec.mandated else ", voluntary"),
            highlight=False)
    if rec.renews_id:
        c.print(f"Renews partnership {rec.renews_id}", highlight=False)
    for p in rec.parties[2:]:
        c.print(f"Party: {p.org_code or p.name} ({p.role})", highlight=False)
    if rec.aims:
        c.print(f"Aims: {rec.aims}", highlight=False)
    for t in rec.targets:
        c.print(f"Target: {t.indicator_code} for {t.org_code}: {t.baseline if t.baseline is not None else '?'} -> "
                f"{t.target if t.target is not None else '?'} by {t.target_period or '?'}", highlight=False)
    for key, label in INGREDIENTS.items():
        c.print(f"{label}: {rec.ingredients.get(key) or '[yellow]not recorded[/]'}", highlight=False)
    if rec.lessons:
        c.print(f"Lessons: {rec.lessons}", highlight=False)
    if rec.appraisal_case_id:
        c.print(f"Business case: appraisal case {rec.appraisal_case_id}", highlight=False)
    for h in history or []:
        c.print(f"  v{h['version']} {h['action']} by {h['actor']} at {h['at']:%Y-%m-%d %H:%M}", highlight=False)


def _lists(party, target) -> dict:
    from partnering.register.files import parse_parties, parse_targets

    out = {}
    try:
        if party is not None:
            out["parties"] = parse_parties("; ".join(party))
        if target is not None:
            out["targets"] = parse_targets("; ".join(target))
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    return out


@partnerships_app.command("list")
def list_cmd(org: Annotated[str | None, typer.Option("--org", help="Only where this organisation is recipient "
                                                                   "or supporter.")] = None,
             status: Annotated[str | None, typer.Option("--status", help="proposed, active or ended")] = None,
             form: Annotated[str | None, typer.Option("--form")] = None, as_json: JSON = False) -> None:
    """The register, newest first."""
    from partnering.register import list_partnerships

    df = list_partnerships(common.engine(), org=org, status=status, form=form)
    if as_json:
        common.console.print_json(df.to_json(orient="records", date_format="iso"))
        return
    common.print_frame(df[["id", "title", "recipient_code", "supporter_code", "form", "status", "start_period",
                           "end_period", "indicators", "ingredients_addressed"]], title="Partnership register")


@partnerships_app.command("show")
def show(partnership_id: int, as_json: JSON = False) -> None:
    """One partnership with its parties, targets, ingredients for success and change history."""
    from partnering.register import get_partnership, partnership_history

    eng = common.engine()
    rec = get_partnership(eng, partnership_id)
    history = partnership_history(eng, partnership_id)
    if as_json:
        out = rec.to_dict()
        out["history"] = [{k: (v.isoformat(timespec="seconds") if k == "at" else v) for k, v in h.items()
                           if k != "snapshot"} for h in history]
        print(json.dumps(out, default=str))
        return
    _print_record(rec, history)


@partnerships_app.command("add")
def add(recipient: Annotated[str, typer.Option("--recipient", help="ODS code of the organisation supported")],
        supporter: Annotated[str, typer.Option("--supporter", help="ODS code of the supporting organisation")],
        form: Annotated[str, typer.Option("--form", help="buddying, alliance, joint_venture, management_contract, "
                                                         "merger or public_private")],
        start: Annotated[str | None, typer.Option("--start", help="First month, e.g. 2025-04")] = None,
        end: Annotated[str | None, typer.Option("--end", help="Last month, if known")] = None,
        title: Annotated[str | None, typer.Option("--title")] = None,
        status: Annotated[str, typer.Option("--status", help="proposed, active or ended")] = "active",
        mandated_by: Annotated[str | None, typer.Option("--mandated-by", help="The regulator or programme that "
                                                        "mandated it (blank: voluntary)")] = None,
        aims: Annotated[str | None, typer.Option("--aims")] = None,
        case: Annotated[int | None, typer.Option("--case", help="The appraisal case it came from (id)")] = None,
        party: PARTY = None, target: TARGET = None, as_json: JSON = False) -> None:
    """Record a partnership (ingredients for success, lessons: 'partnerships update ID --set field=value')."""
    from partnering.register import add_partnership

    data = {"recipient_code": recipient, "supporter_code": supporter, "form": form, "start_period": start,
            "end_period": end, "title": title, "status": status, "mandated_by": mandated_by, "aims": aims,
            "appraisal_case_id": case, **_lists(party, target)}
    rec = add_partnership(common.engine(), data)
    if as_json:
        print(json.dumps(rec.to_dict(), default=str))
    else:
        common.console.print(f"Recorded partnership {rec.id}: {rec.recipient_code} with {rec.supporter_code} "
                             f"({rec.form})", highlight=False)


def _settings(pairs: list[str]) -> dict:
    out = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--set {p!r}: give field=value, e.g. --set lessons='...'")
        key = key.strip()
        out[key] = (value.strip().lower() in ("yes", "true", "1", "y")) if key == "mandated" else (value or None)
    return out


@partnerships_app.command("update")
def update_cmd(partnership_id: int,
               set_: Annotated[list[str] | None, typer.Option("--set", help="field=value (repeat), e.g. "
                                                              "--set staff_engagement='...'")] = None,
               party: PARTY = None, target: TARGET = None,
               version: Annotated[int | None, typer.Option("--version", help="Refuse if the entry is no longer "
                                                           "at this version")] = None,
               as_json: JSON = False) -> None:
    """Change fields of a partnership (--party / --target replace those lists); a new version is kept."""
    from partnering.register import update_partnership

    changes = {**_settings(set_ or []), **_lists(party, target)}
    if not changes:
        raise ValidationError("nothing to change: give --set field=value, --party or --target")
    rec = update_partnership(common.engine(), partnership_id, changes, expected_version=version)
    if as_json:
        print(json.dumps(rec.to_dict(), default=str))
    else:
        common.console.print(f"Partnership {rec.id} is at version {rec.version}", highlight=False)


@partnerships_app.command("end")
def end_cmd(partnership_id: int, end: Annotated[str, typer.Option("--end", help="Last month, e.g. 2026-03")],
            lessons: Annotated[str | None, typer.Option("--lessons", help="What was learned")] = None,
            reason: Annotated[str | None, typer.Option("--reason", help="Why it ended (added to the lessons as "
                                                       "'Ended in YYYY-MM: ...')")] = None) -> None:
    """End a partnership (status ended), with why and its lessons."""
    from partnering.register import end_partnership

    rec = end_partnership(common.engine(), partnership_id, end, lessons=lessons, reason=reason)
    common.console.print(f"Partnership {rec.id} ended in {rec.end_period} (version {rec.version})",
                         highlight=False)


@partnerships_app.command("renew")
def renew_cmd(partnership_id: int,
              start: Annotated[str, typer.Option("--start", help="First month of the new period")],
              end: Annotated[str | None, typer.Option("--end", help="Last month of the new period")] = None,
              as_json: JSON = False) -> None:
    """Renew a partnership for a new period: a new entry linked to it, carrying its parties, aims and targets."""
    from partnering.register import renew_partnership

    rec = renew_partnership(common.engine(), partnership_id, start, changes={"end_period": end} if end else None)
    if as_json:
        print(json.dumps(rec.to_dict(), default=str))
    else:
        common.console.print(f"Partnership {rec.id} renews {partnership_id} from {rec.start_period}",
                             highlight=False)


@partnerships_app.command("import")
def import_cmd(file: Annotated[str, typer.Argument(help="A .csv or .xlsx file of register entries")],
               as_json: JSON = False) -> None:
    """Import entries (rows with an id update that entry); nothing is written if any row has a problem."""
    from partnering.register import import_partnerships

    res = import_partnerships(common.engine(), file)
    if as_json:
        print(json.dumps(res.to_dict()))
    else:
        for e in res.errors:
            common.err.print(f"[bold red]Error:[/] {e.user_message()}", highlight=False)
        if res.ok:
            common.console.print(f"{res.file}: {len(res.created)} added, {len(res.updated)} updated, "
                                 f"{len(res.unchanged)} unchanged", highlight=False)
    if not res.ok:
        if not as_json:
            common.err.print(f"{len(res.errors)} problem(s): nothing was imported", highlight=False)
        raise typer.Exit(2)


@partnerships_app.command("export")
def export_cmd(file: Annotated[str, typer.Argument(help="Where to write: .csv or .xlsx")]) -> None:
    """Export the register (the import's columns)."""
    from partnering.register import export_partnerships

    df = export_partnerships(common.engine(), file)
    common.console.print(f"Wrote {len(df)} partnership(s) to {file}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(partnerships_app, name="partnerships")
