"""What each page needs, gathered from the store and the queue set-up in one read."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from gateway.registry import hall_row
from gateway.store.tables import shifts, staff
from gateway.web import charts, data


def now_ms() -> int:
    return int(time.time() * 1000)


def hall_name(gw: Any, conn: sa.Connection) -> str:
    return str(hall_row(conn, gw.hall).name)


def queue_day(gw: Any, at_ms: int) -> str:
    """The queue's business day (numbering restarts at its configured hour), else the date."""
    queue = getattr(gw, "queue", None)
    if queue is None:
        return str(gw.clock.day(at_ms))
    return str(queue.engine.business_day(at_ms)[0])


def service_names(gw: Any) -> dict[str, str]:
    queue = getattr(gw, "queue", None)
    return {} if queue is None else {s.id: s.name for s in queue.config.services.values()}


def window_labels(gw: Any) -> dict[str, str]:
    queue = getattr(gw, "queue", None)
    return {} if queue is None else {w.id: w.label for w in queue.config.windows.values()}


def dashboard(gw: Any) -> dict[str, Any]:
    """Everything the manager's dashboard shows, as of now."""
    at = now_ms()
    day = str(gw.clock.day(at))
    with gw.engine.connect() as conn:
        queues, current = data.queue_board(conn, gw.hall, queue_day(gw, at), service_names(gw), at)
        series = data.hourly(conn, gw.hall, day, gw.clock)
        return {
            "hall_name": hall_name(gw, conn),
            "day": day,
            "now_ms": at,
            "timezone": gw.config.timezone,
            "has_queue": getattr(gw, "queue", None) is not None,
            "windows": data.window_board(conn, gw.hall, current),
            "queues": queues,
            "ratings": data.rating_summary(conn, gw.hall, day),
            "bad": data.bad_ratings(conn, gw.hall, day),
            "devices": data.device_board(conn, gw.hall),
            "attendance": data.attendance_board(conn, gw.config, gw.hall, day, gw.clock, at),
            "ratings_chart": charts.ratings_chart(series["good"], series["bad"]),
            "waits_chart": charts.waits_chart(series["wait_min"], series["called"]),
        }


def display(gw: Any, limit: int = 8) -> dict[str, Any]:
    """The call display's state: the latest calls of the day, newest first."""
    at = now_ms()
    with gw.engine.connect() as conn:
        calls = []
        if getattr(gw, "queue", None) is not None:
            calls = data.recent_calls(conn, gw.hall, queue_day(gw, at), window_labels(gw), limit)
        name = hall_name(gw, conn)
    return {"hall_name": name, "calls": calls, "now_ms": at, "timezone": gw.config.timezone}


def kiosk(gw: Any) -> dict[str, Any]:
    at = now_ms()
    with gw.engine.connect() as conn:
        queues, _current = data.queue_board(conn, gw.hall, queue_day(gw, at), service_names(gw), at)
        name = hall_name(gw, conn)
    waiting = {q["service"]: q["waiting"] for q in queues}
    services = [
        {"id": s.id, "name": s.name, "area_label": s.area_label, "waiting": waiting.get(s.id, 0)}
        for s in gw.queue.config.services.values()
    ]
    return {"hall_name": name, "services": services}


def clerk_window(gw: Any, conn: sa.Connection, staff_id: int | None) -> str | None:
    """The window where this staff member is logged in now (their open shift), if any."""
    if staff_id is None:
        return None
    window = conn.execute(
        sa.select(shifts.c.window)
        .where(shifts.c.hall == gw.hall, shifts.c.staff_id == staff_id)
        .where(shifts.c.ended_ms.is_(None))
        .order_by(shifts.c.started_ms.desc())
    ).scalar()
    return str(window) if window is not None else None


def console(gw: Any, user: Any) -> dict[str, Any]:
    """The clerk console: the clerk's window and ticket, and the choices its forms offer."""
    at = now_ms()
    queue = gw.queue
    with gw.engine.connect() as conn:
        window = clerk_window(gw, conn, user.staff_id)
        _queues, current = data.queue_board(conn, gw.hall, queue_day(gw, at), service_names(gw), at)
        me = conn.execute(sa.select(staff.c.name).where(staff.c.id == user.staff_id)).scalar()
        helpers = conn.execute(
            sa.select(staff.c.staff_no, staff.c.name)
            .where(staff.c.hall == gw.hall, staff.c.role == "helper", staff.c.active)
            .order_by(staff.c.staff_no)
        ).all()
        name = hall_name(gw, conn)
    labels = window_labels(gw)
    return {
        "hall_name": name,
        "user": user,
        "clerk_name": me or user.username,
        "window": window,
        "window_label": labels.get(window or "", window),
        "ticket": current.get(window or ""),
        "services": [{"id": s.id, "name": s.name} for s in queue.config.services.values()],
        "windows": [{"id": w.id, "label": w.label} for w in queue.config.windows.values()],
        "matters": [{"code": m.code, "name": m.name} for m in queue.matters.all()],
        "helpers": [{"staff_no": h.staff_no, "name": h.name} for h in helpers],
    }
