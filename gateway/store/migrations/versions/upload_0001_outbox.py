"""Provincial upload outbox.

Revision ID: upload_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "upload_0001"
down_revision = None
branch_labels = ("upload",)
depends_on = "core_0001"

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "upload_outbox",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("rating_id", BigInt, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("idem_key", sa.String(64), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("sent_ms", sa.BigInteger(), nullable=True),
        sa.Column("acked_ms", sa.BigInteger(), nullable=True),
        sa.Column("remote_id", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_upload_outbox_rating_id_ratings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_outbox")),
        sa.UniqueConstraint("idem_key", name="uq_upload_outbox_idem_key"),
        sa.UniqueConstraint("rating_id", name="uq_upload_outbox_rating_id"),
    )
    op.create_index("ix_upload_outbox_due", "upload_outbox", ["hall", "state", "next_ms"])
    op.create_index("ix_upload_outbox_day", "upload_outbox", ["hall", "day"])


def downgrade() -> None:
    op.drop_index("ix_upload_outbox_day", "upload_outbox")
    op.drop_index("ix_upload_outbox_due", "upload_outbox")
    op.drop_table("upload_outbox")
