"""Keypad on gpiozero's MockFactory, the reconnect policy, the systemd unit, `yuping device`."""

from __future__ import annotations

import configparser
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from firmware.terminal import config
from firmware.terminal.keys import Keypad
from firmware.terminal.link import Backoff

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "device.example.toml"


@pytest.fixture
def keypad():
    factory = MockFactory()
    pad = Keypad(config.load(EXAMPLE).keys, pin_factory=factory)
    yield pad, factory
    pad.close()


def test_each_configured_pin_is_its_key(keypad):
    pad, factory = keypad
    pressed = []
    pad.when_pressed = pressed.append
    for pin in (5, 26, 17, 27, 22, 23):
        factory.pin(pin).drive_low()
        factory.pin(pin).drive_high()
    assert pressed == ["rate1", "rate5", "call_next", "recall", "complete", "pause"]


def test_leds_light_one_or_blink_all(keypad):
    pad, factory = keypad
    leds = [factory.pin(p) for p in (12, 16, 20, 21, 25)]
    pad.show((3,))
    assert [p.state for p in leds] == [False, False, False, True, False]
    pad.show(())
    for pin in leds:
        pin.clear_states()
    pad.show(range(5), blink=True)
    time.sleep(1.0)
    pad.show(())
    for pin in leds:  # every LED went on, off and on again: all five blink
        assert [s.state for s in pin.states][:4] == [False, True, False, True]
    assert [p.state for p in leds] == [False] * 5


def test_backoff_doubles_with_jitter_up_to_the_cap_and_resets():
    low = Backoff(first_s=1, cap_s=8, rng=lambda: 0.0)
    high = Backoff(first_s=1, cap_s=8, rng=lambda: 1.0)
    assert [low.next() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    assert [high.next() for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    low.reset()
    assert low.next() == 0.5


def test_systemd_unit_restarts_always_after_the_network():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "firmware" / "terminal" / "yuping-device.service")
    assert "network-online.target" in unit["Unit"]["After"]
    assert "network-online.target" in unit["Unit"]["Wants"]
    assert unit["Service"]["Restart"] == "always"
    assert unit["Service"]["ExecStart"].endswith("yuping device --config /etc/yuping/device.toml")
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_yuping_device_with_a_bad_config_names_the_key_and_does_not_start(tmp_path):
    bad = tmp_path / "device.toml"
    bad.write_text(EXAMPLE.read_text().replace("recall = 27", "recall = 17"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "yuping"), "device", "--config", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "keys.recall: pin 17 is already used by keys.call_next" in result.stderr


def test_yuping_device_does_not_load_the_gateway_stack():
    code = (
        "import sys; from gateway.cli import main; "
        "main(['device', '--help'], standalone_mode=False); "
        "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip().endswith("[]"), out.stdout + out.stderr
