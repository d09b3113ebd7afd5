"""A simulated SYN6288 / XFS5152 speech module: decodes frames like the chip, answers with
its status bytes, takes a set time per character to speak, and records what it said.

Like the real modules it answers 0x41 to a good frame and 0x45 to a bad one (SYN6288 checksum,
unknown command, undecodable text), reports 0x4E busy / 0x4F idle to a status query, sends
0x4F on its own when speech ends, and starts a new text at once if one arrives mid-speech.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from firmware.terminal import tts
from simulator.serialsim.device import Registry, SimulatedDevice


class SimulatedTTS(SimulatedDevice):
    baudrate = 9600

    def __init__(
        self, name: str, chip: str = "syn6288", clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(name, clock)
        self.spoken: list[str] = []  # every text the module started to say, in order
        self.rejected = 0  # frames answered with 0x45
        self.seconds_per_char = 0.02
        self._parser = tts.RequestParser(chip)
        self._speaking_until: float | None = None
        self._paused_left: float | None = None

    @property
    def chip(self) -> str:
        return self._parser.chip

    @chip.setter
    def chip(self, chip: str) -> None:
        """Swap in the other module model (it resets the frame decoder)."""
        with self._lock:
            self._parser = tts.RequestParser(chip)

    @property
    def busy(self) -> bool:
        with self._lock:
            self.on_time()
            return self._busy()

    def _busy(self) -> bool:
        return self._speaking_until is not None or self._paused_left is not None

    def power_on(self) -> None:
        """The XFS5152 greets the host once it has started."""
        if self.chip == "xfs5152":
            self.send(bytes([tts.READY]))

    def receive(self, data: bytes) -> None:
        with self._lock:
            self.on_time()
            for request in self._parser.feed(data):
                self._handle(request)
            self._lock.notify_all()

    def next_event(self) -> float | None:
        return self._speaking_until

    def on_time(self) -> None:
        if self._speaking_until is not None and self.clock() >= self._speaking_until:
            self._speaking_until = None
            self._out.append(tts.IDLE)

    def _handle(self, request: tts.Speak | tts.Control | tts.TTSFrameError) -> None:
        if isinstance(request, tts.TTSFrameError):
            self.rejected += 1
            self._out.append(tts.REJECTED)
        elif isinstance(request, tts.Speak):
            self._out.append(tts.RECEIVED)
            self.spoken.append(request.text)
            self._paused_left = None
            self._speaking_until = self.clock() + self.seconds_per_char * len(request.text)
        elif request.command == tts.STATUS:
            self._out.append(tts.BUSY if self._busy() else tts.IDLE)
        else:
            self._out.append(tts.RECEIVED)
            self._control(request.command)

    def _control(self, command: int) -> None:
        now = self.clock()
        if command == tts.PAUSE and self._speaking_until is not None:
            self._paused_left, self._speaking_until = self._speaking_until - now, None
        elif command == tts.RESUME and self._paused_left is not None:
            self._speaking_until, self._paused_left = now + self._paused_left, None
        elif command in (tts.STOP, tts.SLEEP):
            self._speaking_until = self._paused_left = None


_modules: Registry[SimulatedTTS] = Registry(SimulatedTTS)


def module(name: str) -> SimulatedTTS:
    """The simulated speech module that `yptts://<name>` talks to."""
    return _modules.get(name)


def unplug(name: str) -> None:
    """Forget the module: the next `module(name)` or port open gets a fresh one."""
    _modules.forget(name)
