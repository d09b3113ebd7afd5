"""The window terminal's config file (/etc/yuping/device.toml): every pin, port and address.

`load(path)` returns a `DeviceConfig` or raises `ConfigError` naming the offending key; nothing is
touched before the whole file has been checked. docs/device.example.toml documents every key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from firmware.terminal.errors import ConfigError
from protocol import topics

DEFAULT_PATH = "/etc/yuping/device.toml"
# Key names, shared by the keypad, the state machine and the simulator's control channel.
RATING_KEYS = ("rate1", "rate2", "rate3", "rate4", "rate5")  # 非常满意 … 非常不满意, left to right
CLERK_KEYS = ("call_next", "recall", "complete", "pause")  # 叫号 重呼 评价 暂停/恢复


@dataclass(frozen=True)
class BrokerConfig:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    keepalive_s: int = 30
    resend_s: float = 30.0  # unacked events are published again this often
    reconnect_max_s: float = 30.0  # the longest wait between reconnect attempts


@dataclass(frozen=True)
class KeysConfig:
    rating: tuple[int | str, ...]  # five keys, 非常满意 first
    rating_leds: tuple[int | str, ...]
    clerk: dict[str, int | str]  # call_next, recall, complete, pause
    pull_up: bool = True
    bounce_s: float | None = None


@dataclass(frozen=True)
class DeviceConfig:
    hall: str
    device: str
    broker: BrokerConfig
    keys: KeysConfig
    display: dict[str, Any]
    voice: dict[str, Any]
    nfc_port: str
    nfc_debounce_s: float = 3.0
    window_label: str = ""
    hall_name: str = ""
    rating_window_s: int = 15
    reasons_s: int = 10
    thanks_s: float = 3.0
    rate_url: str | None = None
    outbox_path: str = "/var/lib/yuping/outbox.db"
    outbox_max: int = 10000
    heartbeat_s: float = 60.0
    gpio_pin_factory: str | None = None  # None: gpiozero's default (GPIOZERO_PIN_FACTORY)


def load(path: str | Path) -> DeviceConfig:
    """Read and check a device.toml."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError("", f"cannot read config {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("", f"{path} is not valid TOML: {exc}") from exc
    return parse(data)


def parse(data: dict[str, Any]) -> DeviceConfig:
    """Check a parsed TOML document and build the config."""
    table = _Table(data, "")
    nfc = table.table("nfc")
    rating = table.table("rating", required=False)
    outbox = table.table("outbox", required=False)
    heartbeat = table.table("heartbeat", required=False)
    gpio = table.table("gpio", required=False)
    return DeviceConfig(
        hall=_id(table, "hall"),
        device=_id(table, "device"),
        hall_name=table.text("hall_name", ""),
        window_label=table.text("window_label", ""),
        broker=_broker(table.table("broker")),
        keys=_keys(table.table("keys")),
        display=table.table("display").data,
        voice=table.table("voice").data,
        nfc_port=nfc.text("port"),
        nfc_debounce_s=nfc.number("debounce_s", 3.0, 0.0, 60.0),
        rating_window_s=int(rating.number("window_s", 15, 1, 600, integer=True)),
        reasons_s=int(rating.number("reasons_s", 10, 1, 120, integer=True)),
        thanks_s=rating.number("thanks_s", 3.0, 0.5, 30.0),
        rate_url=rating.text("rate_url", "") or None,
        outbox_path=outbox.text("path", "/var/lib/yuping/outbox.db"),
        outbox_max=int(outbox.number("max_events", 10000, 10, 10_000_000, integer=True)),
        heartbeat_s=heartbeat.number("interval_s", 60.0, 1.0, 3600.0),
        gpio_pin_factory=gpio.text("pin_factory", "") or None,
    )


def _id(table: _Table, key: str) -> str:
    value = table.text(key)
    if not topics.valid_id(value) or value == topics.GATEWAY:
        raise ConfigError(table.name(key), "must match [a-z0-9-]{1,32} and not be 'gateway'")
    return value


def _broker(table: _Table) -> BrokerConfig:
    url = table.text("url")
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(table.name("url"), "must look like mqtt://host:port or mqtts://host:port")
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError as exc:
        raise ConfigError(table.name("url"), "has an invalid port") from exc
    tls_ca = table.text("tls_ca", "") or None
    return BrokerConfig(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts" or tls_ca is not None,
        username=table.text("username", "")
        or (unquote(parts.username) if parts.username else None),
        password=table.text("password", "")
        or (unquote(parts.password) if parts.password else None),
        tls_ca=tls_ca,
        keepalive_s=int(table.number("keepalive_s", 30, 5, 600, integer=True)),
        resend_s=table.number("resend_s", 30.0, 1.0, 3600.0),
        reconnect_max_s=table.number("reconnect_max_s", 30.0, 1.0, 600.0),
    )


def _keys(table: _Table) -> KeysConfig:
    rating = table.pins("rating", 5)
    leds = table.pins("rating_leds", 5)
    clerk = {name: table.pin(name) for name in CLERK_KEYS}
    _distinct(
        table,
        [("rating", p) for p in rating] + [("rating_leds", p) for p in leds] + list(clerk.items()),
    )
    bounce = table.number("bounce_s", 0.0, 0.0, 1.0)
    return KeysConfig(
        rating=rating,
        rating_leds=leds,
        clerk=clerk,
        pull_up=table.boolean("pull_up", True),
        bounce_s=bounce or None,
    )


def _distinct(table: _Table, used: list[tuple[str, int | str]]) -> None:
    seen: dict[int | str, str] = {}
    for key, pin in used:
        if pin in seen:
            raise ConfigError(
                table.name(key), f"pin {pin} is already used by {table.name(seen[pin])}"
            )
        seen[pin] = key


class _Table:
    """One TOML table with typed getters whose errors name the full key."""

    def __init__(self, data: Any, prefix: str):
        self.data: dict[str, Any] = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def get(self, key: str, required: bool) -> Any:
        if key not in self.data and required:
            raise ConfigError(self.name(key), "is required")
        return self.data.get(key)

    def table(self, key: str, required: bool = True) -> _Table:
        value = self.get(key, required)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ConfigError(self.name(key), "must be a table ([" + self.name(key) + "])")
        return _Table(value, self.name(key) + ".")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.get(key, default is None)
        if value is None:
            return default or ""
        if not isinstance(value, str):
            raise ConfigError(self.name(key), "must be a string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConfigError(self.name(key), "must be true or false")
        return value

    def number(
        self, key: str, default: float, low: float, high: float, integer: bool = False
    ) -> float:
        value = self.get(key, False)
        if value is None:
            return default
        wrong = not isinstance(value, int | float) or (integer and not isinstance(value, int))
        if isinstance(value, bool) or wrong:
            raise ConfigError(
                self.name(key), "must be " + ("an integer" if integer else "a number")
            )
        number = float(value)
        if not low <= number <= high:
            raise ConfigError(self.name(key), f"must be between {low:g} and {high:g}")
        return int(number) if integer else number

    def pin(self, key: str) -> int | str:
        return _pin(self.name(key), self.get(key, True))

    def pins(self, key: str, count: int) -> tuple[int | str, ...]:
        value = self.get(key, True)
        if not isinstance(value, list) or len(value) != count:
            raise ConfigError(self.name(key), f"must be a list of {count} pins")
        return tuple(_pin(f"{self.name(key)}[{i}]", v) for i, v in enumerate(value))


def _pin(name: str, value: Any) -> int | str:
    """A BCM number (0-27) or a gpiozero pin name such as "GPIO17" or "BOARD11"."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 27:
        return value
    if isinstance(value, str) and value and value.replace("_", "").isalnum():
        return value
    raise ConfigError(name, "must be a GPIO number 0-27 or a pin name like 'GPIO17'")
