"""Gateway configuration: a TOML file (docs/gateway.example.toml), overridden by flags."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.hooks import GatewayError


class ConfigError(GatewayError, ValueError):
    """A configuration file or flag that cannot be used."""


# protocol.ratelink: <rate_url>/<token> must fit the 53 bytes of a QR code on a terminal's 64 px.
RATE_URL_MAX = 53 - 11


@dataclass(frozen=True)
class Attendance:
    """Thresholds for the attendance flags (minutes)."""

    late_grace_min: int = 5
    early_grace_min: int = 5
    pause_max_min: int = 30
    meal_pause_max_min: int = 60
    away_max_min: int = 30
    default_start: str = "09:00"  # used for clerks without a schedule of their own
    default_end: str = "17:00"


@dataclass(frozen=True)
class Config:
    hall: str = "hall"
    hall_name: str = "政务服务大厅"
    broker: str = "mqtt://127.0.0.1:1883"  # mqtts://HOST:PORT for TLS (default port 8883)
    # Broker login (gateway/brokeraccess.py): `yuping provision gateway` writes these. The
    # password comes from broker_password_file, else $YUPING_BROKER_PASSWORD, else
    # broker_password.
    broker_user: str | None = None
    broker_password: str | None = None
    broker_password_file: str | None = None
    broker_ca: str | None = None  # PEM CA the broker's certificate must chain to (mqtts://)
    broker_cert: str | None = None  # client certificate (PEM), with broker_key
    broker_key: str | None = None
    db: str = "yuping.db"
    http: str | None = None  # "HOST:PORT"; None = no HTTP server
    timezone: str = "Asia/Shanghai"
    rating_timeout_s: int = 30
    rate_url: str | None = None
    client_id: str | None = None  # MQTT client id; default yuping-gateway-<hall>
    batch_max: int = 500
    # queue set-up file (see gateway/queue/hall.sample.toml); None: no queue
    queue: str | None = None
    followup: str | None = None  # follow-up/upload/alerts set-up (docs/followup.example.toml)
    attendance: Attendance = field(default_factory=Attendance)

    def __post_init__(self) -> None:
        if self.rate_url and len(self.rate_url.rstrip("/").encode()) > RATE_URL_MAX:
            raise ConfigError(
                f"rate_url {self.rate_url!r} is too long for the terminal's QR code: at most "
                f"{RATE_URL_MAX} bytes (the link adds /<10-character token>; 53 bytes in all)"
            )

    @property
    def broker_host_port(self) -> tuple[str, int]:
        _tls, host, port = parse_broker_url(self.broker)
        return host, port

    @property
    def http_host_port(self) -> tuple[str, int] | None:
        return None if self.http is None else parse_host_port(self.http, "--http")

    def with_overrides(self, **values: Any) -> Config:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def parse_broker(url: str) -> tuple[str, int]:
    """HOST, PORT of a plain MQTT broker URL (for tools that do not speak TLS)."""
    tls, host, port = parse_broker_url(url)
    if tls:
        raise ConfigError(f"this command speaks plain MQTT only: use mqtt://HOST:PORT, not {url!r}")
    return host, port


def parse_broker_url(url: str) -> tuple[bool, str, int]:
    """(tls, host, port) of mqtt://HOST:PORT or mqtts://HOST:PORT (default ports 1883, 8883)."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("mqtt", "tcp", "mqtts") or not parts.hostname or port == -1:
        raise ConfigError(
            f"broker must look like mqtt://HOST:PORT or mqtts://HOST:PORT, not {url!r}"
        )
    tls = parts.scheme == "mqtts"
    return tls, parts.hostname, port or (8883 if tls else 1883)


def parse_host_port(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{what} must be HOST:PORT, not {text!r}")
    return host or "127.0.0.1", int(port)


def _known(cls: type, table: dict[str, Any], where: str) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - names)
    if unknown:
        raise ConfigError(f"unknown setting(s) in {where}: {', '.join(unknown)}")
    return table


def load(path: str | Path | None) -> Config:
    """Read a gateway.toml ([gateway] and [attendance] tables); None gives the defaults."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    unknown = sorted(set(data) - {"gateway", "attendance"})
    if unknown:
        raise ConfigError(f"unknown table(s) in {path}: {', '.join(unknown)}")
    gateway = _known(Config, dict(data.get("gateway", {})), f"{path} [gateway]")
    gateway.pop("attendance", None)
    attendance = Attendance(
        **_known(Attendance, data.get("attendance", {}), f"{path} [attendance]")
    )
    try:
        return Config(attendance=attendance, **gateway)
    except TypeError as exc:
        raise ConfigError(f"bad config {path}: {exc}") from exc
