"""A migrated store with a hall, windows and staff, and ratings written as the core stores them.

Unit tests of the follow-up subsystem start here; the end-to-end test goes through the broker.
"""

from __future__ import annotations

import datetime as dt
import itertools

import sqlalchemy as sa

import gateway.followup.tables  # noqa: F401 - joins the metadata before migrating
import gateway.store.tables  # noqa: F401
import gateway.upload.tables  # noqa: F401
from gateway import registry, staff
from gateway.followup.workdays import CHINA
from gateway.store import make_engine, migrate
from gateway.store.tables import rating_windows, ratings
from gateway.store.tables import staff as staff_table

HALL = "zz-hall"
TEAM = "综合受理组"
_seq = itertools.count(1)


def ms(text: str) -> int:
    """ms since the epoch of a China-time "YYYY-MM-DD HH:MM"."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=CHINA).timestamp() * 1000)


def make_store(url: str) -> sa.Engine:
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        registry.add_hall(conn, HALL, "郑州市政务服务中心")
        registry.add_window(conn, HALL, "w1", 1)
        registry.add_window(conn, HALL, "w2", 2)
        for name, no, role, team in (
            ("张三", "1001", "clerk", TEAM),
            ("李四", "1002", "clerk", None),
            ("王组长", "L001", "clerk", TEAM),
            ("赵主任", "M001", "manager", None),
            ("钱科长", "M002", "manager", None),
        ):
            staff.add_staff(conn, HALL, staff.StaffEntry(name, no, role, team=team))
    return engine


def staff_id(conn: sa.Connection, staff_no: str) -> int:
    query = sa.select(staff_table.c.id).where(staff_table.c.staff_no == staff_no)
    return int(conn.execute(query).scalar_one())


def offer(
    conn: sa.Connection,
    at: str,
    clerk: str = "1001",
    window: str = "w1",
    level: str | None = None,
    service: str = "realestate",
    matter: str = "M-410100-001",
    case_no: str | None = None,
    opened_by: str = "clerk",
) -> int | None:
    """A rating window offered for one service; rated with `level`, or unrated when None.

    Returns the rating id (None when unrated)."""
    n = next(_seq)
    at_ms = ms(at)
    sid = staff_id(conn, clerk)
    rw = conn.execute(
        rating_windows.insert().values(
            hall=HALL, device="t-01", rw=f"1-{n}", window=window, staff_id=sid,
            day=at[:10], opened_by=opened_by, timeout_s=30, ticket=f"A{n:03d}",
            service=service, service_name="不动产登记", matter=matter,
            case_no=case_no or f"410100-{n:06d}", service_key=f"rw:t-01:1-{n}",
            opened_ms=at_ms, closed_ms=at_ms + 5000,
            outcome="rated" if level else "unrated",
            unrated_reason=None if level else "timeout",
        )
    ).inserted_primary_key[0]  # fmt: skip
    if level is None:
        return None
    row = conn.execute(
        ratings.insert().values(
            hall=HALL, rating_window_id=rw, service_key=f"rw:t-01:1-{n}", device="t-01",
            event_id=f"1-{n}r", window=window, staff_id=sid, day=at[:10], level=level,
            reasons=[], channel="keys", bad=level in ("dissatisfied", "very_dissatisfied"),
            at_ms=at_ms + 3000,
        )
    )  # fmt: skip
    return int(row.inserted_primary_key[0])
