"""Ticket and notice slips for an ESC/POS thermal printer on a serial line.

Chinese text: the thermal printers sold for Chinese halls (Xprinter, Gprinter, Sprt …) hold a
GB18030 font in ROM. The host selects Chinese character mode with FS & and then sends text as
GB18030 (a superset of GBK) double-byte codes; FS . leaves the mode. That is what we do. Printing
text as a raster image would work on any printer but sends about twenty times the bytes over a
9600-115200 baud line and prints slower, so it is not used.

The QR code uses the printer's own QR command (GS ( k), which those printers support, so the
live status URL is printed sharp at any size. Building a slip is pure (bytes out, via
python-escpos's Dummy printer); `send()` writes the bytes to a pyserial URL.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import serial
from escpos.printer import Dummy

CHINESE_ON = b"\x1c\x26"  # FS &: Chinese character mode
CHINESE_OFF = b"\x1c\x2e"  # FS .
ENCODING = "gb18030"


class Slip:
    """A slip being laid out: lines of Chinese text, a big number, a QR code, then a cut."""

    def __init__(self) -> None:
        self._p = Dummy()
        self._p.hw("INIT")
        self._p._raw(CHINESE_ON)

    def line(self, text: str = "", *, center: bool = False, bold: bool = False) -> Slip:
        self._p.set(align="center" if center else "left", bold=bold)
        self._p._raw(text.encode(ENCODING, errors="replace") + b"\n")
        return self

    def big(self, text: str) -> Slip:
        self._p.set(align="center", bold=True, custom_size=True, width=3, height=3)
        self._p._raw(text.encode(ENCODING) + b"\n")
        self._p.set(bold=False, custom_size=True, width=1, height=1)
        return self

    def qr(self, payload: str) -> Slip:
        self._p.set(align="center")
        self._p.qr(payload, native=True, size=6)
        return self

    def finish(self) -> bytes:
        self._p._raw(CHINESE_OFF)
        self._p.cut()
        return bytes(self._p.output)


def ticket_slip(
    hall_name: str,
    service_name: str,
    area_label: str,
    number: str,
    ahead: int,
    at_ms: int,
    tz: ZoneInfo,
    status_url: str,
    priority_label: str | None = None,
) -> bytes:
    when = datetime.fromtimestamp(at_ms / 1000, tz).strftime("%Y-%m-%d %H:%M")
    slip = (
        Slip()
        .line(hall_name, center=True, bold=True)
        .line(f"{service_name}（{area_label}）", center=True)
    )
    slip.big(number)
    if priority_label:
        slip.line(f"优先：{priority_label}", center=True)
    slip.line(f"您前面还有 {ahead} 人等候", center=True).line(f"取号时间：{when}", center=True)
    slip.line("扫码随时查看办理进度", center=True).qr(status_url)
    return slip.line("请留意叫号，过号请到引导台", center=True).finish()


def lines_slip(lines: list[str]) -> bytes:
    """A notice or reminder: the first line is its title."""
    slip = Slip().line(lines[0], center=True, bold=True)
    for text in lines[1:]:
        slip.line(text)
    return slip.finish()


def send(url: str, data: bytes, baudrate: int = 9600) -> None:
    """Write a slip to the printer at a pyserial URL (/dev/ttyUSB0, ypprinter://kiosk-1 …)."""
    port = serial.serial_for_url(url, baudrate=baudrate, timeout=2, write_timeout=10)
    try:
        port.write(data)
        port.flush()
    finally:
        port.close()
