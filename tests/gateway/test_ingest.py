"""Ingest rules over a real Mosquitto: store then ack, dedupe, every rejection, clock correction."""

from __future__ import annotations

import json
import time

import pytest
from support.gateway import GatewayHarness

from gateway.store.tables import devices, events, rejects
from protocol import codec, topics


@pytest.fixture
def gw(broker, tmp_path, hall):
    with GatewayHarness(broker, tmp_path, hall) as running:
        running.add_window("w3", 3)
        running.add_device("t-01", "terminal", window="w3")
        running.add_device("b-01", "ratingbox", window="w3", paired="t-01")
        yield running


def test_event_is_stored_with_device_and_corrected_time_then_acked(gw):
    with gw.device("t-01") as dev:
        wrong_clock = 1000  # a device whose clock says 1970
        event_id = dev.send_acked("stray", count=2, ts=wrong_clock)
        row = gw.rows(events, events.c.event_id == event_id)[0]
    now = time.time() * 1000
    assert row.kind == "stray" and row.device == "t-01" and row.body["count"] == 2
    assert row.ts == wrong_clock
    assert abs(row.at_ms - now) < 60_000 and abs(row.received_ms - now) < 60_000


def test_redelivered_event_is_acked_again_and_stored_once(gw):
    with gw.device("t-01") as dev:
        body = dev.event("stray", count=1)
        payload = codec.encode_event("stray", body)
        topic = topics.event(gw.hall, "t-01", "stray")
        dev.publish_raw(topic, payload)
        dev.wait_ack(body["id"])
        dev.acked.clear()
        dev.publish_raw(topic, payload)
        dev.wait_ack(body["id"])
    assert len(gw.rows(events, events.c.event_id == body["id"])) == 1


def test_outbox_event_of_an_older_boot_gets_that_boots_clock(gw):
    with gw.device("t-01", boot=7) as old:
        old.hello()  # live: the gateway learns when boot 7 started
        kept = old.event("stray", count=1)  # made now, kept in the outbox over a reboot
    time.sleep(0.6)
    with gw.device("t-01", boot=8) as new:
        new.hello()
        new.publish_raw(topics.event(gw.hall, "t-01", "stray"), codec.encode_event("stray", kept))
        new.wait_ack(kept["id"])
        hello8 = gw.rows(events, events.c.event_id == "8-1")[0]
        replayed = gw.rows(events, events.c.event_id == kept["id"])[0]
    # Boot 7's start + its up: when it happened, not when it finally arrived.
    assert replayed.received_ms - replayed.at_ms >= 500
    assert replayed.at_ms < hello8.at_ms


def test_same_id_with_other_content_is_rejected_not_acked_and_the_first_kept(gw):
    """A redelivery carries the same event; another body under a stored id is a second sender
    under this device's topic (a cloned configuration) or a reused id. Acking it would make its
    sender drop an event that was never stored."""
    from gateway.ingest import Inbound

    with gw.device("t-01") as dev:
        first = dev.event("stray", count=1)
        topic = topics.event(gw.hall, "t-01", "stray")
        dev.publish_raw(topic, codec.encode_event("stray", first))
        dev.wait_ack(first["id"])
        dev.acked.clear()
        other = dict(first, count=9)
        dev.publish_raw(topic, codec.encode_event("stray", other))
        dev.sync()
        assert first["id"] not in dev.acked
        # Both copies in one batch: the first is stored, the second refused the same way.
        twin = dev.event("stray", count=2)
        batch = [
            Inbound(topic, codec.encode_event("stray", b), 1, time.monotonic())
            for b in (twin, dict(twin, count=3), twin)
        ]
        gw.gateway.ingest.process(batch)
        dev.wait_ack(twin["id"])
    stored = {r.event_id: r.body["count"] for r in gw.rows(events, events.c.kind == "stray")}
    assert stored == {first["id"]: 1, twin["id"]: 2}
    assert gw.rejects() == ["id_conflict", "id_conflict"]
    assert 'yuping_rejects_total{reason="id_conflict"} 2.0' in (
        gw.gateway.metrics.exposition().decode()
    )


BAD = [
    ("bad_payload", "stray", b"{not json"),
    ("bad_field", "stray", b'{"v":1,"id":"1-1","ts":1,"up":1,"count":"many"}'),
    ("unknown_kind", "dance", b'{"v":1,"id":"1-1","ts":1,"up":1}'),
    ("unsupported_version", "stray", b'{"v":2,"id":"1-1","ts":1,"up":1,"count":1}'),
    ("too_large", "stray", b"{" + b" " * 5000 + b"}"),
    # decodes in Python, but PostgreSQL's JSON type would refuse the whole batch holding it
    ("bad_payload", "stray", b'{"v":1,"id":"1-1","ts":1,"up":1,"count":1,"x":"\\ud800"}'),
]
BAD_IDS = [reason for reason, _k, _p in BAD[:-1]] + ["lone_surrogate"]


@pytest.mark.parametrize(("reason", "kind", "payload"), BAD, ids=BAD_IDS)
def test_malformed_event_is_rejected_counted_and_not_stored(gw, reason, kind, payload):
    with gw.device("t-01") as dev:
        dev.publish_raw(f"yp/1/{gw.hall}/t-01/evt/{kind}", payload)
        dev.sync()
    assert gw.rejects() == [reason]
    assert [r.kind for r in gw.rows(events)] == ["heartbeat"]
    assert (
        f'yuping_rejects_total{{reason="{reason}"}} 1.0' in gw.gateway.metrics.exposition().decode()
    )


def test_unregistered_device_is_rejected(gw):
    with gw.device("x-99") as stranger, gw.device("t-01") as dev:
        stranger.send("stray", count=1)
        time.sleep(0.2)
        dev.sync()
        assert not stranger.acked
    assert gw.rejects() == ["unknown_device"]
    assert gw.rows(rejects)[0].device == "x-99"


@pytest.mark.parametrize(
    ("device", "kind", "fields"),
    [
        ("t-01", "hello", {"kind": "ratingbox", "fw": "1", "boot": 1}),
        ("b-01", "hello", {"kind": "ratingbox", "fw": "1", "boot": 1, "paired": "t-09"}),
        ("b-01", "badge", {"uid": "04A1B2C3", "action": "login"}),
        ("b-01", "clerk", {"action": "pause", "reason": "meal"}),
    ],
    ids=["hello-kind", "hello-pairing", "box-badge", "box-clerk"],
)
def test_event_contradicting_the_registration_is_rejected(gw, device, kind, fields):
    with gw.device(device) as dev:
        dev.send(kind, **fields)
        dev.sync()
    assert gw.rejects() == ["device_mismatch"]
    assert [r.kind for r in gw.rows(events)] == ["heartbeat"]


def test_ingest_goes_on_after_rejections(gw):
    with gw.device("t-01") as dev:
        for _ in range(3):
            dev.publish_raw(f"yp/1/{gw.hall}/t-01/evt/stray", b"\xff")
        ok = dev.send_acked("stray", count=1)
    assert gw.rows(events, events.c.event_id == ok)


def test_hello_records_firmware_and_pushes_config_with_badges(gw):
    gw.add_staff("张三", "1001", badge_uid="04A1B2C3")
    with gw.device("t-01") as dev:
        dev.hello(fw="2.0.1")
        config = dev.command("config")
        row = gw.rows(devices, devices.c.id == "t-01")[0]
    assert row.fw == "2.0.1" and row.online and row.boot == 1
    assert config["window"] == "3号窗口" and len(config["badge_key"]) == 64
    from protocol.badges import badge_hash

    assert config["badges"] == [
        {"h": badge_hash(config["badge_key"], "04a1b2c3"), "name": "张三", "staff_no": "1001"}
    ]


def test_heartbeat_outbox_depth_and_state_reach_the_device_row_and_metrics(gw):
    with gw.device("t-01") as dev:
        dev.send_acked("heartbeat", uptime_s=5, outbox=42)
        dev.publish_raw(topics.state(gw.hall, "t-01"), json.dumps({"v": 1, "online": False}))
        dev.sync()
    row = gw.rows(devices, devices.c.id == "t-01")[0]
    assert row.outbox == 0 and row.online  # the sync heartbeat came after the state
    text = gw.gateway.metrics.exposition().decode()
    assert 'yuping_device_outbox{device="t-01"} 0.0' in text
    assert "yuping_ack_latency_seconds_count" in text


def test_settle_freezes_what_start_up_made_out_of_the_collectors_way(gw):
    import gc

    try:
        gw.gateway.settle()
        assert gc.get_freeze_count() > 10_000  # modules, the web app, the store's metadata …
    finally:
        gc.unfreeze()


def test_gateway_publishes_retained_birth(gw, broker):
    import paho.mqtt.subscribe as subscribe

    msg = subscribe.simple(topics.gateway_state(gw.hall), hostname="127.0.0.1", port=broker.port)
    assert json.loads(msg.payload) == {"v": 1, "online": True, "kind": "gateway"}


def test_refusal_inside_a_batch_undoes_only_that_events_effects(gw):
    from gateway.ingest import Inbound
    from gateway.store.tables import rating_windows, ratings

    with gw.device("t-01") as dev:
        rw = dev.next_id()
        bodies = [
            ("rw_open", dev.event("rw_open", id=rw, rw=rw, timeout_s=30, by="clerk")),
            ("rating", dev.event("rating", rw="1-999", level="satisfied")),  # refused
            ("rating", dev.event("rating", rw=rw, level="basic")),
            ("stray", dev.event("stray", count=2)),
        ]
        batch = [
            Inbound(topics.event(gw.hall, "t-01", k), codec.encode_event(k, b), 1, time.monotonic())
            for k, b in bodies
        ]
        gw.gateway.ingest.process(batch)  # one transaction, as the writer thread would
        dev.wait_ack(*(b["id"] for _, b in bodies))
        time.sleep(0.2)
        assert dev.ack_messages == 1  # one ack for the device's whole batch
    stored = {r.event_id: r.refused for r in gw.rows(events)}
    assert stored == {
        bodies[0][1]["id"]: None,
        bodies[1][1]["id"]: "no_rating_window",
        bodies[2][1]["id"]: None,
        bodies[3][1]["id"]: None,
    }
    assert [r.level for r in gw.rows(ratings)] == ["basic"]
    assert [w.outcome for w in gw.rows(rating_windows)] == ["rated"]


def test_a_failing_hook_refuses_its_event_and_ingest_goes_on(broker, tmp_path, hall):
    def fragile(ctx):
        if ctx.body["count"] == 13:
            raise RuntimeError("unlucky")

    with GatewayHarness(broker, tmp_path, hall, setup=lambda g: g.hooks.on("stray", fragile)) as gw:
        gw.add_device("t-01", "terminal")
        with gw.device("t-01") as dev:
            bad = dev.send_acked("stray", count=13)
            good = dev.send_acked("stray", count=1)
        rows = {r.event_id: r for r in gw.rows(events)}
    assert rows[bad].refused == "hook_error" and "unlucky" in rows[bad].refused_detail
    assert rows[good].refused is None


def test_events_published_while_the_gateway_is_down_are_stored_when_it_returns(
    broker, tmp_path, hall
):
    from support.gateway import DeviceClient

    first = GatewayHarness(broker, tmp_path, hall).start()
    first.add_device("t-01", "terminal")
    first.stop()  # its persistent session stays subscribed in the broker
    with DeviceClient(broker, hall, "t-01") as dev:
        waiting = dev.send("stray", count=4)
        with GatewayHarness(broker, tmp_path, hall) as second:  # same store, same client id
            dev.wait_ack(waiting)
            assert second.rows(events, events.c.event_id == waiting)


def test_ingest_resumes_after_a_broker_restart(gw, broker):
    with gw.device("t-01") as dev:
        dev.send_acked("stray", count=1)
        broker.restart()
        after = dev.send_until_acked("stray", count=2)
    assert gw.rows(events, events.c.event_id == after)
