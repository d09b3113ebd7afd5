"""The follow-up subsystem inside the gateway: the ingest hook, the alerts, the background sweep.

On every stored rating (inside its ingest transaction, before the device's ack):
- a 差评 opens its follow-up case (cases.open_case), so no 差评 is stored without one;
- with [upload] configured, the rating is queued in the upload outbox.
After the commit a watcher thread publishes a `bad_rating` alert for each new case (woken by the
hook, so within a fraction of a second), sweeps overdue cases every `sweep_s` (`overdue`
alerts), checks over-long waits when the queue is installed, runs the upload worker and logs
yesterday's upload reconciliation once a day.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from gateway.alerts.feed import AlertFeed
from gateway.alerts.waits import LongWaitWatch, Waiting
from gateway.alerts.webhook import WebhookChannel
from gateway.followup import cases
from gateway.followup.escalation import escalate_overdue
from gateway.followup.settings import Settings
from gateway.followup.tables import followup_cases
from gateway.followup.workdays import china_date
from gateway.hooks import EventContext, Hooks
from gateway.store.tables import staff, windows
from gateway.upload import outbox
from gateway.upload.outbox import Reconciliation, reconcile
from gateway.upload.sender import Uploader, UploadWorker
from protocol.levels import LEVEL_LABELS

log = logging.getLogger("yuping.followup")


def now_ms() -> int:
    return int(time.time() * 1000)


class Followup:
    def __init__(
        self,
        engine: sa.Engine,
        hall: str,
        settings: Settings,
        feed: AlertFeed,
        waiting: Callable[[], Iterable[Waiting]] | None = None,
        poll_s: float = 0.5,
        sweep_s: float = 30.0,
    ) -> None:
        self.engine = engine
        self.hall = hall
        self.settings = settings
        self.feed = feed
        self.poll_s = poll_s
        self.sweep_s = sweep_s
        self.cursor = 0  # the newest case already alerted
        self.reconciled: str | None = None  # the last day whose upload was reconciled
        self.waits = (
            LongWaitWatch(feed, hall, settings.alerts.long_wait_min, waiting) if waiting else None
        )
        self.webhook: WebhookChannel | None = None
        self.upload: UploadWorker | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def install(self, hooks: Hooks) -> None:
        hooks.on("rating", self.on_rating)

    def on_rating(self, ctx: EventContext) -> None:
        # The core's rating handler ran first and says what it stored: no query per event.
        rating = ctx.facts.get("rating")
        if rating is None:
            return  # not stored as a rating (the core refused it): nothing to follow up
        if self.settings.upload is not None:
            outbox.enqueue(ctx.conn, rating["id"], ctx.received_ms)
            if self.upload is not None:
                self.upload.nudge()
        if rating["bad"]:
            cases.open_case(
                ctx.conn, self.settings.followup, cases.rating_facts(ctx.conn, rating["id"])
            )
            self._wake.set()  # only a new case has an alert to publish

    # --- after the commit -------------------------------------------------------------------

    def start(self) -> Followup:
        with self.engine.connect() as conn:
            newest = sa.select(sa.func.max(followup_cases.c.id)).where(
                followup_cases.c.hall == self.hall
            )
            self.cursor = int(conn.execute(newest).scalar() or 0)
        if self.settings.alerts.webhook is not None:
            self.webhook = WebhookChannel(self.settings.alerts.webhook)
            self.feed.add_channel(self.webhook)
        if self.settings.upload is not None:
            uploader = Uploader(self.engine, self.hall, self.settings.upload)
            self.upload = UploadWorker(uploader, self.settings.upload.poll_s).start()
        self._thread = threading.Thread(target=self._run, name="yuping-followup", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.upload is not None:
            self.upload.stop()
        if self.webhook is not None:
            self.webhook.close()

    def _run(self) -> None:
        next_sweep = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.alert_new_cases()
                if time.monotonic() >= next_sweep:
                    self.sweep(now_ms())
                    self.reconcile_daily(now_ms())
                    next_sweep = time.monotonic() + self.sweep_s
            except Exception:  # noqa: BLE001 - a store hiccup must not end the alerts for good
                log.exception("follow-up watcher pass failed; retrying")
            # The hook wakes us before its transaction commits: look again shortly after.
            self._wake.wait(self.poll_s)

    def alert_new_cases(self) -> int:
        query = (
            sa.select(followup_cases, staff.c.name.label("clerk_name"), windows.c.label)
            .select_from(_case_join())
            .where(followup_cases.c.hall == self.hall, followup_cases.c.id > self.cursor)
            .order_by(followup_cases.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            self._alert_case(row)
            self.cursor = row.id
        return len(rows)

    def _alert_case(self, row: sa.Row) -> None:
        who = " ".join(x for x in (row.label, row.clerk_name) if x) or "未知窗口"
        self.feed.publish(
            "bad_rating", self.hall, row.opened_ms, f"{who} 收到差评：{LEVEL_LABELS[row.level]}",
            case=row.id, rating=row.rating_id, level=row.level, clerk=row.clerk,
            window=row.window, assignee=row.assignee, due_date=row.due_date,
        )  # fmt: skip
        if row.assignee is None:
            self.feed.publish("unassigned", self.hall, row.opened_ms,
                              f"差评案件{row.id}无人承办，请指派", case=row.id)  # fmt: skip

    def sweep(self, at_ms: int) -> int:
        """Escalate overdue cases (alerting each) and check over-long waits."""
        with self.engine.begin() as conn:
            raised = escalate_overdue(conn, self.settings.followup, self.hall, at_ms)
        for e in raised:
            self.feed.publish(
                "overdue", self.hall, at_ms,
                f"差评案件{e.case_id}已超期（应于{e.due_date}前整改），第{e.level}级督办",
                case=e.case_id, level=e.level, to=e.to, due_date=e.due_date,
            )  # fmt: skip
        if self.waits is not None:
            self.waits.check(at_ms)
        return len(raised)

    def reconcile_daily(self, at_ms: int) -> Reconciliation | None:
        """Once a day, log yesterday's upload reconciliation (a warning when incomplete)."""
        day = (china_date(at_ms) - dt.timedelta(days=1)).isoformat()
        if self.settings.upload is None or day == self.reconciled:
            return None
        with self.engine.connect() as conn:
            report = reconcile(conn, self.hall, day)
        level = logging.INFO if report.complete else logging.WARNING
        log.log(
            level,
            "upload reconciliation %s: %s",
            day,
            json.dumps(report.as_dict(), ensure_ascii=False),
        )
        self.reconciled = day
        return report


def _case_join() -> sa.FromClause:
    return followup_cases.outerjoin(
        staff,
        sa.and_(staff.c.hall == followup_cases.c.hall, staff.c.staff_no == followup_cases.c.clerk),
    ).outerjoin(
        windows,
        sa.and_(windows.c.hall == followup_cases.c.hall, windows.c.id == followup_cases.c.window),
    )


def queue_waiting(gw: Any) -> Callable[[], Iterable[Waiting]] | None:
    """The queue's waiting tickets, when the queue subsystem is installed."""
    queue = getattr(gw, "queue", None)
    if queue is None:
        return None

    def waiting() -> list[Waiting]:
        return list(queue.read(lambda q: [
            Waiting(t.number, t.service, t.issued_ms)
            for t in q.tickets.values() if t.state == "waiting"
        ]))  # fmt: skip

    return waiting


def install(gw: Any) -> None:
    """Called by the gateway (gateway.app.SUBSYSTEMS) before it starts."""
    from gateway.followup.http import make_router

    settings = Settings.load(getattr(gw.config, "followup", None))
    feed = getattr(gw, "alerts", None) or AlertFeed()
    gw.alerts = feed  # the dashboard streams this (docs/alerts.md)
    followup = Followup(gw.engine, gw.hall, settings, feed, queue_waiting(gw))
    followup.install(gw.hooks)
    gw.followup = followup
    gw.routers.append(make_router(followup))
    gw.services.append(followup)
