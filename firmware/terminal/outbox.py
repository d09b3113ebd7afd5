"""The durable outbox: every event is on disk (SQLite, WAL, synchronous=FULL) before it is
published, and leaves only when the gateway's `ack` names its id.

The same file keeps the boot counter behind the event ids (so an id is never reused, even after a
power loss), the rating window that is open (so a power loss turns it into `unrated`, not into
silence) and what the gateway last pushed (the badge list for offline login).

Bounded: when `max_events` are waiting, the oldest heartbeat goes first, then the oldest other
low-value event; events that carry a citizen's or clerk's act are never dropped. A new low-value
event that finds nothing to drop is refused instead.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from firmware.terminal.errors import OutboxError
from protocol import codec, messages
from protocol.ids import EventIds

# Dropped in this order when the outbox is full; every other kind is kept whatever the bound.
DROP_ORDER = ("heartbeat", "stray", "hello")
WINDOW_OPENERS = ("rw_open",)
WINDOW_CLOSERS = ("rating", "unrated")

SCHEMA = """
create table if not exists events (
    seq integer primary key autoincrement,
    id text not null unique,
    kind text not null,
    body text not null,
    held integer not null default 0
);
create table if not exists kv (key text primary key, value text not null);
"""


@dataclass(frozen=True)
class Pending:
    id: str
    kind: str
    payload: bytes


class Outbox:
    """Events waiting for the gateway's ack. Thread-safe: keys, link and timers share it."""

    def __init__(
        self, path: str, max_events: int, wall_ms: Callable[[], int], up_ms: Callable[[], int]
    ):
        self.max_events = max_events
        self._wall_ms = wall_ms
        self._up_ms = up_ms
        self._lock = threading.RLock()
        self._db = _open(path)
        self._ids = EventIds(self._load_boot, self._store_boot)
        self.dropped: dict[str, int] = {}

    @property
    def boot(self) -> int:
        return int(self._ids.boot)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(
        self, kind: str, fields: dict[str, Any], own_id_as: str | None = None, held: bool = False
    ) -> str | None:
        """Store an event; return its id, or None when the outbox is full and it is low-value.

        `own_id_as` names a field that must carry the event's own id (rw_open's `rw`); a `held`
        event waits for `release()` before it is published. The event is checked first: a bad
        one raises ProtocolError and stores nothing.
        """
        with self._lock:
            event_id = self._ids.next()
            body = dict(fields, **({own_id_as: event_id} if own_id_as else {}))
            # Not messages.make_event: hello's own `kind` field would clash with its argument.
            msg = {
                "v": messages.VERSION,
                "id": event_id,
                "ts": self._wall_ms(),
                "up": self._up_ms(),
            }
            msg.update(body)
            codec.encode_event(kind, msg)
            with self._tx():
                if not self._make_room(kind):
                    return None
                self._insert(event_id, kind, msg, held)
            return event_id

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Events put inside share one transaction: one fsync for all, all or none stored."""
        with self._lock, self._tx():
            yield

    def release(self, event_id: str, **fields: Any) -> None:
        """Add fields to a held event and let it go out."""
        with self._lock, self._tx():
            row = self._db.execute(
                "select kind, body from events where id=?", (event_id,)
            ).fetchone()
            if row is None:
                return
            msg = dict(json.loads(row[1]), **fields)
            codec.encode_event(row[0], msg)
            self._db.execute(
                "update events set body=?, held=0 where id=?", (json.dumps(msg), event_id)
            )

    def release_all(self) -> list[str]:
        """After a restart: whatever was held goes out as it is (a rating without reasons)."""
        with self._lock, self._tx():
            ids = [r[0] for r in self._db.execute("select id from events where held=1")]
            self._db.execute("update events set held=0 where held=1")
            return ids

    def ack(self, ids: list[str]) -> int:
        """Forget the events the gateway has stored; return how many were still here."""
        with self._lock, self._tx():
            before = self._db.total_changes
            self._db.executemany("delete from events where id=? and held=0", [(i,) for i in ids])
            return self._db.total_changes - before

    def pending(self, limit: int = 100) -> list[Pending]:
        """Events ready to publish, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "select id, kind, body from events where held=0 order by seq limit ?", (limit,)
            ).fetchall()
        return [
            Pending(r[0], r[1], codec.encode(json.loads(r[2]), codec.MAX_EVENT_BYTES)) for r in rows
        ]

    def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("select count(*) from events").fetchone()[0])

    def count(self, kind: str) -> int:
        with self._lock:
            return int(
                self._db.execute("select count(*) from events where kind=?", (kind,)).fetchone()[0]
            )

    def open_window(self) -> dict[str, Any] | None:
        """The rating window left open by the last run (id, service), or None."""
        return self.recall("open_rw")

    def window_closed_elsewhere(self) -> None:
        """The open window ended without an event from here (rated on a phone): forget it."""
        with self._lock, self._tx():
            self._db.execute("delete from kv where key='open_rw'")

    def remember(self, key: str, value: Any) -> None:
        with self._lock, self._tx():
            self._set(key, value)

    def recall(self, key: str) -> Any:
        with self._lock:
            row = self._db.execute("select value from kv where key=?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def _insert(self, event_id: str, kind: str, msg: dict[str, Any], held: bool) -> None:
        self._db.execute(
            "insert into events (id, kind, body, held) values (?, ?, ?, ?)",
            (event_id, kind, json.dumps(msg, ensure_ascii=False), int(held)),
        )
        # The open window is tracked in the same transaction as the event that opens or closes it.
        if kind in WINDOW_OPENERS:
            self._set("open_rw", {"rw": event_id, "service": msg.get("service")})
        elif kind in WINDOW_CLOSERS:
            self._db.execute("delete from kv where key='open_rw'")

    def _make_room(self, kind: str) -> bool:
        """Drop one low-value event if full; a low-value newcomer only displaces its own rank or lower."""
        if self._depth_locked() < self.max_events:
            return True
        rank = DROP_ORDER.index(kind) if kind in DROP_ORDER else len(DROP_ORDER)
        if any(self._drop_oldest(victim) for victim in DROP_ORDER[: rank + 1]):
            return True
        return kind not in DROP_ORDER

    def _drop_oldest(self, kind: str) -> bool:
        row = self._db.execute(
            "select seq from events where kind=? order by seq limit 1", (kind,)
        ).fetchone()
        if row is None:
            return False
        self._db.execute("delete from events where seq=?", (row[0],))
        self.dropped[kind] = self.dropped.get(kind, 0) + 1
        return True

    def _depth_locked(self) -> int:
        return int(self._db.execute("select count(*) from events").fetchone()[0])

    def _set(self, key: str, value: Any) -> None:
        self._db.execute(
            "insert into kv (key, value) values (?, ?) on conflict(key) do update set value=excluded.value",
            (key, json.dumps(value, ensure_ascii=False)),
        )

    def _load_boot(self) -> int:
        return int(self.recall("boot") or 0)

    def _store_boot(self, boot: int) -> None:
        self.remember("boot", boot)

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


def _open(path: str) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("pragma journal_mode=wal")
        db.execute("pragma synchronous=full")
        db.executescript(SCHEMA)
        return db
    except sqlite3.Error as exc:
        raise OutboxError(f"cannot open the outbox {path}: {exc}") from exc


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (synced, synchronous=FULL), ROLLBACK on any error. Inside a
    transaction already open (a batch) it is part of that one."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self._outer = False

    def __enter__(self) -> None:
        self._outer = not self._db.in_transaction
        if self._outer:
            self._db.execute("begin immediate")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self._outer:
            self._db.execute("rollback" if exc_type else "commit")
