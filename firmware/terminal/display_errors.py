"""Errors of the display subsystem: the OLED, its bus and the font it draws with.

`DisplayError` is the display's base under the terminal's root; each leaf also inherits the
built-in it resembles, so callers may catch either.
"""

from __future__ import annotations

from firmware.terminal.errors import ConfigError, TerminalError


class DisplayError(TerminalError):
    """Anything that stops the terminal from drawing its screen."""


class DisplayConfigError(DisplayError, ConfigError):
    """The [display] section of the device config is wrong; `key` names the setting."""


class DisplayNotFoundError(DisplayError, FileNotFoundError):
    """No display answers at the configured bus and address."""


class DisplayPermissionError(DisplayError, PermissionError):
    """The process may not open the I2C bus."""


class DisplayBusError(DisplayError, OSError):
    """Any other failure talking to the display over its bus."""


class FontNotFoundError(DisplayError, FileNotFoundError):
    """No usable CJK font file."""


class FontUnusableError(DisplayError, ValueError):
    """A font file that cannot be loaded or lacks Chinese glyphs."""


class ScreenError(DisplayError, ValueError):
    """A view that cannot be drawn (unknown mode, QR payload too long for the screen)."""
