"""The webhook channel: each alert POSTed as JSON to a configured URL, retried with backoff.

Delivery runs on its own thread so a slow or dead receiver never holds up the feed. A failed
POST (connection error, timeout, any non-2xx answer) is retried after base, 2×base, 4×base …
seconds (capped), up to `attempts` tries; an alert that still fails is logged and counted in
`failed`. With a `secret`, the body is signed: header X-Yuping-Signature = hex HMAC-SHA256.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass

import httpx

from gateway.alerts.feed import Alert

log = logging.getLogger("yuping.alerts")


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str | None = None
    attempts: int = 6
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"alerts webhook url must be http(s)://…, not {self.url!r}")
        if self.attempts < 1:
            raise ValueError("alerts webhook attempts must be at least 1")


class WebhookChannel:
    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.delivered = 0
        self.failed = 0
        self._queue: queue.Queue[Alert | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="yuping-webhook", daemon=True)
        self._thread.start()

    def deliver(self, alert: Alert) -> None:
        self._queue.put(alert)

    def close(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        with httpx.Client(timeout=self.config.timeout_s) as client:
            while (alert := self._queue.get()) is not None:
                if self._send(client, alert):
                    self.delivered += 1
                else:
                    self.failed += 1
                    log.error("alert %s not delivered to %s", alert.id, self.config.url)

    def _send(self, client: httpx.Client, alert: Alert) -> bool:
        body = json.dumps(alert.as_dict(), ensure_ascii=False).encode()
        for attempt in range(self.config.attempts):
            if attempt:
                time.sleep(self._delay(attempt))
            if self._post(client, body):
                return True
        return False

    def _post(self, client: httpx.Client, body: bytes) -> bool:
        try:
            response = client.post(self.config.url, content=body, headers=self._headers(body))
        except httpx.HTTPError as exc:
            log.warning("alert webhook %s: %s", self.config.url, exc)
            return False
        return response.is_success

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {"content-type": "application/json; charset=utf-8"}
        if self.config.secret:
            mac = hmac.new(self.config.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["x-yuping-signature"] = mac
        return headers

    def _delay(self, attempt: int) -> float:
        return float(min(self.config.backoff_s * 2 ** (attempt - 1), self.config.backoff_max_s))
