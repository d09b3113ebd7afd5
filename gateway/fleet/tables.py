"""The fleet's tables (Alembic branch "fleet")."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.store import metadata

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# A signed release the gateway may offer. The signature was checked on import; devices check it
# again against the key in their own config, since the gateway holds no signing key.
releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("file", sa.String(100), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("sig", sa.String(200), nullable=False),
    sa.Column("added_ms", sa.BigInteger, nullable=False),
)

rollouts = sa.Table(
    "rollouts",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("release", sa.String(32), sa.ForeignKey("releases.id"), nullable=False),
    sa.Column("wave_size", sa.Integer, nullable=False),
    sa.Column("wave", sa.Integer, nullable=False),  # the wave offered last
    # running | stopped (by a technician) | halted (a device failed) | done
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

# One row per device in a rollout; `state` is "waiting" until its wave is offered, then the
# device's latest update state (protocol.messages.UPDATE_STATES).
rollout_devices = sa.Table(
    "rollout_devices",
    metadata,
    sa.Column("rollout", BigInt, sa.ForeignKey("rollouts.id"), primary_key=True),
    sa.Column("device", sa.String(32), primary_key=True),
    sa.Column("wave", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("detail", sa.String(200), nullable=True),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
)

hellos = sa.Table(
    "fleet_hellos",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("device", sa.String(32), primary_key=True),
    sa.Column("last_hello_ms", sa.BigInteger, nullable=False),
    sa.Column("boot", sa.BigInteger, nullable=False),
)
