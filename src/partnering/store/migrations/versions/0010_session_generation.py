"""users.session_generation: a password change ends the user's other web sessions

The web app keeps sessions in a signed cookie, so there is no server-side session to delete.  Each user gets a
counter that a password change or an administrator's reset bumps; a session carries the value it signed in
with and ends when the two differ (OWASP ASVS 4.0.3, V3.3.3).  Existing users start at 0, as do sessions made
before this migration, so nobody is signed out by the upgrade itself.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
