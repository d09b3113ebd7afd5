"""A simulated ESC/POS thermal printer (58/80 mm, Chinese ROM font) that decodes what it is
sent into receipts: lines of text with their style, QR code payloads, and the cut that ends each.

`EscPosDecoder` is pure (bytes in, receipts out). Like a real printer in Chinese character mode
(FS &) it reads text as GB18030; outside that mode bytes above 0x7F are not Chinese, so they are
decoded as the printer's default code page 437 and show up as mojibake a test will notice.
Commands it does not know are listed in `unknown`, not silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.serialsim.device import Registry, SimulatedDevice

ESC, FS, GS, LF, CR = 0x1B, 0x1C, 0x1D, 0x0A, 0x0D
# Commands with a fixed number of argument bytes after the two-byte prefix.
ESC_ARGS = {b"@": 0, b"a": 1, b"E": 1, b"!": 1, b"-": 1, b"G": 1, b"M": 1, b"t": 1, b"d": 1,
            b"J": 1, b"2": 0, b"3": 1, b"R": 1, b"{": 1, b" ": 1, b"$": 2}  # fmt: skip
FS_ARGS = {b"&": 0, b".": 0, b"!": 1, b"-": 1, b"C": 1, b"S": 2, b"W": 1}
GS_ARGS = {b"!": 1, b"B": 1, b"L": 2, b"W": 2, b"h": 1, b"w": 1, b"H": 1, b"f": 1}
ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


@dataclass
class Line:
    text: str
    align: str = "left"
    bold: bool = False
    width: int = 1  # character magnification (GS !)
    height: int = 1


@dataclass
class Receipt:
    lines: list[Line] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)  # payloads of the QR codes printed
    cut: bool = False

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


class _NeedMore(Exception):
    """The buffer ends inside a command; wait for more bytes."""


class EscPosDecoder:
    def __init__(self) -> None:
        self.receipts: list[Receipt] = []  # finished (cut) receipts
        self.current = Receipt()
        self.unknown: list[bytes] = []
        self._buf = bytearray()
        self._text = bytearray()
        self._qr_stored: str | None = None
        self._reset()

    def _reset(self) -> None:
        self.chinese = False
        self.align, self.bold, self.width, self.height = "left", False, 1, 1

    def feed(self, data: bytes) -> list[Receipt]:
        """Decode more bytes; returns the receipts this call finished."""
        self._buf += data
        done = len(self.receipts)
        while self._buf:
            try:
                used = self._step()
            except _NeedMore:
                break
            del self._buf[:used]
        return self.receipts[done:]

    def _need(self, n: int) -> None:
        if len(self._buf) < n:
            raise _NeedMore

    def _step(self) -> int:
        first = self._buf[0]
        if first in (ESC, FS, GS):
            self._need(2)
            return self._command(first, bytes(self._buf[1:2]))
        if first == LF:
            self._end_line(blank_too=True)
        elif first != CR:
            self._text.append(first)
        return 1

    def _command(self, prefix: int, code: bytes) -> int:
        if prefix == GS and code == b"(":
            return self._gs_paren()
        if prefix == GS and code == b"V":
            return self._cut()
        if prefix == GS and code == b"v":
            return self._raster()
        table = {ESC: ESC_ARGS, FS: FS_ARGS, GS: GS_ARGS}[prefix]
        if code not in table:
            self.unknown.append(bytes([prefix]) + code)
            return 1
        size = 2 + table[code]
        self._need(size)
        self._apply(prefix, code, bytes(self._buf[2:size]))
        return size

    def _apply(self, prefix: int, code: bytes, args: bytes) -> None:
        key = (prefix, code)
        if key == (ESC, b"@"):
            self._reset()
        elif key == (ESC, b"a"):
            self.align = ALIGN.get(args[0], "left")
        elif key == (ESC, b"E"):
            self.bold = bool(args[0] & 1)
        elif key == (GS, b"!"):
            self.width, self.height = (args[0] >> 4) + 1, (args[0] & 0x0F) + 1
        elif key == (FS, b"&"):
            self.chinese = True
        elif key == (FS, b"."):
            self.chinese = False
        elif key == (ESC, b"d"):
            self._end_line()  # the paper feed itself is not content

    def _gs_paren(self) -> int:
        self._need(5)
        fn_class = self._buf[2]
        size = 5 + self._buf[3] + 256 * self._buf[4]
        self._need(size)
        body = bytes(self._buf[5:size])
        if fn_class == ord("k") and body[:1] == b"1":
            self._qr(body[1:2], body[3:])
        return size

    def _qr(self, function: bytes, data: bytes) -> None:
        if function == b"P":
            self._qr_stored = data.decode("utf-8", errors="replace")
        elif function == b"Q" and self._qr_stored is not None:
            self._end_line()
            self.current.qr.append(self._qr_stored)

    def _cut(self) -> int:
        self._need(3)
        size = 4 if self._buf[2] in (65, 66) else 3
        self._need(size)
        self._end_line()
        self.current.cut = True
        self.receipts.append(self.current)
        self.current = Receipt()
        return size

    def _raster(self) -> int:
        """GS v 0: a raster image; skipped, but recorded as a line so a test can see it."""
        self._need(8)
        width, height = self._buf[4] + 256 * self._buf[5], self._buf[6] + 256 * self._buf[7]
        size = 8 + width * height
        self._need(size)
        self.current.lines.append(Line("[image]", self.align))
        return size

    def _end_line(self, blank_too: bool = False) -> None:
        if not self._text and not blank_too:
            return
        codec = "gb18030" if self.chinese else "cp437"
        text = bytes(self._text).decode(codec, errors="replace")
        self._text.clear()
        self.current.lines.append(Line(text, self.align, self.bold, self.width, self.height))


class SimulatedPrinter(SimulatedDevice):
    """The device end of `ypprinter://<name>`: decodes everything written to it."""

    baudrate = 9600

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.decoder = EscPosDecoder()
        self.received = bytearray()

    def receive(self, data: bytes) -> None:
        with self._lock:
            self.received += data
            self.decoder.feed(data)

    @property
    def receipts(self) -> list[Receipt]:
        with self._lock:
            return list(self.decoder.receipts)


_printers: Registry[SimulatedPrinter] = Registry(SimulatedPrinter)


def printer(name: str) -> SimulatedPrinter:
    """The simulated printer called `name` (created on first use)."""
    return _printers.get(name)


def unplug(name: str) -> None:
    """Forget a printer: the next use of its name gets a fresh one with no receipts."""
    _printers.forget(name)
