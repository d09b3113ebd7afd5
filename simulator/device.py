"""A window terminal process on simulated hardware, driven through a control socket.

    python -m simulator.device --config device.toml --control /tmp/w-01.sock

It runs the same firmware build as `yuping device` (firmware.terminal.main.build): keys on
gpiozero's MockFactory, the config's display (driver = "dummy"), the PN532 and TTS module behind
the config's ypnfc:// and yptts:// URLs. The control socket (simulator.control) presses keys, taps
badges and reads back what the device shows, lights and says — nothing else reaches inside.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import click
from gpiozero.pins.mock import MockFactory

from firmware.terminal import config as device_config
from firmware.terminal.main import build, run
from firmware.terminal.terminal import WindowTerminal
from simulator import serialsim
from simulator.control import ControlServer
from simulator.serialsim import nfc, tts

WAIT_S = 5.0  # longest a press is watched for its LED change and speech


class SimulatedHardware:
    """What a person at the counter does and perceives, for one simulated terminal."""

    def __init__(self, terminal: WindowTerminal, cfg: device_config.DeviceConfig):
        self.terminal = terminal
        self.nfc_name = urlsplit(cfg.nfc_port).netloc
        self.tts_name = urlsplit(str(cfg.voice.get("port", ""))).netloc

    def handle(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "op_" + op, None)
        if handler is None:
            raise ValueError(f"unknown control op {op!r}")
        result: dict[str, Any] = handler(**args)
        return result

    def op_press(self, key: str, timed: bool = True) -> dict[str, Any]:
        """Press and release a key; report how long until an LED changed, until the firmware had
        handled the press (screen drawn), and until the TTS module received speech. `timed=False`
        (the simulated people) returns once the press is handled, without watching for more."""
        pin = self.terminal.keypad.buttons[key].pin
        leds = [led.pin for led in self.terminal.keypad.leds]
        spoken_before = len(self._spoken())
        for led in leds:
            led.clear_states()  # each change is then timed from here
        start = time.perf_counter()
        pin.drive_low()  # MockFactory runs the press handler in this thread, to its end
        handled = time.perf_counter()
        pin.drive_high()
        if not timed:
            return {"handled_ms": (handled - start) * 1000}
        return {
            "handled_ms": (handled - start) * 1000,
            "led_ms": self._first_led_change(leds, start),
            "voice_ms": self._voice_started(spoken_before, start),
        }

    def _first_led_change(self, leds: list[Any], start: float) -> float | None:
        deadline = start + WAIT_S
        while time.perf_counter() < deadline:
            changes = [led.states[1].timestamp for led in leds if len(led.states) > 1]
            if changes:
                return min(changes) * 1000
            time.sleep(0.0005)
        return None

    def _voice_started(self, before: int, start: float) -> float | None:
        deadline = start + WAIT_S
        while time.perf_counter() < deadline:
            if len(self._spoken()) > before:
                return (time.perf_counter() - start) * 1000
            time.sleep(0.0005)
        return None

    def op_tap(self, uid: str, present_s: float = 1.0) -> dict[str, Any]:
        """Hold a badge to the reader (a clerk's tap lasts about a second)."""
        nfc.chip(self.nfc_name).tap(uid, present_s)
        return {}

    def op_state(self) -> dict[str, Any]:
        with self.terminal.lock:
            view = dataclasses.asdict(self.terminal.machine.view())
        return {
            "view": view,
            "spoken": self._spoken(),
            "leds": [bool(led.value) for led in self.terminal.keypad.leds],
            "outbox": self.terminal.outbox.depth(),
            "online": self.terminal.link.online,
            "boot": self.terminal.outbox.boot,
        }

    def op_frame(self, path: str) -> dict[str, Any]:
        """Save what the display shows now as a PNG."""
        self.terminal.screen.save_png(path)  # type: ignore[attr-defined]
        return {"path": path}

    def _spoken(self) -> list[str]:
        return list(tts.module(self.tts_name).spoken) if self.tts_name else []


@click.command()
@click.option(
    "--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False)
)
@click.option(
    "--control", "control_path", required=True, help="Unix socket path for the control channel"
)
def main(config_path: str, control_path: str) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    serialsim.register()
    cfg = device_config.load(config_path)
    terminal = build(cfg, factory=MockFactory(), config_path=config_path)
    server = ControlServer(control_path, SimulatedHardware(terminal, cfg).handle).start()
    try:
        run(terminal)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
