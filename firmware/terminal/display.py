"""The OLED on the counter and what it shows.

`open_display(cfg)` builds a luma device from the [display] section of the device config:

    driver = "ssd1306"   # or "dummy": luma's in-memory display, for tests and the simulator
    port = 1             # I2C bus number (/dev/i2c-1)
    address = 0x3C       # I2C address; TOML hex integers or strings such as "0x3C"
    rotate = 0           # 0, or 2 for a display mounted upside down
    font = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"   # optional, see fonts.py

`Screen` draws a `View` on that device, only when the view changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from luma.core import error as luma_error
from PIL import Image

from firmware.terminal.display_errors import (
    DisplayBusError,
    DisplayConfigError,
    DisplayError,
    DisplayNotFoundError,
    DisplayPermissionError,
    ScreenError,
)
from firmware.terminal.fonts import Fonts
from firmware.terminal.screens import HEIGHT, WIDTH, render
from firmware.terminal.view import View

_KEYS = {
    "ssd1306": {"driver", "port", "address", "rotate", "font"},
    "dummy": {"driver", "rotate", "font"},
}
# Screens are laid out landscape, so only the two landscape rotations fit.
_ROTATIONS = (0, 2)


def open_display(cfg: Mapping[str, Any]) -> Any:
    """A luma device for the [display] config section; bus problems become DisplayError leaves.

    The whole section is checked before any hardware is touched."""
    driver = _driver(cfg)
    _font(cfg.get("font"))
    rotate = _rotate(cfg.get("rotate", 0))
    if driver == "dummy":
        from luma.core.device import dummy

        return dummy(width=WIDTH, height=HEIGHT, rotate=rotate, mode="1")
    return _ssd1306(_port(cfg.get("port", 1)), _address(cfg.get("address", 0x3C)), rotate)


def _driver(cfg: Mapping[str, Any]) -> str:
    driver = cfg.get("driver", "ssd1306")
    if driver not in _KEYS:
        raise DisplayConfigError(
            "display.driver", f"must be one of {sorted(_KEYS)}, not {driver!r}"
        )
    unknown = sorted(set(cfg) - _KEYS[driver])
    if unknown:
        raise DisplayConfigError(f"display.{unknown[0]}", f"is not a {driver} display setting")
    return str(driver)


def _font(value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise DisplayConfigError("display.font", f"must be a font file path, not {value!r}")


def _ssd1306(port: int, address: int, rotate: int) -> Any:
    from luma.core.interface.serial import i2c
    from luma.oled.device import ssd1306

    with _bus_errors(f"I2C bus {port} (/dev/i2c-{port}) address 0x{address:02X}"):
        return ssd1306(i2c(port=port, address=address), width=WIDTH, height=HEIGHT, rotate=rotate)


@contextmanager
def _bus_errors(where: str) -> Iterator[None]:
    """Turn luma's and the OS's bus errors into ours, saying what to check."""
    try:
        yield
    except luma_error.DevicePermissionError as exc:
        raise DisplayPermissionError(
            f"no permission for the display on {where}: {exc}; add the user to the i2c group"
        ) from exc
    except luma_error.DeviceNotFoundError as exc:
        raise DisplayNotFoundError(
            f"no display on {where}: {exc}; check the wiring and that I2C is enabled "
            "(raspi-config → Interface Options → I2C)"
        ) from exc
    except (luma_error.Error, OSError) as exc:
        raise DisplayBusError(f"display on {where} failed: {exc}") from exc


def _rotate(value: Any) -> int:
    if isinstance(value, bool) or value not in _ROTATIONS:
        raise DisplayConfigError("display.rotate", f"must be 0 or 2 (landscape), not {value!r}")
    return int(value)


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise DisplayConfigError("display.port", f"must be an I2C bus number, not {value!r}")
    return value


def _address(value: Any) -> int:
    """7-bit I2C address outside the reserved ranges, as an integer or a string like "0x3C"."""
    try:
        address = int(value, 0) if isinstance(value, str) else value
    except ValueError:
        address = None
    if isinstance(address, bool) or not isinstance(address, int) or not 0x08 <= address <= 0x77:
        raise DisplayConfigError(
            "display.address", f"must be an I2C address 0x08-0x77 such as 0x3C, not {value!r}"
        )
    return address


class Screen:
    """Shows views on a luma device, redrawing only when the view changed."""

    def __init__(self, device: Any, fonts: Fonts):
        if tuple(device.size) != (WIDTH, HEIGHT):
            raise ScreenError(f"screens are {WIDTH}x{HEIGHT}; the device is {device.size}")
        self._device = device
        self._fonts = fonts
        self._view: View | None = None
        self.last_image: Image.Image | None = None

    def show(self, view: View) -> bool:
        """Draw `view` unless it is already shown; True when the display was redrawn."""
        if view == self._view:
            return False
        image = render(view, self._fonts)
        with _bus_errors("the display"):
            self._device.display(image.convert(self._device.mode))
        self._view, self.last_image = view, image
        return True

    def save_png(self, path: str | Path) -> None:
        """Save what the display shows now (the simulator keeps frames this way)."""
        if self.last_image is None:
            raise DisplayError("nothing has been shown yet, so there is no frame to save")
        self.last_image.save(path, format="PNG")
