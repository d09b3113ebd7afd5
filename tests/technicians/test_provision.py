"""Provisioning: the broker itself confines each device to its own topics."""

from __future__ import annotations

import queue
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.broker import Broker

from gateway.cli import main
from gateway.provision import mqttpass
from gateway.provision.registry import Site
from protocol import topics
from technicians.mqttclient import Client


def provision(site: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["provision", *args, "--site", str(site)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def secured(broker_readable_dir, hall):
    """Two window terminals provisioned, and a Mosquitto that uses the generated files."""
    site = broker_readable_dir / "site"
    provision(site, "device", "--hall", hall, "--device", "w-a", "--window", "1")
    provision(site, "device", "--hall", hall, "--device", "w-b", "--window", "2")
    conf = (site / "broker" / "yuping.conf").read_text()
    with Broker(extra_config=conf) as broker:
        yield Site(site), broker


def test_device_cannot_publish_under_another_devices_topic(secured, hall, uid):
    site, broker = secured
    gw = site.gateway(hall)
    gateway = Client(broker.port, gw.user, gw.password, f"gw-{uid}")
    a = site.device("w-a")
    device = Client(broker.port, a.device, a.password, f"a-{uid}")
    assert gateway.wait_connected() and device.wait_connected()
    gateway.subscribe(topics.hall_events(hall))

    device.publish(topics.event(hall, "w-b", "rating"), b'{"forged":true}')
    device.publish(topics.event(hall, "w-a", "rating"), b'{"own":true}')

    topic, payload = gateway.messages.get(timeout=5)
    assert (topic, payload) == (topics.event(hall, "w-a", "rating"), b'{"own":true}')
    with pytest.raises(queue.Empty):
        gateway.messages.get(timeout=0.5)
    gateway.close()
    device.close()


def test_device_reads_only_its_own_commands(secured, hall, uid):
    site, broker = secured
    gw = site.gateway(hall)
    gateway = Client(broker.port, gw.user, gw.password, f"gw-{uid}")
    a = site.device("w-a")
    snoop = Client(broker.port, a.device, a.password, f"a-{uid}")
    assert gateway.wait_connected() and snoop.wait_connected()
    snoop.subscribe(topics.device_commands(hall, "w-b"))
    snoop.subscribe(topics.device_commands(hall, "w-a"))

    gateway.publish(topics.command(hall, "w-b", "session"), b"for b")
    gateway.publish(topics.command(hall, "w-a", "session"), b"for a")

    assert snoop.messages.get(timeout=5) == (topics.command(hall, "w-a", "session"), b"for a")
    with pytest.raises(queue.Empty):
        snoop.messages.get(timeout=0.5)
    gateway.close()
    snoop.close()


def test_wrong_password_and_anonymous_are_refused(secured, uid):
    site, broker = secured
    wrong = Client(broker.port, "w-a", "not-the-password", f"x-{uid}")
    anonymous = Client(broker.port, None, None, f"y-{uid}")
    assert wrong.wait_connected() is False
    assert anonymous.wait_connected() is False
    wrong.close()
    anonymous.close()


def test_removed_device_is_refused_after_reload(secured, uid):
    site, broker = secured
    password = site.device("w-b").password
    site.remove_device("w-b")
    broker.restart()
    client = Client(broker.port, "w-b", password, f"b-{uid}")
    assert client.wait_connected() is False
    client.close()


def test_password_hash_matches_mosquitto_passwd(tmp_path):
    path = tmp_path / "passwd"
    path.touch()
    subprocess.run(["mosquitto_passwd", "-b", str(path), "w-0012", "s3cret"], check=True)
    hashed = path.read_text().strip().split(":", 1)[1]
    assert mqttpass.verify(hashed, "s3cret")
    assert not mqttpass.verify(hashed, "s3cret!")
    ours = mqttpass.hash_password("s3cret")
    assert ours.startswith("$7$101$") and mqttpass.verify(ours, "s3cret")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hall", "ZZ", "--device", "w-1"], "hall id must match"),
        (["--hall", "zz", "--device", "gateway"], "reserved"),
        (["--hall", "zz", "--device", "w_1"], "device id must match"),
        (["--hall", "zz", "--device", "r-1", "--kind", "ratingbox"], "must be paired"),
        (
            ["--hall", "zz", "--device", "r-1", "--kind", "ratingbox", "--paired", "w-9"],
            "not provisioned",
        ),
    ],
)
def test_bad_provisioning_is_refused_and_changes_nothing(tmp_path, args, message):
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["provision", "device", "--site", str(site), *args])
    assert result.exit_code != 0
    assert message in result.output
    assert Site(site).devices() == []
    assert not (site / "broker" / "passwd").exists()


def test_duplicate_device_is_refused(tmp_path):
    site = tmp_path / "site"
    provision(site, "device", "--hall", "zz", "--device", "w-1")
    before = (site / "broker" / "passwd").read_text()
    result = CliRunner().invoke(
        main, ["provision", "device", "--site", str(site), "--hall", "zz", "--device", "w-1"]
    )
    assert result.exit_code != 0 and "already provisioned" in result.output
    assert (site / "broker" / "passwd").read_text() == before


def test_device_is_registered_in_the_gateway_store(tmp_path):
    import sqlalchemy as sa

    from gateway.store import make_engine
    from gateway.store.tables import devices, windows

    db = f"sqlite:///{tmp_path / 'gw.db'}"
    site = tmp_path / "site"
    provision(site, "device", "--hall", "zz-1", "--device", "w-03", "--window", "3", "--db", db)
    provision(
        site,
        "device",
        "--hall",
        "zz-1",
        "--device",
        "r-03",
        "--kind",
        "ratingbox",
        "--paired",
        "w-03",
        "--db",
        db,
    )
    engine = make_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(devices.c.id, devices.c.kind, devices.c.window, devices.c.paired).order_by(
                devices.c.id
            )
        ).all()
        label = conn.execute(sa.select(windows.c.label)).scalar()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("r-03", "ratingbox", None, "w-03"),
        ("w-03", "terminal", "3", None),
    ]
    assert label == "3号窗口"


def test_store_refusal_leaves_the_broker_files_untouched(tmp_path):
    db = f"sqlite:///{tmp_path / 'gw.db'}"
    site = tmp_path / "site"
    result = CliRunner().invoke(
        main,
        [
            "provision",
            "device",
            "--site",
            str(site),
            "--hall",
            "zz-1",
            "--device",
            "w-03",
            "--window",
            "front",
            "--db",
            db,
        ],
    )
    assert result.exit_code != 0 and "not registered" in result.output
    assert Site(site).devices() == []


def test_the_rating_box_firmware_works_under_the_generated_acl(
    broker_readable_dir, hall, uid, box_runner
):
    """Legitimate traffic passes: the real box (net.py + umqtt.simple) logs in, publishes its
    retained state and hello, subscribes to its commands and acks, and receives a prompt."""
    import json

    site_dir = broker_readable_dir / "site"
    provision(site_dir, "device", "--hall", hall, "--device", "w-03", "--window", "3")
    provision(
        site_dir,
        "device",
        "--hall",
        hall,
        "--device",
        "r-03",
        "--kind",
        "ratingbox",
        "--paired",
        "w-03",
    )
    site = Site(site_dir)
    conf = (site_dir / "broker" / "yuping.conf").read_text()
    with Broker(extra_config=conf) as secured:
        gw = site.gateway(hall)
        gateway = Client(secured.port, gw.user, gw.password, f"gw-{uid}")
        assert gateway.wait_connected()
        gateway.subscribe(topics.hall_events(hall))
        gateway.subscribe(topics.hall_states(hall))
        record = site.device("r-03")
        box = box_runner(
            broker_readable_dir / "pico",
            secured.port,
            hall=hall,
            device="r-03",
            paired="w-03",
            username="r-03",
            password=record.password,
        )
        try:
            seen = {}
            while "hello" not in seen:
                topic, payload = gateway.messages.get(timeout=10)
                seen[topic.rsplit("/", 1)[-1]] = json.loads(payload)
            assert seen["state"]["online"] is True and seen["hello"]["paired"] == "w-03"
            gateway.publish(
                topics.command(hall, "r-03", "prompt"),
                json.dumps({"v": 1, "ts": 1, "timeout_s": 30}),
            )
            box.wait(lambda: box.box.window is not None)
            hello_id = seen["hello"]["id"]
            gateway.publish(topics.ack(hall, "r-03"), json.dumps({"v": 1, "ids": [hello_id]}))
            box.wait(lambda: hello_id not in [b["id"] for _, b in box.outbox.pending()])
        finally:
            box.stop()
            gateway.close()
