"""What the simulated people did, as they themselves would tell it: tickets drawn, who came when
called, every rating key pressed (and the reason picked), every rating window left unrated.
The report holds the gateway's records against this, never against the gateway's own view.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from protocol.levels import GOOD_LEVELS


@dataclass
class TicketRecord:
    number: str
    service: str
    token: str
    leave_at: float  # real monotonic time the citizen gives up waiting
    by_guide: bool
    outcome: str | None = None  # served | no_show
    window: int | None = None  # where it was served or skipped
    transferred: bool = False
    pressed: str | None = None  # the level pressed, None if the citizen did not rate
    reason: str | None = None


@dataclass
class Ledger:
    tickets: dict[str, TicketRecord] = field(default_factory=dict)
    orphans: list[str] = field(default_factory=list)  # called numbers nobody in the hall holds
    issue_failures: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)
    logins: int = 0
    pauses: int = 0
    closed_by_window: Counter[int] = field(default_factory=Counter)  # rating windows opened
    arrivals_done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issued(self, record: TicketRecord) -> None:
        with self._lock:
            self.tickets[record.number] = record

    def get(self, number: str) -> TicketRecord | None:
        with self._lock:
            return self.tickets.get(number)

    def close(self, number: str, outcome: str, window: int) -> None:
        with self._lock:
            record = self.tickets[number]
            record.outcome, record.window = outcome, window
            if outcome == "served":
                self.closed_by_window[window] += 1

    def rated(self, number: str, level: str, reason: str | None = None) -> None:
        with self._lock:
            self.tickets[number].pressed = level
            self.tickets[number].reason = reason

    def reason(self, number: str, reason: str) -> None:
        with self._lock:
            self.tickets[number].reason = reason

    def fault(self, **entry: Any) -> None:
        with self._lock:
            self.faults.append(entry)

    def open_count(self) -> int:
        with self._lock:
            return sum(1 for r in self.tickets.values() if r.outcome is None)

    def finished(self) -> bool:
        return self.arrivals_done and self.open_count() == 0

    def summary(self) -> dict[str, Any]:
        with self._lock:
            records = list(self.tickets.values())
        pressed = [r for r in records if r.pressed]
        return {
            "tickets": len(records),
            "served": sum(r.outcome == "served" for r in records),
            "no_show": sum(r.outcome == "no_show" for r in records),
            "transferred": sum(r.transferred for r in records),
            "open": sum(r.outcome is None for r in records),
            "by_guide": sum(r.by_guide for r in records),
            "ratings_pressed": len(pressed),
            "unrated": sum(r.outcome == "served" and not r.pressed for r in records),
            "levels": dict(Counter(r.pressed for r in pressed)),
            "orphan_calls": len(self.orphans),
            "logins": self.logins,
            "pauses": self.pauses,
        }

    def by_window(self) -> dict[str, dict[str, int]]:
        """Per window what the rating statistics must show: closed, rated, good, bad, unrated."""
        with self._lock:
            records = [r for r in self.tickets.values() if r.outcome == "served"]
            closed = dict(self.closed_by_window)
        result: dict[str, dict[str, int]] = {}
        for window, count in closed.items():
            mine = [r for r in records if r.window == window]
            rated = [r for r in mine if r.pressed]
            good = sum(r.pressed in GOOD_LEVELS for r in rated)
            result[str(window)] = {
                "closed": count,
                "rated": len(rated),
                "good": good,
                "bad": len(rated) - good,
                "unrated": count - len(rated),
            }
        return result
