"""The queue engine bound to the store: each action is applied in memory and appended to the
audit trail in the caller's transaction; the memory follows the database.

Order: every action first takes the hall's row in `queue_halls` (the database's write lock, held
to commit), then the engine's mutex. If a transaction that changed the engine is rolled back (a
refused event later in the same ingest batch, a store error), the engine is marked stale and
rebuilt from the committed actions before its next use. At start it is rebuilt the same way, so a
gateway restart loses nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa

from gateway.queue import printing, store
from gateway.queue.config import QueueConfig
from gateway.queue.engine import CLOSED, EXPIRED, Outcome, QueueEngine, Ticket
from gateway.queue.errors import BadInput
from gateway.queue.matters import Catalogue

log = logging.getLogger("yuping.queue")
Op = Callable[[QueueEngine], Outcome]


def now_ms() -> int:
    return int(time.time() * 1000)


class QueueService:
    def __init__(
        self,
        hall: str,
        config: QueueConfig,
        matters: Catalogue,
        db: sa.Engine,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.hall = hall
        self.config = config
        self.matters = matters
        self.db = db
        self.clock = clock
        self.engine = QueueEngine(config)
        self._lock = threading.RLock()
        self._stale = True  # nothing loaded yet: the first use replays today's actions

    def run(self, conn: sa.Connection, op: Op) -> Outcome:
        """Apply `op` to the engine and record it, inside the caller's transaction."""
        seq = store.next_seq(conn, self.hall)
        with self._lock:
            if self._stale:
                self._reload(conn)
            outcome = op(self.engine)  # a QueueError here has changed nothing
            self._watch(conn)
            store.append(conn, self.hall, seq, self.engine.day or "", outcome.action)
            if outcome.ticket is not None:
                store.save_ticket(conn, self.hall, outcome.ticket)
            return outcome

    def transaction(self, op: Op) -> Outcome:
        """`run` in a transaction of its own (HTTP requests)."""
        with self.db.begin() as conn:
            return self.run(conn, op)

    def read(self, fn: Callable[[QueueEngine], object]) -> object:
        """Read the live engine, first rebuilt from the store if it was stale."""
        if self._stale:
            # Rebuild under the hall's queue row, so no action still in flight is left out.
            with self.db.begin() as conn:
                store.hold(conn, self.hall)
                with self._lock:
                    if self._stale:
                        self._reload(conn)
        with self._lock:
            self.engine.advance(self.clock())
            return fn(self.engine)

    def _watch(self, conn: sa.Connection) -> None:
        if not sa.event.contains(conn, "rollback", self._mark_stale):
            sa.event.listen(conn, "rollback", self._mark_stale)
            sa.event.listen(conn, "rollback_savepoint", self._mark_stale)

    def _mark_stale(self, *_args: object) -> None:
        self._stale = True

    def _reload(self, conn: sa.Connection) -> None:
        engine = QueueEngine(self.config)
        day = engine.business_day(self.clock())[0]
        actions = store.day_actions(conn, self.hall, day)
        engine.replay(actions)
        self.engine, self._stale = engine, False
        log.info("queue rebuilt", extra={"hall": self.hall, "day": day, "actions": len(actions)})

    def find_by_token(self, token: str) -> Ticket | None:
        """Today's ticket from the engine, an older one from the store (open ones expired)."""
        ticket = self.read(lambda q: q.by_token(token))
        if not isinstance(ticket, Ticket):
            with self.db.connect() as conn:
                ticket = store.ticket_by_token(conn, token)
        today = self.engine.business_day(self.clock())[0]
        if ticket is not None and ticket.day != today and ticket.state not in CLOSED:
            return replace(ticket, state=EXPIRED)
        return ticket

    def print_slip(self, printer: str | None, data: bytes) -> str | None:
        """Print on a configured printer; the error text if that failed (None when printed)."""
        if printer is None:
            return "未指定打印机"
        url = self.config.printers.get(printer)
        if url is None:
            raise BadInput(f"未配置打印机 {printer}")
        try:
            printing.send(url, data, self.config.printer_baud)
        except Exception as exc:  # noqa: BLE001 - serial, OS or driver: report, do not lose the ticket
            log.warning("printing failed", extra={"printer": printer, "error": str(exc)[:200]})
            return f"打印失败：{exc}"
        return None
