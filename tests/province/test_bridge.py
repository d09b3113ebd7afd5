"""A hall broker bridged to the central broker (two real Mosquitto processes): the link is cut,
the hall keeps taking events, the link returns and every event is stored once and acked."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from support.broker import Broker
from support.gateway import GatewayHarness
from support.province import OutboxDevice, WorkerProcess, furnish, stored_events

from gateway.cli import main
from gateway.province.bridge import Bridge, BridgeError, render

WAIT_S = 60


def hall_broker(hall: str, central: Broker) -> Broker:
    bridge = Bridge(hall, central.url, restart_s=(1, 2))
    return Broker(extra_config=render(bridge))  # started by the `with` that uses it


def assert_once(db_url: str, hall: str, dev: OutboxDevice) -> None:
    stored = stored_events(db_url, hall)
    assert len(stored) == len(set(stored)), "an event stored twice"
    assert sorted(stored) == sorted((dev.device, event_id) for event_id in dev.sent)


def test_cut_link_queues_at_the_hall_and_delivers_once_when_it_returns(
    broker, pg_url, hall, tmp_path
):
    """No device resends here: the bridge's queues alone carry the events and the acks across."""
    with hall_broker(hall, broker) as local:
        gw = GatewayHarness(broker, tmp_path, hall, db_url=pg_url, subsystems=[]).start()
        try:
            gw.add_device("t-01", "terminal")
            dev = OutboxDevice(local.port, hall, "t-01", resend_s=None)
            before = dev.send_many("heartbeat", 20, uptime_s=1, outbox=0)
            assert dev.wait_acked(before, WAIT_S), "acks did not come back over the bridge"
            broker.stop()  # the link is down: the centre is gone
            during = dev.send_many("heartbeat", 30, uptime_s=2, outbox=0)
            assert not dev.wait_acked(during[:1], 1.0)
            broker.start()
            assert dev.wait_acked(during, WAIT_S), f"unacked: {sorted(dev.outbox)}"
            assert dev.publishes == 50  # each event published once by the device
            assert_once(pg_url, hall, dev)
            dev.close()
        finally:
            gw.stop()


def test_bridged_hall_served_by_province_workers_through_an_outage(broker, pg_url, hall, uid):
    """Workers use clean sessions (see gateway/province/worker.py): what the centre cannot hand
    to a subscriber while workers reconnect, the device's outbox resends; still stored once."""
    furnish(pg_url, hall, 1)
    group = f"g-{uid}"
    workers = [
        WorkerProcess(broker.url, pg_url, group, f"w{i}", "--subsystems", "") for i in (1, 2)
    ]
    try:
        with hall_broker(hall, broker) as local:
            dev = OutboxDevice(local.port, hall, "t-01", resend_s=2.0)
            dev.send_many("heartbeat", 20, uptime_s=1, outbox=0)
            assert dev.wait_all_acked(WAIT_S), workers[0].output()
            broker.stop()
            dev.send_many("heartbeat", 20, uptime_s=2, outbox=0)
            broker.start()
            dev.send_many("heartbeat", 20, uptime_s=3, outbox=0)
            assert dev.wait_all_acked(WAIT_S), f"unacked: {sorted(dev.outbox)}"
            assert_once(pg_url, hall, dev)
            dev.close()
    finally:
        for worker in workers:
            worker.stop()


@pytest.mark.parametrize(
    ("bridge", "message"),
    [
        (Bridge("Bad Hall", "mqtt://c:1883"), "hall id"),
        (Bridge("zz-1", "http://c:1883"), "mqtts://HOST:PORT"),
        (Bridge("zz-1", "mqtt://c:99999"), "bad port"),
        (Bridge("zz-1", "mqtts://c:8883"), "needs --cafile"),
        (Bridge("zz-1", "mqtt://c:1883", cafile="/ca.crt"), "plain mqtt://"),
        (Bridge("zz-1", "mqtts://c", cafile="/ca", certfile="/c.crt"), "both --certfile"),
        (Bridge("zz-1", "mqtt://c", password="secret"), "without --username"),
        (Bridge("zz-1", "mqtt://c", username="a b"), "spaces"),
    ],
)
def test_bridge_settings_that_cannot_work_are_refused(bridge, message):
    with pytest.raises(ValueError, match=message):
        render(bridge)


def test_provision_bridge_writes_the_hall_file_and_refuses_bad_settings(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret-pw\n")
    out = tmp_path / "bridge.conf"
    args = ["provision", "bridge", "--hall", "zz-1", "--central", "mqtts://mq.example:8883"]
    args += ["--username", "bridge.zz-1", "--password-file", str(secret), "--cafile", "/etc/ca.crt"]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--central-acl"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "address mq.example:8883" in text and "remote_password s3cret-pw" in text
    assert "topic yp/1/zz-1/+/evt/# out 1" in text and "topic yp/1/zz-1/+/cmd/# in 1" in text
    assert "cleansession false" in text and "bridge_cafile /etc/ca.crt" in text
    assert out.stat().st_mode & 0o022 == 0  # holds a password: nobody but root writes it
    assert "user bridge.zz-1" in result.output
    other = tmp_path / "other.conf"
    bad = ["provision", "bridge", "--hall", "zz-1", "--central", "mqtts://c", "--out", str(other)]
    refused = CliRunner().invoke(main, bad)
    assert refused.exit_code != 0 and "needs --cafile" in refused.output
    assert not other.exists()


def test_bridge_errors_are_technician_errors():
    with pytest.raises(BridgeError):
        render(Bridge("zz-1", "mqtts://c"))
