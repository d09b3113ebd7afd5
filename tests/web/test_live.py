"""The pages' live feed announces only what has committed: a change still inside its
transaction, or rolled back, is never streamed (SQLite and PostgreSQL)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from gateway.config import Config
from gateway.queue.config import SAMPLE, load
from gateway.queue.tables import queue_actions
from gateway.registry import add_device, add_window, ensure_hall
from gateway.store import make_engine, migrate
from gateway.store.tables import events
from gateway.web.live import LiveFeed


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'live.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        ensure_hall(conn, "h1", "测试大厅")
        add_window(conn, "h1", "3", 3)
        add_device(conn, "h1", "t-03", "terminal", "3")
    yield engine
    engine.dispose()


def feed(engine: sa.Engine) -> LiveFeed:
    queue = SimpleNamespace(config=load(SAMPLE))
    gw = SimpleNamespace(engine=engine, hall="h1", queue=queue, config=Config(hall="h1"))
    live = LiveFeed(gw)
    with engine.connect() as conn:  # the cursors start() takes, without its thread
        live.event_seq = live.queue_seq = 0
        live._devices = live._device_rows(conn)
    return live


def badge_event(conn: sa.Connection, event_id: str) -> None:
    conn.execute(events.insert().values(
        hall="h1", device="t-03", event_id=event_id, kind="badge", body={}, ts=1, up=1,
        at_ms=1, received_ms=1,
    ))  # fmt: skip


def call_action(conn: sa.Connection, seq: int) -> None:
    conn.execute(queue_actions.insert().values(
        hall="h1", seq=seq, day="2026-11-27", kind="call", at_ms=1, by="HN0101", window="3",
        ticket="A001", data={"how": "next"},
    ))  # fmt: skip


def test_uncommitted_and_rolled_back_changes_are_never_streamed(store):
    live = feed(store)
    with pytest.raises(RuntimeError), store.begin() as conn:
        badge_event(conn, "1-1")
        call_action(conn, 1)
        conn.execute(sa.text("update devices set online = true, fw = 'v2' where id = 't-03'"))
        assert live.poll() == []  # written, not committed: nothing yet
        raise RuntimeError("rolled back")
    assert live.poll() == []
    with store.begin() as conn:
        badge_event(conn, "1-2")
        call_action(conn, 1)
    kinds = [(e.kind, e.data.get("display")) for e in live.poll()]
    assert kinds == [("windows", None), ("call", "A001 请到3号窗口"), ("queue", None)]
    assert live.poll() == []  # each change once


def test_device_presence_changes_are_streamed_once(store):
    live = feed(store)
    with store.begin() as conn:
        conn.execute(sa.text("update devices set online = true, fw = 'v2', outbox = 3"))
    (event,) = live.poll()
    assert (event.kind, event.data["online_label"], event.data["fw"]) == ("device", "在线", "v2")
    assert live.poll() == []
