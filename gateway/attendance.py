"""Schedules per clerk and the attendance report per day: late, early leave, long pauses, away.

Flags (per clerk and day):
  absent       scheduled, no login that day
  late         first login later than schedule start + late_grace_min
  early_leave  last logout earlier than schedule end - early_grace_min
  long_pause   a pause longer than pause_max_min (meal_pause_max_min for 就餐)
  away         time away from post over away_max_min: the gaps between the day's shifts plus
               pauses with reason "away" (临时离岗)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from gateway.config import Attendance
from gateway.registry import RegistryError
from gateway.store.tables import pauses, schedules, shifts, staff
from gateway.timeutil import HallClock, minutes

MIN_MS = 60_000


def set_schedule(conn: sa.Connection, staff_id: int, week: dict[int, tuple[str, str]]) -> None:
    """Replace a clerk's weekly schedule: weekday (0 = Monday) -> ("HH:MM", "HH:MM")."""
    rows = []
    for weekday, (start, end) in sorted(week.items()):
        try:
            start_min, end_min = minutes(start), minutes(end)
        except ValueError as exc:
            raise RegistryError(str(exc)) from exc
        if not 0 <= weekday <= 6 or end_min <= start_min:
            raise RegistryError(f"weekday {weekday}: need 0..6 and start before end")
        rows.append(
            {"staff_id": staff_id, "weekday": weekday, "start_min": start_min, "end_min": end_min}
        )
    conn.execute(schedules.delete().where(schedules.c.staff_id == staff_id))
    if rows:
        conn.execute(schedules.insert(), rows)


def _schedule(
    conn: sa.Connection, staff_id: int, day: str, rules: Attendance
) -> tuple[int, int] | None:
    weekday = dt.date.fromisoformat(day).weekday()
    own = conn.execute(sa.select(schedules).where(schedules.c.staff_id == staff_id)).all()
    if own:
        match = [r for r in own if r.weekday == weekday]
        return (match[0].start_min, match[0].end_min) if match else None
    if weekday >= 5:
        return None  # the default schedule is Monday to Friday
    return minutes(rules.default_start), minutes(rules.default_end)


def report(
    conn: sa.Connection, hall: str, day: str, rules: Attendance, clock: HallClock, now_ms: int
) -> list[dict[str, Any]]:
    """One entry per clerk or helper who was scheduled or logged in on `day`."""
    people = conn.execute(
        sa.select(staff)
        .where(staff.c.hall == hall, staff.c.role.in_(("clerk", "helper")), staff.c.active)
        .order_by(staff.c.staff_no)
    ).all()
    entries = [_entry(conn, person, day, rules, clock, now_ms) for person in people]
    return [e for e in entries if e["scheduled"] or e["shifts"]]


def _entry(
    conn: sa.Connection, person: sa.Row, day: str, rules: Attendance, clock: HallClock, now_ms: int
) -> dict[str, Any]:
    day_shifts = conn.execute(
        sa.select(shifts)
        .where(shifts.c.staff_id == person.id, shifts.c.day == day)
        .order_by(shifts.c.started_ms)
    ).all()
    shift_ids = [s.id for s in day_shifts]
    day_pauses = conn.execute(sa.select(pauses).where(pauses.c.shift_id.in_(shift_ids))).all()
    plan = _schedule(conn, person.id, day, rules)
    entry: dict[str, Any] = {
        "staff_no": person.staff_no,
        "name": person.name,
        "team": person.team,
        "scheduled": None
        if plan is None
        else {"start_ms": clock.at(day, plan[0]), "end_ms": clock.at(day, plan[1])},
        "shifts": len(day_shifts),
        "first_login_ms": day_shifts[0].started_ms if day_shifts else None,
        "last_logout_ms": _last_logout(day_shifts),
        "worked_min": sum(((s.ended_ms or now_ms) - s.started_ms) for s in day_shifts) // MIN_MS,
        "pause_min": _pause_minutes(day_pauses, now_ms),
        "away_min": _away_ms(day_shifts, day_pauses, now_ms) // MIN_MS,
    }
    entry["flags"] = _flags(entry, day_pauses, rules, now_ms)
    return entry


def _last_logout(day_shifts: Sequence[sa.Row]) -> int | None:
    if not day_shifts or day_shifts[-1].ended_ms is None:
        return None
    return int(day_shifts[-1].ended_ms)


def _pause_minutes(day_pauses: Sequence[sa.Row], now_ms: int) -> dict[str, int]:
    totals: dict[str, int] = {}
    for p in day_pauses:
        totals[p.reason] = totals.get(p.reason, 0) + ((p.ended_ms or now_ms) - p.started_ms)
    return {reason: ms // MIN_MS for reason, ms in totals.items()}


def _away_ms(day_shifts: Sequence[sa.Row], day_pauses: Sequence[sa.Row], now_ms: int) -> int:
    gaps = sum(
        later.started_ms - earlier.ended_ms
        for earlier, later in zip(day_shifts, day_shifts[1:], strict=False)
        if earlier.ended_ms is not None and later.started_ms > earlier.ended_ms
    )
    away = sum((p.ended_ms or now_ms) - p.started_ms for p in day_pauses if p.reason == "away")
    return int(gaps + away)


def _flags(
    entry: dict[str, Any], day_pauses: Sequence[sa.Row], rules: Attendance, now_ms: int
) -> list[str]:
    flags = []
    plan = entry["scheduled"]
    if plan and not entry["shifts"]:
        return ["absent"]
    if plan and entry["first_login_ms"] > plan["start_ms"] + rules.late_grace_min * MIN_MS:
        flags.append("late")
    last = entry["last_logout_ms"]
    if plan and last is not None and last < plan["end_ms"] - rules.early_grace_min * MIN_MS:
        flags.append("early_leave")
    if any(_too_long(p, rules, now_ms) for p in day_pauses):
        flags.append("long_pause")
    if entry["away_min"] > rules.away_max_min:
        flags.append("away")
    return flags


def _too_long(pause: sa.Row, rules: Attendance, now_ms: int) -> bool:
    limit = rules.meal_pause_max_min if pause.reason == "meal" else rules.pause_max_min
    return bool((pause.ended_ms or now_ms) - pause.started_ms > limit * MIN_MS)
