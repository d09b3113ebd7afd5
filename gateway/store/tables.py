"""The gateway core's tables (Alembic branch "core").

Times are integers in ms since the epoch on the gateway's clock unless named `ts` (the device's
own clock, kept as sent). Every row names its hall, so one database can hold several halls (the
province tier). Subsystems (queue, follow-up, fleet) define their own tables in their own modules
on the same `metadata` and may reference these.
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.store import metadata

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrement needs INTEGER

halls = sa.Table(
    "halls",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    # HMAC-SHA256 key for badge UIDs (hex). Pushed to the hall's terminals so they can check a
    # badge while offline; see gateway/staff.py and protocol/badges.py.
    sa.Column("badge_key", sa.String(128), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
)

windows = sa.Table(
    "windows",
    metadata,
    sa.Column("hall", sa.String(32), sa.ForeignKey("halls.id"), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("label", sa.String(16), nullable=False),  # shown on the device: "3号窗口"
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("hall", sa.String(32), sa.ForeignKey("halls.id"), primary_key=True),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # terminal | ratingbox
    sa.Column("window", sa.String(32), nullable=True),
    sa.Column("paired", sa.String(32), nullable=True),  # a rating box's terminal
    sa.Column("registered_ms", sa.BigInteger, nullable=False),
    sa.Column("fw", sa.String(32), nullable=True),
    sa.Column("boot", sa.BigInteger, nullable=True),
    sa.Column("last_seen_ms", sa.BigInteger, nullable=True),
    sa.Column("outbox", sa.Integer, nullable=True),
    sa.Column("online", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("skew_ms", sa.BigInteger, nullable=True),  # device clock minus gateway clock
    sa.ForeignKeyConstraint(["hall", "window"], ["windows.hall", "windows.id"]),
)

# Per (device, boot): the earliest estimate of when the boot started (protocol.clock).
device_boots = sa.Table(
    "device_boots",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("device", sa.String(32), primary_key=True),
    sa.Column("boot", sa.BigInteger, primary_key=True),
    sa.Column("start_ms", sa.BigInteger, nullable=False),
)

staff = sa.Table(
    "staff",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), sa.ForeignKey("halls.id"), nullable=False),
    sa.Column("name", sa.String(32), nullable=False),
    sa.Column("staff_no", sa.String(32), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # clerk | helper | manager | technician
    sa.Column("team", sa.String(64), nullable=True),
    sa.Column(
        "badge_hash", sa.String(64), nullable=True
    ),  # HMAC-SHA256(hall key, UID), never the UID
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.UniqueConstraint("hall", "staff_no", name="uq_staff_hall_staff_no"),
    sa.UniqueConstraint("hall", "badge_hash", name="uq_staff_hall_badge_hash"),
)

# A clerk's working hours per weekday (0 = Monday), minutes after local midnight.
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("staff_id", BigInt, sa.ForeignKey("staff.id"), primary_key=True),
    sa.Column("weekday", sa.Integer, primary_key=True),
    sa.Column("start_min", sa.Integer, nullable=False),
    sa.Column("end_min", sa.Integer, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("device", sa.String(32), nullable=False),
    sa.Column("event_id", sa.String(21), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("ts", sa.BigInteger, nullable=False),  # device clock
    sa.Column("up", sa.BigInteger, nullable=False),
    sa.Column("at_ms", sa.BigInteger, nullable=False),  # corrected time (protocol.clock)
    sa.Column("received_ms", sa.BigInteger, nullable=False),
    sa.Column("refused", sa.String(32), nullable=True),  # reason when a rule refused it
    sa.Column("refused_detail", sa.String(200), nullable=True),
    sa.UniqueConstraint("hall", "device", "event_id", name="uq_events_dedupe"),
)

rejects = sa.Table(
    "rejects",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("device", sa.String(32), nullable=True),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(200), nullable=False),
    sa.Column("received_ms", sa.BigInteger, nullable=False),
)

shifts = sa.Table(
    "shifts",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("staff_id", BigInt, sa.ForeignKey("staff.id"), nullable=False),
    sa.Column("device", sa.String(32), nullable=False),
    sa.Column("window", sa.String(32), nullable=True),
    sa.Column("day", sa.String(10), nullable=False),  # local date of the login, YYYY-MM-DD
    sa.Column("started_ms", sa.BigInteger, nullable=False),
    sa.Column("ended_ms", sa.BigInteger, nullable=True),
    sa.Column("end_reason", sa.String(16), nullable=True),  # logout | replaced | moved
    sa.Column("offline", sa.Boolean, nullable=False, server_default=sa.false()),
)

pauses = sa.Table(
    "pauses",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("shift_id", BigInt, sa.ForeignKey("shifts.id"), nullable=False),
    sa.Column("staff_id", BigInt, sa.ForeignKey("staff.id"), nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),  # protocol.levels.PAUSE_REASONS
    sa.Column("started_ms", sa.BigInteger, nullable=False),
    sa.Column("ended_ms", sa.BigInteger, nullable=True),
)

rating_windows = sa.Table(
    "rating_windows",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("device", sa.String(32), nullable=False),
    sa.Column("rw", sa.String(21), nullable=False),  # the rw_open event's id
    sa.Column("window", sa.String(32), nullable=True),
    sa.Column("staff_id", BigInt, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("shift_id", BigInt, sa.ForeignKey("shifts.id"), nullable=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("opened_by", sa.String(8), nullable=False),  # clerk | queue
    sa.Column("timeout_s", sa.Integer, nullable=False),
    sa.Column("ticket", sa.String(16), nullable=True),
    sa.Column("service", sa.String(32), nullable=True),
    sa.Column("service_name", sa.String(32), nullable=True),
    sa.Column("matter", sa.String(64), nullable=True),
    sa.Column("case_no", sa.String(64), nullable=True),
    # What "the same service" means for one-rating-per-service: see gateway/ratings.py.
    sa.Column("service_key", sa.String(120), nullable=False),
    sa.Column("opened_ms", sa.BigInteger, nullable=False),
    sa.Column("closed_ms", sa.BigInteger, nullable=True),
    sa.Column("outcome", sa.String(8), nullable=True),  # rated | unrated; NULL while open
    sa.Column("unrated_reason", sa.String(16), nullable=True),
    sa.UniqueConstraint("hall", "device", "rw", name="uq_rating_windows_rw"),
)

ratings = sa.Table(
    "ratings",
    metadata,
    sa.Column("id", BigInt, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("rating_window_id", BigInt, sa.ForeignKey("rating_windows.id"), nullable=False),
    sa.Column("service_key", sa.String(120), nullable=False),
    sa.Column("device", sa.String(32), nullable=False),
    sa.Column("event_id", sa.String(21), nullable=False),
    sa.Column("window", sa.String(32), nullable=True),
    sa.Column("staff_id", BigInt, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("level", sa.String(24), nullable=False),  # protocol.levels.LEVELS name
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),  # keys | phone
    sa.Column("bad", sa.Boolean, nullable=False),  # 差评: the follow-up subsystem takes these
    sa.Column("excluded", sa.Boolean, nullable=False, server_default=sa.false()),  # upheld appeal
    sa.Column("at_ms", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("rating_window_id", name="uq_ratings_rating_window_id"),
    sa.UniqueConstraint("hall", "service_key", name="uq_ratings_service"),
)

stray_counts = sa.Table(
    "stray_counts",
    metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("device", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),  # argon2id
    sa.Column("role", sa.String(16), nullable=False),  # manager | technician | clerk
    sa.Column("hall", sa.String(32), nullable=True),
    sa.Column("staff_id", BigInt, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
)

# Login sessions of the HTTP API; only a hash of the token is kept.
user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), sa.ForeignKey("users.username"), nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
)

sa.Index("ix_events_hall_kind_at", events.c.hall, events.c.kind, events.c.at_ms)
sa.Index("ix_shifts_staff_day", shifts.c.staff_id, shifts.c.day)
sa.Index("ix_shifts_open", shifts.c.hall, shifts.c.device, shifts.c.ended_ms)
sa.Index("ix_ratings_day", ratings.c.hall, ratings.c.day)
sa.Index("ix_ratings_event", ratings.c.hall, ratings.c.device, ratings.c.event_id)
sa.Index("ix_rating_windows_day", rating_windows.c.hall, rating_windows.c.day)
sa.Index("ix_rejects_received", rejects.c.hall, rejects.c.received_ms)
