"""Follow-up cases and their steps (差评整改).

Revision ID: followup_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "followup_0001"
down_revision = None
branch_labels = ("followup",)
depends_on = "core_0001"

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "followup_cases",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("rating_id", BigInt, nullable=False),
        sa.Column("level", sa.String(24), nullable=False),
        sa.Column("clerk", sa.String(32), nullable=True),
        sa.Column("window", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(32), nullable=True),
        sa.Column("assigned_by", sa.String(16), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.String(10), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("visited_ms", sa.BigInteger(), nullable=True),
        sa.Column("finding", sa.String(16), nullable=True),
        sa.Column("resolved_ms", sa.BigInteger(), nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.Column("citizen_view", sa.String(16), nullable=True),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True),
        sa.Column("escalation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("escalated_to", sa.String(32), nullable=True),
        sa.Column("appeal", sa.String(16), nullable=True),
        sa.Column("appeal_reason", sa.String(16), nullable=True),
        sa.Column("state_before_appeal", sa.String(16), nullable=True),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_followup_cases_rating_id_ratings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_cases")),
        sa.UniqueConstraint("rating_id", name="uq_followup_cases_rating_id"),
    )
    op.create_index("ix_followup_cases_state", "followup_cases", ["hall", "state"])
    op.create_table(
        "followup_steps",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("case_id", BigInt, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(500), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["followup_cases.id"],
            name=op.f("fk_followup_steps_case_id_followup_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_steps")),
    )
    op.create_index("ix_followup_steps_case", "followup_steps", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_followup_steps_case", "followup_steps")
    op.drop_table("followup_steps")
    op.drop_index("ix_followup_cases_state", "followup_cases")
    op.drop_table("followup_cases")
