"""Hall ownership on PostgreSQL advisory locks, and the worker giving its halls up when its lock
session dies (so a new owner never shares a hall with the old one)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from support.province import OutboxDevice, furnish, stored_events, wait_until

from gateway.brokeraccess import BrokerAccess
from gateway.cli import main
from gateway.config import Config
from gateway.province.locks import HallLocks, owner, shown_key
from gateway.province.worker import Worker
from gateway.store import make_engine


@pytest.fixture
def engine(pg_url):
    made = make_engine(pg_url)
    yield made
    made.dispose()


def test_one_owner_per_hall_until_its_session_ends(engine, uid):
    group = f"g-{uid}"
    first, second = HallLocks(engine, group, "w1"), HallLocks(engine, group, "w2")
    try:
        assert first.try_take("zz-1")
        assert not second.try_take("zz-1")
        assert second.try_take("zz-2")  # another hall is free
        with engine.connect() as conn:
            assert (owner(conn, group, "zz-1"), owner(conn, group, "zz-2")) == ("w1", "w2")
            assert owner(conn, f"other-{uid}", "zz-1") is None  # groups do not share locks
        assert shown_key(group, "zz-1") in second.held()  # how workers see owned halls
        first.close()  # the worker's death: PostgreSQL releases its locks with the session
        # The server ends the session just after the client hangs up, not before close() returns.
        wait_until(lambda: shown_key(group, "zz-1") not in second.held(), 10, "the lock released")
        assert second.try_take("zz-1")
        with engine.connect() as conn:
            assert owner(conn, group, "zz-1") == "w2"
    finally:
        second.close()


def test_locks_refuse_a_store_that_is_not_postgresql(tmp_path):
    with pytest.raises(ValueError, match="PostgreSQL"):
        HallLocks(make_engine(f"sqlite:///{tmp_path / 'x.db'}"), "g", "w1")


def test_worker_gives_its_halls_up_when_its_lock_session_dies(broker, pg_url, engine, uid, hall):
    furnish(pg_url, hall, 1)
    group = f"g-{uid}"
    worker = Worker(
        engine,
        BrokerAccess("127.0.0.1", broker.port),
        group,
        "w1",
        lambda h: Config(hall=h),
        [],
    )
    worker.start()
    dev = OutboxDevice(broker.port, hall, "t-01", resend_s=1.0)
    try:
        dev.send_many("heartbeat", 10, uptime_s=1, outbox=0)
        assert dev.wait_all_acked(30)
        assert worker.owned() == [hall]
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where application_name = 'w1' and pid <> pg_backend_pid()"
                )
            )
        wait_until(lambda: worker.owned() == [], 30, "the worker to give the hall up")
        dev.send_many("heartbeat", 10, uptime_s=2, outbox=0)  # taken again on a new session
        assert dev.wait_all_acked(30)
        with engine.connect() as conn:
            assert owner(conn, group, hall) == "w1"
        stored = stored_events(pg_url, hall)
        assert sorted(stored) == sorted(("t-01", i) for i in dev.sent)
    finally:
        dev.close()
        worker.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "sqlite:///x.db"], "PostgreSQL"),
        (["--db", "postgresql://h/db", "--broker", "http://x"], "mqtt://HOST:PORT"),
        (["--db", "postgresql://h/db", "--broker-ca", "/ca.crt"], "use mqtts://"),
        (["--db", "postgresql://h/db", "--broker-password-file", "/no/pw"], "cannot read"),
        (["--db", "postgresql://h/db", "--subsystems", "queue,nope"], "unknown subsystem"),
    ],
)
def test_worker_command_refuses_settings_that_cannot_work(args, message):
    result = CliRunner().invoke(main, ["province", "worker", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_events_of_an_unregistered_hall_change_nothing(broker, pg_url, engine, uid, hall):
    furnish(pg_url, hall, 1)
    stranger = f"x-{uid}"
    worker = Worker(
        engine,
        BrokerAccess("127.0.0.1", broker.port),
        f"g-{uid}",
        "w1",
        lambda h: Config(hall=h),
        [],
    )
    worker.start()
    outsider = OutboxDevice(broker.port, stranger, "t-01", resend_s=None)
    dev = OutboxDevice(broker.port, hall, "t-01", resend_s=1.0)
    try:
        outsider.send_many("heartbeat", 3, uptime_s=1, outbox=0)
        dev.send_many("heartbeat", 3, uptime_s=1, outbox=0)
        assert dev.wait_all_acked(30)
        assert not outsider.wait_all_acked(1.0)
        assert worker.owned() == [hall]
        assert stored_events(pg_url, stranger) == []
        with engine.connect() as conn:
            assert (
                conn.execute(
                    sa.text("select count(*) from halls where id = :h"), {"h": stranger}
                ).scalar()
                == 0
            )
    finally:
        outsider.close()
        dev.close()
        worker.stop()
