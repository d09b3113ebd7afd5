"""The pages' live feed: committed changes of the store, pushed to SSE listeners.

Ingest hooks run inside the batch's transaction, before its commit, so an event raised from a
hook could announce something that is then rolled back. The feed therefore never takes its
events from the hooks: a hook only wakes it, and it reads what has COMMITTED, by cursor:
- `events.seq` (ratings, logins, pauses …): the ingest commits its batches one at a time, so
  a higher seq is never visible before a lower one;
- `queue_actions.seq`: taken under the hall's queue row lock, so also committed in order;
- the `devices` table, diffed (presence comes over retained state messages, not events);
- the alert feed (gateway/alerts/feed.py), whose publishers run after their commits.
It also polls every `poll_s`, which covers writes that wake nobody (the queue's HTTP actions).
A listener that falls behind loses its oldest events (the pages re-read a snapshot on gaps).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gateway.queue.tables import queue_actions
from gateway.store.tables import devices, events
from gateway.web import data

log = logging.getLogger("yuping.web")
WAKE_KINDS = ("rating", "rw_open", "unrated", "badge", "clerk", "hello", "heartbeat")
WINDOW_KINDS = ("badge", "clerk")
DEVICE_FIELDS = ("online", "fw", "outbox")


@dataclass(frozen=True)
class LiveEvent:
    id: int
    kind: str  # rating, call, queue, windows, stats, device, alert
    data: dict[str, Any] = field(default_factory=dict)


MIN_GAP_S = 0.25


class Listener:
    """One SSE connection's queue, bound to the event loop that serves it."""

    def __init__(self, feed: LiveFeed, kinds: frozenset[str], maxsize: int = 200) -> None:
        self.feed = feed
        self.kinds = kinds
        self.missed = 0
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize)

    def offer(self, event: LiveEvent) -> None:
        """From the feed's thread."""
        if event.kind in self.kinds:
            self.loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: LiveEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.missed += 1
        self.queue.put_nowait(event)

    async def get(self, timeout: float) -> LiveEvent | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        self.feed.unsubscribe(self)


class LiveFeed:
    def __init__(self, gw: Any, poll_s: float = 0.5) -> None:
        self.gw = gw
        self.hall = gw.hall
        self.poll_s = poll_s
        self._ids = itertools.count(1)
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._alerts: Any = None
        self.event_seq = 0
        self.queue_seq = 0
        self._devices: dict[str, tuple[Any, ...]] = {}

    def install(self, hooks: Any) -> None:
        for kind in WAKE_KINDS:
            hooks.on(kind, self._nudge)

    def _nudge(self, _ctx: Any) -> None:
        if not self._wake.is_set():  # set() takes a lock; the ingest nudges for every event
            self._wake.set()

    def subscribe(self, kinds: frozenset[str]) -> Listener:
        """Call from inside the event loop that serves the stream."""
        listener = Listener(self, kinds)
        with self._lock:
            self._listeners.append(listener)
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    @property
    def stopping(self) -> bool:
        """True once the gateway is shutting down: open streams end so the server can stop.

        The HTTP server waits for open responses before its own shutdown completes, and
        Gateway.stop() asks the server to exit before it stops services, so streams must
        notice the server's exit flag rather than this feed's stop().
        """
        server = getattr(self.gw, "_http", None)
        return self._stop.is_set() or bool(getattr(server, "should_exit", False))

    # --- the polling thread ---------------------------------------------------------------

    def start(self) -> LiveFeed:
        with self.gw.engine.connect() as conn:
            self.event_seq = _max(conn, events.c.seq, events.c.hall == self.hall)
            self.queue_seq = _max(conn, queue_actions.c.seq, queue_actions.c.hall == self.hall)
            self._devices = self._device_rows(conn)
        feed = getattr(self.gw, "alerts", None)
        self._alerts = feed.subscribe() if feed is not None else None
        self._thread = threading.Thread(target=self._run, name="yuping-web-live", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._alerts is not None:
            self._alerts.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            woken = self._wake.wait(self.poll_s)
            self._wake.clear()
            if woken:
                time.sleep(0.05)  # the hook ran before its commit: let the batch land
            try:
                for event in self.poll():
                    self._publish(event)
            except Exception:  # noqa: BLE001 - a store hiccup must not end the live pages
                log.exception("live feed poll failed; retrying")
            # At most a few polls a second: under a burst of batches each poll would otherwise
            # compete with the ingest, while a dashboard reads no faster than this anyway.
            self._stop.wait(MIN_GAP_S)

    def _publish(self, event: LiveEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener.offer(event)
            except RuntimeError:  # its event loop has closed
                self.unsubscribe(listener)

    def poll(self) -> list[LiveEvent]:
        """What committed since the last poll, as events (cursors advance)."""
        with self.gw.engine.connect() as conn:
            found = self._new_events(conn) + self._new_queue_actions(conn)
            found += self._device_changes(conn)
        found += self._new_alerts()
        return found

    def _event(self, kind: str, payload: dict[str, Any] | None = None) -> LiveEvent:
        return LiveEvent(next(self._ids), kind, payload or {})

    def _new_events(self, conn: sa.Connection) -> list[LiveEvent]:
        rows = conn.execute(
            sa.select(events.c.seq, events.c.kind, events.c.device, events.c.event_id)
            .where(events.c.hall == self.hall, events.c.seq > self.event_seq)
            .where(events.c.refused.is_(None))
            .order_by(events.c.seq)
        ).all()
        found, kinds = [], set()
        # A rating is looked up only for someone who listens to ratings (a query per rating).
        with self._lock:
            wanted = any("rating" in listener.kinds for listener in self._listeners)
        for row in rows:
            self.event_seq = max(self.event_seq, row.seq)
            kinds.add(row.kind)
            if row.kind == "rating" and wanted:
                rating = data.rating_of(conn, self.hall, row.device, row.event_id)
                if rating is not None:
                    found.append(self._event("rating", rating))
        if kinds & set(WINDOW_KINDS):
            found.append(self._event("windows"))
        if kinds & {"rating", "unrated", "rw_open"}:
            found.append(self._event("stats"))
        return found

    def _new_queue_actions(self, conn: sa.Connection) -> list[LiveEvent]:
        queue = getattr(self.gw, "queue", None)
        if queue is None:
            return []
        rows = conn.execute(
            sa.select(queue_actions)
            .where(queue_actions.c.hall == self.hall, queue_actions.c.seq > self.queue_seq)
            .order_by(queue_actions.c.seq)
        ).all()
        labels = {w.id: w.label for w in queue.config.windows.values()}
        found = []
        for row in rows:
            self.queue_seq = max(self.queue_seq, row.seq)
            if row.kind in data.CALL_KINDS:
                found.append(self._event("call", data.call_of(row, labels)))
        if rows:
            found.append(self._event("queue", {"seq": self.queue_seq}))
        return found

    def _device_rows(self, conn: sa.Connection) -> dict[str, tuple[Any, ...]]:
        rows = conn.execute(sa.select(devices).where(devices.c.hall == self.hall)).all()
        return {row.id: tuple(getattr(row, f) for f in DEVICE_FIELDS) for row in rows}

    def _device_changes(self, conn: sa.Connection) -> list[LiveEvent]:
        rows = conn.execute(sa.select(devices).where(devices.c.hall == self.hall)).all()
        found = []
        for row in rows:
            now = tuple(getattr(row, f) for f in DEVICE_FIELDS)
            if self._devices.get(row.id) != now:
                self._devices[row.id] = now
                found.append(self._event("device", data.device_of(row)))
        return found

    def _new_alerts(self) -> list[LiveEvent]:
        found = []
        while self._alerts is not None:
            alert = self._alerts.get(timeout=0)
            if alert is None:
                break
            found.append(self._event("alert", alert.as_dict()))
        return found


def _max(conn: sa.Connection, column: Any, where: Any) -> int:
    return int(conn.execute(sa.select(sa.func.max(column)).where(where)).scalar() or 0)
