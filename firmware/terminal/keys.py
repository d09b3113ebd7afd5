"""The terminal's keys and LEDs: nine gpiozero Buttons and a board of five LEDs, built from the
[keys] config on the pin factory given (None: gpiozero's default, GPIOZERO_PIN_FACTORY).

Tests and the simulator pass gpiozero.pins.mock.MockFactory and press a key with
`pin_factory.pin(n).drive_low()`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gpiozero import Button, LEDBoard

from firmware.terminal.config import RATING_KEYS, KeysConfig

BLINK_S = 0.4


class Keypad:
    """Five rating keys with LEDs and four clerk keys. Like gpiozero's own devices, it calls
    `when_pressed(name)` on each press, whoever set it."""

    def __init__(self, cfg: KeysConfig, pin_factory: Any = None):
        self.when_pressed: Callable[[str], None] | None = None
        self.pins = dict(zip(RATING_KEYS, cfg.rating, strict=True)) | cfg.clerk
        self.buttons = {
            name: self._button(name, pin, cfg, pin_factory) for name, pin in self.pins.items()
        }
        self.leds = LEDBoard(*cfg.rating_leds, pin_factory=pin_factory)
        self._pattern: tuple[tuple[int, ...], bool] = ((), False)

    def _button(self, name: str, pin: Any, cfg: KeysConfig, factory: Any) -> Button:
        button = Button(pin, pull_up=cfg.pull_up, bounce_time=cfg.bounce_s, pin_factory=factory)
        button.when_pressed = lambda: self._pressed(name)
        return button

    def _pressed(self, name: str) -> None:
        if self.when_pressed is not None:
            self.when_pressed(name)

    def show(self, lit: Sequence[int], blink: bool = False) -> None:
        """Blink all LEDs together (a rating window is open), or light those at these indexes
        (0 = 非常满意) steady and the others off. Asking for the pattern shown changes nothing
        (a blink is not restarted)."""
        pattern = (tuple(sorted(set(lit))), blink)
        if pattern == self._pattern:
            return
        self._pattern = pattern
        if blink:
            self.leds.on()  # lit now, in this thread; the blink thread takes over from here
            self.leds.blink(on_time=BLINK_S, off_time=BLINK_S)
            return
        self.leds.value = tuple(int(i in lit) for i in range(len(self.leds)))

    def close(self) -> None:
        for button in self.buttons.values():
            button.close()
        self.leds.close()
