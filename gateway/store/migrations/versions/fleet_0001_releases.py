"""Fleet tables: releases, rollouts in waves, per-device update state, last hello.

Revision ID: fleet_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "fleet_0001"
down_revision = None
branch_labels = ("fleet",)
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("file", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sig", sa.String(200), nullable=False),
        sa.Column("added_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
    )
    op.create_table(
        "rollouts",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("release", sa.String(32), nullable=False),
        sa.Column("wave_size", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release"], ["releases.id"], name=op.f("fk_rollouts_release_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollouts")),
    )
    op.create_table(
        "rollout_devices",
        sa.Column("rollout", BigInt, nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rollout"], ["rollouts.id"], name=op.f("fk_rollout_devices_rollout_rollouts")
        ),
        sa.PrimaryKeyConstraint("rollout", "device", name=op.f("pk_rollout_devices")),
    )
    op.create_table(
        "fleet_hellos",
        sa.Column("hall", sa.String(32), nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("last_hello_ms", sa.BigInteger(), nullable=False),
        sa.Column("boot", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hall", "device", name=op.f("pk_fleet_hellos")),
    )


def downgrade() -> None:
    for table in ("fleet_hellos", "rollout_devices", "rollouts", "releases"):
        op.drop_table(table)
