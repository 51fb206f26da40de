"""chart notes: annotations and SPC rebases

Issue #14.3: an analyst annotates a month of an organisation x indicator series, or records a rebase there with its
reason (SPC limits are recalculated from it, as NHSRplotthedots' ``rebase``); who and when are kept, writes audited.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chart_notes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("org_code", sa.String(16), nullable=False),
        sa.Column("indicator_code", sa.String(80), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_chart_notes_series", "chart_notes", ["org_code", "indicator_code"])


def downgrade() -> None:
    op.drop_index("ix_chart_notes_series", table_name="chart_notes")
    op.drop_table("chart_notes")
