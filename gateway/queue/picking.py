"""Which waiting ticket a window calls next: the fairness rule.

Each window looks at the queues it may call from: one per service it serves, plus the tickets
transferred to that window by name. Each queue keeps priority (绿色通道: 老年人, 残疾人, 军人 …)
and normal tickets apart, each ordered by its queue time: the issue time, or for an appointment
checked in on time the appointment time (so a booked citizen is placed fairly at their slot,
neither first nor last). Across the window's queues the earliest queue time wins, so waiting time
decides, not the order services are listed in.

The rule between the two classes, applied at each call-next:

1. Aging: a normal ticket that has waited `max_wait_min` (30 min by default) goes before any
   priority ticket. No one waits much longer than that because of priority tickets.
2. Run limit: a window calls at most `priority_run` (3 by default) priority tickets in a row
   while a normal ticket waits for it; the next call takes the oldest normal ticket and the
   run starts again. So normal tickets always get at least 1 call in `priority_run + 1`.
3. Otherwise the oldest priority ticket goes first, then the oldest normal one.

A clerk cannot choose: call-next takes what this rule says. Calling a given number is only for
windows set up with `may_pick`, for a skipped (过号) citizen who came back, and for tickets
transferred to that window.
"""

from __future__ import annotations

from typing import NamedTuple

PRIORITY = 0
NORMAL = 1


class Entry(NamedTuple):
    """A heap entry: ordered by queue time, then by arrival in the queue (`order`)."""

    key_ms: int
    order: int
    number: str
    version: int  # the ticket's version when queued: a stale entry is skipped lazily


def choose(
    normal: Entry | None,
    priority: Entry | None,
    priority_run: int,
    at_ms: int,
    run_limit: int,
    max_wait_ms: int,
) -> Entry | None:
    """Apply the fairness rule to the best waiting ticket of each class."""
    if priority is None or normal is None:
        return priority or normal
    if normal.key_ms <= at_ms - max_wait_ms:
        return normal
    if priority_run >= run_limit:
        return normal
    return priority
