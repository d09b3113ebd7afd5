"""Device clock correction (protocol/clock.py) with its per-(device, boot) estimates kept.

An event of the device's newest boot counts as live: its receipt gives a candidate for the boot's
start (receive time - up), and the earliest candidate wins. An event of an older boot was sent
from the outbox after a reboot, so its delay is unknown and it only uses what is already known.

Better estimates are written once per batch (`flush`, inside the batch's transaction), not per
event; they stay pending until the ingest says the batch committed (`saved`), so a batch that is
rolled back and stored again writes them again.
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.store.sql import Upsert
from gateway.store.tables import device_boots
from protocol import clock

_b = sa.bindparam
KNOWN_START = sa.select(device_boots.c.start_ms).where(
    device_boots.c.hall == _b("hall"),
    device_boots.c.device == _b("device"),
    device_boots.c.boot == _b("boot"),
)
SAVE_START = Upsert(
    device_boots, ["hall", "device", "boot"], ["hall", "device", "boot", "start_ms"]
)
NEWEST_BOOT = sa.select(sa.func.max(device_boots.c.boot)).where(
    device_boots.c.hall == _b("hall"), device_boots.c.device == _b("device")
)


class BootClocks:
    def __init__(self, hall: str) -> None:
        self.hall = hall
        self._starts: dict[tuple[str, int], int | None] = {}
        self._newest: dict[str, int] = {}
        self._unsaved: dict[tuple[str, int], int] = {}  # better starts not yet committed

    def _known(self, conn: sa.Connection, device: str, boot: int) -> int | None:
        key = (device, boot)
        if key not in self._starts:
            where = {"hall": self.hall, "device": device, "boot": boot}
            self._starts[key] = conn.execute(KNOWN_START, where).scalar()
        return self._starts[key]

    def _is_newest(self, conn: sa.Connection, device: str, boot: int) -> bool:
        if device not in self._newest:
            where = {"hall": self.hall, "device": device}
            self._newest[device] = conn.execute(NEWEST_BOOT, where).scalar() or 0
        if boot >= self._newest[device]:
            self._newest[device] = boot
            return True
        return False

    def correct(
        self, conn: sa.Connection, device: str, boot: int, ts: int, up: int, recv: int
    ) -> int:
        """The event's time on the gateway's clock; learns from live events."""
        known = self._known(conn, device, boot)
        if self._is_newest(conn, device, boot):
            better = clock.better_boot_start(known, clock.boot_start_estimate(recv, up))
            if better != known:
                self._starts[(device, boot)] = better
                self._unsaved[(device, boot)] = better
                known = better
        return int(clock.corrected_time(ts, up, recv, known))

    def flush(self, conn: sa.Connection) -> None:
        """Write the better estimates learnt so far (inside the batch's transaction)."""
        for (device, boot), start in self._unsaved.items():
            values = {"hall": self.hall, "device": device, "boot": boot, "start_ms": start}
            SAVE_START.run(conn, values)

    def saved(self) -> None:
        """The transaction that flushed has committed."""
        self._unsaved.clear()

    def skew(self, device: str, boot: int, ts: int, up: int) -> int | None:
        return clock.skew_ms(ts, up, self._starts.get((device, boot)))
