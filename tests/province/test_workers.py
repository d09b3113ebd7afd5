"""Three province ingest workers on one shared subscription, a real Mosquitto and PostgreSQL:
the owner of a hall is SIGKILLed mid-stream; nothing is lost or stored twice, another worker
takes the hall's lock and its queue carries on from the store."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from support.province import OutboxDevice, WorkerProcess, furnish, stored_events, wait_until

from gateway import staff
from gateway.province.locks import owner
from gateway.queue.config import SAMPLE, load
from gateway.queue.matters import Catalogue
from gateway.queue.service import QueueService
from gateway.queue.tables import queue_actions
from gateway.store import make_engine

WAIT_S = 90
BADGE = "04A1B2C3"
PER_DEVICE = 60


def queue_hall(db_url: str, hall: str, tickets: int) -> None:
    """The sample queue set-up's hall: a clerk with a badge, `tickets` 不动产登记 tickets drawn."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        staff.add_staff(conn, hall, staff.StaffEntry("张伟", "HN0101", "clerk", BADGE))
    service = QueueService(hall, load(SAMPLE), Catalogue([]), engine)
    for _ in range(tickets):
        service.transaction(lambda q: q.issue("realestate", "kiosk", "kiosk:test", service.clock()))
    engine.dispose()


def hall_owner(db_url: str, group: str, hall: str) -> str | None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        found = owner(conn, group, hall)
    engine.dispose()
    return found


def queue_kinds(db_url: str, hall: str) -> list[str]:
    engine = make_engine(db_url)
    query = sa.select(queue_actions.c.kind).where(queue_actions.c.hall == hall)
    with engine.connect() as conn:
        kinds = list(conn.execute(query.order_by(queue_actions.c.seq)).scalars())
    engine.dispose()
    return kinds


def stream(devices: list[OutboxDevice], count: int) -> threading.Thread:
    def run() -> None:
        for _ in range(count):
            for dev in devices:
                dev.send("heartbeat", uptime_s=1, outbox=0)
            threading.Event().wait(0.02)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def clerk_key(clerk: OutboxDevice, action: str, command: str) -> dict:
    seen = len(clerk.commands)
    event = clerk.send("clerk", action=action)
    assert clerk.wait_acked([event], WAIT_S)
    return clerk.wait_command(command, seen, WAIT_S)


def test_killed_worker_loses_nothing_and_its_halls_queue_answers_from_the_new_owner(
    broker, pg_url, uid, tmp_path
):
    group = f"g-{uid}"
    halls = [f"h{n}-{uid}" for n in (1, 2, 3)]
    for hall in halls:
        furnish(pg_url, hall, 2)
    queued = halls[0]
    queue_hall(pg_url, queued, tickets=3)
    settings = tmp_path / "halls"
    settings.mkdir()
    (settings / f"{queued}.toml").write_text(f'[gateway]\nqueue = "{SAMPLE}"\n', encoding="utf-8")
    extra = ("--halls", str(settings), "--subsystems", "queue")
    workers = {
        f"w{n}": WorkerProcess(broker.url, pg_url, group, f"w{n}", *extra) for n in (1, 2, 3)
    }
    devices: list[OutboxDevice] = []
    try:
        for worker in workers.values():
            worker.wait_ready()
        # The clerk at window 2 of the queued hall logs in and calls A001 through its first owner.
        clerk = OutboxDevice(broker.port, queued, "t-02", resend_s=1.0)
        devices.append(clerk)
        clerk.send("hello", kind="terminal", fw="test-1", boot=1)
        clerk.send("badge", uid=BADGE, action="login")
        assert clerk.wait_command("session", 0, WAIT_S)["state"] == "open"
        assert clerk_key(clerk, "call_next", "ticket")["ticket"] == "A001"
        first = hall_owner(pg_url, group, queued)
        assert first in workers

        streamers = [OutboxDevice(broker.port, hall, "t-01", resend_s=1.0) for hall in halls]
        devices += streamers
        sending = stream(streamers, PER_DEVICE)
        wait_until(lambda: len(streamers[0].acked) >= PER_DEVICE // 4, WAIT_S, "a quarter acked")
        workers[first].kill()  # mid-stream: events received, some stored, some acked
        sending.join()

        for dev in devices:
            assert dev.wait_all_acked(WAIT_S), (
                f"{dev.hall}/{dev.device} unacked {sorted(dev.outbox)}"
            )
        for hall, dev in zip(halls, streamers, strict=True):
            stored = [e for d, e in stored_events(pg_url, hall) if d == "t-01"]
            assert len(stored) == len(set(stored)) == PER_DEVICE  # none lost, none twice
            assert set(stored) == set(dev.sent)

        # The hall's queue answers from its new owner, rebuilt from the store: A001 is still at
        # window 2 (complete works on it) and the next call is A002, not A001 again.
        clear = clerk_key(clerk, "complete", "ticket")
        assert (clear["action"], clear["ticket"]) == ("clear", "A001")
        call = clerk_key(clerk, "call_next", "ticket")
        assert (call["action"], call["ticket"]) == ("call", "A002")
        second = hall_owner(pg_url, group, queued)
        assert second in workers and second != first
        assert queue_kinds(pg_url, queued) == ["issue"] * 3 + ["call", "complete", "call"]
        for name, worker in workers.items():  # only the death moved a hall, no spurious give-up
            assert name == first or "giving up every hall" not in worker.output()
    finally:
        for dev in devices:
            dev.close()
        for worker in workers.values():
            worker.stop()
