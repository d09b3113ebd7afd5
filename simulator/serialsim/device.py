"""The common half of every simulated serial device: a named instance, bytes the host sent in,
bytes the device answers out, and a clock for things that happen on their own (speech ends)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

NAME = re.compile(r"[a-z0-9-]{1,32}")


class SimulatedDevice:
    """Subclasses handle `receive()` and may override `next_event()`/`on_time()` for timers."""

    baudrate = 9600

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.clock = clock
        self._lock = threading.Condition()
        self._out = bytearray()

    def receive(self, data: bytes) -> None:
        """Bytes the host wrote."""
        raise NotImplementedError

    def next_event(self) -> float | None:
        """The clock time of the next thing the device does unprompted, if any."""
        return None

    def on_time(self) -> None:
        """Called under the lock whenever the clock may have passed `next_event()`."""

    def send(self, data: bytes) -> None:
        """Queue bytes for the host to read."""
        with self._lock:
            self._out += data
            self._lock.notify_all()

    def pending(self) -> int:
        with self._lock:
            self.on_time()
            return len(self._out)

    def clear_output(self) -> None:
        with self._lock:
            self._out.clear()

    def read(self, size: int, timeout: float | None) -> bytes:
        """`size` bytes, or fewer once `timeout` seconds (None: forever) have passed, as
        pyserial's ports do."""
        deadline = None if timeout is None else self.clock() + timeout
        with self._lock:
            while True:
                self.on_time()
                if len(self._out) >= size or (deadline is not None and self.clock() >= deadline):
                    break
                self._lock.wait(self._wait_time(deadline))
            data = bytes(self._out[:size])
            del self._out[:size]
            return data

    def _wait_time(self, deadline: float | None) -> float | None:
        times = [t for t in (deadline, self.next_event()) if t is not None]
        return max(0.0, min(times) - self.clock()) if times else None


D = TypeVar("D", bound=SimulatedDevice)


class Registry(Generic[D]):
    """Devices by name, created on first use, so a test and a port opened by URL share one."""

    def __init__(self, factory: Callable[[str], D]) -> None:
        self._factory = factory
        self._devices: dict[str, D] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> D:
        if not NAME.fullmatch(name):
            raise ValueError(f"simulated device name {name!r} is not [a-z0-9-]{{1,32}}")
        with self._lock:
            if name not in self._devices:
                self._devices[name] = self._factory(name)
            return self._devices[name]

    def forget(self, name: str) -> None:
        """Drop a device, as if it were unplugged and a fresh one plugged in."""
        with self._lock:
            self._devices.pop(name, None)
