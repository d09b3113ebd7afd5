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
    broker: str = "mqtt://127.0.0.1:1883"
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

    @property
    def broker_host_port(self) -> tuple[str, int]:
        return parse_broker(self.broker)

    @property
    def http_host_port(self) -> tuple[str, int] | None:
        return None if self.http is None else parse_host_port(self.http, "--http")

    def with_overrides(self, **values: Any) -> Config:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def parse_broker(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise ConfigError(f"broker must look like mqtt://HOST:PORT, not {url!r}")
    return parts.hostname, parts.port or 1883


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
