"""The queue's tables (Alembic branch "queue").

`queue_actions` is the audit trail and the source of truth: the engine's state is rebuilt by
replaying a day's actions in `seq` order. `queue_tickets` is a projection kept in the same
transaction, for status pages of past days and for reports. `queue_halls` holds one row per hall
whose update serialises queue actions (see gateway/queue/service.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.store import metadata

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

queue_halls = sa.Table(
    "queue_halls",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),  # the last action's seq
)

queue_actions = sa.Table(
    "queue_actions",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("day", sa.String(10), nullable=False),  # business day (numbering day)
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("at_ms", sa.BigInteger, nullable=False),
    sa.Column("by", sa.String(64), nullable=False),  # staff number, user name, "kiosk" …
    sa.Column("window", sa.String(32), nullable=True),
    sa.Column("ticket", sa.String(16), nullable=True),
    sa.Column("data", sa.JSON, nullable=False),  # every decision, so a replay needs no rules
    sa.UniqueConstraint("hall", "seq", name="uq_queue_actions_hall_seq"),
    sa.Index("ix_queue_actions_hall_day", "hall", "day"),
)

queue_tickets = sa.Table(
    "queue_tickets",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("number", sa.String(16), primary_key=True),
    sa.Column("token", sa.String(32), nullable=False, unique=True),
    sa.Column("service", sa.String(32), nullable=False),
    sa.Column("origin_service", sa.String(32), nullable=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(16), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("window", sa.String(32), nullable=True),
    sa.Column("helper", sa.String(32), nullable=True),
    sa.Column("issued_ms", sa.BigInteger, nullable=False),
    sa.Column("called_ms", sa.BigInteger, nullable=True),
    sa.Column("done_ms", sa.BigInteger, nullable=True),
    sa.Column("matter", sa.String(64), nullable=True),
    sa.Column("case_no", sa.String(64), nullable=True),
    # Address and phone only when the citizen asked for the result to be mailed.
    sa.Column("mailing", sa.JSON, nullable=True),
)
