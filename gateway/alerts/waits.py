"""Over-long waits: a ticket waiting longer than the threshold alerts the duty manager once.

The watch does not know the queue's insides: it asks a `source` for the tickets now waiting
(gateway.followup.service wires it to the queue engine when the queue is installed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gateway.alerts.feed import AlertFeed


@dataclass(frozen=True)
class Waiting:
    ticket: str  # "A012"
    service: str
    since_ms: int  # when it joined the queue


class LongWaitWatch:
    def __init__(
        self,
        feed: AlertFeed,
        hall: str,
        threshold_min: int,
        source: Callable[[], Iterable[Waiting]],
    ) -> None:
        if threshold_min < 1:
            raise ValueError("alerts.long_wait_min must be at least 1 minute")
        self.feed = feed
        self.hall = hall
        self.threshold_ms = threshold_min * 60_000
        self.source = source
        self._alerted: set[tuple[str, int]] = set()

    def check(self, now_ms: int) -> int:
        """Alert each ticket that has just passed the threshold; returns how many."""
        waiting = {(w.ticket, w.since_ms): w for w in self.source()}
        self._alerted &= set(waiting)  # served tickets leave; numbers restart each day
        raised = 0
        for key, w in waiting.items():
            if key not in self._alerted and now_ms - w.since_ms >= self.threshold_ms:
                minutes = (now_ms - w.since_ms) // 60_000
                self.feed.publish("long_wait", self.hall, now_ms,
                                  f"{w.ticket}号已等候{minutes}分钟", ticket=w.ticket,
                                  service=w.service, waited_min=minutes)  # fmt: skip
                self._alerted.add(key)
                raised += 1
        return raised
