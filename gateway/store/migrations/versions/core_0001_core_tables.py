"""Core tables: halls, windows, devices, staff, events, shifts, ratings, web users.

Revision ID: core_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_boots",
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("boot", sa.BigInteger(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hall", "device", "boot", name=op.f("pk_device_boots")),
    )
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=21), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("up", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("refused", sa.String(length=32), nullable=True),
        sa.Column("refused_detail", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("hall", "device", "event_id", name="uq_events_dedupe"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_hall_kind_at", ["hall", "kind", "at_ms"], unique=False)

    op.create_table(
        "halls",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("badge_key", sa.String(length=128), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_halls")),
    )
    op.create_table(
        "rejects",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejects")),
    )
    with op.batch_alter_table("rejects", schema=None) as batch_op:
        batch_op.create_index("ix_rejects_received", ["hall", "received_ms"], unique=False)

    op.create_table(
        "stray_counts",
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hall", "device", "day", name=op.f("pk_stray_counts")),
    )
    op.create_table(
        "staff",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("badge_hash", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(["hall"], ["halls.id"], name=op.f("fk_staff_hall_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("hall", "badge_hash", name="uq_staff_hall_badge_hash"),
        sa.UniqueConstraint("hall", "staff_no", name="uq_staff_hall_staff_no"),
    )
    op.create_table(
        "windows",
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["hall"], ["halls.id"], name=op.f("fk_windows_hall_halls")),
        sa.PrimaryKeyConstraint("hall", "id", name=op.f("pk_windows")),
    )
    op.create_table(
        "devices",
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("window", sa.String(length=32), nullable=True),
        sa.Column("paired", sa.String(length=32), nullable=True),
        sa.Column("registered_ms", sa.BigInteger(), nullable=False),
        sa.Column("fw", sa.String(length=32), nullable=True),
        sa.Column("boot", sa.BigInteger(), nullable=True),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=True),
        sa.Column("outbox", sa.Integer(), nullable=True),
        sa.Column("online", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("skew_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["hall", "window"], ["windows.hall", "windows.id"], name=op.f("fk_devices_hall_windows")
        ),
        sa.ForeignKeyConstraint(["hall"], ["halls.id"], name=op.f("fk_devices_hall_halls")),
        sa.PrimaryKeyConstraint("hall", "id", name=op.f("pk_devices")),
    )
    op.create_table(
        "schedules",
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("end_min", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_schedules_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", "weekday", name=op.f("pk_schedules")),
    )
    op.create_table(
        "shifts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=32), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("offline", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_shifts_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index("ix_shifts_open", ["hall", "device", "ended_ms"], unique=False)
        batch_op.create_index("ix_shifts_staff_day", ["staff_id", "day"], unique=False)

    op.create_table(
        "users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("hall", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_users_staff_id_staff")),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_users")),
    )
    op.create_table(
        "pauses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("shift_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_pauses_shift_id_shifts")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_pauses_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pauses")),
    )
    op.create_table(
        "rating_windows",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("rw", sa.String(length=21), nullable=False),
        sa.Column("window", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("shift_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("opened_by", sa.String(length=8), nullable=False),
        sa.Column("timeout_s", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.String(length=16), nullable=True),
        sa.Column("service", sa.String(length=32), nullable=True),
        sa.Column("service_name", sa.String(length=32), nullable=True),
        sa.Column("matter", sa.String(length=64), nullable=True),
        sa.Column("case_no", sa.String(length=64), nullable=True),
        sa.Column("service_key", sa.String(length=120), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.Column("unrated_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_rating_windows_shift_id_shifts")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_rating_windows_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_windows")),
        sa.UniqueConstraint("hall", "device", "rw", name="uq_rating_windows_rw"),
    )
    with op.batch_alter_table("rating_windows", schema=None) as batch_op:
        batch_op.create_index("ix_rating_windows_day", ["hall", "day"], unique=False)

    op.create_table(
        "user_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"], name=op.f("fk_user_sessions_username_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_sessions")),
    )
    op.create_table(
        "ratings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column(
            "rating_window_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("service_key", sa.String(length=120), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=21), nullable=False),
        sa.Column("window", sa.String(length=32), nullable=True),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("bad", sa.Boolean(), nullable=False),
        sa.Column("excluded", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rating_window_id"],
            ["rating_windows.id"],
            name=op.f("fk_ratings_rating_window_id_rating_windows"),
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_ratings_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("hall", "service_key", name="uq_ratings_service"),
        sa.UniqueConstraint("rating_window_id", name="uq_ratings_rating_window_id"),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index("ix_ratings_day", ["hall", "day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_ratings_day")

    op.drop_table("ratings")
    op.drop_table("user_sessions")
    with op.batch_alter_table("rating_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_rating_windows_day")

    op.drop_table("rating_windows")
    op.drop_table("pauses")
    op.drop_table("users")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index("ix_shifts_staff_day")
        batch_op.drop_index("ix_shifts_open")

    op.drop_table("shifts")
    op.drop_table("schedules")
    op.drop_table("devices")
    op.drop_table("windows")
    op.drop_table("staff")
    op.drop_table("stray_counts")
    with op.batch_alter_table("rejects", schema=None) as batch_op:
        batch_op.drop_index("ix_rejects_received")

    op.drop_table("rejects")
    op.drop_table("halls")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_hall_kind_at")

    op.drop_table("events")
    op.drop_table("device_boots")
