"""Serial Chinese text-to-speech modules: SYN6288 and XFS5152 frames, both directions, and a
thin driver.

SYN6288:  FD LenH LenL Cmd [Param Text] XOR   Len counts Cmd..XOR; XOR of every byte before it
XFS5152:  FD LenH LenL Cmd [Param Text]       Len counts Cmd..Text; no checksum

For the speak command (0x01) the parameter's low three bits select the text encoding
(0 GB2312, 1 GBK, 2 BIG5, 3 Unicode); on the SYN6288 its high five bits pick a background
tune (0 none, 1-15). The module answers with single bytes: 0x41 frame received, 0x45 frame
rejected, 0x4E busy, 0x4F idle (also sent on its own when speech ends), and the XFS5152 says
0x4A once after power-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from firmware.terminal.errors import TerminalError
from firmware.terminal.pn532 import SerialPort

HEADER = 0xFD
SPEAK = 0x01
STOP = 0x02
PAUSE = 0x03
RESUME = 0x04
STATUS = 0x21
SLEEP = 0x88
CONTROLS = (STOP, PAUSE, RESUME, STATUS, SLEEP)

READY = 0x4A
RECEIVED = 0x41
REJECTED = 0x45
BUSY = 0x4E
IDLE = 0x4F

CHIPS = ("syn6288", "xfs5152")
ENCODINGS = {"gb2312": 0, "gbk": 1, "big5": 2, "unicode": 3}
# Unicode text goes low byte first on both modules.
_CODECS = {"gb2312": "gb2312", "gbk": "gbk", "big5": "big5", "unicode": "utf-16-le"}
MAX_TEXT_BYTES = {"syn6288": 200, "xfs5152": 4000}
MAX_MUSIC = 15


class TTSError(TerminalError):
    """Base of everything the TTS module driver can raise."""


class TTSTextError(TTSError, ValueError):
    """Text the module cannot be sent: not encodable, too long, or a bad option."""


class TTSFrameError(TTSError, ValueError):
    """Bytes that do not form a valid frame for the module."""


class TTSChecksumError(TTSFrameError):
    """A SYN6288 frame whose XOR byte does not match."""


class TTSRejected(TTSError, RuntimeError):
    """The module answered 0x45: it did not accept the frame."""


class TTSTimeout(TTSError, TimeoutError):
    """The module did not answer in time (unplugged, wrong port or baud rate)."""


@dataclass(frozen=True)
class Speak:
    text: str
    encoding: str
    music: int = 0


@dataclass(frozen=True)
class Control:
    command: int  # STOP, PAUSE, RESUME, STATUS or SLEEP


def xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def encode_speak(text: str, chip: str = "syn6288", encoding: str = "gbk", music: int = 0) -> bytes:
    """The frame that makes `chip` speak `text`."""
    _check_chip(chip)
    if encoding not in ENCODINGS:
        raise TTSTextError(f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    if not 0 <= music <= MAX_MUSIC or (music and chip != "syn6288"):
        raise TTSTextError(f"background music {music} needs a SYN6288 and 0..{MAX_MUSIC}")
    raw = _encode_text(text, chip, encoding)
    return _frame(chip, bytes([SPEAK, music << 3 | ENCODINGS[encoding]]) + raw)


def encode_control(command: int, chip: str = "syn6288") -> bytes:
    """A one-byte command frame: STOP, PAUSE, RESUME, STATUS or SLEEP."""
    _check_chip(chip)
    if command not in CONTROLS:
        raise TTSTextError(f"{command:#04x} is not a module control command")
    return _frame(chip, bytes([command]))


def _check_chip(chip: str) -> None:
    if chip not in CHIPS:
        raise TTSTextError(f"chip {chip!r} is not one of {', '.join(CHIPS)}")


def _encode_text(text: str, chip: str, encoding: str) -> bytes:
    if not text:
        raise TTSTextError("nothing to say: empty text")
    try:
        raw = text.encode(_CODECS[encoding])
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise TTSTextError(f"{bad!r} in {text!r} has no {encoding.upper()} code") from exc
    if len(raw) > MAX_TEXT_BYTES[chip]:
        raise TTSTextError(f"{len(raw)} bytes of text, the {chip} takes {MAX_TEXT_BYTES[chip]}")
    return raw


def _frame(chip: str, body: bytes) -> bytes:
    if chip == "syn6288":
        head = bytes([HEADER]) + (len(body) + 1).to_bytes(2, "big") + body
        return head + bytes([xor(head)])
    return bytes([HEADER]) + len(body).to_bytes(2, "big") + body


class RequestParser:
    """The module's side: frames from the host's byte stream, as `Speak` / `Control`.

    Bytes before a header are skipped; a bad frame comes out as a `TTSFrameError` value in
    its place and parsing resumes after it, as the module answers 0x45 and keeps listening.
    """

    def __init__(self, chip: str) -> None:
        _check_chip(chip)
        self.chip = chip
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Speak | Control | TTSFrameError]:
        self._buffer += data
        out: list[Speak | Control | TTSFrameError] = []
        while (item := self._next()) is not None:
            out.append(item)
        return out

    def _next(self) -> Speak | Control | TTSFrameError | None:
        start = self._buffer.find(HEADER)
        if start < 0:
            self._buffer.clear()
            return None
        del self._buffer[:start]
        if len(self._buffer) < 3:
            return None
        length = int.from_bytes(self._buffer[1:3], "big")
        if not 1 <= length <= MAX_TEXT_BYTES[self.chip] + 3:
            del self._buffer[:1]
            return TTSFrameError(f"frame length {length} out of range for the {self.chip}")
        if len(self._buffer) < 3 + length:
            return None
        frame = bytes(self._buffer[: 3 + length])
        del self._buffer[: 3 + length]
        try:
            return self._decode(frame)
        except TTSFrameError as exc:
            return exc

    def _decode(self, frame: bytes) -> Speak | Control:
        body = frame[3:]
        if self.chip == "syn6288":
            if xor(frame[:-1]) != frame[-1]:
                raise TTSChecksumError(f"XOR {xor(frame[:-1]):02x} != {frame[-1]:02x}")
            body = body[:-1]
        if not body:
            raise TTSFrameError("frame without a command")
        if body[0] == SPEAK:
            return _decode_speak(body[1:])
        if body[0] in CONTROLS and len(body) == 1:
            return Control(body[0])
        raise TTSFrameError(f"unknown command {body.hex(' ')}")


def _decode_speak(params: bytes) -> Speak:
    if len(params) < 2:
        raise TTSFrameError("speak frame without parameter or text")
    names = {code: name for name, code in ENCODINGS.items()}
    encoding = names.get(params[0] & 0x07)
    if encoding is None:
        raise TTSFrameError(f"unknown text encoding {params[0] & 0x07}")
    try:
        text = params[1:].decode(_CODECS[encoding])
    except UnicodeDecodeError as exc:
        raise TTSFrameError(f"text is not valid {encoding.upper()}: {params[1:].hex(' ')}") from exc
    return Speak(text, encoding, params[0] >> 3)


class SerialTTS:
    """A TTS module on a serial port (the modules ship at 9600 baud)."""

    ANSWER_TIMEOUT_S = 0.5
    STATUS_EVERY_S = 0.5  # ask when the module has been quiet this long while we wait
    SLICE_S = 0.05  # how often a wait looks at its cancel flag

    def __init__(
        self,
        port: SerialPort,
        chip: str = "syn6288",
        encoding: str = "gbk",
        music: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        encode_speak("检查", chip, encoding, music)  # fail now on a bad option, not mid-shift
        self._port = port
        self.chip = chip
        self.encoding = encoding
        self.music = music
        self._clock = clock

    def check(self, text: str) -> None:
        """Raise TTSTextError now if `text` cannot be sent to this module."""
        encode_speak(text, self.chip, self.encoding, self.music)

    def speak(self, text: str) -> None:
        """Start speaking `text`; returns once the module has accepted the frame."""
        frame = encode_speak(text, self.chip, self.encoding, self.music)
        self._port.reset_input_buffer()  # an old 0x4F must not pass for this frame's answer
        self._port.write(frame)
        self._expect_received()

    def say(self, text: str) -> None:
        """Speak `text` and wait until the module has finished."""
        self.speak(text)
        self.wait_idle(timeout_s=2.0 + 0.5 * len(text))

    def wait_idle(self, timeout_s: float, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Wait for the end of speech: True once idle, False if `cancelled()` turned true first
        (speech is then stopped). Asks for the status when the module stays quiet, in case
        its own 0x4F was lost on the line."""
        now = self._clock()
        deadline, next_query = now + timeout_s, now + self.STATUS_EVERY_S
        while not cancelled():
            if self._read_byte(min(deadline, now + self.SLICE_S)) == IDLE:
                return True
            now = self._clock()
            if now >= deadline:
                raise TTSTimeout(f"the {self.chip} was still speaking after {timeout_s} s")
            if now >= next_query:
                self._port.write(encode_control(STATUS, self.chip))
                next_query = now + self.STATUS_EVERY_S
        self.stop()
        return False

    def is_busy(self) -> bool:
        self._port.reset_input_buffer()
        self._port.write(encode_control(STATUS, self.chip))
        deadline = self._clock() + self.ANSWER_TIMEOUT_S
        while (answer := self._read_byte(deadline)) not in (BUSY, IDLE):
            if answer is None:
                raise TTSTimeout(f"no status answer from the {self.chip}")
        return answer == BUSY

    def stop(self) -> None:
        self._port.reset_input_buffer()
        self._port.write(encode_control(STOP, self.chip))
        self._expect_received()

    def _expect_received(self) -> None:
        deadline = self._clock() + self.ANSWER_TIMEOUT_S
        while (answer := self._read_byte(deadline)) != RECEIVED:
            if answer is None:
                raise TTSTimeout(f"no answer from the {self.chip} (is it wired and powered?)")
            if answer == REJECTED:
                raise TTSRejected(f"the {self.chip} rejected the frame (0x45)")

    def _read_byte(self, deadline: float) -> int | None:
        if self._port.timeout != self.SLICE_S:
            self._port.timeout = self.SLICE_S  # fixed: setting a UART's timeout is a syscall
        while self._clock() < deadline:
            if data := self._port.read(1):
                return data[0]
        return None
