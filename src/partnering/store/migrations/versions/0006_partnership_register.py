"""partnership register

The register of issue #11: the existing ``partnerships`` table is extended in place (its rows are kept, each
becoming version 1 of a register entry) with title, status, whether a regulator mandated it, aims, the ingredients
for success, lessons, the business case it came from and the period it renews; its unique constraint on
recipient x supporter x form is dropped, because a renewal is a new period of the same pair and form.  Three tables
hold the further parties, the indicators with targets, and every saved version (the change history).

Existing rows whose end month has passed are marked ``ended``; the others ``active``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.drop_constraint("uq_partnership", type_="unique")
        batch_op.add_column(sa.Column("title", sa.String(300), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="active"))
        batch_op.add_column(sa.Column("mandated", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("mandated_by", sa.String(200), nullable=True))
        for name in ("aims", "leadership_support", "measures_agreed", "why_this_partner", "staff_engagement",
                     "good_practice", "lessons"):
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("appraisal_case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("renews_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("created_by", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key("fk_partnerships_appraisal_case", "appraisal_cases", ["appraisal_case_id"],
                                    ["id"], ondelete="SET NULL")
        batch_op.create_foreign_key("fk_partnerships_renews", "partnerships", ["renews_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.create_index("ix_partnerships_renews_id", ["renews_id"], unique=False)
    this_month = date.today().strftime("%Y-%m")
    op.execute(sa.text("UPDATE partnerships SET status = 'ended' WHERE end_period IS NOT NULL AND end_period < :m")
               .bindparams(m=this_month))

    op.create_table(
        "partnership_parties",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partnership_id", sa.Integer(), sa.ForeignKey("partnerships.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("org_code", sa.String(16), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("role", sa.String(40), nullable=False),
    )
    op.create_index("ix_partnership_parties_partnership_id", "partnership_parties", ["partnership_id"])
    op.create_table(
        "partnership_indicators",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partnership_id", sa.Integer(), sa.ForeignKey("partnerships.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("indicator_code", sa.String(80), nullable=False),
        sa.Column("org_code", sa.String(16), nullable=True),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("target_period", sa.String(7), nullable=True),
    )
    op.create_index("ix_partnership_indicators_partnership_id", "partnership_indicators", ["partnership_id"])
    op.create_table(
        "partnership_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("partnership_id", sa.Integer(), sa.ForeignKey("partnerships.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.UniqueConstraint("partnership_id", "version", name="uq_partnership_version"),
    )
    op.create_index("ix_partnership_versions_partnership_id", "partnership_versions", ["partnership_id"])


def downgrade() -> None:
    for table in ("partnership_versions", "partnership_indicators", "partnership_parties"):
        op.drop_index(f"ix_{table}_partnership_id", table_name=table)
        op.drop_table(table)
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.drop_index("ix_partnerships_renews_id")
        batch_op.drop_constraint("fk_partnerships_renews", type_="foreignkey")
        batch_op.drop_constraint("fk_partnerships_appraisal_case", type_="foreignkey")
        for name in ("updated_at", "created_at", "created_by", "version", "renews_id", "appraisal_case_id",
                     "lessons", "good_practice", "staff_engagement", "why_this_partner", "measures_agreed",
                     "leadership_support", "aims", "mandated_by", "mandated", "status", "title"):
            batch_op.drop_column(name)
        batch_op.create_unique_constraint("uq_partnership", ["recipient_code", "supporter_code", "form"])
