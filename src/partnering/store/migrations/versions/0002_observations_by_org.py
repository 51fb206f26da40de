"""index observations by organisation (one organisation's series are read per web request)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_obs_org", "observations", ["org_code", "indicator_code", "period"])


def downgrade() -> None:
    op.drop_index("ix_obs_org", table_name="observations")
