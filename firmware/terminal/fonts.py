"""The CJK font the terminal's screens are drawn with.

A 1-bit 128x64 OLED has no grey levels to smooth outlines, so sizes are chosen where the font
draws crisply: WenQuanYi Zen Hei carries hand-tuned bitmaps at 12 and 16 px.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from firmware.terminal.display_errors import FontNotFoundError, FontUnusableError

# Where Debian and Raspberry Pi OS packages put CJK fonts, best first, with the package name.
DEFAULT_SEARCH = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "fonts-wqy-zenhei"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "fonts-wqy-microhei"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "fonts-noto-cjk"),
    ("/usr/share/fonts/opentype/unifont/unifont.otf", "fonts-unifont"),
    ("/usr/share/fonts/truetype/unifont/unifont.ttf", "fonts-unifont"),
)

SMALL_PX = 12  # body text: 10 Chinese characters fit a 128 px line
LARGE_PX = 16  # headings: 8 characters per line
TICKET_PX = 24  # the current ticket number

# Drawn to tell a real glyph from the font's "missing glyph" box.
_PROBE = "评"
_SURELY_MISSING = "\U0010fffd"


@dataclass(frozen=True)
class Fonts:
    """The three sizes every screen uses, all from one font file."""

    path: str
    small: ImageFont.FreeTypeFont
    large: ImageFont.FreeTypeFont
    ticket: ImageFont.FreeTypeFont


def find_font(path: str | None = None, search: tuple[tuple[str, str], ...] = DEFAULT_SEARCH) -> str:
    """The configured font path if given (it must exist), else the first default present."""
    if path:
        if not os.path.isfile(path):
            raise FontNotFoundError(f"configured font file {path!r} does not exist")
        return path
    for candidate, _package in search:
        if os.path.isfile(candidate):
            return candidate
    packages = " or ".join(dict.fromkeys(package for _path, package in search))
    raise FontNotFoundError(
        "no CJK font found for the display; install one with "
        f"`sudo apt install {search[0][1]}` (or {packages}), or set the font path in the "
        "device config"
    )


def load_fonts(path: str | None = None) -> Fonts:
    """Load the screen fonts from `path`, or from the first default font present."""
    found = find_font(path)
    small = _truetype(found, SMALL_PX)
    _require_chinese(small, found)
    return Fonts(found, small, _truetype(found, LARGE_PX), _truetype(found, TICKET_PX))


def font_digest(path: str) -> str:
    """SHA-256 of the font file: drawn pixels depend on the exact file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _truetype(path: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise FontUnusableError(f"cannot load font {path!r}: {exc}") from exc


def _require_chinese(font: ImageFont.FreeTypeFont, path: str) -> None:
    probe = font.getmask(_PROBE)
    missing = font.getmask(_SURELY_MISSING)
    if probe.size == missing.size and bytes(probe) == bytes(missing):
        raise FontUnusableError(
            f"font {Path(path).name!r} has no Chinese glyphs; use a CJK font such as "
            "WenQuanYi Zen Hei (`sudo apt install fonts-wqy-zenhei`)"
        )
