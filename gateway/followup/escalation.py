"""Overdue cases escalate, level by level, to the people `[followup] escalation` names.

Level 1 is reached when the deadline passes (the end of the last working day); each further
level `escalate_every_days` working days later, up to the chain's last person. With no chain configured the configured manager is level 1 and the only level.
Appealed cases do not escalate while a manager is deciding; closed and void ones never do.
Escalation does not take the case away from its assignee: it adds who must now see it done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from gateway.followup.cases import ACTIVE, SYSTEM, log_step
from gateway.followup.config import FollowupConfig
from gateway.followup.errors import CalendarError
from gateway.followup.tables import followup_cases
from gateway.followup.workdays import WEEKDAYS_ONLY, WorkCalendar, end_of_day_ms


@dataclass(frozen=True)
class Escalated:
    case_id: int
    level: int
    to: str | None
    due_date: str


def level_due(calendar: WorkCalendar, cfg: FollowupConfig, due_date: str, level: int) -> int:
    """The moment escalation `level` is reached for a case due on `due_date`."""
    day = dt.date.fromisoformat(due_date)
    for _ in range(level - 1):
        day = _later(calendar, day, cfg.escalate_every_days)
    return end_of_day_ms(day)


def _later(calendar: WorkCalendar, day: dt.date, days: int) -> dt.date:
    try:
        return calendar.add_workdays(day, days)
    except CalendarError:  # past the calendar's years: escalating late would be worse
        return WEEKDAYS_ONLY.add_workdays(day, days)


def reached_level(calendar: WorkCalendar, cfg: FollowupConfig, due_date: str, now_ms: int) -> int:
    """Levels reached by now; never more than the chain has people (at least 1)."""
    top = max(len(cfg.escalation), 1)
    level = 0
    while level < top and now_ms >= level_due(calendar, cfg, due_date, level + 1):
        level += 1
    return level


def escalate_overdue(
    conn: sa.Connection, cfg: FollowupConfig, hall: str, now_ms: int
) -> list[Escalated]:
    """Raise every overdue case of `hall` to the level it has reached; return what changed."""
    calendar = cfg.calendar()
    query = sa.select(followup_cases).where(
        followup_cases.c.hall == hall,
        followup_cases.c.state.in_(ACTIVE),
        followup_cases.c.due_ms <= now_ms,
    )
    changed = []
    for case in conn.execute(query).all():
        level = reached_level(calendar, cfg, case.due_date, now_ms)
        if level > case.escalation and _raise(conn, cfg, case, level, now_ms):
            changed.append(Escalated(case.id, level, cfg.escalation_target(level), case.due_date))
    return changed


def _raise(conn: sa.Connection, cfg: FollowupConfig, case: sa.Row, level: int, now_ms: int) -> bool:
    """Record the level unless another sweep (another gateway worker) got there first."""
    target = cfg.escalation_target(level)
    moved = conn.execute(
        followup_cases.update()
        .where(followup_cases.c.id == case.id, followup_cases.c.escalation < level)
        .values(escalation=level, escalated_to=target)
    )
    if moved.rowcount != 1:
        return False
    note = f"overdue since {case.due_date}: escalation level {level} to {target or 'nobody configured'}"
    log_step(conn, case.id, "escalate", case.state, case.state, SYSTEM, now_ms, note)
    return True
