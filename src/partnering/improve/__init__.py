"""Improvement work (issue #11 s.2): staff ideas, projects with driver diagrams, PDSA cycles linked to measures and
drawn on their SPC charts, progress scores on the IHI scale, projects linked to partnerships.  docs/register.md."""

from partnering.improve.access import may_manage, may_read, may_take_part
from partnering.improve.ideas import (
    IDEA_STATUSES,
    comment_on_idea,
    edit_comment,
    edit_idea,
    get_idea,
    idea_history,
    list_ideas,
    submit_idea,
    triage_idea,
    vote_for_idea,
)
from partnering.improve.progress import IHI_SCALE, check_score
from partnering.improve.projects import (
    DECISIONS,
    DRIVER_KINDS,
    PROJECT_STATUSES,
    Project,
    add_cycle,
    add_driver,
    create_project,
    cycle_annotations,
    get_project,
    list_projects,
    record_progress,
    remove_driver,
    update_cycle,
    update_project,
)

__all__ = [
    "DECISIONS", "DRIVER_KINDS", "IDEA_STATUSES", "IHI_SCALE", "PROJECT_STATUSES", "Project", "add_cycle",
    "add_driver", "check_score", "comment_on_idea", "create_project", "cycle_annotations", "edit_comment",
    "edit_idea", "get_idea", "get_project", "idea_history",
    "list_ideas", "list_projects", "may_manage", "may_read", "may_take_part", "record_progress", "remove_driver",
    "submit_idea", "triage_idea", "update_cycle", "update_project", "vote_for_idea",
]
