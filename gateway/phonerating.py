"""Rating on a phone: the QR code a terminal shows leads to `/r/<token>` (protocol.ratelink).

The token names one rating window; the gateway finds it among the hall's recent windows by
computing their tokens under the hall's badge_key. A phone rating goes through the same hooks as a
rating key (gateway.ratings decides, the follow-up opens a case for 差评, the live feed sees it),
stored as an event of the terminal with the gateway-issued id "0-<window row id>": devices number
their boots from 1, so it never clashes with a device's id, and a second submit of the same window
is a duplicate. After the commit the device gets cmd/rw_close and does not send `unrated`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway.hooks import EventContext, EventRefused
from gateway.registry import hall_row
from gateway.store.tables import events, rating_windows
from protocol import messages
from protocol.levels import BAD_REASONS, LEVELS, is_bad
from protocol.ratelink import is_token, rate_token

LOOKBACK_MS = 6 * 3600 * 1000  # a phone link is good for the window it was shown for, not days

# What the phone page is told: the window is open, or why it cannot be rated.
OPEN, RATED, CLOSED, UNKNOWN = "open", "rated", "closed", "unknown"


@dataclass(frozen=True)
class PhoneWindow:
    id: int
    device: str
    rw: str
    window: str | None
    state: str  # OPEN | RATED | CLOSED


def find_window(conn: sa.Connection, hall: str, token: str, now_ms: int) -> PhoneWindow | None:
    """The recent rating window whose link carries `token`, or None."""
    if not is_token(token):
        return None
    key = hall_row(conn, hall).badge_key
    query = sa.select(
        rating_windows.c.id,
        rating_windows.c.device,
        rating_windows.c.rw,
        rating_windows.c.window,
        rating_windows.c.outcome,
    ).where(rating_windows.c.hall == hall, rating_windows.c.opened_ms >= now_ms - LOOKBACK_MS)
    for row in conn.execute(query):
        if rate_token(key, row.device, row.rw) == token:
            state = {None: OPEN, "rated": RATED}.get(row.outcome, CLOSED)
            return PhoneWindow(row.id, row.device, row.rw, row.window, state)
    return None


def check_choice(level: str, reasons: list[str]) -> None:
    """A level and reasons the page could have sent; anything else raises ValueError."""
    if level not in LEVELS:
        raise ValueError(f"unknown rating level {level!r}")
    if reasons and not is_bad(level):
        raise ValueError("reasons go only with 不满意 or 非常不满意")
    if len(set(reasons)) != len(reasons) or any(r not in BAD_REASONS for r in reasons):
        raise ValueError(f"unknown or repeated reasons {reasons!r}")


def rate(gw: Any, token: str, level: str, reasons: list[str]) -> str:
    """Store a phone rating for the window of `token`; returns OPEN when it was stored now, else
    the state that refused it (RATED, CLOSED, UNKNOWN). Bad choices raise ValueError first."""
    check_choice(level, reasons)
    now = int(time.time() * 1000)
    try:
        with gw.engine.begin() as conn:
            found = find_window(conn, gw.hall, token, now)
            if found is None or found.state != OPEN:
                return found.state if found else UNKNOWN
            ctx = _store(gw, conn, found, level, reasons, now)
    except EventRefused as exc:
        return RATED if exc.reason == "already_rated" else CLOSED
    except sa.exc.IntegrityError:  # a key press or a second submit committed first
        return RATED
    for command in ctx.commands:
        gw.send(command.device, command.kind, **command.fields)
    gw.send(found.device, "rw_close", rw=found.rw, outcome="rated", channel="phone")
    return OPEN


def _store(
    gw: Any, conn: sa.Connection, found: PhoneWindow, level: str, reasons: list[str], now: int
) -> EventContext:
    fields: dict[str, Any] = {"rw": found.rw, "level": level, "channel": "phone"}
    if reasons:
        fields["reasons"] = reasons
    body = messages.make_event("rating", f"0-{found.id}", now, 0, **fields)
    conn.execute(
        events.insert().values(
            hall=gw.hall,
            device=found.device,
            event_id=body["id"],
            kind="rating",
            body=body,
            ts=now,
            up=0,
            at_ms=now,
            received_ms=now,
        )
    )
    ctx = EventContext(conn, gw.hall, found.device, found.window, "rating", body, now, now)
    gw.hooks.dispatch(ctx)  # gateway.ratings first: refuses a second rating, closes the window
    return ctx
