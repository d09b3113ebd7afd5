"""Reading and writing the queue's tables. Every function works inside the caller's transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gateway.queue.engine import Action, Ticket
from gateway.queue.tables import queue_actions, queue_halls, queue_tickets
from gateway.store.sql import insert_new, upsert

TICKET_COLUMNS = (
    "token", "service", "origin_service", "source", "priority", "state", "window", "helper",
    "issued_ms", "called_ms", "done_ms", "matter", "case_no", "mailing",
)  # fmt: skip


def hold(conn: sa.Connection, hall: str) -> None:
    """Take the hall's queue row lock, held to commit: no other queue action is in flight then.

    Taking the database's write lock before the engine's mutex, on every path, is what keeps
    the ingest thread and HTTP requests from waiting on each other in opposite orders.
    """
    insert_new(conn, queue_halls, ["hall"], hall=hall, seq=0)
    conn.execute(
        queue_halls.update().where(queue_halls.c.hall == hall).values(seq=queue_halls.c.seq)
    )


def next_seq(conn: sa.Connection, hall: str) -> int:
    """Hold the hall's queue row and take the next action number."""
    hold(conn, hall)
    conn.execute(
        queue_halls.update().where(queue_halls.c.hall == hall).values(seq=queue_halls.c.seq + 1)
    )
    seq = conn.execute(sa.select(queue_halls.c.seq).where(queue_halls.c.hall == hall)).scalar()
    return int(seq or 0)


def append(conn: sa.Connection, hall: str, seq: int, day: str, action: Action) -> None:
    conn.execute(
        queue_actions.insert().values(
            hall=hall,
            seq=seq,
            day=day,
            kind=action.kind,
            at_ms=action.at_ms,
            by=action.by[:64],
            window=action.window,
            ticket=action.ticket,
            data=action.data,
        )
    )


def day_actions(conn: sa.Connection, hall: str, day: str) -> list[Action]:
    query = (
        sa.select(queue_actions)
        .where(queue_actions.c.hall == hall, queue_actions.c.day == day)
        .order_by(queue_actions.c.seq)
    )
    return [
        Action(row.kind, row.at_ms, row.by, row.window, row.ticket, dict(row.data))
        for row in conn.execute(query)
    ]


def save_ticket(conn: sa.Connection, hall: str, ticket: Ticket) -> None:
    values: dict[str, Any] = {name: getattr(ticket, name) for name in TICKET_COLUMNS}
    keys = {"hall": hall, "day": ticket.day, "number": ticket.number}
    upsert(conn, queue_tickets, list(keys), {**keys, **values})


def ticket_by_token(conn: sa.Connection, token: str) -> Ticket | None:
    """A ticket of any day from the projection (today's live ones come from the engine)."""
    row = conn.execute(sa.select(queue_tickets).where(queue_tickets.c.token == token)).first()
    if row is None:
        return None
    fields = {name: getattr(row, name) for name in TICKET_COLUMNS}
    return Ticket(number=row.number, day=row.day, key_ms=row.issued_ms, **fields)
