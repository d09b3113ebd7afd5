"""Hall ownership: a hall's single-writer state (its queue, its rating windows, the order of its
devices' events) lives in exactly one worker, the one holding the hall's PostgreSQL advisory lock.

The locks are session locks on one connection the worker keeps for its whole life. When the worker
dies its connection closes and PostgreSQL releases every lock it held, so another worker can take
the hall over; nothing has to notice the death first. The connection's application_name is the
worker id, which is how `owner()` names the holder.
"""

from __future__ import annotations

import hashlib
import threading

import sqlalchemy as sa

MIGRATION = "store-migration"  # a pseudo-hall: workers starting together migrate one at a time

HELD = sa.text(
    "select classid, objid from pg_locks where locktype = 'advisory' and granted and objsubid = 1"
)

OWNER = sa.text(
    "select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid "
    "where l.locktype = 'advisory' and l.granted and l.objsubid = 1 "
    "and l.classid = :classid and l.objid = :objid"
)


def lock_key(group: str, hall: str) -> int:
    """A signed 64-bit key per (group, hall): wide enough that two halls never share a lock
    (a shared key would leave one of them unserved, see worker.py)."""
    digest = hashlib.blake2b(f"{group}/{hall}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def shown_key(group: str, hall: str) -> tuple[int, int]:
    """The key as pg_locks shows it: (classid, objid), the high and low 32 bits unsigned."""
    unsigned = lock_key(group, hall) & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


class HallLocks:
    """The worker's lock session. Thread-safe: the claiming thread and the watchdog share it."""

    def __init__(self, engine: sa.Engine, group: str, worker: str) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("province workers share a PostgreSQL store (hall locks need it)")
        self.group = group
        self.worker = worker
        self._mutex = threading.Lock()
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._scalar("select set_config('application_name', :name, false)", name=worker[:63])

    def _scalar(self, sql: str, **params: object) -> object:
        with self._mutex:
            return self.conn.execute(sa.text(sql), params).scalar()

    def try_take(self, hall: str) -> bool:
        """Own `hall` if nobody does (taking a lock already held by us also answers True)."""
        key = lock_key(self.group, hall)
        return bool(self._scalar("select pg_try_advisory_lock(:key)", key=key))

    def held(self) -> set[tuple[int, int]]:
        """Every advisory lock held by anyone now, as `shown_key` gives them: one query tells a
        worker which halls have an owner."""
        with self._mutex:
            return {(int(row.classid), int(row.objid)) for row in self.conn.execute(HELD)}

    def give_back(self, hall: str) -> None:
        self._scalar("select pg_advisory_unlock(:key)", key=lock_key(self.group, hall))

    def hold_migration(self) -> None:
        """Wait for the store-migration lock (released by `release_migration`)."""
        self._scalar("select pg_advisory_lock(:key)", key=lock_key(self.group, MIGRATION))

    def release_migration(self) -> None:
        self.give_back(MIGRATION)

    def close(self) -> None:
        """End the session: PostgreSQL releases every hall lock held on it. (A plain close would
        return the connection to the pool with its locks still held.)"""
        with self._mutex:
            self.conn.invalidate()
            self.conn.close()


def owner(conn: sa.Connection, group: str, hall: str) -> str | None:
    """The worker id holding `hall`, or None when no worker owns it."""
    classid, objid = shown_key(group, hall)
    found = conn.execute(OWNER, {"classid": classid, "objid": objid}).scalar()
    return None if found is None else str(found)
