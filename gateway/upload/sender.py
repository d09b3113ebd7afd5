"""Sending the outbox to the province: HTTPS POST per rating, retries with exponential backoff.

Outcomes of one POST:
- 2xx, or 409 (the province already has this idempotency key): acknowledged, done for good.
- a transport error (refused, reset, timeout), 408, 429 or 5xx: the province is away; retried
  after backoff_s × 2^(attempts-1), capped at backoff_max_s, ±20 % jitter so halls coming back
  together do not knock in step. Retried for as long as it takes: a rating is never dropped.
- any other 4xx: the province refuses this record (bad mapping, bad credentials): `failed`,
  shown in the reconciliation; `yuping upload retry-failed` queues it again once fixed.

Time is the caller's (`run_once(now_ms)`), so tests drive hours of outage without waiting.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from gateway.upload.config import UploadConfig
from gateway.upload.tables import upload_outbox
from protocol.levels import BAD_REASON_LABELS

log = logging.getLogger("yuping.upload")
CHINA = dt.timezone(dt.timedelta(hours=8))
RETRY_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Outcome:
    state: str  # acked | retry | failed
    error: str | None = None
    remote_id: str | None = None


def payload(cfg: UploadConfig, record: dict[str, Any]) -> dict[str, Any]:
    """Our record in the province's names and codes (numbers appear only here)."""
    at = dt.datetime.fromtimestamp(record["rated_at_ms"] / 1000, CHINA)
    ours = {
        **record,
        "rated_at": at.strftime(cfg.time_format),
        "level": cfg.levels[record["level"]],
        "channel": cfg.channels[record["channel"]],
        "reasons": "；".join(BAD_REASON_LABELS.get(r, r) for r in record["reasons"]),
    }
    return {theirs: ours.get(name) for name, theirs in cfg.fields.items() if theirs}


def classify(response: httpx.Response) -> Outcome:
    if response.is_success or response.status_code == 409:
        return Outcome("acked", remote_id=_remote_id(response))
    error = f"HTTP {response.status_code}"
    if response.status_code in RETRY_STATUS or response.status_code >= 500:
        return Outcome("retry", error)
    return Outcome("failed", f"{error}: {response.text[:150]}")


def _remote_id(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return None if value is None else str(value)[:64]


class Uploader:
    def __init__(
        self,
        engine: sa.Engine,
        hall: str,
        cfg: UploadConfig,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.hall = hall
        self.cfg = cfg
        self.rng = rng or random.Random()
        self.outage = 0  # consecutive passes that found the province away
        self.away_until_ms = 0  # no pass before this: the province is backed off as a whole
        verify = ssl.create_default_context(cafile=cfg.ca_file) if cfg.ca_file else True
        self.client = httpx.Client(
            timeout=cfg.timeout_s, verify=verify, headers=self._auth_headers(),
            auth=(cfg.username, cfg.password) if cfg.username and cfg.password else None,
        )  # fmt: skip

    def close(self) -> None:
        self.client.close()

    def _auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.cfg.token}"} if self.cfg.token else {}

    def backoff_ms(self, attempts: int) -> int:
        delay = min(self.cfg.backoff_s * 2 ** (attempts - 1), self.cfg.backoff_max_s)
        return int(delay * self.rng.uniform(0.8, 1.2) * 1000)

    def due(self, now_ms: int) -> list[sa.Row]:
        query = sa.select(upload_outbox).where(
            upload_outbox.c.hall == self.hall,
            upload_outbox.c.state == "pending",
            upload_outbox.c.next_ms <= now_ms,
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(upload_outbox.c.id).limit(self.cfg.batch)))

    def run_once(self, now_ms: int) -> dict[str, int]:
        """Send what is due. At the first sign the province is away, stop and back off as a
        whole (the other rows would fail the same way), so an outage costs a few knocks."""
        counts = {"acked": 0, "retry": 0, "failed": 0}
        if now_ms < self.away_until_ms:
            return counts
        for row in self.due(now_ms):
            outcome = self.post(row)
            counts[outcome.state] += 1
            if outcome.state != "retry":
                self.outage = 0
                self._record(row, outcome, now_ms)
                continue
            self.outage += 1
            self.away_until_ms = now_ms + self.backoff_ms(max(self.outage, row.attempts + 1))
            self._record(row, outcome, now_ms, self.away_until_ms)
            break
        return counts

    def post(self, row: sa.Row) -> Outcome:
        body = payload(self.cfg, row.record)
        try:
            response = self.client.post(
                self.cfg.url, json=body, headers={"idempotency-key": row.idem_key}
            )
        except httpx.HTTPError as exc:
            return Outcome("retry", f"{type(exc).__name__}: {exc}"[:200])
        return classify(response)

    def _record(self, row: sa.Row, outcome: Outcome, now_ms: int, retry_ms: int = 0) -> None:
        attempts = row.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "sent_ms": now_ms,
            "last_error": outcome.error,
        }
        if outcome.state == "acked":
            values.update(state="acked", acked_ms=now_ms, remote_id=outcome.remote_id)
        elif outcome.state == "failed":
            values.update(state="failed")
            log.error("province refused rating upload %s: %s", row.idem_key, outcome.error)
        else:
            values.update(next_ms=retry_ms)
        with self.engine.begin() as conn:
            conn.execute(
                upload_outbox.update().where(upload_outbox.c.id == row.id).values(**values)
            )


def retry_failed(conn: sa.Connection, hall: str, now_ms: int) -> int:
    """Queue refused rows again (after the mapping or credentials were corrected)."""
    result = conn.execute(
        upload_outbox.update()
        .where(upload_outbox.c.hall == hall, upload_outbox.c.state == "failed")
        .values(state="pending", next_ms=now_ms)
    )
    return int(result.rowcount)


class UploadWorker:
    """Runs an Uploader on the real clock in a background thread."""

    def __init__(self, uploader: Uploader, poll_s: float = 5.0) -> None:
        self.uploader = uploader
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="yuping-upload", daemon=True)

    def start(self) -> UploadWorker:
        self._thread.start()
        return self

    def nudge(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.uploader.cfg.timeout_s + 5)
        self.uploader.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.uploader.run_once(int(time.time() * 1000))
            except Exception:  # noqa: BLE001 - a store hiccup must not end uploading for good
                log.exception("upload pass failed; retrying at the next poll")
            self._wake.wait(self.poll_s)
