"""``partnering improve``: improvement work from the command line (issue #11 s.2) — ideas, projects (driver
diagrams, progress scores) and PDSA cycles.  A thin face over :mod:`partnering.improve`; writes are audited as
``cli:<operating-system user>``.  The library is imported inside the commands."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from partnering.cli import common

improve_app = typer.Typer(help="Improvement work: staff ideas, projects with driver diagrams, PDSA cycles on SPC "
                               "charts, IHI progress scores.", no_args_is_help=True)
ideas_app = typer.Typer(help="Staff ideas: submit, comment, vote, triage.", no_args_is_help=True)
projects_app = typer.Typer(help="Projects: create, show, drivers, progress scores.", no_args_is_help=True)
cycles_app = typer.Typer(help="PDSA cycles linked to measures.", no_args_is_help=True)
improve_app.add_typer(ideas_app, name="ideas")
improve_app.add_typer(projects_app, name="projects")
improve_app.add_typer(cycles_app, name="cycles")

JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _say(text: str) -> None:
    common.console.print(text, highlight=False)


@ideas_app.command("list")
def ideas_list(org: Annotated[str | None, typer.Option("--org")] = None,
               status: Annotated[str | None, typer.Option("--status")] = None, as_json: JSON = False) -> None:
    """Ideas, most voted first."""
    from partnering.improve import list_ideas

    df = list_ideas(common.engine(), org, status)
    if as_json:
        print(df.to_json(orient="records", date_format="iso"))
        return
    common.print_frame(df[["id", "org_code", "title", "status", "needs_money", "votes", "comments", "project_id"]],
                       title="Ideas")


@ideas_app.command("submit")
def ideas_submit(org: Annotated[str, typer.Option("--org", help="The organisation the idea is for")],
                 title: Annotated[str, typer.Option("--title")],
                 description: Annotated[str | None, typer.Option("--description")] = None,
                 needs_money: Annotated[bool, typer.Option("--needs-money/--no-money")] = False) -> None:
    """Submit an idea."""
    from partnering.improve import submit_idea

    _say(f"Idea {submit_idea(common.engine(), org, title, description, needs_money)} submitted")


@ideas_app.command("comment")
def ideas_comment(idea_id: int, text: Annotated[str, typer.Option("--text")]) -> None:
    from partnering.improve import comment_on_idea

    comment_on_idea(common.engine(), idea_id, text)
    _say(f"Comment added to idea {idea_id}")


AS_ADMIN = Annotated[bool, typer.Option("--as-admin", help="Edit another person's text as an administrator (the "
                                         "command line has the store's rights; audited as cli:<user>)")]


@ideas_app.command("edit")
def ideas_edit(idea_id: int, title: Annotated[str | None, typer.Option("--title")] = None,
               description: Annotated[str | None, typer.Option("--description", help="New detail ('' clears "
                                                               "it)")] = None,
               needs_money: Annotated[bool | None, typer.Option("--needs-money/--no-money")] = None,
               as_admin: AS_ADMIN = False) -> None:
    """Edit an idea you submitted (audited with the fields before and after)."""
    from partnering.improve import edit_idea

    after = edit_idea(common.engine(), idea_id, title=title, description=description, needs_money=needs_money,
                      as_admin=as_admin)
    _say(f"Idea {idea_id}: {after['title']}")


@ideas_app.command("edit-comment")
def ideas_edit_comment(idea_id: int, comment_id: int, text: Annotated[str, typer.Option("--text")],
                       as_admin: AS_ADMIN = False) -> None:
    """Edit a comment you wrote on an idea (audited with the text before and after)."""
    from partnering.improve import edit_comment

    edit_comment(common.engine(), idea_id, comment_id, text, as_admin=as_admin)
    _say(f"Comment {comment_id} on idea {idea_id} changed")


@ideas_app.command("history")
def ideas_history(idea_id: int, as_json: JSON = False) -> None:
    """Every edit of an idea and its comments, oldest first, from the audit log."""
    from partnering.improve import idea_history

    rows = idea_history(common.engine(), idea_id)
    if as_json:
        print(json.dumps(rows, default=str))
        return
    if not rows:
        _say(f"Idea {idea_id} has not been edited")
    for h in rows:
        _say(f"{h['at']:%Y-%m-%d %H:%M} {h['actor']} {h['what']}: {h['before']} -> {h['after']}")


@ideas_app.command("vote")
def ideas_vote(idea_id: int, remove: Annotated[bool, typer.Option("--remove", help="Take your vote back")] = False
               ) -> None:
    from partnering.improve import vote_for_idea

    _say(f"Idea {idea_id} has {vote_for_idea(common.engine(), idea_id, remove=remove)} vote(s)")


@ideas_app.command("triage")
def ideas_triage(idea_id: int,
                 status: Annotated[str, typer.Option("--status", help="under_review, accepted or "
                                                     "not_taken_forward")],
                 note: Annotated[str | None, typer.Option("--note", help="Why (required when not taken "
                                                          "forward)")] = None,
                 project: Annotated[int | None, typer.Option("--project", help="The project it goes into")] = None
                 ) -> None:
    from partnering.improve import triage_idea

    after = triage_idea(common.engine(), idea_id, status, note, project)
    _say(f"Idea {idea_id}: {after['status']}")


@projects_app.command("list")
def projects_list(org: Annotated[str | None, typer.Option("--org")] = None,
                  partnership: Annotated[int | None, typer.Option("--partnership")] = None,
                  as_json: JSON = False) -> None:
    from partnering.improve import list_projects

    df = list_projects(common.engine(), org, partnership)
    if as_json:
        print(df.to_json(orient="records", date_format="iso"))
        return
    common.print_frame(df[["id", "org_code", "title", "status", "partnership_id", "cycles", "latest_score"]],
                       title="Improvement projects")


@projects_app.command("create")
def projects_create(org: Annotated[str, typer.Option("--org")], title: Annotated[str, typer.Option("--title")],
                    aim: Annotated[str | None, typer.Option("--aim")] = None,
                    partnership: Annotated[int | None, typer.Option("--partnership")] = None,
                    from_idea: Annotated[int | None, typer.Option("--from-idea", help="Accept this idea into "
                                                                  "it")] = None) -> None:
    from partnering.improve import create_project

    _say(f"Project {create_project(common.engine(), org, title, aim, partnership, from_idea)} created")


@projects_app.command("show")
def projects_show(project_id: int, as_json: JSON = False) -> None:
    """A project: aim, driver diagram, cycles with their measures, progress scores."""
    from dataclasses import asdict

    from partnering.improve import get_project

    p = get_project(common.engine(), project_id)
    if as_json:
        print(json.dumps(asdict(p), default=str))
        return
    _say(f"[bold]Project {p.id}[/]: {p.title} ({p.org_code}, {p.status})"
         + (f", partnership {p.partnership_id}" if p.partnership_id else ""))
    _say(f"Aim: {p.aim or 'not set'}")

    def tree(nodes, depth):
        for n in nodes:
            _say(f"{'  ' * depth}- {n.kind.replace('_', ' ')} {n.id}: {n.text}")
            tree(n.children, depth + 1)

    tree(p.drivers, 1)
    for n, c in enumerate(p.cycles, 1):
        ms = ", ".join(f"{m['indicator_code']}@{m['org_code']}" for m in c["measures"]) or "no measure"
        _say(f"PDSA {n} (cycle {c['id']}): {c['title']} from {c['start_period']}; {ms}"
             + (f"; {c['decision']}" if c["decision"] else ""))
    for s in p.progress:
        _say(f"Progress {s['period']}: {s['score']:g} {s['label']}")


@projects_app.command("driver")
def projects_driver(project_id: int, kind: Annotated[str, typer.Option("--kind", help="primary, secondary or "
                                                                       "change_idea")],
                    text: Annotated[str, typer.Option("--text")],
                    parent: Annotated[int | None, typer.Option("--parent", help="The driver it sits under")] = None
                    ) -> None:
    """Add a node to the project's driver diagram."""
    from partnering.improve import add_driver

    _say(f"Driver {add_driver(common.engine(), project_id, kind, text, parent)} added")


@projects_app.command("progress")
def projects_progress(project_id: int, score: Annotated[float, typer.Option("--score", help="IHI scale, 0.5 to "
                                                                            "5.0 in half points")],
                      period: Annotated[str, typer.Option("--period", help="The month, e.g. 2025-06")],
                      note: Annotated[str | None, typer.Option("--note")] = None) -> None:
    from partnering.improve import record_progress
    from partnering.improve.progress import label

    record_progress(common.engine(), project_id, period, score, note)
    _say(f"Project {project_id}: {score:g} ({label(score)}) in {period}")


@cycles_app.command("add")
def cycles_add(project_id: int, title: Annotated[str, typer.Option("--title")],
               start: Annotated[str, typer.Option("--start", help="First month, e.g. 2025-05")],
               measure: Annotated[list[str] | None, typer.Option("--measure", help="Indicator code (CODE@ORG for "
                                                                 "another organisation's series); repeat")] = None,
               change_idea: Annotated[int | None, typer.Option("--change-idea")] = None,
               end: Annotated[str | None, typer.Option("--end")] = None,
               plan: Annotated[str | None, typer.Option("--plan")] = None,
               do: Annotated[str | None, typer.Option("--do")] = None,
               study: Annotated[str | None, typer.Option("--study")] = None,
               act: Annotated[str | None, typer.Option("--act")] = None,
               decision: Annotated[str | None, typer.Option("--decision", help="adopt, adapt or abandon")] = None
               ) -> None:
    """Add a PDSA cycle to a project."""
    from partnering.improve import add_cycle

    cid = add_cycle(common.engine(), project_id, title, start, measure or [], change_idea, end, plan, do, study,
                    act, decision)
    _say(f"Cycle {cid} added to project {project_id}")


@cycles_app.command("update")
def cycles_update(cycle_id: int, end: Annotated[str | None, typer.Option("--end")] = None,
                  study: Annotated[str | None, typer.Option("--study")] = None,
                  act: Annotated[str | None, typer.Option("--act")] = None,
                  decision: Annotated[str | None, typer.Option("--decision")] = None) -> None:
    """Record a cycle's end, what was studied, what was done next, and the decision."""
    from partnering.improve import update_cycle

    changes = {k: v for k, v in (("end_period", end), ("study", study), ("act", act), ("decision", decision))
               if v is not None}
    update_cycle(common.engine(), cycle_id, **changes)
    _say(f"Cycle {cycle_id} updated")


def register(app: typer.Typer) -> None:
    app.add_typer(improve_app, name="improve")
