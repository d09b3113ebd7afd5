"""The outbox: a row per rating, enqueued atomically with it; the daily reconciliation.

The idempotency key is derived from what makes a rating unique in the hall — the device and its
event id — so the same rating always carries the same key: a retry after a lost answer, a
backfill, even a rebuilt outbox can never make the province count it twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa

from gateway.store.tables import rating_windows, ratings, staff
from gateway.upload.tables import upload_outbox

STATES = ("pending", "acked", "failed")


def idem_key(hall: str, device: str, event_id: str) -> str:
    digest = hashlib.sha256(f"yuping-rating:{hall}/{device}/{event_id}".encode()).hexdigest()
    return digest[:32]


def record_for(row: sa.Row) -> dict[str, object]:
    """Our record of a rating for the province (our names; mapped when sent)."""
    return {
        "idem_key": idem_key(row.hall, row.device, row.event_id),
        "hall": row.hall,
        "rated_at_ms": row.at_ms,
        "level": row.level,
        "channel": row.channel,
        "reasons": list(row.reasons or []),
        "service": row.service_name,
        "service_code": row.service,
        "matter": row.matter,
        "case_no": row.case_no,
        "window": row.window,
        "staff_no": row.staff_no,
    }


def _ratings_query() -> sa.Select:
    joined = ratings.join(rating_windows, rating_windows.c.id == ratings.c.rating_window_id)
    return sa.select(
        ratings, rating_windows.c.service, rating_windows.c.service_name,
        rating_windows.c.matter, rating_windows.c.case_no, staff.c.staff_no,
    ).select_from(joined.outerjoin(staff, staff.c.id == ratings.c.staff_id))  # fmt: skip


# Built once: enqueue runs inside the ingest for every rating when the upload is configured.
_ONE_RATING = _ratings_query().where(ratings.c.id == sa.bindparam("rating_id"))
_ENQUEUE = upload_outbox.insert()


def enqueue(conn: sa.Connection, rating_id: int, now_ms: int) -> None:
    """Queue one stored rating for upload (inside the transaction that stored it)."""
    row = conn.execute(_ONE_RATING, {"rating_id": rating_id}).one()
    record = record_for(row)
    conn.execute(
        _ENQUEUE,
        {
            "hall": row.hall, "rating_id": row.id, "day": row.day, "idem_key": record["idem_key"],
            "record": record, "state": "pending", "next_ms": now_ms, "created_ms": now_ms,
        },
    )  # fmt: skip


def backfill(conn: sa.Connection, hall: str, start: str, end: str, now_ms: int) -> int:
    """Queue the ratings of days start..end that have no outbox row (stored before upload ran)."""
    queued = sa.select(upload_outbox.c.rating_id)
    query = _ratings_query().where(
        ratings.c.hall == hall, ratings.c.day >= start, ratings.c.day <= end,
        ratings.c.id.not_in(queued),
    )  # fmt: skip
    rows = conn.execute(query.order_by(ratings.c.id)).all()
    for row in rows:
        enqueue(conn, row.id, now_ms)
    return len(rows)


@dataclass
class Reconciliation:
    """One day: ratings stored vs what the outbox did with them."""

    hall: str
    day: str
    stored: int = 0
    acked: int = 0
    sent: int = 0  # tried, not (yet) acknowledged
    pending: int = 0  # never tried yet
    failed: int = 0  # refused by the province; needs a person (see last_error)
    missing: int = 0  # stored but not in the outbox: run backfill
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.acked == self.stored

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "complete": self.complete}


def reconcile(conn: sa.Connection, hall: str, day: str) -> Reconciliation:
    report = Reconciliation(hall, day)
    stored = sa.select(sa.func.count()).where(ratings.c.hall == hall, ratings.c.day == day)
    report.stored = int(conn.execute(stored).scalar_one())
    query = sa.select(upload_outbox.c.state, upload_outbox.c.attempts, upload_outbox.c.last_error)
    for row in conn.execute(query.where(upload_outbox.c.hall == hall, upload_outbox.c.day == day)):
        _tally(report, row)
    outboxed = report.acked + report.sent + report.pending + report.failed
    report.missing = report.stored - outboxed
    return report


def _tally(report: Reconciliation, row: sa.Row) -> None:
    if row.state == "acked":
        report.acked += 1
    elif row.state == "failed":
        report.failed += 1
    elif row.attempts:
        report.sent += 1
    else:
        report.pending += 1
    if row.state != "acked" and row.last_error:
        report.errors[row.last_error] = report.errors.get(row.last_error, 0) + 1
