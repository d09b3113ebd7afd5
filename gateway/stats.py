"""Rating statistics per clerk, window or day: 好评率, 差评数, 未评价率.

Counted over rating windows that have closed (rated or unrated), between two local days:
  好评率   good ratings / ratings          (good = protocol.levels.GOOD_LEVELS)
  差评数   bad ratings                     (bad = protocol.levels.BAD_LEVELS)
  未评价率 unrated windows / closed windows
Ratings excluded by an upheld appeal count neither as ratings nor as good or bad.
The follow-up subsystem computes the standard's further rates (issue 9).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gateway.store.tables import rating_windows, ratings, staff
from protocol.levels import GOOD_LEVELS

GROUPS = ("clerk", "window", "day")


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def stats(
    conn: sa.Connection, hall: str, by: str, day_from: str, day_to: str
) -> list[dict[str, Any]]:
    if by not in GROUPS:
        raise ValueError(f"by must be one of {', '.join(GROUPS)}, not {by!r}")
    rw, r = rating_windows, ratings
    key = {"clerk": staff.c.staff_no, "window": rw.c.window, "day": rw.c.day}[by]
    counted = sa.and_(r.c.id.is_not(None), r.c.excluded.is_(False))
    query = (
        sa.select(
            key.label("key"),
            sa.func.max(staff.c.name).label("name"),
            sa.func.count().label("closed"),
            _count(counted).label("rated"),
            _count(sa.and_(counted, r.c.level.in_(GOOD_LEVELS))).label("good"),
            _count(sa.and_(counted, r.c.bad)).label("bad"),
            _count(rw.c.outcome == "unrated").label("unrated"),
        )
        .select_from(
            rw.outerjoin(r, r.c.rating_window_id == rw.c.id).outerjoin(
                staff, staff.c.id == rw.c.staff_id
            )
        )
        .where(rw.c.hall == hall, rw.c.outcome.is_not(None), rw.c.day.between(day_from, day_to))
        .group_by(key)
        .order_by(key)
    )
    return [_row(by, row) for row in conn.execute(query)]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(by: str, row: sa.Row) -> dict[str, Any]:
    entry: dict[str, Any] = {
        by: row.key,
        "closed": row.closed,
        "rated": row.rated,
        "good": row.good,
        "bad": row.bad,
        "unrated": row.unrated,
        "good_rate": _rate(row.good, row.rated),  # 好评率
        "unrated_rate": _rate(row.unrated, row.closed),  # 未评价率
    }
    if by == "clerk":
        entry["name"] = row.name
    return entry
