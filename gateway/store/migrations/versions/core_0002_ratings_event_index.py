"""Ratings found by the event that carried them (the live feed looks each new rating up so).

Revision ID: core_0002
Revises: core_0001
"""

from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ratings_event", "ratings", ["hall", "device", "event_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ratings_event", table_name="ratings")
