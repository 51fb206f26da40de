"""peer groups: an organisation's pinned peers

Issue #14.5: an analyst of the organisation (or an administrator) chooses its peer group on its page, in the API or
with ``partnering peers --pin``; the codes are kept in order with the reason, who and when; writes are audited.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_groups",
        sa.Column("org_code", sa.String(16), primary_key=True),
        sa.Column("peers", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("peer_groups")
