"""The durable outbox: on disk before publish, gone only on ack, ids never reused, bounded
without ever dropping a rating."""

from __future__ import annotations

import json
import sqlite3

import pytest

from firmware.terminal.errors import OutboxError
from firmware.terminal.outbox import Outbox
from protocol import ProtocolError, decode, topics


def make(path, max_events=100):
    return Outbox(str(path), max_events, wall_ms=lambda: 1764201600000, up_ms=lambda: 1234)


def rating(box, rw="1-1", level="satisfied", **kw):
    return box.put("rating", {"rw": rw, "level": level}, **kw)


def test_event_is_on_disk_before_it_is_published(tmp_path):
    box = make(tmp_path / "o.db")
    event_id = rating(box)
    # Another connection (as after a power loss) sees it: it was committed, not just buffered.
    rows = (
        sqlite3.connect(tmp_path / "o.db").execute("select id, kind, body from events").fetchall()
    )
    assert [(r[0], r[1]) for r in rows] == [(event_id, "rating")]
    assert json.loads(rows[0][2])["level"] == "satisfied"
    mode = sqlite3.connect(tmp_path / "o.db").execute("pragma journal_mode").fetchone()[0]
    assert mode == "wal"


def test_pending_payload_decodes_as_a_protocol_event(tmp_path):
    box = make(tmp_path / "o.db")
    event_id = rating(box)
    [pending] = box.pending()
    msg = decode(topics.event("h", "w-1", "rating"), pending.payload)
    assert msg.body["id"] == event_id and msg.body["up"] == 1234


def test_only_the_gateways_ack_removes_an_event(tmp_path):
    box = make(tmp_path / "o.db")
    first, second = rating(box), rating(box, rw="1-2")
    assert box.ack(["99-99", first]) == 1
    assert [p.id for p in box.pending()] == [second]
    assert box.ack([first]) == 0  # a repeated ack is harmless


def test_ids_are_never_reused_across_restarts(tmp_path):
    seen = set()
    for _ in range(3):
        box = make(tmp_path / "o.db")
        seen.add(rating(box))
        seen.add(rating(box))
        box.close()
    assert len(seen) == 6
    assert make(tmp_path / "o.db").boot == 4


def test_events_survive_a_restart_until_acked(tmp_path):
    box = make(tmp_path / "o.db")
    event_id = rating(box)
    box.close()
    again = make(tmp_path / "o.db")
    assert [p.id for p in again.pending()] == [event_id]


def test_a_bad_event_is_refused_and_stores_nothing(tmp_path):
    box = make(tmp_path / "o.db")
    with pytest.raises(ProtocolError, match="level"):
        rating(box, level="5")
    assert box.depth() == 0


def test_rw_open_carries_its_own_id_and_is_remembered_until_closed(tmp_path):
    box = make(tmp_path / "o.db")
    rw = box.put("rw_open", {"timeout_s": 15, "by": "clerk"}, own_id_as="rw")
    assert json.loads(box.pending()[0].payload)["rw"] == rw
    assert box.open_window() == {"rw": rw, "service": None}
    rating(box, rw=rw)
    assert box.open_window() is None


def test_held_event_waits_for_release_and_gets_its_reasons(tmp_path):
    box = make(tmp_path / "o.db")
    event_id = rating(box, level="dissatisfied", held=True)
    assert box.pending() == [] and box.depth() == 1
    box.release(event_id, reasons=["slow"])
    body = json.loads(box.pending()[0].payload)
    assert body["reasons"] == ["slow"] and body["id"] == event_id


def test_held_event_goes_out_unchanged_after_a_restart(tmp_path):
    box = make(tmp_path / "o.db")
    event_id = rating(box, level="very_dissatisfied", held=True)
    box.close()
    again = make(tmp_path / "o.db")
    assert again.release_all() == [event_id]
    assert "reasons" not in json.loads(again.pending()[0].payload)


def heartbeat(box):
    return box.put("heartbeat", {"uptime_s": 1, "outbox": box.depth()})


def test_full_outbox_drops_heartbeats_first(tmp_path):
    box = make(tmp_path / "o.db", max_events=10)
    for _ in range(3):
        heartbeat(box)
    box.put("stray", {"count": 2})
    for i in range(6):
        rating(box, rw=f"1-{i + 1}")
    assert box.depth() == 10
    rating(box, rw="1-50")
    assert box.count("heartbeat") == 2 and box.count("stray") == 1 and box.count("rating") == 7
    assert box.dropped == {"heartbeat": 1}


def test_ratings_are_never_dropped_even_past_the_bound(tmp_path):
    box = make(tmp_path / "o.db", max_events=10)
    for i in range(15):
        rating(box, rw=f"1-{i + 1}")
    assert box.count("rating") == 15


def test_full_outbox_refuses_new_low_value_events_before_dropping_anything_precious(tmp_path):
    box = make(tmp_path / "o.db", max_events=10)
    for i in range(10):
        rating(box, rw=f"1-{i + 1}")
    assert heartbeat(box) is None
    assert box.put("stray", {"count": 1}) is None
    assert box.count("rating") == 10 and box.depth() == 10


def test_boot_counter_lives_in_the_same_file(tmp_path):
    make(tmp_path / "o.db").close()
    value = (
        sqlite3.connect(tmp_path / "o.db")
        .execute("select value from kv where key='boot'")
        .fetchone()
    )
    assert value == ("1",)


def test_an_outbox_that_cannot_be_opened_says_where(tmp_path):
    with pytest.raises(OutboxError, match="no-such-dir"):
        make(tmp_path / "no-such-dir" / "o.db")


def test_a_batch_is_stored_all_or_nothing(tmp_path):
    box = make(tmp_path / "o.db")
    with box.batch():
        box.put("clerk", {"action": "complete"})
        rw = box.put("rw_open", {"timeout_s": 15, "by": "clerk"}, own_id_as="rw")
    assert [p.kind for p in box.pending()] == ["clerk", "rw_open"] and box.open_window()["rw"] == rw
    with pytest.raises(ProtocolError), box.batch():
        box.put("clerk", {"action": "complete"})
        box.put("rw_open", {"timeout_s": 0, "by": "clerk"}, own_id_as="rw")
    assert box.depth() == 2
