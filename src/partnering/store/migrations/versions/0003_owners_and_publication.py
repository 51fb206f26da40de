"""indicator owners and batch publication dates

Every indicator has an owner (an official loader, or "kpi" for organisations' own measures), so that a KPI file
cannot overwrite an official figure; every batch records when its source published it, so that the latest
publication, not the latest load, is current.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("indicators") as t:
        t.add_column(sa.Column("owner", sa.String(40), nullable=True))
    with op.batch_alter_table("import_batches") as t:
        t.add_column(sa.Column("published_on", sa.Date(), nullable=True))
        t.add_column(sa.Column("publication_basis", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_batches") as t:
        t.drop_column("publication_basis")
        t.drop_column("published_on")
    with op.batch_alter_table("indicators") as t:
        t.drop_column("owner")
