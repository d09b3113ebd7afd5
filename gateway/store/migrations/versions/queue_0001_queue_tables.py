"""Queue tables: the action audit trail, the ticket projection, the per-hall sequence row.

Revision ID: queue_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "queue_0001"
down_revision = None
branch_labels = ("queue",)
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "queue_halls",
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hall", name=op.f("pk_queue_halls")),
    )
    op.create_table(
        "queue_actions",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("window", sa.String(32), nullable=True),
        sa.Column("ticket", sa.String(16), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_actions")),
        sa.UniqueConstraint("hall", "seq", name="uq_queue_actions_hall_seq"),
    )
    op.create_index("ix_queue_actions_hall_day", "queue_actions", ["hall", "day"])
    op.create_table(
        "queue_tickets",
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("origin_service", sa.String(32), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("window", sa.String(32), nullable=True),
        sa.Column("helper", sa.String(32), nullable=True),
        sa.Column("issued_ms", sa.BigInteger(), nullable=False),
        sa.Column("called_ms", sa.BigInteger(), nullable=True),
        sa.Column("done_ms", sa.BigInteger(), nullable=True),
        sa.Column("matter", sa.String(64), nullable=True),
        sa.Column("case_no", sa.String(64), nullable=True),
        sa.Column("mailing", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("hall", "day", "number", name=op.f("pk_queue_tickets")),
        sa.UniqueConstraint("token", name=op.f("uq_queue_tickets_token")),
    )


def downgrade() -> None:
    op.drop_table("queue_tickets")
    op.drop_index("ix_queue_actions_hall_day", table_name="queue_actions")
    op.drop_table("queue_actions")
    op.drop_table("queue_halls")
