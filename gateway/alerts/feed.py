"""The alert feed: publish from any thread, subscribe from threads or asyncio, never block.

    feed = AlertFeed()
    sub = feed.subscribe()                 # thread side: sub.get(timeout=…) -> Alert | None
    asub = feed.subscribe_async()          # asyncio side: await asub.get() -> Alert
    feed.add_channel(WebhookChannel(...))  # forwarded out of the gateway
    feed.publish("bad_rating", hall, at_ms, "3号窗口 收到差评：非常不满意", case=12)
    feed.recent(since_id)                  # replay after a reconnect (SSE Last-Event-ID)

A subscriber that does not keep up loses its oldest alerts (counted in `missed`), never the
publisher's time: a stuck browser must not delay the ingest that raised the alert.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

KINDS = ("bad_rating", "overdue", "unassigned", "long_wait")
RECENT = 200


@dataclass(frozen=True)
class Alert:
    id: int  # increasing within one gateway process; SSE event id
    kind: str  # one of KINDS
    hall: str
    at_ms: int
    title: str  # one line in Chinese, shown as is
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Channel(Protocol):
    """Somewhere alerts go beyond the gateway (webhook, SMS gateway …)."""

    def deliver(self, alert: Alert) -> None: ...


class Subscription:
    """A thread-side subscriber. `missed` counts alerts dropped because it fell behind."""

    def __init__(self, feed: AlertFeed, maxsize: int) -> None:
        self._feed = feed
        self._queue: queue.Queue[Alert] = queue.Queue(maxsize)
        self.missed = 0

    def _offer(self, alert: Alert) -> None:
        while True:
            try:
                self._queue.put_nowait(alert)
                return
            except queue.Full:
                self._drop_oldest()

    def _drop_oldest(self) -> None:
        if self._take() is not None:
            self.missed += 1

    def get(self, timeout: float | None = None) -> Alert | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def _take(self) -> Alert | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        self._feed._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSubscription(Subscription):
    """An asyncio-side subscriber, bound to the loop it was created in."""

    def __init__(self, feed: AlertFeed, maxsize: int) -> None:
        super().__init__(feed, maxsize)
        self._loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()

    def _offer(self, alert: Alert) -> None:
        super()._offer(alert)
        self._loop.call_soon_threadsafe(self._ready.set)

    async def get(self, timeout: float | None = None) -> Alert | None:  # type: ignore[override]
        while True:
            self._ready.clear()  # before looking, so an offer racing with us still wakes us
            alert = self._take()
            if alert is not None:
                return alert
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return None


class AlertFeed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._subs: list[Subscription] = []
        self._channels: list[Channel] = []
        self._recent: deque[Alert] = deque(maxlen=RECENT)

    def publish(self, kind: str, hall: str, at_ms: int, title: str, **data: Any) -> Alert:
        if kind not in KINDS:
            raise ValueError(f"alert kind must be one of {', '.join(KINDS)}, not {kind!r}")
        with self._lock:
            alert = Alert(next(self._ids), kind, hall, at_ms, title, data)
            self._recent.append(alert)
            subs, channels = list(self._subs), list(self._channels)
        for sub in subs:
            sub._offer(alert)
        for channel in channels:
            channel.deliver(alert)
        return alert

    def subscribe(self, maxsize: int = 100) -> Subscription:
        return self._add(Subscription(self, maxsize))

    def subscribe_async(self, maxsize: int = 100) -> AsyncSubscription:
        """Call from inside the event loop that will await the alerts."""
        sub = AsyncSubscription(self, maxsize)
        self._add(sub)
        return sub

    def recent(self, since_id: int = 0) -> list[Alert]:
        with self._lock:
            return [a for a in self._recent if a.id > since_id]

    def add_channel(self, channel: Channel) -> None:
        with self._lock:
            self._channels.append(channel)

    def _add(self, sub: Subscription) -> Subscription:
        with self._lock:
            self._subs.append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
