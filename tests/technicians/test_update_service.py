"""The updater inside a terminal process: reports go through the terminal's durable outbox, health
means the gateway acked this start's hello, and a restart is asked of systemd."""

from __future__ import annotations

import json
import time

from firmware.terminal.outbox import Outbox
from firmware.update.service import UpdateService
from firmware.update.store import ReleaseStore
from gateway.release import signing


def outbox(tmp_path):
    return Outbox(
        str(tmp_path / "outbox.db"),
        1000,
        wall_ms=lambda: int(time.time() * 1000),
        up_ms=lambda: 1000,
    )


def installed(tmp_path):
    store = ReleaseStore(tmp_path / "opt")
    for version in ("0.1.0", "0.2.0"):
        (store.releases / version).mkdir(parents=True)
    return store


def updates(box):
    bodies = [json.loads(p.payload) for p in box.pending() if p.kind == "update"]
    return [(b["state"], b["version"]) for b in bodies]


def test_health_waits_for_the_acked_hello(tmp_path):
    store = installed(tmp_path)
    store.switch("0.2.0")
    store.begin_trial("0.2.0", "0.1.0", int(time.time() * 1000) + 60_000)
    box = outbox(tmp_path)
    signing.keygen(tmp_path / "k")
    service = UpdateService(box, store.root, (tmp_path / "k" / "release.pub").read_text().strip())
    service.start()
    hello = box.put("hello", {"kind": "terminal", "fw": "yuping-0.2.0", "boot": box.boot})
    service.tick(online=True)
    assert store.trial() is not None and updates(box) == []  # hello not acked yet
    box.ack([hello])
    service.tick(online=True)
    assert store.trial() is None and updates(box) == [("healthy", "0.2.0")]


def test_offer_reports_through_the_outbox_and_restarts(tmp_path):
    store = installed(tmp_path)
    store.switch("0.1.0")
    signing.keygen(tmp_path / "k")
    restarts = []
    box = outbox(tmp_path)
    service = UpdateService(
        box,
        store.root,
        (tmp_path / "k" / "release.pub").read_text().strip(),
        restart=lambda: restarts.append(1),
    )
    forged = {
        "release": "r-9",
        "version": "9.0.0",
        "url": "http://127.0.0.1:9/x",
        "sha256": "0" * 64,
        "sig": "AAAA",
        "size": 10,
    }
    service.command("update", forged)
    deadline = time.monotonic() + 10
    while not updates(box) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert updates(box) == [("refused", "9.0.0")] and restarts == []
    assert store.current_version() == "0.1.0"


def test_no_release_key_means_no_updates(tmp_path):
    config = tmp_path / "device.toml"
    config.write_text('hall = "zz-1"\n[update]\nroot = "/opt/yuping"\n')
    assert UpdateService.from_config(config, outbox(tmp_path)) is None
    config.write_text('[update]\nroot = "/x"\npublic_key = "AAAA"\n')
    assert UpdateService.from_config(config, outbox(tmp_path)) is not None
