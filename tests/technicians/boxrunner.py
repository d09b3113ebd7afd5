"""The rating box's own modules (box, outbox, state, net + umqtt.simple) run on CPython against
the real test broker. Only the Wi-Fi interface, the socket's MicroPython stream methods
(`read`/`write`, which CPython sockets lack) and MicroPython's u-prefixed module names are
supplied here.

Import it through the `box_runner` fixture: that puts micropython-lib's umqtt on sys.path."""

from __future__ import annotations

import binascii
import socket
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "firmware") not in sys.path:
    sys.path.insert(0, str(ROOT / "firmware"))

_getaddrinfo = socket.getaddrinfo


class StreamSocket(socket.socket):
    """MicroPython's socket stream API on a CPython socket."""

    def write(self, data: Any, length: int | None = None) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.sendall(bytes(data[:length] if length is not None else data))

    def read(self, size: int) -> bytes | None:
        chunks = b""
        while len(chunks) < size:
            try:
                chunk = self.recv(size - len(chunks))
            except BlockingIOError:
                return None  # check_msg on an idle socket: MicroPython's read returns None
            if not chunk:
                return chunks
            chunks += chunk
            self.setblocking(True)
        return chunks


class SocketModule:
    socket = StreamSocket
    getaddrinfo = staticmethod(_getaddrinfo)


# umqtt.simple imports usocket/ustruct/ubinascii (older releases) or socket/struct/binascii.
sys.modules.setdefault("usocket", SocketModule)  # type: ignore[arg-type]
sys.modules.setdefault("ustruct", struct)
sys.modules.setdefault("ubinascii", binascii)

import umqtt.simple  # noqa: E402  (micropython-lib's, from the box_runner fixture's path)
from ratingbox import config  # noqa: E402
from ratingbox.box import RatingBox  # noqa: E402
from ratingbox.net import Link  # noqa: E402
from ratingbox.outbox import FileOutbox  # noqa: E402
from ratingbox.state import State  # noqa: E402

umqtt.simple.socket = SocketModule  # type: ignore[attr-defined]


class WlanUp:
    def isconnected(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def ms(self) -> int:
        return int((time.monotonic() - self.start) * 1000)

    def wall_ms(self) -> int:
        return int(time.time() * 1000)


class Keys:
    def __init__(self) -> None:
        self.queue: list[int] = []
        self.lock = threading.Lock()

    def press(self, index: int) -> None:
        with self.lock:
            self.queue.append(index)

    def poll(self) -> list[int]:
        with self.lock:
            pressed, self.queue = self.queue, []
        return pressed


class Leds:
    def __init__(self) -> None:
        self.states = [False] * 5

    def show(self, states: list[bool]) -> None:
        self.states = list(states)


class RunningBox:
    """The box's main loop in a thread, as main.py runs it on the board."""

    def __init__(self, folder: Path, broker_port: int, **cfg: Any):
        self.cfg = config.check(dict(broker_host="127.0.0.1", broker_port=broker_port, **cfg))
        folder.mkdir(parents=True, exist_ok=True)
        self.outbox = FileOutbox(str(folder / "outbox.log"))
        self.keys, self.leds, self.clock = Keys(), Leds(), Clock()
        self.box = RatingBox(
            self.cfg,
            self.outbox,
            State(str(folder / "state.json")),
            self.keys,
            self.leds,
            self.clock,
        )
        self.link = Link(self.cfg, self.outbox, self.box.command, self.clock, WlanUp())
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while self.running:
            before = self.outbox.added
            self.box.tick()
            self.link.poll(connected_hook=self.box.hello)
            if self.outbox.added > before:
                self.link.send_new()
            time.sleep(0.02)

    def wait(self, condition: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out waiting for the box"
            time.sleep(0.02)

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        if self.link.client is not None:
            self.link.client.disconnect()
