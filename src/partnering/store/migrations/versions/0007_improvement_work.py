"""improvement work

Issue #11 s.2: staff ideas (comments, one vote per person), improvement projects (aim, status, partnership), their
driver diagrams (a tree of primary and secondary drivers and change ideas), PDSA cycles with the measures they are
judged by, and progress scores on the IHI assessment scale.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, ondelete: str, nullable: bool = False) -> sa.Column:
    return sa.Column(column, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "improvement_projects",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("org_code", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("aim", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        _fk("partnership_id", "partnerships.id", "SET NULL", nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_improvement_projects_org_code", "improvement_projects", ["org_code"])
    op.create_index("ix_improvement_projects_partnership_id", "improvement_projects", ["partnership_id"])
    op.create_table(
        "improvement_ideas",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("org_code", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("needs_money", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("triage_note", sa.Text(), nullable=True),
        _fk("project_id", "improvement_projects.id", "SET NULL", nullable=True),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_improvement_ideas_org_code", "improvement_ideas", ["org_code"])
    op.create_index("ix_improvement_ideas_project_id", "improvement_ideas", ["project_id"])
    op.create_table(
        "idea_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _fk("idea_id", "improvement_ideas.id", "CASCADE"),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_idea_comments_idea_id", "idea_comments", ["idea_id"])
    op.create_table(
        "idea_votes",
        sa.Column("idea_id", sa.Integer(), sa.ForeignKey("improvement_ideas.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("voter", sa.String(200), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "driver_nodes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _fk("project_id", "improvement_projects.id", "CASCADE"),
        _fk("parent_id", "driver_nodes.id", "CASCADE", nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_driver_nodes_project_id", "driver_nodes", ["project_id"])
    op.create_index("ix_driver_nodes_parent_id", "driver_nodes", ["parent_id"])
    op.create_table(
        "pdsa_cycles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _fk("project_id", "improvement_projects.id", "CASCADE"),
        _fk("change_idea_id", "driver_nodes.id", "SET NULL", nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("start_period", sa.String(7), nullable=False),
        sa.Column("end_period", sa.String(7), nullable=True),
        sa.Column("plan_text", sa.Text(), nullable=True),
        sa.Column("do_text", sa.Text(), nullable=True),
        sa.Column("study_text", sa.Text(), nullable=True),
        sa.Column("act_text", sa.Text(), nullable=True),
        sa.Column("decision", sa.String(10), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_pdsa_cycles_project_id", "pdsa_cycles", ["project_id"])
    op.create_table(
        "pdsa_measures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _fk("cycle_id", "pdsa_cycles.id", "CASCADE"),
        sa.Column("indicator_code", sa.String(80), nullable=False),
        sa.Column("org_code", sa.String(16), nullable=True),
    )
    op.create_index("ix_pdsa_measures_cycle_id", "pdsa_measures", ["cycle_id"])
    op.create_table(
        "project_progress",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _fk("project_id", "improvement_projects.id", "CASCADE"),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_project_progress_project_id", "project_progress", ["project_id"])


def downgrade() -> None:
    for table, indexed in (("project_progress", ["project_id"]), ("pdsa_measures", ["cycle_id"]),
                           ("pdsa_cycles", ["project_id"]), ("driver_nodes", ["parent_id", "project_id"]),
                           ("idea_votes", []), ("idea_comments", ["idea_id"]),
                           ("improvement_ideas", ["project_id", "org_code"]),
                           ("improvement_projects", ["partnership_id", "org_code"])):
        for col in indexed:
            op.drop_index(f"ix_{table}_{col}", table_name=table)
        op.drop_table(table)
