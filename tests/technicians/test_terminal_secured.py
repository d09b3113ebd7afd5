"""The whole chain for a window terminal: provision, a TLS hall CA, flash the boot partition, and
the terminal's own link, started from the flashed device.toml, talks to a Mosquitto that uses the
generated password, ACL and certificates."""

from __future__ import annotations

import dataclasses
import json
import time

from click.testing import CliRunner
from support.broker import Broker, free_port

from firmware.terminal import config as terminal_config
from firmware.terminal.link import Link
from firmware.terminal.outbox import Outbox
from gateway.cli import main
from gateway.provision.registry import Site
from protocol import topics
from technicians.mqttclient import Client


def run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


def test_flashed_terminal_connects_over_tls_with_its_credentials(broker_readable_dir, hall, uid):
    site = broker_readable_dir / "site"
    tls_port = free_port()
    run("provision", "init", "--site", str(site), "--broker", f"mqtts://127.0.0.1:{tls_port}")
    run("provision", "tls-ca", "--site", str(site), "--hall", hall)
    listener = CliRunner().invoke(
        main,
        [
            "provision",
            "tls-server",
            "--site",
            str(site),
            "--name",
            "broker",
            "--host",
            "127.0.0.1",
            "--port",
            str(tls_port),
        ],
    )
    run("provision", "device", "--site", str(site), "--hall", hall, "--device", "w-03")
    boot = broker_readable_dir / "bootfs"
    boot.mkdir()
    (boot / "config.txt").write_text("")
    (boot / "cmdline.txt").write_text("console=tty1 rootwait\n")
    run("flash", "pi", "--site", str(site), "--device", "w-03", "--boot", str(boot))

    cfg = terminal_config.load(boot / "yuping" / "device.toml")
    # On the Pi the first boot moves ca.pem to /etc/yuping; here it is read from the card.
    broker_cfg = dataclasses.replace(cfg.broker, tls_ca=str(boot / "yuping" / "ca.pem"))
    conf = (site / "broker" / "yuping.conf").read_text() + listener.output
    with Broker(extra_config=conf) as secured:
        account = Site(site).gateway(hall)
        gateway = Client(secured.port, account.user, account.password, f"gw-{uid}")
        assert gateway.wait_connected()
        gateway.subscribe(topics.hall_events(hall))
        gateway.subscribe(topics.hall_states(hall))
        outbox = Outbox(
            str(broker_readable_dir / "outbox.db"),
            100,
            wall_ms=lambda: int(time.time() * 1000),
            up_ms=lambda: 5,
        )
        link = Link(cfg.hall, cfg.device, broker_cfg, outbox, "yuping-test")
        link.start()
        try:
            hello = outbox.put(
                "hello", {"kind": "terminal", "fw": "yuping-test", "boot": outbox.boot}
            )
            link.kick()
            got = {}
            while "hello" not in got:
                topic, payload = gateway.messages.get(timeout=10)
                got[topic.rsplit("/", 1)[-1]] = json.loads(payload)
            assert got["state"]["online"] is True and got["hello"]["id"] == hello
            gateway.publish(topics.ack(hall, "w-03"), json.dumps({"v": 1, "ids": [hello]}))
            deadline = time.monotonic() + 10
            while outbox.depth() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert outbox.depth() == 0  # the ack reached the terminal through the ACL
        finally:
            link.stop()
            gateway.close()
