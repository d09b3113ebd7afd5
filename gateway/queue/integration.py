"""The queue inside the gateway: the window devices' clerk keys drive it, its calls and
completions become commands to the devices, and its JSON API joins the gateway's routers.

Keys (device `clerk` events): call_next, recall, complete, no_show. 暂停/恢复 (pause, resume)
belong to the gateway's shifts; a paused clerk's call is refused here. A refused key press is
answered with cmd/message carrying the reason in Chinese ("当前无人等候", …).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from gateway.hooks import Command, EventContext, EventRefused, Hooks
from gateway.queue import matters as matter_catalogue
from gateway.queue.config import QueueConfig, load
from gateway.queue.engine import Outcome, QueueEngine
from gateway.queue.errors import QueueError, WindowPaused
from gateway.queue.service import QueueService
from gateway.store.tables import devices, pauses, shifts, staff

log = logging.getLogger("yuping.queue")

KeyOp = Callable[[QueueEngine, str | None, str | None, int], Outcome]
KEYS: dict[str, KeyOp] = {
    "call_next": lambda q, window, clerk, at: q.call_next(window, clerk, at),
    "recall": lambda q, window, clerk, at: q.recall(window, clerk, at),
    "complete": lambda q, window, clerk, at: q.complete(window, clerk, at),
    "no_show": lambda q, window, clerk, at: q.no_show(window, clerk, at),
}


def install(gw: Any) -> None:
    """Called by the gateway (gateway.app.SUBSYSTEMS) before it starts."""
    if not getattr(gw.config, "queue", None):
        log.info("queue not configured: clerk keys other than pause/resume are only stored")
        return
    inherited = ("hall_name", "timezone", "rating_timeout_s")
    config = load(gw.config.queue, {name: getattr(gw.config, name) for name in inherited})
    catalogue = (
        matter_catalogue.load(config.matters) if config.matters else matter_catalogue.Catalogue([])
    )
    service = QueueService(gw.hall, config, catalogue, gw.engine)
    gw.queue = service  # for the web pages (call display, kiosk, status)
    ClerkKeys(service).install(gw.hooks)
    from gateway.queue.api import make_router

    gw.routers.append(make_router(service))


class ClerkKeys:
    def __init__(self, service: QueueService) -> None:
        self.service = service

    def install(self, hooks: Hooks) -> None:
        hooks.on("clerk", self.clerk)

    def clerk(self, ctx: EventContext) -> None:
        op = KEYS.get(ctx.body["action"])
        if op is None:
            return
        try:
            clerk = clerk_at(ctx.conn, ctx.hall, device=ctx.device)
            outcome = self.service.run(ctx.conn, lambda q: op(q, ctx.window, clerk, ctx.at_ms))
        except QueueError as exc:
            raise EventRefused(exc.code, exc.message, [message(ctx.device, exc)]) from exc
        for command in commands(ctx.conn, self.service, outcome):
            ctx.send(command.device, command.kind, **command.fields)


def clerk_at(
    conn: sa.Connection, hall: str, device: str | None = None, window: str | None = None
) -> str | None:
    """The staff number logged in on a device (or at a window), None if nobody; paused refuses."""
    query = (
        sa.select(shifts.c.id, staff.c.staff_no)
        .join(staff, staff.c.id == shifts.c.staff_id)
        .where(shifts.c.hall == hall, shifts.c.ended_ms.is_(None))
        .order_by(shifts.c.started_ms.desc())
    )
    query = (
        query.where(shifts.c.device == device) if device else query.where(shifts.c.window == window)
    )
    shift = conn.execute(query).first()
    if shift is None:
        return None
    paused = conn.execute(
        sa.select(pauses.c.id).where(pauses.c.shift_id == shift.id, pauses.c.ended_ms.is_(None))
    ).first()
    if paused is not None:
        raise WindowPaused("暂停服务中，请先恢复")
    return str(shift.staff_no)


def message(device: str, exc: QueueError) -> Command:
    return Command(
        device, "message", {"level": "warning", "text": exc.message[:64], "code": exc.code}
    )


def window_devices(conn: sa.Connection, hall: str, config: QueueConfig, window: str) -> list[str]:
    """The terminals at a window: from the gateway's registry, else the queue set-up."""
    query = sa.select(devices.c.id).where(
        devices.c.hall == hall, devices.c.window == window, devices.c.kind == "terminal"
    )
    found = list(conn.execute(query).scalars())
    configured = config.windows.get(window)
    if not found and configured is not None and configured.device:
        found = [configured.device]
    return found


def commands(conn: sa.Connection, service: QueueService, outcome: Outcome) -> list[Command]:
    """What the window devices are told: the call to show and speak, the clear, the prompt."""
    config, result = service.config, []
    ticket, kind = outcome.ticket, outcome.action.kind
    announcement = outcome.announcement
    if announcement is not None and ticket is not None:
        window = config.windows.get(announcement.window)
        if window is None or window.announce_on_device:
            fields = {
                "action": "recall" if kind == "recall" else "call",
                "ticket": ticket.number,
                "service_name": _service_name(config, ticket.service),
                "display": announcement.display,
                "voice": announcement.voice,
            }
            for device in window_devices(conn, service.hall, config, announcement.window):
                result.append(Command(device, "ticket", fields))
    if outcome.freed_window is not None and ticket is not None:
        for device in window_devices(conn, service.hall, config, outcome.freed_window):
            result.append(Command(device, "ticket", {"action": "clear", "ticket": ticket.number}))
            if kind == "complete":
                result.append(Command(device, "prompt", prompt_fields(config, outcome)))
    return result


def prompt_fields(config: QueueConfig, outcome: Outcome) -> dict[str, Any]:
    """cmd/prompt: opens the rating window for the service just completed."""
    ticket = outcome.ticket
    assert ticket is not None
    service = {
        "ticket": ticket.number,
        "service": ticket.service,
        "service_name": _service_name(config, ticket.service),
        "matter": ticket.matter,
        "case_no": ticket.case_no,
    }
    return {
        "timeout_s": config.rating_timeout_s,
        "service": {k: v for k, v in service.items() if v},
    }


def _service_name(config: QueueConfig, service_id: str) -> str:
    service = config.services.get(service_id)
    return (service.name if service else service_id)[:32]
