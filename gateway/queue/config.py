"""The hall's queue set-up: services (业务) with ticket prefixes and areas, windows and the
services they serve, and the numbers that tune the rules (see `picking` for fairness).

Loaded from the `[queue]` table of a TOML file (see hall.sample.toml beside this module).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.queue.errors import ConfigError, UnknownService, UnknownWindow
from protocol.levels import AREA_LABELS, AREAS

SAMPLE = Path(__file__).resolve().parent / "hall.sample.toml"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PREFIX = re.compile(r"^[A-Z]$")  # the terminal reads a letter and up to 4 digits


@dataclass(frozen=True)
class Service:
    id: str
    prefix: str  # "A": tickets are A001, A002 …
    name: str  # "不动产登记"
    area: str  # one of protocol.levels.AREAS
    avg_service_min: float = 6.0  # the estimate until real service times are known

    @property
    def area_label(self) -> str:
        return AREA_LABELS[self.area]


@dataclass(frozen=True)
class Window:
    id: str  # the window id the gateway registers devices to, e.g. "3"
    label: str  # "3号窗口": what announcements say
    services: tuple[str, ...]
    may_pick: bool = False  # may call any waiting number of its services (选号)
    device: str | None = None  # the window terminal, if not known from the gateway's registry
    announce_on_device: bool = True  # the window terminal also shows and speaks each call
    printer: str | None = None  # the desk printer for notices and reminders (a `printers` name)


@dataclass(frozen=True)
class QueueConfig:
    hall_name: str
    services: dict[str, Service]
    windows: dict[str, Window]
    timezone: str = "Asia/Shanghai"
    day_starts_at: int = 4  # local hour the numbering restarts at (tickets left open expire)
    priority_run: int = 3  # at most this many priority calls in a row at a window …
    max_wait_min: float = 30.0  # … and a normal ticket waiting this long goes first
    no_show_back: int = 3  # a skipped ticket comes back after this many others …
    no_show_returns: int = 1  # … this many times, then it is 过号 for good
    appointment_grace_min: float = 10.0  # an appointment checked in this late keeps its slot
    helper_service: str | None = None  # the service of the 帮办代办 area tickets are handed to
    rating_timeout_s: int = 30
    status_url: str = "http://127.0.0.1:8080/q/{token}"  # printed as the ticket's QR code
    recent_calls: int = 20  # how many calls the hall display keeps
    matters: str | None = None  # the matter catalogue file, relative to this file
    printers: dict[str, str] = field(default_factory=dict)  # name -> pyserial URL
    printer_baud: int = 9600

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, service_id: str) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise UnknownService(f"没有此业务: {service_id}") from None

    def window(self, window_id: str | None) -> Window:
        if window_id is None or window_id not in self.windows:
            raise UnknownWindow(f"此设备未登记到叫号窗口: {window_id}")
        return self.windows[window_id]


def load(path: str | Path, defaults: dict[str, Any] | None = None) -> QueueConfig:
    """Read the [queue] table of a TOML file; a relative `matters` path is made absolute.

    `defaults` fill settings the file leaves out (the gateway passes its hall name, time zone
    and rating timeout, so they are said once)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read queue set-up {path}: {exc}") from None
    table = {**(defaults or {}), **data.get("queue", data)}
    if table.get("matters"):
        table["matters"] = str(path.parent / table["matters"])
    return from_dict(table)


def from_dict(data: dict[str, Any]) -> QueueConfig:
    services = _services(data.get("services", []))
    windows = _windows(data.get("windows", []), services)
    known = {f.name for f in QueueConfig.__dataclass_fields__.values()}
    extra = {k: v for k, v in data.items() if k not in ("services", "windows")}
    unknown = set(extra) - known
    if unknown:
        raise ConfigError(f"unknown queue settings: {', '.join(sorted(unknown))}")
    try:
        config = QueueConfig(services=services, windows=windows, **extra)
    except TypeError as exc:
        raise ConfigError(f"queue settings: {exc}") from None
    _check(config)
    return config


def _services(rows: list[dict[str, Any]]) -> dict[str, Service]:
    services: dict[str, Service] = {}
    for row in rows:
        try:
            service = Service(**row)
        except TypeError as exc:
            raise ConfigError(f"service {row.get('id')!r}: {exc}") from None
        if not _ID.match(service.id) or service.id in services:
            raise ConfigError(f"service id {service.id!r} must be unique, [a-z0-9_-]")
        if not _PREFIX.match(service.prefix):
            raise ConfigError(f"service {service.id}: prefix must be one capital letter")
        if service.area not in AREAS:
            raise ConfigError(f"service {service.id}: area must be one of {', '.join(AREAS)}")
        services[service.id] = service
    prefixes = [s.prefix for s in services.values()]
    if len(set(prefixes)) != len(prefixes):
        raise ConfigError("two services share a ticket prefix")
    return services


def _windows(rows: list[dict[str, Any]], services: dict[str, Service]) -> dict[str, Window]:
    windows: dict[str, Window] = {}
    for row in rows:
        row = dict(row, services=tuple(row.get("services", ())))
        try:
            window = Window(**row)
        except TypeError as exc:
            raise ConfigError(f"window {row.get('id')!r}: {exc}") from None
        unknown = [s for s in window.services if s not in services]
        if unknown or not window.services:
            raise ConfigError(f"window {window.id}: serves unknown or no services {unknown}")
        if window.id in windows:
            raise ConfigError(f"window {window.id} listed twice")
        windows[window.id] = window
    return windows


def _check(config: QueueConfig) -> None:
    if not config.services:
        raise ConfigError("the queue needs at least one service")
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown timezone {config.timezone!r}") from None
    if not 0 <= config.day_starts_at <= 23:
        raise ConfigError("day_starts_at must be an hour 0-23")
    if config.priority_run < 1 or config.no_show_back < 0 or config.no_show_returns < 0:
        raise ConfigError("priority_run >= 1, no_show_back >= 0, no_show_returns >= 0")
    if config.helper_service is not None and config.helper_service not in config.services:
        raise ConfigError(f"helper_service {config.helper_service!r} is not a service")
    for window in config.windows.values():
        if window.printer is not None and window.printer not in config.printers:
            raise ConfigError(f"window {window.id}: printer {window.printer!r} not in printers")
    if "{token}" not in config.status_url:
        raise ConfigError("status_url must contain {token}")
