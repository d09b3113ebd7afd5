"""A pyserial port whose other end is a `SimulatedDevice`; each URL scheme subclasses it."""

from __future__ import annotations

import numbers
import urllib.parse
from typing import Any

from serial import SerialBase, SerialException
from serial.serialutil import PortNotOpenError

from simulator.serialsim.device import SimulatedDevice


class DeviceSerial(SerialBase):
    """`<scheme>://<name>`: the device called <name>. Like a real UART, bytes written at the
    wrong baud rate arrive as noise the device ignores, so the driver sees a timeout."""

    scheme = ""
    is_open: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._device: SimulatedDevice | None = None
        super().__init__(*args, **kwargs)

    def lookup(self, name: str) -> SimulatedDevice:
        raise NotImplementedError

    def open(self) -> None:
        if self.is_open:
            raise SerialException("port is already open")
        if self._port is None:
            raise SerialException("port must be configured before it can be used")
        self._device = self.lookup(self._name_from_url(self._port))
        self._reconfigure_port()
        self.is_open = True

    def _name_from_url(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != self.scheme or not parts.netloc or parts.path or parts.query:
            raise SerialException(f"expected {self.scheme}://<name>, got {url!r}")
        return parts.netloc

    def _reconfigure_port(self) -> None:
        if not isinstance(self._baudrate, numbers.Integral) or self._baudrate <= 0:
            raise ValueError(f"invalid baudrate: {self._baudrate!r}")

    @property
    def device(self) -> SimulatedDevice:
        if not self.is_open or self._device is None:
            raise PortNotOpenError()
        return self._device

    @property
    def in_waiting(self) -> int:
        return self.device.pending()

    def read(self, size: int = 1) -> bytes:
        return self.device.read(size, self._timeout)

    def write(self, data: bytes) -> int:  # type: ignore[override]
        device = self.device
        if self._baudrate == device.baudrate:
            device.receive(bytes(data))
        return len(data)

    def reset_input_buffer(self) -> None:
        self.device.clear_output()

    def reset_output_buffer(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()

    def close(self) -> None:
        self.is_open = False
        self._device = None
