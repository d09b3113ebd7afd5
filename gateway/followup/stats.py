"""The standard's statistics over rating windows, ratings and follow-up cases.

Definitions (docs/statistics.md), per group (hall, clerk, window, service, matter) and period
(day, ISO week, month, or the whole range, labelled "2026-03-01至2026-03-31"):

    offered   rating windows closed in the range (rated + unrated); an excluded rating's window
              is left out entirely, as if no rating had been asked for
    好评率     good / rated          (good = 非常满意, 满意, 基本满意)
    差评率     bad / rated           (bad  = 不满意, 非常不满意)
    未评价率   unrated / offered
    主动评价率 rated / offered
    差评整改率 resolved / bad        (resolved = fixed or explained, still standing)
    回访率     visited / bad
    按时整改率 on_time / due         (due = resolved, or past its deadline at `as_of_ms`;
                                      on_time = resolved before its deadline)

A rate whose denominator is zero is None (shown empty), never 0 or 100%.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

import sqlalchemy as sa

from gateway.followup.errors import StatsError
from gateway.followup.tables import followup_cases
from gateway.store.tables import rating_windows, ratings, staff, windows
from protocol.levels import BAD_LEVELS, GOOD_LEVELS

GROUPS = ("hall", "clerk", "window", "service", "matter")
PERIODS = ("day", "week", "month", "all")
COUNTS = ("offered", "rated", "unrated", "good", "bad", "excluded", "visited", "resolved", "on_time", "due")  # fmt: skip
RATES = ("good_rate", "bad_rate", "unrated_rate", "active_rate", "fix_rate", "visit_rate", "on_time_rate")  # fmt: skip


@dataclass
class StatRow:
    period: str
    key: str
    name: str
    offered: int = 0
    rated: int = 0
    unrated: int = 0
    good: int = 0
    bad: int = 0
    excluded: int = 0  # upheld appeals: shown for transparency, counted nowhere else
    visited: int = 0
    resolved: int = 0
    on_time: int = 0
    due: int = 0
    rates: dict[str, float | None] = field(default_factory=dict)

    def finish(self) -> StatRow:
        self.rates = {
            "good_rate": _rate(self.good, self.rated),
            "bad_rate": _rate(self.bad, self.rated),
            "unrated_rate": _rate(self.unrated, self.offered),
            "active_rate": _rate(self.rated, self.offered),
            "fix_rate": _rate(self.resolved, self.bad),
            "visit_rate": _rate(self.visited, self.bad),
            "on_time_rate": _rate(self.on_time, self.due),
        }
        return self

    def as_dict(self) -> dict[str, object]:
        plain = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rates"}
        return {**plain, **self.rates}


@dataclass(frozen=True)
class Query:
    hall: str
    start: dt.date
    end: dt.date  # inclusive
    by: str = "hall"
    period: str = "all"
    as_of_ms: int = 0  # for 按时整改率: a case unresolved past its deadline at this moment is due

    def __post_init__(self) -> None:
        if self.by not in GROUPS:
            raise StatsError(f"group by one of {', '.join(GROUPS)}, not {self.by!r}")
        if self.period not in PERIODS:
            raise StatsError(f"period must be one of {', '.join(PERIODS)}, not {self.period!r}")
        if self.end < self.start:
            raise StatsError(f"the range ends ({self.end}) before it starts ({self.start})")


def compute(conn: sa.Connection, query: Query) -> list[StatRow]:
    rows: dict[tuple[str, str], StatRow] = {}
    span = f"{query.start.isoformat()}至{query.end.isoformat()}"
    for record in _records(conn, query):
        key, name = _group(query.by, record)
        period = period_of(query.period, record.day) if query.period != "all" else span
        if (period, key) not in rows:
            rows[period, key] = StatRow(period, key, name)
        _count(rows[period, key], record, query.as_of_ms)
    return [rows[k].finish() for k in sorted(rows)]


def period_of(period: str, day: str) -> str:
    """The label of the day, ISO week or month that `day` (YYYY-MM-DD) falls in."""
    date = dt.date.fromisoformat(day)
    if period == "day":
        return day
    if period == "week":
        year, week, _ = date.isocalendar()
        return f"{year}-W{week:02d}"
    return day[:7]  # month


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _records(conn: sa.Connection, query: Query) -> Iterable[sa.Row]:
    rw, r, c = rating_windows, ratings, followup_cases
    joined = (
        rw.outerjoin(r, r.c.rating_window_id == rw.c.id)
        .outerjoin(c, c.c.rating_id == r.c.id)
        .outerjoin(staff, staff.c.id == rw.c.staff_id)
        .outerjoin(windows, sa.and_(windows.c.hall == rw.c.hall, windows.c.id == rw.c.window))
    )
    select = sa.select(
        rw.c.day, rw.c.outcome, rw.c.window, rw.c.service, rw.c.service_name, rw.c.matter,
        r.c.level, r.c.excluded, staff.c.staff_no, staff.c.name.label("staff_name"),
        windows.c.label.label("window_label"), c.c.visited_ms, c.c.resolved_ms, c.c.due_ms,
    ).select_from(joined)  # fmt: skip
    return conn.execute(
        select.where(
            rw.c.hall == query.hall,
            rw.c.day >= query.start.isoformat(),
            rw.c.day <= query.end.isoformat(),
            rw.c.outcome.is_not(None),
        )
    )


def _group(by: str, rec: sa.Row) -> tuple[str, str]:
    if by == "clerk":
        return rec.staff_no or "", rec.staff_name or "（无人登录）"
    if by == "window":
        return rec.window or "", rec.window_label or rec.window or ""
    if by == "service":
        return rec.service or "", rec.service_name or rec.service or ""
    if by == "matter":
        return rec.matter or "", rec.matter or ""
    return "", "全部"


def _count(row: StatRow, rec: sa.Row, as_of_ms: int) -> None:
    if rec.excluded:
        row.excluded += 1
        return
    row.offered += 1
    if rec.outcome != "rated":
        row.unrated += 1
        return
    row.rated += 1
    row.good += rec.level in GOOD_LEVELS
    if rec.level in BAD_LEVELS:
        row.bad += 1
        _count_case(row, rec, as_of_ms)


def _count_case(row: StatRow, rec: sa.Row, as_of_ms: int) -> None:
    if rec.due_ms is None:
        return  # no case (opened before the follow-up subsystem ran): counts as not yet acted on
    row.visited += rec.visited_ms is not None
    resolved = rec.resolved_ms is not None
    row.resolved += resolved
    row.due += resolved or rec.due_ms <= as_of_ms
    row.on_time += resolved and rec.resolved_ms < rec.due_ms
