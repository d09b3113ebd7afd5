"""The window terminal's screens: pure functions from a `View` to a 128x64 1-bit image.

Every screen but the QR code has a 12 px header row: context on the left, the countdown and the
"离线" mark (inverted, so it catches the eye) on the right. Rows of 12 px text sit 13 px apart.
Choices made on the five physical keys are drawn as a five-column legend, one column above
each key, alternate columns inverted so neighbouring labels never run together.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from firmware.terminal import view as v
from firmware.terminal.display_errors import ScreenError
from firmware.terminal.fonts import Fonts
from protocol.levels import (
    BAD_REASON_LABELS,
    LEVEL_LABELS,
    LEVELS,
    PAUSE_REASON_LABELS,
    PAUSE_REASONS,
)

WIDTH, HEIGHT = 128, 64
ROW = 13  # pitch of 12 px text rows
KEYS = 5
BADGE_WIDTH = 61  # left column of the serving screen; the ticket gets the rest
ELLIPSIS = "…"
ON, OFF = 255, 0  # lit and dark pixels of a mode "1" image
OFFLINE = "离线"
# A line must not start with these; the character before them moves down with them.
_NO_LINE_START = set("，。、；：？！）》」』”’%,.;:?!)")

Draw = ImageDraw.ImageDraw
Font = ImageFont.FreeTypeFont


def render(view: v.View, fonts: Fonts) -> Image.Image:
    """Draw `view` as the 128x64 mode "1" image the OLED shows."""
    try:
        screen = _SCREENS[view.mode]
    except KeyError:
        raise ScreenError(f"no screen for view mode {view.mode!r}; known: {v.MODES}") from None
    image = Image.new("1", (WIDTH, HEIGHT), OFF)
    screen(ImageDraw.Draw(image), view, fonts)
    return image


# --- screens -------------------------------------------------------------------------------


def _idle(draw: Draw, view: v.View, fonts: Fonts) -> None:
    _header(draw, fonts, view.window_label, view)
    hall = wrap(view.hall_name, fonts.small, WIDTH, max_lines=2)
    top = 23 if len(hall) == 1 else 17
    for row, line in enumerate(hall):
        _centered(draw, top + row * ROW, line, fonts.small)
    _centered(draw, 46, "请刷工牌上岗", fonts.large)


def _serving(draw: Draw, view: v.View, fonts: Fonts) -> None:
    _header(draw, fonts, view.window_label, view)
    draw.line((BADGE_WIDTH + 1, 15, BADGE_WIDTH + 1, 63), fill=ON)
    if view.clerk is not None:
        _badge(draw, view.clerk, fonts)
    _current_ticket(draw, view.ticket, fonts, left=BADGE_WIDTH + 3)


def _rating(draw: Draw, view: v.View, fonts: Fonts) -> None:
    _header(draw, fonts, view.window_label, view, _seconds(view))
    _centered(draw, ROW, "请对我的服务进行评价", fonts.small)
    _key_legend(draw, fonts.small, [LEVEL_LABELS[level] for level in LEVELS], rows=3)


def _thanks(draw: Draw, view: v.View, fonts: Fonts) -> None:
    _header(draw, fonts, view.window_label, view)
    _centered(draw, 31, "谢谢您的评价", fonts.large)


def _reasons(draw: Draw, view: v.View, fonts: Fonts) -> None:
    _header(draw, fonts, "请选择不满意原因", view)
    for key, code in enumerate(view.reasons[: KEYS - 1], start=1):
        _key_item(draw, fonts.small, 0, key * ROW, key, _reason_label(code))
    skip_x = WIDTH - _key_item_width(fonts.small, "跳过")
    _key_item(draw, fonts.small, skip_x, 4 * ROW, KEYS, "跳过")


def _pause_select(draw: Draw, view: v.View, fonts: Fonts) -> None:
    _header(draw, fonts, view.window_label, view)
    _centered(draw, 19, "请选择暂停原因", fonts.small)
    _key_legend(draw, fonts.small, [PAUSE_REASON_LABELS[r] for r in PAUSE_REASONS], rows=3)


def _paused(draw: Draw, view: v.View, fonts: Fonts) -> None:
    _header(draw, fonts, view.window_label, view)
    _centered(draw, 20, "暂停服务", fonts.large)
    if view.reason:
        _centered(draw, 42, PAUSE_REASON_LABELS.get(view.reason, view.reason), fonts.large)


def _message(draw: Draw, view: v.View, fonts: Fonts) -> None:
    _header(draw, fonts, view.window_label, view)
    text = view.message or ""
    lines = wrap(text, fonts.large, WIDTH)
    font, top, pitch = fonts.large, 14, 17
    if len(lines) > 3:
        font, top, pitch = fonts.small, ROW, ROW
        lines = wrap(text, font, WIDTH, max_lines=4)
    top += (HEIGHT - top - (len(lines) * pitch - (pitch - int(font.size)))) // 2
    for row, line in enumerate(lines):
        _centered(draw, top + row * pitch, line, font)


def _rating_qr(draw: Draw, view: v.View, fonts: Fonts) -> None:
    if not view.qr_url:
        raise ScreenError("rating_qr view needs qr_url")
    _qr(draw, view.qr_url)
    right = WIDTH - QR_BOX - 2
    if view.offline:
        _offline_mark(draw, fonts.small)
    for row, line in enumerate(("请用手机", "扫码评价")):
        _centered(draw, 16 + row * 17, line, fonts.small, left=QR_BOX + 2, width=right)
    seconds = _seconds(view)
    if seconds:
        _centered(draw, 4 * ROW, seconds[0], fonts.small, left=QR_BOX + 2, width=right)


_SCREENS: dict[str, Callable[[Draw, v.View, Fonts], None]] = {
    v.IDLE: _idle,
    v.SERVING: _serving,
    v.RATING: _rating,
    v.THANKS: _thanks,
    v.REASONS: _reasons,
    v.PAUSE_SELECT: _pause_select,
    v.PAUSED: _paused,
    v.MESSAGE: _message,
    v.RATING_QR: _rating_qr,
}


# --- parts of screens ----------------------------------------------------------------------


def _header(draw: Draw, fonts: Fonts, left: str, view: v.View, right: Sequence[str] = ()) -> None:
    """Context on the left; countdown and the offline mark on the right, never overlapped."""
    x = WIDTH
    if view.offline:
        x = _offline_mark(draw, fonts.small) - 3
    for item in right:
        x -= _width(fonts.small, item)
        _text(draw, (x, 0), item, fonts.small)
        x -= 4
    _text(draw, (0, 0), fit(left, fonts.small, x), fonts.small)


def _offline_mark(draw: Draw, font: Font) -> int:
    """The inverted "离线" box in the top right corner; returns its left edge."""
    left = WIDTH - _width(font, OFFLINE) - 3
    # 12 px glyphs leave their bottom row blank: one pixel down centres them in the box.
    draw.rectangle((left, 0, WIDTH - 1, 12), fill=ON)
    _text(draw, (left + 2, 1), OFFLINE, font, fill=OFF)
    return left


def _badge(draw: Draw, clerk: v.Clerk, fonts: Fonts) -> None:
    """The electronic work badge: name (large when it fits), "工号", staff number. Nothing of
    the identity is cut short; the "工号" label gives way when long texts need its row."""
    name_font = fonts.large if _width(fonts.large, clerk.name) <= BADGE_WIDTH else fonts.small
    name = [(line, name_font) for line in wrap(clerk.name, name_font, BADGE_WIDTH, max_lines=2)]
    number = [(line, fonts.small) for line in wrap(clerk.staff_no, fonts.small, BADGE_WIDTH, 2)]
    rows = [*name, ("工号", fonts.small), *number]
    if _stack_height(rows) > HEIGHT - 14:
        rows = [*name, *number]
    y = 14 + (HEIGHT - 14 - _stack_height(rows)) // 2
    for text, font in rows:
        _text(draw, (0, y), text, font)
        y += _pitch(font)


def _stack_height(rows: Sequence[tuple[str, Font]]) -> int:
    return sum(_pitch(font) for _text, font in rows) - 1


def _pitch(font: Font) -> int:
    """Row pitch: 12 px rows sit 13 px apart; the 16 px name gets more air below it."""
    return ROW if font.size <= 12 else int(font.size) + 6


def _current_ticket(draw: Draw, ticket: str | None, fonts: Fonts, left: int) -> None:
    width = WIDTH - left
    if not ticket:
        _centered(draw, 33, "等待叫号", fonts.small, left=left, width=width)
        return
    _centered(draw, 16, "当前号", fonts.small, left=left, width=width)
    # Drawn twice a pixel apart: the outline font's 1 px strokes read as bold across the desk.
    font = fonts.ticket if _width(fonts.ticket, ticket) < width else fonts.large
    text = fit(ticket, font, width - 1)
    x = left + (width - 1 - _width(font, text)) // 2
    y = 34 if font is fonts.ticket else 38
    for dx in (0, 1):
        _text(draw, (x + dx, y), text, font)


def _key_legend(draw: Draw, font: Font, labels: Sequence[str], rows: int) -> None:
    """One column per key at the bottom of the screen, labels bottom-aligned, alternate columns
    inverted like key caps; a shared ending (满意) stays on the last row of every column."""
    suffix = _common_suffix(labels)
    columns = [
        _legend_lines(label, suffix, font, _column_width(key), rows)
        for key, label in enumerate(labels)
    ]
    used = max(len(lines) for lines in columns)
    top = HEIGHT - used * ROW + 1
    for key, lines in enumerate(columns):
        left, width = _column(key)[0], _column_width(key)
        inverted = key % 2 == 1
        if inverted:
            draw.rectangle((left, top - 1, left + width - 1, HEIGHT - 1), fill=ON)
        for row, line in enumerate(lines, start=used - len(lines)):
            _centered(draw, top + row * ROW, line, font, left, width, fill=OFF if inverted else ON)


def _legend_lines(label: str, suffix: str, font: Font, width: int, rows: int) -> list[str]:
    if suffix and label.endswith(suffix) and label != suffix:
        head = wrap(label[: -len(suffix)], font, width, max_lines=rows - 1)
        return [*head, suffix]
    return wrap(label, font, width, max_lines=rows)


def _column_width(key: int) -> int:
    left, right = _column(key)
    return right - left


def _column(key: int) -> tuple[int, int]:
    """Pixel span [left, right) of the legend column above key `key` (0-based)."""
    return round(key * WIDTH / KEYS), round((key + 1) * WIDTH / KEYS)


def _key_item(draw: Draw, font: Font, x: int, y: int, key: int, label: str) -> None:
    """A key number as a small lit key cap, then the label."""
    cap = _width(font, str(key)) + 3
    draw.rectangle((x, y, x + cap - 1, y + 11), fill=ON)
    _text(draw, (x + 2, y), str(key), font, fill=OFF)
    _text(draw, (x + cap + 2, y), label, font)


def _key_item_width(font: Font, label: str) -> int:
    return _width(font, "5") + 5 + _width(font, label)


QR_BOX = 64  # the QR code gets the left square of the screen


def qr_fits(url: str) -> bool:
    """True when `url` makes a QR code drawn with 2 px modules, the smallest a phone reads off
    this OLED: at most 53 bytes (version 3, error correction L). Longer URLs are refused."""
    return bool(url) and QR_BOX // len(_qr_matrix(url)) >= 2


def _qr(draw: Draw, url: str) -> None:
    """A dark-on-lit QR code with a one-module quiet zone, as large as whole pixels allow."""
    if not qr_fits(url):
        raise ScreenError(
            f"QR payload of {len(url.encode())} bytes is too long to scan on a 64 px square; "
            "rating URLs must stay within 53 bytes (check with screens.qr_fits)"
        )
    modules = _qr_matrix(url)
    size = len(modules)
    scale = QR_BOX // size
    offset = (QR_BOX - size * scale) // 2
    draw.rectangle((offset, offset, offset + size * scale - 1, offset + size * scale - 1), fill=ON)
    for row, line in enumerate(modules):
        for col, dark in enumerate(line):
            if dark:
                x, y = offset + col * scale, offset + row * scale
                draw.rectangle((x, y, x + scale - 1, y + scale - 1), fill=OFF)


@lru_cache(maxsize=8)
def _qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=1)
    code.add_data(url.encode())
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def _seconds(view: v.View) -> tuple[str, ...]:
    if view.seconds_left is None:
        return ()
    return (f"{max(view.seconds_left, 0)}秒",)


def _reason_label(code: str) -> str:
    return BAD_REASON_LABELS.get(code, code)


# --- text ------------------------------------------------------------------------------------


def wrap(text: str, font: Font, width: float, max_lines: int | None = None) -> list[str]:
    """Break `text` into lines no wider than `width` px, by character (Chinese has no spaces).

    Explicit newlines are kept; closing punctuation never starts a line. With `max_lines`, the
    last kept line ends in "…" when text was cut.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, font, width))
    if max_lines is not None and len(lines) > max_lines:
        cut = lines[max_lines - 1] + ELLIPSIS + "".join(lines[max_lines:])
        lines = [*lines[: max_lines - 1], fit(cut, font, width)]
    return lines


def _wrap_paragraph(text: str, font: Font, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for char in text:
        if line and _width(font, line + char) > width:
            line = _break(lines, line, char)
        line += char
    lines.append(line)
    return lines


def _break(lines: list[str], line: str, char: str) -> str:
    """End `line` before `char`; returns what the next line starts with."""
    if char in _NO_LINE_START and len(line) > 1:
        lines.append(line[:-1])
        return line[-1]
    lines.append(line)
    return ""


def fit(text: str, font: Font, width: float) -> str:
    """`text`, cut and ended with "…" if wider than `width` px."""
    if _width(font, text) <= width:
        return text
    while text and _width(font, text + ELLIPSIS) > width:
        text = text[:-1]
    return text + ELLIPSIS


def _common_suffix(labels: Sequence[str]) -> str:
    shortest = min(labels, key=len, default="")
    for size in range(len(shortest), 0, -1):
        if all(label.endswith(shortest[-size:]) for label in labels):
            return shortest[-size:]
    return ""


def _centered(
    draw: Draw,
    y: int,
    text: str,
    font: Font,
    left: int = 0,
    width: int = WIDTH,
    fill: int = ON,
) -> None:
    text = fit(text, font, width)
    x = left + (width - _width(font, text)) // 2
    _text(draw, (x, y), text, font, fill)


def _text(draw: Draw, xy: tuple[int, int], text: str, font: Font, fill: int = ON) -> None:
    """Draw `text` so the top of a Chinese character's box lands on y."""
    x, y = xy
    draw.text((x, y - _ink_top(font)), text, font=font, fill=fill)


def _width(font: Font, text: str) -> int:
    return math.ceil(font.getlength(text))


@lru_cache(maxsize=16)
def _ink_top(font: Font) -> int:
    return int(font.getbbox("国")[1])
