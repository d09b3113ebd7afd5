"""Shifts from badge taps and pauses from the clerk's 暂停/恢复 keys.

A login opens a shift on the terminal and sends cmd/session state=open with the clerk's name and
staff number (the electronic work badge). A login on a terminal where someone else works ends that
shift ("replaced"); a clerk logging in at another terminal ends their shift there ("moved") and
that terminal is told. An unknown badge is refused and answered with state=rejected and the reason
in Chinese; nothing else changes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gateway.hooks import Command, EventContext, EventRefused, Hooks
from gateway.registry import window_label
from gateway.staff import by_badge, hash_badge
from gateway.store.tables import pauses, shifts
from gateway.timeutil import HallClock

UNKNOWN_BADGE = "未登记的工牌"


OPEN_SHIFT = sa.select(shifts).where(
    shifts.c.hall == sa.bindparam("hall"),
    shifts.c.device == sa.bindparam("device"),
    shifts.c.ended_ms.is_(None),
)


def open_shift(conn: sa.Connection, hall: str, device: str) -> sa.Row | None:
    """The shift open on a terminal (built once: every rating window asks)."""
    return conn.execute(OPEN_SHIFT, {"hall": hall, "device": device}).first()


def _open_shift_of(conn: sa.Connection, staff_id: int) -> sa.Row | None:
    query = sa.select(shifts).where(shifts.c.staff_id == staff_id, shifts.c.ended_ms.is_(None))
    return conn.execute(query).first()


def _open_pause(conn: sa.Connection, shift_id: int) -> sa.Row | None:
    query = sa.select(pauses).where(pauses.c.shift_id == shift_id, pauses.c.ended_ms.is_(None))
    return conn.execute(query).first()


def end_shift(conn: sa.Connection, shift: sa.Row, at_ms: int, reason: str) -> None:
    at_ms = max(at_ms, shift.started_ms)
    conn.execute(
        pauses.update()
        .where(pauses.c.shift_id == shift.id, pauses.c.ended_ms.is_(None))
        .values(ended_ms=at_ms)
    )
    conn.execute(
        shifts.update().where(shifts.c.id == shift.id).values(ended_ms=at_ms, end_reason=reason)
    )


class Shifts:
    def __init__(self, clock: HallClock) -> None:
        self.clock = clock

    def install(self, hooks: Hooks) -> None:
        hooks.on("badge", self.badge)
        hooks.on("clerk", self.clerk)

    def badge(self, ctx: EventContext) -> None:
        person = by_badge(ctx.conn, ctx.hall, hash_badge(ctx.conn, ctx.hall, ctx.body["uid"]))
        if person is None:
            reply = Command(ctx.device, "session", {"state": "rejected", "reason": UNKNOWN_BADGE})
            raise EventRefused("unknown_badge", "badge not registered", [reply])
        if ctx.body["action"] == "login":
            self._login(ctx, person)
        else:
            self._logout(ctx, person)

    def _login(self, ctx: EventContext, person: sa.Row) -> None:
        current = open_shift(ctx.conn, ctx.hall, ctx.device)
        if current is not None and current.staff_id == person.id:
            ctx.send(ctx.device, "session", **self._open_fields(ctx, person))
            return  # a second tap while logged in: say so again, change nothing
        if current is not None:
            end_shift(ctx.conn, current, ctx.at_ms, "replaced")
        elsewhere = _open_shift_of(ctx.conn, person.id)
        if elsewhere is not None:
            end_shift(ctx.conn, elsewhere, ctx.at_ms, "moved")
            ctx.send(elsewhere.device, "session", state="closed")
        ctx.conn.execute(
            shifts.insert().values(
                hall=ctx.hall,
                staff_id=person.id,
                device=ctx.device,
                window=ctx.window,
                day=self.clock.day(ctx.at_ms),
                started_ms=ctx.at_ms,
                offline=bool(ctx.body.get("offline")),
            )
        )
        ctx.send(ctx.device, "session", **self._open_fields(ctx, person))

    def _open_fields(self, ctx: EventContext, person: sa.Row) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "state": "open",
            "clerk": {"name": person.name, "staff_no": person.staff_no, "role": person.role},
        }
        label = window_label(ctx.conn, ctx.hall, ctx.window)
        if label:
            fields["window"] = label
        return fields

    def _logout(self, ctx: EventContext, person: sa.Row) -> None:
        current = open_shift(ctx.conn, ctx.hall, ctx.device)
        if current is None or current.staff_id != person.id:
            raise EventRefused("not_logged_in", f"{person.staff_no} has no shift on {ctx.device}")
        end_shift(ctx.conn, current, ctx.at_ms, "logout")
        ctx.send(ctx.device, "session", state="closed")

    def clerk(self, ctx: EventContext) -> None:
        action = ctx.body["action"]
        if action not in ("pause", "resume"):
            return  # queue actions: the queue subsystem's hooks act on them
        shift = open_shift(ctx.conn, ctx.hall, ctx.device)
        if shift is None:
            raise EventRefused("no_shift", f"nobody is logged in on {ctx.device}")
        paused = _open_pause(ctx.conn, shift.id)
        if action == "pause":
            self._pause(ctx, shift, paused)
        else:
            self._resume(ctx, paused)

    def _pause(self, ctx: EventContext, shift: sa.Row, paused: sa.Row | None) -> None:
        if paused is not None:
            raise EventRefused("already_paused", f"paused since {paused.started_ms}")
        ctx.conn.execute(
            pauses.insert().values(
                shift_id=shift.id,
                staff_id=shift.staff_id,
                reason=ctx.body.get("reason", "other"),
                started_ms=ctx.at_ms,
            )
        )

    def _resume(self, ctx: EventContext, paused: sa.Row | None) -> None:
        if paused is None:
            raise EventRefused("not_paused", "resume without a pause")
        ended = max(ctx.at_ms, paused.started_ms)
        ctx.conn.execute(pauses.update().where(pauses.c.id == paused.id).values(ended_ms=ended))
