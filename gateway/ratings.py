"""Rating windows and ratings: one rating per service, only inside a window that was opened.

"The same service" (the one-rating rule) is keyed by its case number (办件编号) when the rating
window names one, else by the ticket and service of that day, else by the rating window itself.
A second rating for a service already rated is refused, as is a rating on a device without that
open rating window. A window closed without a press is stored as unrated, never as a level.
差评 (protocol.levels.BAD_LEVELS) are stored with bad=True for the follow-up subsystem.
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.hooks import EventContext, EventDeferred, EventRefused, Hooks
from gateway.store.prepared import InsertId, Prepared
from gateway.store.sql import Upsert
from gateway.store.tables import devices, events, rating_windows, ratings, shifts, stray_counts
from gateway.timeutil import HallClock
from protocol import ids
from protocol.levels import is_bad

# Built once, run with parameters: the ingest runs these for every rating (see bench/gateway_ingest);
# the Prepared ones skip SQLAlchemy's per-call bookkeeping (gateway/store/prepared.py).
_b = sa.bindparam
SERVICE_FIELDS = ("ticket", "service", "service_name", "matter", "case_no")
OPEN_RW_COLUMNS = [
    "hall", "device", "rw", "window", "staff_id", "shift_id", "day", "opened_by", "timeout_s",
    "service_key", "opened_ms", *SERVICE_FIELDS,
]  # fmt: skip
OPEN_RW = Prepared(rating_windows.insert(), OPEN_RW_COLUMNS)
# The rating window (what a rating needs of it), and whether its service already has a rating,
# in one query.
_rw = rating_windows.c
FIND_RW = Prepared(
    sa.select(
        _rw.id,
        _rw.rw,
        _rw.outcome,
        _rw.service_key,
        _rw.window,
        _rw.staff_id,
        _rw.day,
        sa.select(ratings.c.id)
        .where(ratings.c.hall == rating_windows.c.hall)
        .where(ratings.c.service_key == rating_windows.c.service_key)
        .limit(1)
        .scalar_subquery()
        .label("service_rating"),
    ).where(
        rating_windows.c.hall == _b("hall"),
        rating_windows.c.device == _b("device"),
        rating_windows.c.rw == _b("rw"),
    )
)
ADD_STRAYS = Upsert(
    stray_counts, ["hall", "device", "day"], ["hall", "device", "day", "count"], add=("count",)
)
ADD_RATING_COLUMNS = [
    "hall", "rating_window_id", "service_key", "device", "event_id", "window", "staff_id", "day",
    "level", "reasons", "channel", "bad", "at_ms",
]  # fmt: skip
ADD_RATING = InsertId(ratings, ADD_RATING_COLUMNS)
CLOSE_RW = Prepared(
    rating_windows.update()
    .where(rating_windows.c.id == _b("rw_id"))
    .values(outcome=_b("outcome"), unrated_reason=_b("reason"), closed_ms=_b("at"))
)
# Whom a rating window rates: the device's window (else its paired terminal's) and the shift open
# on the terminal (a rating box serves its paired terminal's clerk), in one query.
_device, _terminal = devices.alias("d"), devices.alias("t")
_serving = sa.func.coalesce(_device.c.paired, _device.c.id)
SERVED_BY = Prepared(
    sa.select(
        sa.func.coalesce(_device.c.window, _terminal.c.window).label("window"),
        shifts.c.id.label("shift_id"),
        shifts.c.staff_id,
    )
    .select_from(_device)
    .outerjoin(
        _terminal, sa.and_(_terminal.c.hall == _device.c.hall, _terminal.c.id == _device.c.paired)
    )
    .outerjoin(
        shifts,
        sa.and_(
            shifts.c.hall == _device.c.hall,
            shifts.c.device == _serving,
            shifts.c.ended_ms.is_(None),
        ),
    )
    .where(_device.c.hall == _b("hall"), _device.c.id == _b("device"))
    .limit(1)
)


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
        served = SERVED_BY.one(ctx.conn, {"hall": ctx.hall, "device": ctx.device})
        values = {
            "hall": ctx.hall,
            "device": ctx.device,
            "rw": body["rw"],
            "window": served.window,
            "staff_id": served.staff_id,
            "shift_id": served.shift_id,
            "day": day,
            "opened_by": body["by"],
            "timeout_s": body["timeout_s"],
            "service_key": service_key(day, ctx.device, body["rw"], service),
            "opened_ms": ctx.at_ms,
        }
        values.update({k: service.get(k) for k in SERVICE_FIELDS})
        OPEN_RW.run(ctx.conn, values)

    def _open_window(self, ctx: EventContext) -> sa.Row:
        where = {"hall": ctx.hall, "device": ctx.device, "rw": ctx.body["rw"]}
        row = FIND_RW.first(ctx.conn, where)
        if row is None and self._rw_open_may_still_arrive(ctx):
            raise EventDeferred(
                "rw_open_not_yet", f"rating window {ctx.body['rw']} on {ctx.device} not seen yet"
            )
        if row is None:
            raise EventRefused(
                "no_rating_window", f"no rating window {ctx.body['rw']} on {ctx.device}"
            )
        if row.outcome is not None:
            raise EventRefused(
                "rating_window_closed", f"rating window {row.rw} is already {row.outcome}"
            )
        return row

    @staticmethod
    def _rw_open_may_still_arrive(ctx: EventContext) -> bool:
        """The window's rw_open is an earlier event of this boot that is not stored yet."""
        rw_boot, rw_seq = ids.split(ctx.body["rw"])
        boot, seq = ids.split(ctx.body["id"])
        if rw_boot != boot or rw_seq >= seq:
            return False
        seen = ctx.conn.execute(
            sa.select(events.c.seq).where(
                events.c.hall == ctx.hall,
                events.c.device == ctx.device,
                events.c.event_id == ctx.body["rw"],
            )
        ).first()
        return seen is None

    def rating(self, ctx: EventContext) -> None:
        rw = self._open_window(ctx)
        if rw.service_rating is not None:
            raise EventRefused("already_rated", f"service {rw.service_key} already has a rating")
        level = ctx.body["level"]
        bad = is_bad(level)
        rating_id = ADD_RATING.insert(
            ctx.conn,
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
                "bad": bad,
                "at_ms": ctx.at_ms,
            },
        )
        ctx.facts["rating"] = {"id": rating_id, "bad": bad}
        self._close(ctx, rw, "rated")

    def unrated(self, ctx: EventContext) -> None:
        rw = self._open_window(ctx)
        self._close(ctx, rw, "unrated", ctx.body["reason"])

    def _close(
        self, ctx: EventContext, rw: sa.Row, outcome: str, reason: str | None = None
    ) -> None:
        values = {"rw_id": rw.id, "outcome": outcome, "reason": reason, "at": ctx.at_ms}
        CLOSE_RW.run(ctx.conn, values)

    def stray(self, ctx: EventContext) -> None:
        count = ctx.body["count"]
        values = {
            "hall": ctx.hall,
            "device": ctx.device,
            "day": self.clock.day(ctx.at_ms),
            "count": count,
        }
        ADD_STRAYS.run(ctx.conn, values)
