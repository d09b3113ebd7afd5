"""The upload outbox (Alembic branch "upload", depends on "core").

One row per rating, written in the rating's own ingest transaction, so a rating is never stored
without its upload being due. `record` holds our field names; the province's names and codes
are applied when sending, so a corrected mapping also fixes rows that failed on the old one.
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.store import metadata
from gateway.store.tables import BigInt

upload_outbox = sa.Table(
    "upload_outbox",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("rating_id", BigInt, sa.ForeignKey("ratings.id"), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),  # the rating's day (reconciliation)
    sa.Column("idem_key", sa.String(64), nullable=False),  # stable per rating
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # pending | acked | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_ms", sa.BigInteger, nullable=False),  # not retried before this moment
    sa.Column("last_error", sa.String(200), nullable=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("sent_ms", sa.BigInteger, nullable=True),  # last attempt
    sa.Column("acked_ms", sa.BigInteger, nullable=True),
    sa.Column("remote_id", sa.String(64), nullable=True),  # the province's id, if it gives one
    sa.UniqueConstraint("rating_id", name="uq_upload_outbox_rating_id"),
    sa.UniqueConstraint("idem_key", name="uq_upload_outbox_idem_key"),
)

sa.Index(
    "ix_upload_outbox_due", upload_outbox.c.hall, upload_outbox.c.state, upload_outbox.c.next_ms
)
sa.Index("ix_upload_outbox_day", upload_outbox.c.hall, upload_outbox.c.day)
