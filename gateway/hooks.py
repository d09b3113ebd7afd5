"""How subsystems (queue, follow-up, fleet …) take part in the gateway's ingest.

Ingest validates an event, dedupes it on (device, id) and stores it; then, inside the same
transaction and before the device is acked, it calls every handler registered for the event's
kind. A handler writes through `ctx.conn` (so its effects are atomic with the event) and queues
commands with `ctx.send()`, which are published only after the commit. A handler that raises
`EventRefused` refuses the event: its effects are rolled back, the refusal and reason are stored,
and the device is still acked (the event was received; it must not be retried forever).

Handlers of a batch run in one transaction without savepoints; when one refuses or fails, the
whole batch is rolled back and run again with a savepoint per event. So a handler may run twice
for one event: anything it does outside `ctx.conn` (nudging a thread, in-memory state) must be
safe to repeat or follow the transaction's outcome.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa


class GatewayError(Exception):
    """Root of the gateway's own errors."""


class EventRefused(GatewayError, ValueError):
    """An event that is well-formed but not acceptable now (no open rating window, …)."""

    def __init__(self, reason: str, detail: str = "", reply: list[Command] | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        # Commands still sent after the refusal is stored, e.g. "badge rejected" to the device.
        self.reply = reply or []


class EventDeferred(GatewayError):
    """An event that needs an earlier event of the same device which has not arrived yet.

    Redelivery after a crash or a reconnect can reorder a device's events (a rating ahead of its
    rw_open). Such an event is neither stored nor acked: the device keeps it in its outbox and
    sends it again, by which time the earlier event is stored."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Command:
    device: str
    kind: str
    fields: dict[str, Any]


@dataclass(slots=True)
class EventContext:
    conn: sa.Connection
    hall: str
    device: str
    window: str | None  # the window the device serves, if registered to one
    kind: str
    body: dict[str, Any]
    at_ms: int  # when it happened, on the gateway's clock (protocol.clock rule)
    received_ms: int
    commands: list[Command] = field(default_factory=list)
    # What a handler stored for the event, for the handlers after it (the core's handlers run
    # first): "rating" -> the stored rating's {"id", "bad"}, so the follow-up needs no query.
    facts: dict[str, Any] = field(default_factory=dict)
    # The hall's registered devices (id -> devices row) as the batch found them: no query needed.
    devices: dict[str, Any] = field(default_factory=dict)

    def send(self, device: str, kind: str, **fields: Any) -> None:
        """Queue a command for `device`, published after this event's transaction commits."""
        self.commands.append(Command(device, kind, fields))


Handler = Callable[[EventContext], None]


class Hooks:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def on(self, kind: str, handler: Handler) -> None:
        self._handlers[kind].append(handler)

    def dispatch(self, ctx: EventContext) -> None:
        for handler in self._handlers.get(ctx.kind, ()):
            handler(ctx)
