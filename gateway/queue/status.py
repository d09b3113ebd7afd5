"""Live status of a ticket (进度随时查): what its status page and the JSON API show.

Only what the citizen needs: no clerk names, no address or full phone number.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from gateway.queue.engine import CALLED, DONE, QueueEngine, Ticket
from gateway.queue.mailing import masked
from gateway.queue.matters import Catalogue
from gateway.queue.notice import notice_lines, reminder_lines
from protocol.levels import AREA_LABELS, PRIORITY_LABELS, TICKET_STATE_LABELS


def ticket_status(
    engine: QueueEngine, ticket: Ticket, matters: Catalogue, at_ms: int
) -> dict[str, Any]:
    config = engine.config
    service = config.services.get(ticket.service)
    status: dict[str, Any] = {
        "ticket": ticket.number,
        "day": ticket.day,
        "service": ticket.service,
        "service_name": service.name if service else ticket.service,
        "area": service.area if service else None,
        "area_label": AREA_LABELS[service.area] if service else None,
        "state": ticket.state,
        "state_label": TICKET_STATE_LABELS[ticket.state],
        "priority": ticket.priority,
        "priority_label": PRIORITY_LABELS.get(ticket.priority or ""),
        "issued_at": _iso(ticket.issued_ms, engine),
        "ahead": None,
        "estimated_wait_min": None,
        "window": None,
    }
    if ticket.state == "waiting" and ticket.day == engine.day:
        status["ahead"] = engine.position(ticket)
        status["estimated_wait_min"] = math.ceil(engine.estimated_wait_ms(ticket, at_ms) / 60000)
    if ticket.window and ticket.state in (CALLED, DONE):
        window = config.windows.get(ticket.window)
        status["window"] = {"id": ticket.window, "label": window.label if window else ticket.window}
        status["called_at"] = _iso(ticket.called_ms, engine)
    status.update(_paperwork(engine, ticket, matters, at_ms))
    return status


def _paperwork(
    engine: QueueEngine, ticket: Ticket, matters: Catalogue, at_ms: int
) -> dict[str, Any]:
    matter = matters.find(ticket.matter)
    if matter is None:
        return {"matter": None, "notice": None, "mailing": _mailing(ticket), "reminder": None}
    hall, tz = engine.config.hall_name, engine.config.tz
    reminder = None
    if ticket.state == DONE and not matter.mailable:
        reminder = reminder_lines(matter, ticket.number, hall, ticket.done_ms or at_ms, tz)
    return {
        "matter": {"code": matter.code, "name": matter.name, "mailable": matter.mailable},
        "notice": notice_lines(matter, hall, ticket.issued_ms, tz),
        "mailing": _mailing(ticket),
        "reminder": reminder,
    }


def _mailing(ticket: Ticket) -> dict[str, Any] | None:
    if ticket.mailing is None:
        return None
    if not ticket.mailing.get("wants"):
        return {"wants": False}
    return {"wants": True, "phone": masked(ticket.mailing.get("phone", ""))}


def _iso(ms: int | None, engine: QueueEngine) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, engine.config.tz).isoformat(timespec="seconds")
