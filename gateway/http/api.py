"""Core HTTP routes: health, metrics, staff, windows, devices, shifts, attendance, ratings, stats.

Managers see and change everything; technicians register windows and devices and see rejects;
clerks see their own shifts, attendance and ratings.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from gateway import attendance, registry, staff
from gateway.http.auth import current_user, gateway_of, require
from gateway.registry import RegistryError
from gateway.stats import GROUPS, stats
from gateway.store.tables import devices, rating_windows, ratings, rejects, shifts, windows
from gateway.store.tables import staff as staff_table

router = APIRouter()
MANAGER = Depends(require("manager"))
TECH = Depends(require("manager", "technician"))
DAY = Query(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="local day YYYY-MM-DD")


def _today(gw: Any) -> str:
    return str(gw.clock.day(int(time.time() * 1000)))


def _rows(gw: Any, query: sa.Select) -> list[dict[str, Any]]:
    with gw.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _write(gw: Any, action: Any) -> Any:
    """Run a registration in one transaction; a refused one becomes 400 and changes nothing."""
    try:
        with gw.engine.begin() as conn:
            return action(conn)
    except RegistryError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.get("/healthz", tags=["ops"])
def healthz(gw: Any = Depends(gateway_of)) -> dict[str, Any]:
    with gw.engine.connect() as conn:
        conn.execute(sa.text("select 1"))
    broker = gw.online()
    return {
        "ok": broker,
        "hall": gw.hall,
        "broker": broker,
        "store": True,
        "queued": gw.ingest.inbox.qsize(),
    }


@router.get("/metrics", tags=["ops"])
def metrics(gw: Any = Depends(gateway_of)) -> Response:
    online = sa.select(sa.func.count()).where(devices.c.hall == gw.hall, devices.c.online)
    with gw.engine.connect() as conn:
        gw.metrics.online.set(conn.execute(online).scalar() or 0)  # read at scrape time
    return Response(gw.metrics.exposition(), media_type="text/plain; version=0.0.4")


class StaffIn(BaseModel):
    name: str
    staff_no: str
    role: str
    badge_uid: str | None = None
    team: str | None = None


@router.get("/api/staff", tags=["staff"])
def list_staff(gw: Any = Depends(gateway_of), _u: Any = TECH) -> list[dict[str, Any]]:
    with gw.engine.connect() as conn:
        return staff.list_staff(conn, gw.hall)


@router.post("/api/staff", tags=["staff"], status_code=201)
def add_staff(body: StaffIn, gw: Any = Depends(gateway_of), _u: Any = MANAGER) -> dict[str, int]:
    entry = staff.StaffEntry(body.name, body.staff_no, body.role, body.badge_uid, body.team)
    staff_id = _write(gw, lambda conn: staff.add_staff(conn, gw.hall, entry))
    gw.push_config()
    return {"id": staff_id}


@router.post(
    "/api/staff/import",
    tags=["staff"],
    openapi_extra={"requestBody": {"content": {"text/csv": {}}}},
)
async def import_staff(
    request: Request, gw: Any = Depends(gateway_of), _u: Any = MANAGER
) -> dict[str, int]:
    """CSV with header name,staff_no,role,badge_uid,team; all rows or none."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "the CSV must be UTF-8") from exc
    count = _write(gw, lambda conn: staff.import_csv(conn, gw.hall, text))
    gw.push_config()
    return {"imported": count}


class ScheduleDay(BaseModel):
    weekday: int
    start: str
    end: str


@router.put("/api/staff/{staff_no}/schedule", tags=["staff"])
def put_schedule(
    staff_no: str, days: list[ScheduleDay], gw: Any = Depends(gateway_of), _u: Any = MANAGER
) -> dict[str, int]:
    def change(conn: sa.Connection) -> int:
        staff_id = conn.execute(
            sa.select(staff_table.c.id).where(
                staff_table.c.hall == gw.hall, staff_table.c.staff_no == staff_no
            )
        ).scalar()
        if staff_id is None:
            raise RegistryError(f"no staff number {staff_no!r}")
        attendance.set_schedule(conn, staff_id, {d.weekday: (d.start, d.end) for d in days})
        return len(days)

    return {"days": _write(gw, change)}


class WindowIn(BaseModel):
    id: str
    number: int
    label: str | None = None


@router.get("/api/windows", tags=["devices"])
def list_windows(
    gw: Any = Depends(gateway_of), _u: Any = Depends(current_user)
) -> list[dict[str, Any]]:
    return _rows(gw, sa.select(windows).where(windows.c.hall == gw.hall).order_by(windows.c.number))


@router.post("/api/windows", tags=["devices"], status_code=201)
def add_window(body: WindowIn, gw: Any = Depends(gateway_of), _u: Any = TECH) -> dict[str, str]:
    _write(gw, lambda conn: registry.add_window(conn, gw.hall, body.id, body.number, body.label))
    return {"id": body.id}


class DeviceIn(BaseModel):
    id: str
    kind: str
    window: str | None = None
    paired: str | None = None


@router.get("/api/devices", tags=["devices"])
def list_devices(gw: Any = Depends(gateway_of), _u: Any = TECH) -> list[dict[str, Any]]:
    return _rows(gw, sa.select(devices).where(devices.c.hall == gw.hall).order_by(devices.c.id))


@router.post("/api/devices", tags=["devices"], status_code=201)
def add_device(body: DeviceIn, gw: Any = Depends(gateway_of), _u: Any = TECH) -> dict[str, str]:
    _write(
        gw,
        lambda conn: registry.add_device(
            conn, gw.hall, body.id, body.kind, body.window, body.paired
        ),
    )
    return {"id": body.id}


@router.get("/api/rejects", tags=["devices"])
def list_rejects(
    limit: int = Query(100, ge=1, le=1000), gw: Any = Depends(gateway_of), _u: Any = TECH
) -> list[dict[str, Any]]:
    query = (
        sa.select(rejects)
        .where(rejects.c.hall == gw.hall)
        .order_by(rejects.c.id.desc())
        .limit(limit)
    )
    return _rows(gw, query)


def _own(user: Any, column: Any) -> Any:
    """Clerks see only their own rows."""
    if user.role == "clerk":
        return column == (user.staff_id if user.staff_id is not None else -1)
    return sa.true()


@router.get("/api/shifts", tags=["attendance"])
def list_shifts(
    day: str | None = DAY, gw: Any = Depends(gateway_of), user: Any = Depends(current_user)
) -> list[dict[str, Any]]:
    query = (
        sa.select(shifts, staff_table.c.name, staff_table.c.staff_no)
        .join(staff_table, staff_table.c.id == shifts.c.staff_id)
        .where(
            shifts.c.hall == gw.hall,
            shifts.c.day == (day or _today(gw)),
            _own(user, shifts.c.staff_id),
        )
        .order_by(shifts.c.started_ms)
    )
    return _rows(gw, query)


@router.get("/api/attendance", tags=["attendance"])
def attendance_report(
    day: str | None = DAY, gw: Any = Depends(gateway_of), user: Any = Depends(current_user)
) -> list[dict[str, Any]]:
    with gw.engine.connect() as conn:
        entries = attendance.report(
            conn,
            gw.hall,
            day or _today(gw),
            gw.config.attendance,
            gw.clock,
            int(time.time() * 1000),
        )
        if user.role == "clerk":
            own = conn.execute(
                sa.select(staff_table.c.staff_no).where(staff_table.c.id == user.staff_id)
            ).scalar()
            entries = [e for e in entries if e["staff_no"] == own]
    return entries


@router.get("/api/ratings", tags=["ratings"])
def list_ratings(
    day_from: str | None = DAY,
    day_to: str | None = DAY,
    bad: bool | None = None,
    gw: Any = Depends(gateway_of),
    user: Any = Depends(current_user),
) -> list[dict[str, Any]]:
    today = _today(gw)
    rw = rating_windows
    query = (
        sa.select(
            ratings,
            rw.c.ticket,
            rw.c.service,
            rw.c.service_name,
            rw.c.matter,
            rw.c.case_no,
            rw.c.opened_ms,
        )
        .join(rw, rw.c.id == ratings.c.rating_window_id)
        .where(
            ratings.c.hall == gw.hall,
            ratings.c.day.between(day_from or today, day_to or today),
            _own(user, ratings.c.staff_id),
        )
        .order_by(ratings.c.at_ms)
    )
    if bad is not None:
        query = query.where(ratings.c.bad.is_(bad))
    return _rows(gw, query)


@router.get("/api/stats", tags=["ratings"])
def rating_stats(
    by: str = Query("clerk", description="clerk, window or day"),
    day_from: str | None = DAY,
    day_to: str | None = DAY,
    gw: Any = Depends(gateway_of),
    _u: Any = MANAGER,
) -> list[dict[str, Any]]:
    """好评率 (good_rate), 差评数 (bad), 未评价率 (unrated_rate) per clerk, window or day."""
    if by not in GROUPS:
        raise HTTPException(400, f"by must be one of {', '.join(GROUPS)}")
    today = _today(gw)
    start = day_from or (dt.date.fromisoformat(today) - dt.timedelta(days=30)).isoformat()
    with gw.engine.connect() as conn:
        return stats(conn, gw.hall, by, start, day_to or today)
