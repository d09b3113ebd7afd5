"""The box's /config.json, written by `yuping flash pico`. `load()` checks every key first."""

import json

from protocol import topics
from ratingbox.errors import ConfigError

PATH = "/config.json"
DEFAULTS = {
    "broker_port": 1883,
    "rating_timeout_s": 30,   # used when a prompt names none
    "keys": [2, 3, 4, 5, 6],   # GP numbers, 非常满意 first; keys connect the pin to ground
    "leds": [7, 8, 9, 10, 11],
    "stray_flush_s": 10,       # presses outside a window are reported in batches
    "heartbeat_s": 300,
    "resend_s": 30,
    "outbox_max": 300,
    "wifi_ssid": "",
    "wifi_password": "",
    "fw": "ratingbox-dev",
}
TEXTS = ("hall", "device", "paired", "broker_host", "username", "password")


def _check_pins(cfg, key):
    pins = cfg[key]
    if not isinstance(pins, list) or len(pins) != 5:
        raise ConfigError("%s: must be a list of 5 GP pin numbers" % key)
    for pin in pins:
        if not isinstance(pin, int) or not 0 <= pin <= 28:
            raise ConfigError("%s: %r is not a GP pin number 0-28" % (key, pin))


def check(raw):
    if not isinstance(raw, dict):
        raise ConfigError("config must be a JSON object")
    cfg = dict(DEFAULTS)
    cfg.update(raw)
    for key in TEXTS:
        if not isinstance(cfg.get(key), str) or not cfg[key]:
            raise ConfigError("%s: is required (text)" % key)
    for key in ("hall", "device", "paired"):
        if not topics.valid_id(cfg[key]) or cfg[key] == topics.GATEWAY:
            raise ConfigError("%s: must match [a-z0-9-]{1,32}" % key)
    _check_pins(cfg, "keys")
    _check_pins(cfg, "leds")
    used = cfg["keys"] + cfg["leds"]
    for pin in used:
        if used.count(pin) > 1:
            raise ConfigError("keys/leds: pin %d is used twice" % pin)
    return cfg


def load(path=PATH):
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError:
        raise ConfigError("no config at %s: flash the box with `yuping flash pico`" % path)
    except ValueError:
        raise ConfigError("%s is not valid JSON" % path)
    return check(raw)
