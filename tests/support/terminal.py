"""Window terminals for tests: a device config on simulated hardware, the firmware as a separate
process driven through its control socket, and a minimal gateway stand-in over the real broker.

    cfg = write_config(tmp_path, broker, hall, "w-01")
    with StandInGateway(broker, hall) as gw, DeviceProcess(cfg, tmp_path) as dev:
        dev.wait(lambda s: s["online"])
        dev.press("complete")
        gw.wait(lambda: gw.count("rw_open") == 1)

`Counter(cfg)` runs the firmware in-process instead, with hands (press, tap) and eyes (view,
spoken, leds).

The stand-in stores each event once per (device, id), acks it (unless `gw.acking` is False) and
answers a badge login with cmd/session open for the badges it was told about.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from gpiozero.pins.mock import MockFactory
from paho.mqtt.enums import CallbackAPIVersion

from firmware.terminal import config as device_config
from firmware.terminal import view as v
from firmware.terminal.main import build
from protocol import codec, decode, make_ack, make_command, topics
from simulator import serialsim
from simulator.control import ControlClient
from simulator.serialsim import nfc, tts

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 15.0
UID = "04A1B2C3"


def wait_for(predicate: Callable[[], Any], timeout: float = WAIT_S, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def write_config(tmp_path: Path, broker: Any, hall: str, device: str, **extra: str) -> Path:
    """A device.toml on simulated hardware: mock pins, dummy display, ypnfc/yptts chips."""
    sections = {
        "rating": "window_s = 15\nreasons_s = 10\nthanks_s = 0.5\n",
        "outbox": f'path = "{tmp_path / (device + "-outbox.db")}"\nmax_events = 1000\n',
        "heartbeat": "interval_s = 60\n",
    }
    sections.update(extra)
    text = f"""
hall = "{hall}"
device = "{device}"
hall_name = "测试大厅"
window_label = "3号窗口"

[broker]
url = "{broker.url}"
keepalive_s = 5
resend_s = 2
reconnect_max_s = 2

[keys]
rating = [5, 6, 13, 19, 26]
rating_leds = [12, 16, 20, 21, 25]
call_next = 17
recall = 27
complete = 22
pause = 23

[gpio]
pin_factory = "mock"

[display]
driver = "dummy"

[nfc]
port = "ypnfc://{device}-{hall}"
debounce_s = 1

[voice]
backend = "tts"
port = "yptts://{device}-{hall}"
"""
    text += "".join(f"\n[{name}]\n{body}" for name, body in sections.items())
    path = tmp_path / f"{device}.toml"
    path.write_text(text)
    return path


class DeviceProcess:
    """`python -m simulator.device` (the real firmware on simulated hardware) in its own process."""

    def __init__(self, config: Path, tmp_path: Path, nice: int = 0):
        self.config = config
        self.nice = nice  # as systemd's Nice= would run it
        self.control_path = str(tmp_path / f"{config.stem}.sock")
        self.log = tmp_path / f"{config.stem}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.control: ControlClient | None = None

    def start(self) -> DeviceProcess:
        with open(self.log, "ab") as log:
            prefix = ["nice", "-n", str(self.nice)] if self.nice else []
            self.proc = subprocess.Popen(
                prefix
                + [
                    sys.executable,
                    "-m",
                    "simulator.device",
                    "--config",
                    str(self.config),
                    "--control",
                    self.control_path,
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        try:
            self.control = ControlClient(self.control_path)
        except OSError as exc:
            raise RuntimeError(
                f"device process did not come up: {self.log.read_text()[-3000:]}"
            ) from exc
        return self

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.control is not None, "device not started"
        return self.control.call(op, **args)

    def press(self, key: str) -> dict[str, Any]:
        return self.call("press", key=key)

    def tap(self, uid: str) -> None:
        self.call("tap", uid=uid)

    def state(self) -> dict[str, Any]:
        return self.call("state")

    def wait(
        self, predicate: Callable[[dict[str, Any]], Any], what: str = "device state"
    ) -> dict[str, Any]:
        return wait_for(lambda: (lambda s: s if predicate(s) else None)(self.state()), what=what)

    def kill(self) -> None:
        """Power loss: SIGKILL, no goodbye, nothing flushed."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close_control()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_control()

    def _close_control(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None

    def __enter__(self) -> DeviceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class StandInGateway:
    """Stores events once per (device, id), acks them, answers badge logins."""

    def __init__(
        self,
        broker: Any,
        hall: str,
        clerks: dict[str, tuple[str, str]] | None = None,
        auth: tuple[str, str] | None = None,
    ):
        self.hall = hall
        self.clerks = clerks or {}
        self.acking = True
        self.stored: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.received: list[tuple[str, str]] = []  # (kind, id) of every delivery, repeats included
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"standin-{hall}")
        self.client.on_message = self._on_message
        if auth:
            self.client.username_pw_set(*auth)
        self._broker = broker

    def start(self) -> StandInGateway:
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(topics.hall_events(self.hall), qos=1)
        self.client.connect("127.0.0.1", self._broker.port)
        self.client.loop_start()
        if not subscribed.wait(WAIT_S):
            raise RuntimeError("stand-in gateway did not subscribe")
        return self

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def __enter__(self) -> StandInGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        msg = decode(message.topic, message.payload)
        device, kind, body = msg.topic.device, msg.topic.kind, msg.body
        with self._lock:
            self.received.append((kind, body["id"]))
            fresh = (device, body["id"]) not in self.stored
            if fresh:
                self.stored[(device, body["id"])] = (kind, body)
        if fresh and kind == "badge" and body["action"] == "login":
            self._answer_login(device, body["uid"])
        if self.acking:
            self.send_ack(device, [body["id"]])

    def _answer_login(self, device: str, uid: str) -> None:
        if uid in self.clerks:
            name, staff_no = self.clerks[uid]
            self.command(
                device, "session", state="open", clerk={"name": name, "staff_no": staff_no}
            )
        else:
            self.command(device, "session", state="rejected", reason="未登记的工牌")

    def send_ack(self, device: str, ids: list[str]) -> None:
        self.client.publish(topics.ack(self.hall, device), codec.encode(make_ack(ids)), qos=1)

    def command(self, device: str, kind: str, **fields: Any) -> None:
        body = make_command(kind, int(time.time() * 1000), **fields)
        self.client.publish(
            topics.command(self.hall, device, kind), codec.encode_command(kind, body), qos=1
        )

    def events(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for k, body in self.stored.values() if k == kind]

    def count(self, kind: str) -> int:
        return len(self.events(kind))

    def deliveries(self, event_id: str) -> int:
        with self._lock:
            return sum(1 for _k, i in self.received if i == event_id)


class Counter:
    """A terminal under test and the hands and eyes of the person in front of it."""

    def __init__(self, cfg_path: Path):
        serialsim.register()
        self.cfg = device_config.load(cfg_path)
        self.terminal = build(self.cfg, factory=MockFactory(), config_path=str(cfg_path))
        self.name = f"{self.cfg.device}-{self.cfg.hall}"

    def __enter__(self):
        self.terminal.start()
        return self

    def __exit__(self, *exc):
        self.terminal.stop()
        self.terminal.keypad.close()
        self.terminal.outbox.close()

    def press(self, key):
        pin = self.terminal.keypad.buttons[key].pin
        pin.drive_low()
        pin.drive_high()

    def tap(self, uid=UID):
        nfc.chip(self.name).tap(uid)

    @property
    def view(self) -> v.View:
        with self.terminal.lock:
            return self.terminal.machine.view()

    @property
    def spoken(self):
        return tts.module(self.name).spoken

    @property
    def leds(self):
        return [bool(led.value) for led in self.terminal.keypad.leds]

    def wait(self, predicate, what):
        return wait_for(lambda: predicate(self), what=what)

    def login(self):
        self.wait(lambda c: c.terminal.link.online, "online")
        self.tap()
        self.wait(lambda c: c.view.clerk is not None, "logged in")

    def rate(self, key="rate1"):
        self.press("complete")
        self.wait(lambda c: c.view.mode == v.RATING, "rating window")
        self.press(key)
