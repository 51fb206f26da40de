"""batch ids are never reused

After ``partnering batches undo`` deletes the newest batch, SQLite would give the next load the same id (a rowid
table reuses the highest id); the audit log names batches by id, so an id must stay unique for good.  A small table
keeps the highest id ever given; the store allocates past it (PostgreSQL's sequences never reuse ids anyway).  No
table is rebuilt, so stores with data upgrade in place.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "id_high_water",
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("last_id", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("id_high_water")
