"""Halls, windows and devices: what the gateway knows before any device speaks."""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa

from gateway.hooks import GatewayError
from gateway.store.tables import devices, halls, windows
from protocol import topics
from protocol.messages import DEVICE_KINDS


class RegistryError(GatewayError, ValueError):
    """A registration that would make the hall inconsistent."""


def now_ms() -> int:
    return int(time.time() * 1000)


def _check_id(text: str, what: str) -> str:
    if not topics.valid_id(text) or text == topics.GATEWAY:
        raise RegistryError(f"{what} id must match [a-z0-9-]{{1,32}} (not 'gateway'): {text!r}")
    return text


def add_hall(conn: sa.Connection, hall: str, name: str, badge_key: str | None = None) -> None:
    """Register a hall; its badge key is random unless given (hex, 32 bytes by default)."""
    _check_id(hall, "hall")
    if conn.execute(sa.select(halls.c.id).where(halls.c.id == hall)).first():
        raise RegistryError(f"hall {hall!r} is already registered")
    key = badge_key or secrets.token_hex(32)
    conn.execute(halls.insert().values(id=hall, name=name, badge_key=key, created_ms=now_ms()))


def ensure_hall(conn: sa.Connection, hall: str, name: str) -> None:
    if not conn.execute(sa.select(halls.c.id).where(halls.c.id == hall)).first():
        add_hall(conn, hall, name)


def hall_row(conn: sa.Connection, hall: str) -> sa.Row:
    row = conn.execute(sa.select(halls).where(halls.c.id == hall)).first()
    if row is None:
        raise RegistryError(f"hall {hall!r} is not registered")
    return row


def add_window(
    conn: sa.Connection, hall: str, window: str, number: int, label: str | None = None
) -> None:
    """Register a window; its label defaults to "<number>号窗口"."""
    hall_row(conn, hall)
    _check_id(window, "window")
    if number < 1:
        raise RegistryError(f"window number must be positive, not {number}")
    if _window(conn, hall, window):
        raise RegistryError(f"window {window!r} is already registered in hall {hall!r}")
    label = label or f"{number}号窗口"
    if len(label) > 16:
        raise RegistryError(f"window label must be at most 16 characters: {label!r}")
    conn.execute(windows.insert().values(hall=hall, id=window, number=number, label=label))


def _window(conn: sa.Connection, hall: str, window: str) -> sa.Row | None:
    query = sa.select(windows).where(windows.c.hall == hall, windows.c.id == window)
    return conn.execute(query).first()


def window_label(conn: sa.Connection, hall: str, window: str | None) -> str | None:
    row = _window(conn, hall, window) if window else None
    return row.label if row else None


def add_device(
    conn: sa.Connection,
    hall: str,
    device: str,
    kind: str,
    window: str | None = None,
    paired: str | None = None,
) -> None:
    """Register a device. A rating box names the terminal it serves (`paired`)."""
    hall_row(conn, hall)
    _check_id(device, "device")
    if kind not in DEVICE_KINDS:
        raise RegistryError(f"device kind must be one of {', '.join(DEVICE_KINDS)}, not {kind!r}")
    if window is not None and not _window(conn, hall, window):
        raise RegistryError(f"window {window!r} is not registered in hall {hall!r}")
    _check_pairing(conn, hall, kind, paired)
    if device_row(conn, hall, device):
        raise RegistryError(f"device {device!r} is already registered in hall {hall!r}")
    conn.execute(
        devices.insert().values(
            hall=hall, id=device, kind=kind, window=window, paired=paired, registered_ms=now_ms()
        )
    )


def _check_pairing(conn: sa.Connection, hall: str, kind: str, paired: str | None) -> None:
    if paired is None:
        return
    if kind != "ratingbox":
        raise RegistryError("only a rating box is paired with a terminal")
    terminal = device_row(conn, hall, paired)
    if terminal is None or terminal.kind != "terminal":
        raise RegistryError(f"paired device {paired!r} is not a registered terminal")


def device_row(conn: sa.Connection, hall: str, device: str) -> sa.Row | None:
    query = sa.select(devices).where(devices.c.hall == hall, devices.c.id == device)
    return conn.execute(query).first()


def hall_devices(conn: sa.Connection, hall: str) -> dict[str, sa.Row]:
    rows = conn.execute(sa.select(devices).where(devices.c.hall == hall))
    return {row.id: row for row in rows}
