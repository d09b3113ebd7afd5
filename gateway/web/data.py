"""What the pages show, read from committed rows of the store (never from in-flight state).

Every function takes an open connection and returns plain dicts with Chinese labels already
attached, so templates, the JSON snapshots and the daily report share one reading of the data.
Times are ms since the epoch on the gateway's clock; `day` is the hall's local date.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa

from gateway import attendance
from gateway.followup.tables import followup_cases
from gateway.queue.announce import call_lines
from gateway.queue.tables import queue_actions, queue_tickets
from gateway.store.tables import (
    devices,
    pauses,
    rating_windows,
    ratings,
    shifts,
    staff,
    windows,
)
from protocol.levels import (
    ATTENDANCE_FLAG_LABELS,
    BAD_REASON_LABELS,
    CASE_STATE_LABELS,
    DEVICE_KIND_LABELS,
    GOOD_LEVELS,
    LEVEL_LABELS,
    LEVELS,
    PAUSE_REASON_LABELS,
    TICKET_STATE_LABELS,
    WINDOW_STATE_LABELS,
)

MINUTE_MS = 60_000
CALL_KINDS = ("call", "recall")


def window_board(conn: sa.Connection, hall: str, current: dict[str, str]) -> list[dict[str, Any]]:
    """Each window: who is logged in, serving / paused (reason) / closed / offline, its ticket."""
    rows = conn.execute(
        sa.select(windows).where(windows.c.hall == hall).order_by(windows.c.number)
    ).all()
    online = _terminals_online(conn, hall)
    return [_window(conn, hall, row, online.get(row.id), current.get(row.id)) for row in rows]


def _terminals_online(conn: sa.Connection, hall: str) -> dict[str, bool]:
    query = sa.select(devices.c.window, devices.c.online).where(
        devices.c.hall == hall, devices.c.kind == "terminal", devices.c.window.is_not(None)
    )
    seen: dict[str, bool] = {}
    for window, is_online in conn.execute(query):
        seen[window] = seen.get(window, False) or bool(is_online)
    return seen


def _window(
    conn: sa.Connection, hall: str, row: sa.Row, online: bool | None, ticket: str | None
) -> dict[str, Any]:
    shift = conn.execute(
        sa.select(shifts.c.id, staff.c.name, staff.c.staff_no)
        .join(staff, staff.c.id == shifts.c.staff_id)
        .where(shifts.c.hall == hall, shifts.c.window == row.id, shifts.c.ended_ms.is_(None))
        .order_by(shifts.c.started_ms.desc())
    ).first()
    pause = None
    if shift is not None:
        pause = conn.execute(
            sa.select(pauses.c.reason, pauses.c.started_ms).where(
                pauses.c.shift_id == shift.id, pauses.c.ended_ms.is_(None)
            )
        ).first()
    state = (
        "offline"
        if online is False
        else "closed"
        if shift is None
        else "paused"
        if pause is not None
        else "serving"
    )
    label = WINDOW_STATE_LABELS[state]
    if pause is not None and state == "paused":
        label = f"{label}（{PAUSE_REASON_LABELS.get(pause.reason, pause.reason)}）"
    return {
        "id": row.id,
        "label": row.label,
        "state": state,
        "state_label": label,
        "clerk": shift.name if shift else None,
        "staff_no": shift.staff_no if shift else None,
        "ticket": ticket if shift is not None else None,
    }


def queue_board(
    conn: sa.Connection, hall: str, day: str, services: dict[str, str], now_ms: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Per service: waiting and longest wait (minutes); and the ticket called at each window."""
    rows = conn.execute(
        sa.select(queue_tickets.c.number, queue_tickets.c.service, queue_tickets.c.state,
                  queue_tickets.c.window, queue_tickets.c.issued_ms, queue_tickets.c.called_ms)
        .where(queue_tickets.c.hall == hall, queue_tickets.c.day == day)
    ).all()  # fmt: skip
    waiting: dict[str, list[int]] = {sid: [] for sid in services}
    current: dict[str, tuple[int, str]] = {}
    for row in rows:
        if row.state == "waiting":
            waiting.setdefault(row.service, []).append(row.issued_ms)
        elif row.state == "called" and row.window:
            mark = (row.called_ms or 0, row.number)
            current[row.window] = max(current.get(row.window, mark), mark)
    board = [
        {
            "service": sid,
            "name": services.get(sid, sid),
            "waiting": len(times),
            "longest_wait_min": (now_ms - min(times)) // MINUTE_MS if times else 0,
        }
        for sid, times in waiting.items()
    ]
    return board, {window: number for window, (_at, number) in current.items()}


def recent_calls(
    conn: sa.Connection, hall: str, day: str, labels: dict[str, str], limit: int = 8
) -> list[dict[str, Any]]:
    """The latest calls of the business day, newest first (what the call display shows)."""
    query = (
        sa.select(queue_actions)
        .where(
            queue_actions.c.hall == hall,
            queue_actions.c.day == day,
            queue_actions.c.kind.in_(CALL_KINDS),
        )
        .order_by(queue_actions.c.seq.desc())
        .limit(limit)
    )
    return [call_of(row, labels) for row in conn.execute(query)]


def call_of(row: sa.Row, labels: dict[str, str]) -> dict[str, Any]:
    """A stored call or recall action as the display shows and says it."""
    window = row.window or ""
    label = labels.get(window, window)
    display, voice = call_lines(row.ticket or "", label)
    return {
        "seq": row.seq,
        "ticket": row.ticket,
        "window": window,
        "window_label": label,
        "display": display,
        "voice": voice,
        "at_ms": row.at_ms,
        "recall": row.kind == "recall",
    }


def rating_summary(conn: sa.Connection, hall: str, day: str) -> dict[str, Any]:
    """Counts per level, 好评率 (appeal-upheld ratings left out), unrated windows."""
    levels: Counter[str] = Counter(
        dict(
            conn.execute(
                sa.select(ratings.c.level, sa.func.count())
                .where(ratings.c.hall == hall, ratings.c.day == day, ratings.c.excluded.is_(False))
                .group_by(ratings.c.level)
            ).all()
        )
    )
    unrated = conn.execute(
        sa.select(sa.func.count()).where(
            rating_windows.c.hall == hall,
            rating_windows.c.day == day,
            rating_windows.c.outcome == "unrated",
        )
    ).scalar()
    rated = sum(levels.values())
    good = sum(levels[level] for level in GOOD_LEVELS)
    return {
        "levels": [
            {"level": level, "label": LEVEL_LABELS[level], "count": levels[level]}
            for level in LEVELS
        ],
        "rated": rated,
        "good": good,
        "bad": rated - good,
        "unrated": int(unrated or 0),
        "good_rate": round(good / rated, 4) if rated else None,
        "good_rate_text": f"{good / rated:.1%}" if rated else "—",
    }


def bad_ratings(conn: sa.Connection, hall: str, day: str) -> list[dict[str, Any]]:
    """The day's 差评 with the window, clerk and the follow-up case's state."""
    query = (
        sa.select(
            ratings.c.id, ratings.c.level, ratings.c.reasons, ratings.c.at_ms,
            ratings.c.excluded, windows.c.label.label("window_label"),
            staff.c.name.label("clerk"), rating_windows.c.ticket,
            followup_cases.c.id.label("case_id"), followup_cases.c.state.label("case_state"),
            followup_cases.c.due_date,
        )
        .select_from(
            ratings.join(rating_windows, rating_windows.c.id == ratings.c.rating_window_id)
            .outerjoin(windows, sa.and_(windows.c.hall == ratings.c.hall,
                                        windows.c.id == ratings.c.window))
            .outerjoin(staff, staff.c.id == ratings.c.staff_id)
            .outerjoin(followup_cases, followup_cases.c.rating_id == ratings.c.id)
        )
        .where(ratings.c.hall == hall, ratings.c.day == day, ratings.c.bad.is_(True))
        .order_by(ratings.c.at_ms.desc())
    )  # fmt: skip
    return [_bad(row) for row in conn.execute(query)]


def _bad(row: sa.Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "level": row.level,
        "label": LEVEL_LABELS[row.level],
        "reasons": [BAD_REASON_LABELS.get(r, r) for r in row.reasons or []],
        "at_ms": row.at_ms,
        "window_label": row.window_label or "—",
        "clerk": row.clerk or "—",
        "ticket": row.ticket,
        "case_id": row.case_id,
        "case_state": row.case_state,
        "case_label": CASE_STATE_LABELS.get(row.case_state or "", "未立案"),
        "due_date": row.due_date,
    }


# Built once: the live feed looks up every new rating (index ix_ratings_event).
_RATING_OF = (
    sa.select(ratings.c.id, ratings.c.level, ratings.c.bad, ratings.c.at_ms,
              windows.c.label.label("window_label"), staff.c.name.label("clerk"))
    .select_from(
        ratings.outerjoin(windows, sa.and_(windows.c.hall == ratings.c.hall,
                                           windows.c.id == ratings.c.window))
        .outerjoin(staff, staff.c.id == ratings.c.staff_id)
    )
    .where(ratings.c.hall == sa.bindparam("hall"), ratings.c.device == sa.bindparam("device"),
           ratings.c.event_id == sa.bindparam("event_id"))
)  # fmt: skip


def rating_of(conn: sa.Connection, hall: str, device: str, event_id: str) -> dict[str, Any] | None:
    """One stored rating by the event that carried it (for the live feed)."""
    where = {"hall": hall, "device": device, "event_id": event_id}
    row = conn.execute(_RATING_OF, where).first()
    if row is None:
        return None
    return {
        "id": row.id,
        "level": row.level,
        "label": LEVEL_LABELS[row.level],
        "bad": bool(row.bad),
        "at_ms": row.at_ms,
        "window_label": row.window_label or "—",
        "clerk": row.clerk or "—",
    }


def device_board(conn: sa.Connection, hall: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(devices).where(devices.c.hall == hall).order_by(devices.c.id)
    ).all()
    return [device_of(row) for row in rows]


def device_of(row: sa.Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "kind_label": DEVICE_KIND_LABELS.get(row.kind, row.kind),
        "window": row.window,
        "online": bool(row.online),
        "online_label": "在线" if row.online else "离线",
        "fw": row.fw or "—",
        "outbox": row.outbox,
        "last_seen_ms": row.last_seen_ms,
    }


def attendance_board(
    conn: sa.Connection, gw_config: Any, hall: str, day: str, clock: Any, now_ms: int
) -> list[dict[str, Any]]:
    """The attendance report with Chinese flag labels; flagged clerks first."""
    entries = attendance.report(conn, hall, day, gw_config.attendance, clock, now_ms)
    for entry in entries:
        entry["flag_labels"] = [ATTENDANCE_FLAG_LABELS.get(f, f) for f in entry["flags"]]
    return sorted(entries, key=lambda e: (not e["flags"], e["staff_no"]))


def hourly(conn: sa.Connection, hall: str, day: str, clock: Any) -> dict[str, list[Any]]:
    """Per local hour: good and bad ratings, tickets called and their mean wait (minutes)."""
    good, bad, called = [0] * 24, [0] * 24, [0] * 24
    waited = [0.0] * 24
    rated = conn.execute(
        sa.select(ratings.c.at_ms, ratings.c.bad).where(
            ratings.c.hall == hall, ratings.c.day == day, ratings.c.excluded.is_(False)
        )
    )
    for at_ms, is_bad in rated:
        hour = clock.local(at_ms).hour
        (bad if is_bad else good)[hour] += 1
    tickets = conn.execute(
        sa.select(queue_tickets.c.issued_ms, queue_tickets.c.called_ms).where(
            queue_tickets.c.hall == hall,
            queue_tickets.c.day == day,
            queue_tickets.c.called_ms.is_not(None),
        )
    )
    for issued_ms, called_ms in tickets:
        hour = clock.local(called_ms).hour
        called[hour] += 1
        waited[hour] += (called_ms - issued_ms) / MINUTE_MS
    mean_wait = [round(waited[h] / called[h], 1) if called[h] else 0.0 for h in range(24)]
    return {"good": good, "bad": bad, "called": called, "wait_min": mean_wait}


def ticket_summary(
    conn: sa.Connection, hall: str, day: str, services: dict[str, str]
) -> dict[str, Any]:
    """The day's tickets per service and state, with mean and longest wait (minutes)."""
    rows = conn.execute(
        sa.select(queue_tickets).where(queue_tickets.c.hall == hall, queue_tickets.c.day == day)
    ).all()
    per_service: dict[str, dict[str, Any]] = {}
    waits: list[float] = []
    for row in rows:
        entry = per_service.setdefault(
            row.service, {"service": row.service, "name": services.get(row.service, row.service),
                          "issued": 0, "done": 0, "waits": []},
        )  # fmt: skip
        entry["issued"] += 1
        entry["done"] += row.state == "done"
        if row.called_ms is not None:
            wait = (row.called_ms - row.issued_ms) / MINUTE_MS
            entry["waits"].append(wait)
            waits.append(wait)
    states = Counter(row.state for row in rows)
    return {
        "issued": len(rows),
        "states": {TICKET_STATE_LABELS.get(s, s): n for s, n in states.items()},
        "mean_wait_min": round(sum(waits) / len(waits), 1) if waits else None,
        "max_wait_min": round(max(waits), 1) if waits else None,
        "services": [
            {**e, "mean_wait_min": round(sum(e["waits"]) / len(e["waits"]), 1)
             if e["waits"] else None}
            for e in sorted(per_service.values(), key=lambda e: e["service"])
        ],
    }  # fmt: skip
