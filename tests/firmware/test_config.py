"""device.toml: the shipped example loads; every bad value is refused with its key named."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from firmware.terminal import config
from firmware.terminal.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "device.example.toml"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text())


def test_the_shipped_example_loads_with_its_defaults():
    cfg = config.load(EXAMPLE)
    assert (cfg.hall, cfg.device) == ("zz-jinshui", "w-03")
    assert (cfg.broker.host, cfg.broker.port, cfg.broker.tls) == ("192.168.1.10", 1883, False)
    assert cfg.keys.rating == (5, 6, 13, 19, 26)
    assert cfg.keys.clerk == {"call_next": 17, "recall": 27, "complete": 22, "pause": 23}
    assert cfg.rating_window_s == 15
    assert cfg.display["driver"] == "ssd1306" and cfg.voice["backend"] == "tts"


def test_rating_window_defaults_to_15_seconds():
    data = example()
    del data["rating"]
    assert config.parse(data).rating_window_s == 15


def test_mqtts_and_credentials_in_the_url():
    data = example()
    data["broker"] = {"url": "mqtts://w-03:s%40cret@hall.local"}
    broker = config.parse(data).broker
    assert (broker.port, broker.tls, broker.username, broker.password) == (
        8883,
        True,
        "w-03",
        "s@cret",
    )


def edit(path: str, value):
    data = copy.deepcopy(example())
    *parents, last = path.split(".")
    node = data
    for name in parents:
        node = node[name]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "key", "problem"),
    [
        ("hall", "ZZ Hall", "hall", "[a-z0-9-]"),
        ("device", "gateway", "device", "gateway"),
        ("device", KeyError, "device", "required"),
        ("broker.url", "http://x", "broker.url", "mqtt://"),
        ("broker.url", "mqtt://h:99999", "broker.url", "port"),
        ("keys.rating", [1, 2, 3], "keys.rating", "5 pins"),
        ("keys.recall", 17, "keys.recall", "already used by keys.call_next"),
        ("keys.pause", 40, "keys.pause", "GPIO number"),
        ("keys.pause", True, "keys.pause", "GPIO number"),
        ("rating.window_s", 0, "rating.window_s", "between 1 and 600"),
        ("rating.window_s", "15", "rating.window_s", "integer"),
        ("outbox.max_events", 5, "outbox.max_events", "between"),
        ("nfc", "x", "nfc", "table"),
        ("nfc.port", KeyError, "nfc.port", "required"),
    ],
)
def test_bad_values_are_refused_naming_the_key(path, value, key, problem):
    with pytest.raises(ConfigError) as caught:
        config.parse(edit(path, value))
    assert caught.value.key == key
    assert problem in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_unreadable_and_malformed_files_say_so(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("hall = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(broken)
