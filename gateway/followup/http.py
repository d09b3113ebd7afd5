"""HTTP API of the follow-up subsystem: cases, the standard's statistics, upload, alerts.

    GET  /api/followup/cases?state=&mine=       list (a clerk sees cases about or assigned to him)
    GET  /api/followup/cases/{id}               one case with its steps (who, when, what)
    POST /api/followup/cases/{id}/visit         {note}                 assignee or manager
         …/verify {finding, note}  …/fix {note}  …/explain {note}  …/citizen-view {view, note}
         …/close {note} (manager)  …/reassign {assignee, note} (manager)
         …/appeal {reason, note} (the clerk rated)  …/decide {upheld, note} (manager)
    GET  /api/followup/stats?start=&end=&by=&period=&format=json|csv|xlsx     manager
    GET  /api/upload/report?day=  POST /api/upload/retry-failed                manager
    GET  /api/alerts/recent?since=                                              manager

A refused step answers 409 (wrong state), 403 (wrong person), 400 (bad input), 404 (no such
case), with the reason; nothing changes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel

from gateway.followup import cases
from gateway.followup.errors import (
    CaseNotFound,
    InvalidInput,
    NotAllowed,
    StatsError,
    TransitionError,
)
from gateway.followup.export import export
from gateway.followup.stats import Query as StatsQuery
from gateway.followup.stats import compute
from gateway.followup.tables import followup_cases
from gateway.http.auth import require
from gateway.store.tables import staff
from gateway.upload.outbox import reconcile
from gateway.upload.sender import retry_failed
from protocol.levels import CASE_ACTION_LABELS, CASE_STATE_LABELS

WORKERS = Depends(require("manager", "clerk"))
MANAGER = Depends(require("manager"))
DAY = r"^\d{4}-\d{2}-\d{2}$"
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # fmt: skip


class Note(BaseModel):
    note: str = ""


class Finding(Note):
    finding: str


class View(Note):
    view: str


class Reassign(Note):
    assignee: str


class Appeal(Note):
    reason: str


class Decision(Note):
    upheld: bool


def now_ms() -> int:
    return int(time.time() * 1000)


def make_router(followup: Any) -> APIRouter:
    router = APIRouter(tags=["followup"])
    engine: sa.Engine = followup.engine

    def actor(user: sa.Row) -> cases.Actor:
        with engine.connect() as conn:
            no = conn.execute(
                sa.select(staff.c.staff_no).where(staff.c.id == user.staff_id)
            ).scalar()
        return cases.Actor(no or user.username, user.role)

    def step(case_id: int, user: sa.Row, fn: Callable[..., sa.Row], *args: Any) -> dict:
        who = actor(user)
        try:
            with engine.begin() as conn:
                row = fn(conn, case_id, who, now_ms(), *args)
        except CaseNotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        except NotAllowed as exc:
            raise HTTPException(403, str(exc)) from exc
        except InvalidInput as exc:
            raise HTTPException(400, str(exc)) from exc
        except TransitionError as exc:
            raise HTTPException(409, str(exc)) from exc
        return _case(row)

    @router.get("/api/followup/cases")
    def list_cases(state: str | None = None, user: sa.Row = WORKERS) -> list[dict]:
        query = sa.select(followup_cases).where(followup_cases.c.hall == followup.hall)
        if state:
            query = query.where(followup_cases.c.state == state)
        if user.role != "manager":
            me = actor(user).staff_no
            query = query.where(
                sa.or_(followup_cases.c.clerk == me, followup_cases.c.assignee == me)
            )
        with engine.connect() as conn:
            return [_case(r) for r in conn.execute(query.order_by(followup_cases.c.id))]

    @router.get("/api/followup/cases/{case_id}")
    def one_case(case_id: int, user: sa.Row = WORKERS) -> dict:
        try:
            with engine.connect() as conn:
                row, trail = cases.get(conn, case_id), cases.steps(conn, case_id)
        except CaseNotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        me = actor(user).staff_no
        if user.role != "manager" and me not in (row.clerk, row.assignee):
            raise HTTPException(403, "not your case")
        return {**_case(row), "steps": [_step(s) for s in trail]}

    @router.post("/api/followup/cases/{case_id}/visit")
    def visit(case_id: int, body: Note, user: sa.Row = WORKERS) -> dict:
        return step(case_id, user, cases.visit, body.note)

    @router.post("/api/followup/cases/{case_id}/verify")
    def verify(case_id: int, body: Finding, user: sa.Row = WORKERS) -> dict:
        return step(case_id, user, cases.verify, body.finding, body.note)

    @router.post("/api/followup/cases/{case_id}/fix")
    def fix(case_id: int, body: Note, user: sa.Row = WORKERS) -> dict:
        return step(case_id, user, cases.fix, body.note)

    @router.post("/api/followup/cases/{case_id}/explain")
    def explain(case_id: int, body: Note, user: sa.Row = WORKERS) -> dict:
        return step(case_id, user, cases.explain, body.note)

    @router.post("/api/followup/cases/{case_id}/citizen-view")
    def citizen_view(case_id: int, body: View, user: sa.Row = WORKERS) -> dict:
        return step(case_id, user, cases.citizen_view, body.view, body.note)

    @router.post("/api/followup/cases/{case_id}/close")
    def close(case_id: int, body: Note, user: sa.Row = MANAGER) -> dict:
        return step(case_id, user, cases.close_unreachable, body.note)

    @router.post("/api/followup/cases/{case_id}/reassign")
    def reassign(case_id: int, body: Reassign, user: sa.Row = MANAGER) -> dict:
        return step(case_id, user, cases.reassign, body.assignee, body.note)

    @router.post("/api/followup/cases/{case_id}/appeal")
    def appeal(case_id: int, body: Appeal, user: sa.Row = WORKERS) -> dict:
        return step(case_id, user, cases.appeal, body.reason, body.note)

    @router.post("/api/followup/cases/{case_id}/decide")
    def decide(case_id: int, body: Decision, user: sa.Row = MANAGER) -> dict:
        return step(case_id, user, cases.decide, body.upheld, body.note)

    @router.get("/api/followup/stats")
    def stats(
        start: str = Query(pattern=DAY),
        end: str = Query(pattern=DAY),
        by: str = "hall",
        period: str = "all",
        format: str = "json",
        _user: sa.Row = MANAGER,
    ) -> Any:
        try:
            query = StatsQuery(followup.hall, dt.date.fromisoformat(start),
                               dt.date.fromisoformat(end), by, period, now_ms())  # fmt: skip
        except (StatsError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from exc
        if format not in ("json", *MEDIA):
            raise HTTPException(400, "format must be json, csv or xlsx")
        with engine.connect() as conn:
            rows = compute(conn, query)
        if format == "json":
            return [r.as_dict() for r in rows]
        name = f"stats-{by}-{period}-{start}-{end}.{format}"
        return Response(export(rows, by, format), media_type=MEDIA[format],
                        headers={"content-disposition": f'attachment; filename="{name}"'})  # fmt: skip

    @router.get("/api/upload/report")
    def upload_report(day: str = Query(pattern=DAY), _user: sa.Row = MANAGER) -> dict:
        with engine.connect() as conn:
            return reconcile(conn, followup.hall, day).as_dict()

    @router.post("/api/upload/retry-failed")
    def upload_retry(_user: sa.Row = MANAGER) -> dict:
        with engine.begin() as conn:
            return {"queued": retry_failed(conn, followup.hall, now_ms())}

    @router.get("/api/alerts/recent")
    def recent_alerts(since: int = 0, _user: sa.Row = MANAGER) -> list[dict]:
        return [a.as_dict() for a in followup.feed.recent(since)]

    return router


def _case(row: sa.Row) -> dict[str, Any]:
    return {**dict(row._mapping), "state_label": CASE_STATE_LABELS[row.state]}


def _step(row: sa.Row) -> dict[str, Any]:
    return {**dict(row._mapping), "action_label": CASE_ACTION_LABELS[row.action]}
