"""ended_sessions: signing out ends the session on the server, not only in the browser

Sessions are signed cookies; before this, sign-out only cleared the cookie, so a copy taken earlier stayed valid
until it expired.  Each session now carries a random id from sign-in, and sign-out records the id here until any
copy of the cookie would have expired (OWASP ASVS 4.0.3, V3.3.1).  Sessions made before this migration carry no
id and are treated as signed out, so everyone signs in once after the upgrade.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index(op.f("ix_ended_sessions_expires_at"), "ended_sessions", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ended_sessions_expires_at"), table_name="ended_sessions")
    op.drop_table("ended_sessions")
