"""Rating windows and ratings: one rating per service, only inside a window that was opened.

"The same service" (the one-rating rule) is keyed by its case number (办件编号) when the rating
window names one, else by the ticket and service of that day, else by the rating window itself.
A second rating for a service already rated is refused, as is a rating on a device without that
open rating window. A window closed without a press is stored as unrated, never as a level.
差评 (protocol.levels.BAD_LEVELS) are stored with bad=True for the follow-up subsystem.
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.hooks import EventContext, EventRefused, Hooks
from gateway.shifts import open_shift
from gateway.store.sql import upsert
from gateway.store.tables import devices, rating_windows, ratings, stray_counts
from gateway.timeutil import HallClock
from protocol.levels import is_bad

# Built once, run with parameters: the ingest runs these for every rating (see bench/gateway_ingest).
_b = sa.bindparam
OPEN_RW = rating_windows.insert()
FIND_RW = sa.select(rating_windows).where(
    rating_windows.c.hall == _b("hall"),
    rating_windows.c.device == _b("device"),
    rating_windows.c.rw == _b("rw"),
)
SERVICE_RATED = sa.select(ratings.c.id).where(
    ratings.c.hall == _b("hall"), ratings.c.service_key == _b("key")
)
ADD_RATING = ratings.insert()
CLOSE_RW = (
    rating_windows.update()
    .where(rating_windows.c.id == _b("rw_id"))
    .values(outcome=_b("outcome"), unrated_reason=_b("reason"), closed_ms=_b("at"))
)
FIND_DEVICE = sa.select(devices.c.id, devices.c.window, devices.c.paired).where(
    devices.c.hall == _b("hall"), devices.c.id == _b("device")
)
SERVICE_FIELDS = ("ticket", "service", "service_name", "matter", "case_no")


def service_key(day: str, device: str, rw: str, service: dict) -> str:
    if service.get("case_no"):
        return f"case:{service['case_no']}"
    if service.get("ticket"):
        return f"ticket:{day}:{service.get('service', '')}:{service['ticket']}"
    return f"rw:{device}:{rw}"


class Ratings:
    def __init__(self, clock: HallClock) -> None:
        self.clock = clock

    def install(self, hooks: Hooks) -> None:
        hooks.on("rw_open", self.rw_open)
        hooks.on("rating", self.rating)
        hooks.on("unrated", self.unrated)
        hooks.on("stray", self.stray)

    def rw_open(self, ctx: EventContext) -> None:
        body, service = ctx.body, ctx.body.get("service", {})
        day = self.clock.day(ctx.at_ms)
        terminal = _serving_terminal(ctx)
        shift = open_shift(ctx.conn, ctx.hall, terminal.id)
        values = {
            "hall": ctx.hall,
            "device": ctx.device,
            "rw": body["rw"],
            "window": ctx.window or terminal.window,
            "staff_id": shift.staff_id if shift else None,
            "shift_id": shift.id if shift else None,
            "day": day,
            "opened_by": body["by"],
            "timeout_s": body["timeout_s"],
            "service_key": service_key(day, ctx.device, body["rw"], service),
            "opened_ms": ctx.at_ms,
        }
        values.update({k: service.get(k) for k in SERVICE_FIELDS})
        ctx.conn.execute(OPEN_RW, values)

    def _open_window(self, ctx: EventContext) -> sa.Row:
        where = {"hall": ctx.hall, "device": ctx.device, "rw": ctx.body["rw"]}
        row = ctx.conn.execute(FIND_RW, where).first()
        if row is None:
            raise EventRefused(
                "no_rating_window", f"no rating window {ctx.body['rw']} on {ctx.device}"
            )
        if row.outcome is not None:
            raise EventRefused(
                "rating_window_closed", f"rating window {row.rw} is already {row.outcome}"
            )
        return row

    def rating(self, ctx: EventContext) -> None:
        rw = self._open_window(ctx)
        if ctx.conn.execute(SERVICE_RATED, {"hall": ctx.hall, "key": rw.service_key}).first():
            raise EventRefused("already_rated", f"service {rw.service_key} already has a rating")
        level = ctx.body["level"]
        ctx.conn.execute(
            ADD_RATING,
            {
                "hall": ctx.hall,
                "rating_window_id": rw.id,
                "service_key": rw.service_key,
                "device": ctx.device,
                "event_id": ctx.body["id"],
                "window": rw.window,
                "staff_id": rw.staff_id,
                "day": rw.day,
                "level": level,
                "reasons": ctx.body.get("reasons", []),
                "channel": ctx.body.get("channel", "keys"),
                "bad": is_bad(level),
                "at_ms": ctx.at_ms,
            },
        )
        self._close(ctx, rw, "rated")

    def unrated(self, ctx: EventContext) -> None:
        rw = self._open_window(ctx)
        self._close(ctx, rw, "unrated", ctx.body["reason"])

    def _close(
        self, ctx: EventContext, rw: sa.Row, outcome: str, reason: str | None = None
    ) -> None:
        values = {"rw_id": rw.id, "outcome": outcome, "reason": reason, "at": ctx.at_ms}
        ctx.conn.execute(CLOSE_RW, values)

    def stray(self, ctx: EventContext) -> None:
        count = ctx.body["count"]
        values = {
            "hall": ctx.hall,
            "device": ctx.device,
            "day": self.clock.day(ctx.at_ms),
            "count": count,
        }
        upsert(ctx.conn, stray_counts, ["hall", "device", "day"], values, add=("count",))


def _serving_terminal(ctx: EventContext) -> sa.Row:
    """The terminal whose clerk a rating box's window rates: the paired one, else itself."""
    row = ctx.conn.execute(FIND_DEVICE, {"hall": ctx.hall, "device": ctx.device}).one()
    if not row.paired:
        return row
    return ctx.conn.execute(FIND_DEVICE, {"hall": ctx.hall, "device": row.paired}).first() or row
