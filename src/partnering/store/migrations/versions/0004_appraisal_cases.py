"""appraisal cases

Stored decision cases (issue #10): the TOML text of a case, its organisation, title, author and times.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appraisal_cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("org_code", sa.String(16), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_appraisal_cases_org_code", "appraisal_cases", ["org_code"])


def downgrade() -> None:
    op.drop_index("ix_appraisal_cases_org_code", table_name="appraisal_cases")
    op.drop_table("appraisal_cases")
