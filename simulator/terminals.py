"""Simulated window terminals: the real firmware (firmware.terminal.main.build) on simulated
hardware — gpiozero MockFactory pins (one factory per device), the luma `dummy` display, the
PN532 and the TTS module behind ypnfc:// and yptts:// — either in this process (one
`WindowTerminal` per window, light enough for a whole hall) or as its own process
(simulator.device, which a power loss can SIGKILL). Both offer what a person at the counter
can do and perceive: press a key, tap a badge, look at the screen and the key lights.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from firmware.terminal import view as v
from firmware.terminal.config import RATING_KEYS
from simulator.control import ControlClient, ControlError

ROOT = Path(__file__).resolve().parent.parent
RATING_MODES = (v.RATING, v.RATING_QR)


class DeviceGone(RuntimeError):
    """The device is off (power loss): nothing pressed, nothing seen."""


def device_config(
    workdir: Path,
    hall: str,
    device: str,
    broker_url: str,
    *,
    hall_name: str = "政务服务大厅",
    window_label: str = "",
    rating_window_s: int = 15,
    reasons_s: int = 10,
    thanks_s: float = 3.0,
    heartbeat_s: float = 60.0,
    resend_s: float = 2.0,
) -> Path:
    """A device.toml for simulated hardware (the keys' pin numbers are the real board's)."""
    chip = f"{device}-{hall}"[:32].rstrip("-")  # the simulated NFC and TTS chips' name
    text = f"""hall = "{hall}"
device = "{device}"
hall_name = "{hall_name}"
window_label = "{window_label}"

[broker]
url = "{broker_url}"
keepalive_s = 5
resend_s = {resend_s}

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
port = "ypnfc://{chip}"
debounce_s = 0.5

[voice]
backend = "tts"
port = "yptts://{chip}"

[rating]
window_s = {rating_window_s}
reasons_s = {reasons_s}
thanks_s = {thanks_s}

[outbox]
path = "{workdir / (device + "-outbox.db")}"
max_events = 100000

[heartbeat]
interval_s = {heartbeat_s}
"""
    path = workdir / f"{device}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclasses.dataclass(frozen=True)
class Look:
    """What a person sees at the counter."""

    mode: str  # the screen's mode; in-process devices show the mode under a flashed message
    ticket: str | None
    clerk: str | None  # the name on the electronic work badge
    online: bool
    message: str | None = None


class InProcessTerminal:
    """The firmware's WindowTerminal in this process, on its own MockFactory."""

    hides_mode = False  # a flashed message does not hide the screen's mode from the simulator

    def __init__(self, config_path: Path) -> None:
        from gpiozero.pins.mock import MockFactory

        from firmware.terminal import config as device_config_module
        from firmware.terminal.main import build
        from simulator import serialsim

        serialsim.register()
        self.config = device_config_module.load(config_path)
        self.name = self.config.device
        self.terminal = build(self.config, factory=MockFactory())
        self._nfc = urlsplit(self.config.nfc_port).netloc

    def start(self) -> InProcessTerminal:
        self.terminal.start()
        return self

    def stop(self) -> None:
        self.terminal.stop()
        self.terminal.outbox.close()

    def look(self) -> Look:
        t = self.terminal
        with t.lock:
            view = t.machine.view()
            mode = t.machine.mode
        return Look(
            mode, view.ticket, view.clerk.name if view.clerk else None, t.link.online, view.message
        )

    def press(self, key: str, when: tuple[str, ...] | None = None) -> bool:
        """Press and release `key`, only while the screen shows one of `when` (if given)."""
        t = self.terminal
        with t.lock:  # what the person saw is what the key hits
            if when is not None and t.machine.mode not in when:
                return False
            pin = t.keypad.buttons[key].pin
            pin.drive_low()
            pin.drive_high()
        return True

    def tap(self, uid: str) -> None:
        from simulator.serialsim import nfc

        nfc.chip(self._nfc).tap(uid)

    def outbox_depth(self) -> int:
        return int(self.terminal.outbox.depth())

    def save_png(self, path: Path) -> None:
        self.terminal.screen.save_png(path)  # type: ignore[attr-defined]


class ProcessTerminal:
    """simulator.device in its own process, driven through its control socket. `skew_s` runs it
    with a wrong clock (simulator.wrongclock); `kill()` is a power loss, `start()` powers on."""

    hides_mode = True  # only the screen is visible: a flashed message hides the mode beneath

    def __init__(self, config_path: Path, workdir: Path, skew_s: float = 0.0) -> None:
        self.config_path = config_path
        self.name = config_path.stem
        self.skew_s = skew_s
        self.control_path = str(workdir / f"{self.name}.sock")
        self.log = workdir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._control: ControlClient | None = None
        self._lock = threading.Lock()

    def start(self) -> ProcessTerminal:
        module = (
            ["-m", "simulator.wrongclock", "--skew-s", str(self.skew_s)]
            if self.skew_s
            else ["-m", "simulator.device"]
        )
        args = [sys.executable, *module, "--config", str(self.config_path)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*args, "--control", self.control_path],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        control = ControlClient(self.control_path, connect_timeout_s=60)
        with self._lock:
            self._control = control
        return self

    def _call(self, op: str, **args: Any) -> dict[str, Any]:
        with self._lock:
            if self._control is None:
                raise DeviceGone(self.name)
            try:
                return self._control.call(op, **args)
            except (OSError, ControlError) as exc:
                raise DeviceGone(f"{self.name}: {exc}") from exc

    def kill(self) -> None:
        """Power loss: SIGKILL, nothing flushed, no goodbye."""
        with self._lock:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            if self._control is not None:
                self._control.close()
                self._control = None

    def stop(self) -> None:
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def look(self) -> Look:
        state = self._call("state")
        view = state["view"]
        clerk = view.get("clerk")
        return Look(
            view["mode"],
            view.get("ticket"),
            clerk["name"] if clerk else None,
            bool(state["online"]),
            view.get("message"),
        )

    def press(self, key: str, when: tuple[str, ...] | None = None) -> bool:
        if when is not None and self.look().mode not in when:
            return False
        self._call("press", key=key, timed=False)
        return True

    def tap(self, uid: str) -> None:
        self._call("tap", uid=uid)

    def outbox_depth(self) -> int:
        return int(self._call("state")["outbox"])

    def save_png(self, path: Path) -> None:
        raise NotImplementedError("frames of a device process stay in that process")


Terminal = InProcessTerminal | ProcessTerminal


def rating_key(level_index: int) -> str:
    return RATING_KEYS[level_index]


def wait_look(term: Terminal, check: Any, timeout_s: float, step_s: float = 0.05) -> Look | None:
    """Watch the screen until `check(look)` holds; None after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            look = term.look()
            if check(look):
                return look
        except DeviceGone:
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(step_s)
