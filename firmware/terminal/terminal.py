"""The window terminal as one composite device: keys and LEDs, screen, badge reader, voice, link
and outbox around the state machine.

Every part is handed in ready-made (hardware handles come from the config, see main.py), so the
simulator builds the same terminal on simulated backends. Inputs arrive on several threads (key
callbacks, the badge poller, the link, the timer); one lock makes the machine see them one at a
time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from firmware.terminal.keys import Keypad
from firmware.terminal.link import Link
from firmware.terminal.machine import Machine, Settings
from firmware.terminal.outbox import Outbox
from firmware.terminal.view import View

log = logging.getLogger(__name__)

TICK_S = 0.2  # the countdown shows whole seconds; timers need no finer grain
READER_RETRY_S = 2.0
UPDATER_TICKS = 5  # the updater's deadline check reads a file: once a second is plenty


class Clock:
    """The real clock: monotonic seconds for timers."""

    def monotonic(self) -> float:
        return time.monotonic()


class BadgeSource(Protocol):
    def poll(self) -> str | None: ...


class ScreenLike(Protocol):
    def show(self, view: View) -> Any: ...


class VoiceLike(Protocol):
    def say(self, text: str, interrupt: bool = False) -> None: ...


class Updater(Protocol):
    """firmware.update.service.UpdateService, as the terminal drives it."""

    def start(self) -> None: ...

    def command(self, kind: str, body: dict[str, Any]) -> None: ...

    def tick(self, online: bool) -> None: ...


class WindowTerminal:
    def __init__(
        self,
        settings: Settings,
        keypad: Keypad,
        screen: ScreenLike,
        reader: BadgeSource | None,
        voice: VoiceLike,
        outbox: Outbox,
        link: Link,
        clock: Clock | None = None,
        updater: Updater | None = None,
    ):
        self.keypad, self.screen, self.reader, self.voice = keypad, screen, reader, voice
        self.outbox, self.link, self.updater = outbox, link, updater
        self.lock = threading.RLock()
        self.machine = Machine(outbox, self, clock or Clock(), settings, notify=link.kick)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- the Panel the machine drives ------------------------------------------------------

    def show(self, view: View) -> None:
        self.screen.show(view)

    def say(self, text: str, interrupt: bool = False) -> None:
        """Queue speech; `interrupt` cuts what is being said (the citizen's key answers now)."""
        try:
            self.voice.say(text, interrupt=interrupt)
        except ValueError as exc:  # a text this voice cannot say: the screen still shows it
            log.warning("cannot say %r: %s", text, exc)

    def leds(self, lit: Sequence[int], blink: bool = False) -> None:
        self.keypad.show(lit, blink)

    # --- inputs ----------------------------------------------------------------------------

    def press(self, name: str) -> None:
        self._feed(self.machine.key, name)

    def tap(self, uid: str) -> None:
        self._feed(self.machine.badge, uid)

    def command(self, kind: str, body: dict[str, Any]) -> None:
        self._feed(self.machine.command, kind, body)
        if self.updater is not None:
            self._feed(self.updater.command, kind, body)

    def connected(self) -> None:
        self._feed(self.machine.connected)

    def online(self, online: bool) -> None:
        self._feed(self.machine.set_online, online)

    def _feed(self, handler: Callable[..., None], *args: Any) -> None:
        """One input at a time. A failure (a full or broken disk …) is logged and the thread that
        brought the input lives on: a dead timer thread would leave windows open forever."""
        with self.lock:
            try:
                handler(*args)
            except Exception:
                log.exception("the terminal failed to handle %s%r", handler.__name__, args)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        with self.lock:
            self.machine.start()
        if self.updater is not None:
            self.updater.start()
        self.keypad.when_pressed = self.press
        self.link.when_command = self.command
        self.link.when_online = self.online
        self.link.when_connected = self.connected
        self.link.start()
        self._spawn("yp-timer", self._tick_loop)
        if self.reader is not None:
            self._spawn("yp-badge", self._badge_loop)

    def stop(self) -> None:
        self._stopping.set()
        self.keypad.when_pressed = None
        for thread in self._threads:
            thread.join(timeout=2)
        self.link.stop()

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _tick_loop(self) -> None:
        ticks = 0
        while not self._stopping.wait(TICK_S):
            self._feed(self.machine.tick)
            ticks += 1
            if self.updater is not None and ticks % UPDATER_TICKS == 0:
                self._feed(self.updater.tick, self.link.online)

    def _badge_loop(self) -> None:
        assert self.reader is not None
        while not self._stopping.is_set():
            try:
                uid = self.reader.poll()
            except Exception as exc:  # noqa: BLE001 - a flaky reader must not stop the counter
                log.warning("badge reader: %s", exc)
                self._stopping.wait(READER_RETRY_S)
                continue
            if uid:
                self.tap(uid)
