"""The firmware as its own process over a real Mosquitto: power loss (SIGKILL) between a rating
press and its ack loses nothing and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from PIL import Image
from support.terminal import DeviceProcess, StandInGateway, wait_for, write_config

from firmware.terminal.fonts import load_fonts
from firmware.terminal.screens import render
from firmware.terminal.view import Clerk, View
from protocol import topics

UID = "04A1B2C3"


def watch_state(gw, hall, device, states):
    topic = topics.state(hall, device)
    gw.client.message_callback_add(topic, lambda c, u, m: states.append(json.loads(m.payload)))
    gw.client.subscribe(topic, qos=1)


def expected_screen(state):
    """The electronic work badge as the screens module draws the view the device reports."""
    fields = state["view"] | {"clerk": Clerk(**state["view"]["clerk"]), "reasons": ()}
    return render(View(**fields), load_fonts()).convert("1")


def login(gw, dev):
    dev.wait(lambda s: s["online"], "device online")
    dev.tap(UID)
    return dev.wait(lambda s: s["view"]["clerk"] is not None, "clerk logged in")


def test_sigkill_between_rating_press_and_ack_delivers_the_rating_exactly_once(
    broker, hall, tmp_path
):
    cfg = write_config(tmp_path, broker, hall, "w-01")
    states = []
    with StandInGateway(broker, hall, clerks={UID: ("张伟", "HN0123")}) as gw:
        watch_state(gw, hall, "w-01", states)
        dev = DeviceProcess(cfg, tmp_path).start()
        try:
            state = login(gw, dev)
            assert state["view"]["clerk"] == {"name": "张伟", "staff_no": "HN0123"}
            frame = Image.open(dev.call("frame", path=str(tmp_path / "badge.png"))["path"])
            assert frame.convert("1").tobytes() == expected_screen(state).tobytes()
            dev.press("complete")
            wait_for(lambda: gw.count("rw_open") == 1, what="rw_open stored")
            gw.acking = (
                False  # the gateway receives the rating but its ack never reaches the device
            )
            dev.press("rate1")
            wait_for(lambda: gw.count("rating") == 1, what="rating received")
            assert dev.state()["outbox"] >= 1  # unacked: still on the device's disk
            dev.kill()
            wait_for(lambda: states and not states[-1]["online"], what="last will published")
            assert "ts" not in states[-1]  # the broker's last will: the device said nothing
            gw.acking = True
            dev.start()
            [rating] = gw.events("rating")
            wait_for(
                lambda: gw.deliveries(rating["id"]) >= 2, what="rating redelivered after restart"
            )
            state = dev.wait(lambda s: s["outbox"] == 0, "outbox empty")
        finally:
            dev.stop()
    assert gw.count("rating") == 1
    assert rating["level"] == "very_satisfied" and rating["rw"] == gw.events("rw_open")[0]["rw"]
    assert state["boot"] == 2  # a new boot: ids after the restart cannot collide with earlier ones
    assert gw.count("unrated") == 0


def test_sigkill_while_the_citizen_picks_a_reason_keeps_the_bad_rating(broker, hall, tmp_path):
    cfg = write_config(tmp_path, broker, hall, "w-01")
    with StandInGateway(broker, hall, clerks={UID: ("张伟", "HN0123")}) as gw:
        dev = DeviceProcess(cfg, tmp_path).start()
        try:
            login(gw, dev)
            dev.press("complete")
            dev.press("rate5")  # 非常不满意: the reasons are on screen, the rating is held on disk
            assert dev.state()["view"]["mode"] == "reasons"
            dev.kill()
            assert gw.count("rating") == 0
            dev.start()
            wait_for(lambda: gw.count("rating") == 1, what="held rating delivered after restart")
            dev.wait(lambda s: s["outbox"] == 0, "outbox empty")
        finally:
            dev.stop()
    [rating] = gw.events("rating")
    assert rating["level"] == "very_dissatisfied" and "reasons" not in rating
    assert gw.count("unrated") == 0 and gw.count("rw_open") == 1


def test_yuping_device_runs_says_hello_and_leaves_cleanly_on_sigterm(broker, hall, tmp_path):
    """The real entry point, as systemd starts it: pins from GPIOZERO_PIN_FACTORY, no PN532 on
    the port yet, espeak-ng as the voice; SIGTERM publishes the offline state and exits 0."""
    text = write_config(tmp_path, broker, hall, "w-02").read_text()
    text = text.replace('pin_factory = "mock"\n', "")
    text = text.replace(f'port = "ypnfc://w-02-{hall}"', 'port = "loop://"')
    text = text.replace(f'backend = "tts"\nport = "yptts://w-02-{hall}"', 'backend = "espeak"')
    path = tmp_path / "real.toml"
    path.write_text(text)
    states = []
    with StandInGateway(broker, hall) as gw:
        watch_state(gw, hall, "w-02", states)
        yuping = str(Path(sys.executable).parent / "yuping")
        proc = subprocess.Popen(
            [yuping, "device", "--config", str(path)],
            env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: gw.count("hello") == 1, what="hello from yuping device")
            wait_for(lambda: states and states[-1]["online"], what="birth state")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        wait_for(lambda: not states[-1]["online"], what="offline state on the way out")
    assert "ts" in states[-1]  # said by the device itself, not the broker's last will
    [hello] = gw.events("hello")
    assert hello["kind"] == "terminal" and hello["fw"].startswith("yuping-")
