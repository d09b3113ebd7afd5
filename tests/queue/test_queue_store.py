"""The queue's memory follows the store: replay after a restart, rollback, savepoints, past days,
on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import pytest
import sqlalchemy as sa

import gateway.queue.tables  # noqa: F401 - the queue tables join the metadata
from gateway.queue import errors as e
from gateway.queue.config import SAMPLE, load
from gateway.queue.matters import SAMPLE as MATTERS
from gateway.queue.matters import load as load_matters
from gateway.queue.service import QueueService
from gateway.queue.tables import queue_actions
from gateway.store import make_engine, migrate

CONFIG = load(SAMPLE)
T0 = int(datetime(2026, 11, 27, 9, 0, tzinfo=CONFIG.tz).timestamp() * 1000)
DAY = 86_400_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        self.now += 1000
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'q.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


def service(db, hall: str, clock: Clock) -> QueueService:
    return QueueService(hall, CONFIG, load_matters(MATTERS), db, clock)


def busy_morning(svc: QueueService, clock: Clock) -> None:
    for name in ("realestate", "realestate", "business", "social"):
        svc.transaction(lambda q, name=name: q.issue(name, "kiosk", "kiosk", clock()))
    svc.transaction(lambda q: q.issue("social", "guide", "G01", clock(), priority="elderly"))
    svc.transaction(lambda q: q.call_next("3", "HN0101", clock()))
    svc.transaction(lambda q: q.call_next("4", "HN0102", clock()))
    svc.transaction(lambda q: q.no_show("4", "HN0102", clock()))
    svc.transaction(lambda q: q.complete("3", "HN0101", clock(), "QY-001", "2026112700001"))


def state(svc: QueueService) -> dict:
    return svc.read(lambda q: {n: asdict(t) for n, t in q.tickets.items()})  # type: ignore[return-value]


def test_a_restarted_service_rebuilds_the_same_queue(db, hall):
    clock = Clock()
    first = service(db, hall, clock)
    busy_morning(first, clock)
    restarted = service(db, hall, clock)
    assert state(restarted) == state(first)
    assert (
        restarted.transaction(lambda q: q.call_next("2", "HN0103", clock())).ticket.number == "A002"
    )
    with db.connect() as conn:
        seqs = list(
            conn.execute(
                sa.select(queue_actions.c.seq).where(queue_actions.c.hall == hall)
            ).scalars()
        )
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_rolled_back_transaction_leaves_no_trace_in_memory(db, hall):
    clock = Clock()
    svc = service(db, hall, clock)
    svc.transaction(lambda q: q.issue("realestate", "kiosk", "kiosk", clock()))
    with pytest.raises(RuntimeError), db.begin() as conn:
        svc.run(conn, lambda q: q.issue("realestate", "kiosk", "kiosk", clock()))
        raise RuntimeError("the store failed after the queue acted")
    assert list(state(svc)) == ["A001"]
    assert (
        svc.transaction(lambda q: q.issue("realestate", "kiosk", "kiosk", clock())).ticket.number
        == "A002"
    )


def test_a_refused_event_later_in_the_batch_undoes_the_queue_action(db, hall):
    """The ingest runs each event's hooks in a savepoint of the batch's transaction."""
    clock = Clock()
    svc = service(db, hall, clock)
    with db.begin() as conn:
        svc.run(conn, lambda q: q.issue("social", "kiosk", "kiosk", clock()))
        with pytest.raises(ValueError), conn.begin_nested():
            svc.run(conn, lambda q: q.issue("social", "kiosk", "kiosk", clock()))
            raise ValueError("another hook refused this event")
        third = svc.run(conn, lambda q: q.issue("social", "kiosk", "kiosk", clock()))
    assert third.ticket.number == "C002"
    assert sorted(state(service(db, hall, clock))) == ["C001", "C002"]


def test_a_refused_action_writes_nothing(db, hall):
    clock = Clock()
    svc = service(db, hall, clock)
    with pytest.raises(e.NothingWaiting):
        svc.transaction(lambda q: q.call_next("3", "HN0101", clock()))
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(queue_actions)).scalar() == 0


def test_yesterdays_ticket_status_shows_expired_and_numbers_restart(db, hall):
    clock = Clock()
    svc = service(db, hall, clock)
    old = svc.transaction(lambda q: q.issue("realestate", "kiosk", "kiosk", clock())).ticket
    clock.now += DAY
    assert svc.read(lambda q: q.waiting_count()) == 0  # the new day needs no action to start
    tomorrow = service(db, hall, clock)
    assert tomorrow.find_by_token(old.token).state == "expired"
    assert (
        tomorrow.transaction(
            lambda q: q.issue("realestate", "kiosk", "kiosk", clock())
        ).ticket.number
        == "A001"
    )
    assert tomorrow.find_by_token("no-such-token") is None


def test_yuping_queue_replay_prints_the_days_timeline(tmp_path, hall):
    from click.testing import CliRunner

    from gateway.cli import main

    engine = make_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    migrate(engine)
    clock = Clock()
    busy_morning(service(engine, hall, clock), clock)
    engine.dispose()
    toml = tmp_path / "gateway.toml"
    toml.write_text(
        f'[gateway]\nhall = "{hall}"\ndb = "sqlite:///{tmp_path / "hall.db"}"\nqueue = "{SAMPLE}"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["queue", "replay", "--config", str(toml), "--day", "2026-11-27"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "金水区政务服务中心 2026-11-27: 9 actions"
    assert lines[1].startswith("09:00:02  A001   issue") and "不动产登记 kiosk" in lines[1]
    assert "请A001号到3号窗口办理" in lines[6] and "HN0101" in lines[6]
    assert lines[8].split()[2:4] == ["no_show", "4号窗口"] and lines[8].endswith("回到队列")
    assert lines[-1].startswith("issued 5, done 1, missed 0, still open 4;")
    empty = CliRunner().invoke(
        main, ["queue", "replay", "--config", str(toml), "--day", "2026-11-26"]
    )
    assert empty.output.splitlines()[-1].startswith("issued 0")
