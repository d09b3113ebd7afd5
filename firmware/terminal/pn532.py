"""PN532 NFC reader over its HSU (UART) interface: frame codec, thin driver, badge reader.

The codec is pure (bytes in, messages out) and follows the PN532 User Manual (UM0701-02),
section 6.2: normal information frames, extended information frames, ACK, NACK and the
application-level error frame, with their length (LCS) and data (DCS) checksums.

Normal frame:    00 00 FF LEN LCS TFI PD0..PDn DCS 00
Extended frame:  00 00 FF FF FF LENM LENL LCS TFI PD0..PDn DCS 00
LEN counts TFI and the PD bytes; LEN + LCS = 0 and TFI + PD0 + ... + PDn + DCS = 0 (mod 256).
TFI is D4 from host to PN532 and D5 back; PD0 is the command code (the answer's is code + 1).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from firmware.terminal.errors import TerminalError

ACK_FRAME = bytes.fromhex("0000ff00ff00")
NACK_FRAME = bytes.fromhex("0000ffff0000")
ERROR_FRAME = bytes.fromhex("0000ff01ff7f8100")
# On HSU the chip starts in low-power mode; a run of 0x55 wakes it and the zeros give it time
# to start its oscillator before the first command (UM0701-02 7.2.11, AN10609 HSU wake-up).
WAKEUP = b"\x55\x55" + bytes(14)

HOST_TO_PN532 = 0xD4
PN532_TO_HOST = 0xD5
ERROR_TFI = 0x7F  # the error frame's single body byte sits where a TFI would

GET_FIRMWARE_VERSION = 0x02
SAM_CONFIGURATION = 0x14
IN_LIST_PASSIVE_TARGET = 0x4A

SAM_NORMAL_MODE = 0x01
BAUD_106_TYPE_A = 0x00
PN532_IC = 0x32

MAX_NORMAL_BODY = 255  # LEN is one byte
MAX_BODY = 265  # the PN532's frame buffer: TFI plus up to 264 data bytes


class PN532Error(TerminalError):
    """Base of everything the badge reader can raise."""


class FrameError(PN532Error, ValueError):
    """Bytes that do not form a valid PN532 frame."""


class ChecksumError(FrameError):
    """A frame whose length (LCS) or data (DCS) checksum does not add up."""


class ReaderPortError(PN532Error, OSError):
    """The serial port named for the reader cannot be opened."""


class PN532Timeout(PN532Error, TimeoutError):
    """The chip did not answer in time (asleep, unplugged, wrong port or baud rate)."""


class ChipError(PN532Error, RuntimeError):
    """The chip answered with the error frame: it rejected the command or its parameters."""


class ResponseError(PN532Error, ValueError):
    """A well-formed frame whose content is not the answer that was asked for."""


@dataclass(frozen=True)
class Ack:
    """The chip (or host) accepted the last frame."""


@dataclass(frozen=True)
class Nack:
    """The sender asks for the last frame again."""


@dataclass(frozen=True)
class ErrorFrame:
    """The chip's application-level error frame (syntax error, unsupported command)."""


@dataclass(frozen=True)
class Information:
    """A normal or extended information frame."""

    tfi: int
    data: bytes  # PD0..PDn: the command code, then its parameters

    @property
    def command(self) -> int:
        return self.data[0]

    @property
    def params(self) -> bytes:
        return self.data[1:]


Message = Ack | Nack | ErrorFrame | Information


def checksum(data: bytes) -> int:
    """The byte that makes `data` plus itself sum to zero modulo 256."""
    return -sum(data) & 0xFF


def encode_frame(tfi: int, data: bytes) -> bytes:
    """An information frame; extended when TFI plus data do not fit a one-byte LEN."""
    body = bytes([tfi]) + data
    if len(body) > MAX_BODY:
        raise FrameError(f"frame body of {len(body)} bytes exceeds the PN532 limit of {MAX_BODY}")
    if len(body) <= MAX_NORMAL_BODY:
        header = bytes([len(body), checksum(bytes([len(body)]))])
    else:
        length = len(body).to_bytes(2, "big")
        header = b"\xff\xff" + length + bytes([checksum(length)])
    return b"\x00\x00\xff" + header + body + bytes([checksum(body)]) + b"\x00"


def encode_command(command: int, params: bytes = b"") -> bytes:
    """A host-to-chip command frame."""
    return encode_frame(HOST_TO_PN532, bytes([command]) + params)


def encode_response(command: int, params: bytes = b"") -> bytes:
    """A chip-to-host answer frame for `command` (the answer code is command + 1)."""
    return encode_frame(PN532_TO_HOST, bytes([command + 1]) + params)


def get_firmware_version() -> bytes:
    return encode_command(GET_FIRMWARE_VERSION)


def sam_configuration(timeout: int = 0x14, use_irq: bool = True) -> bytes:
    """SAMConfiguration in normal mode: no SAM, the PN532 talks to cards itself.

    `timeout` only matters in virtual-card mode (units of 50 ms); 0x14 is the usual 1 s.
    """
    return encode_command(SAM_CONFIGURATION, bytes([SAM_NORMAL_MODE, timeout, int(use_irq)]))


def in_list_passive_target(max_targets: int = 1) -> bytes:
    """Look for ISO 14443 type A cards at 106 kbps (MIFARE, NTAG, most staff badges)."""
    if max_targets not in (1, 2):
        raise ValueError(f"the PN532 lists 1 or 2 targets, not {max_targets}")
    return encode_command(IN_LIST_PASSIVE_TARGET, bytes([max_targets, BAUD_106_TYPE_A]))


class FrameParser:
    """Turns a byte stream from the serial line into messages.

    Bytes before a start code (preamble, line noise, wake-up bytes) are skipped. A corrupt
    frame does not stop the stream: it comes out as a `FrameError` value in its place and the
    parser resynchronises on the next start code, so the caller can NACK and carry on.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message | FrameError]:
        self._buffer += data
        out: list[Message | FrameError] = []
        while (item := self._next()) is not None:
            out.append(item)
        return out

    def _next(self) -> Message | FrameError | None:
        start = self._buffer.find(b"\x00\xff")
        if start < 0:
            # keep a trailing 00: it may be the first half of a start code
            del self._buffer[: max(0, len(self._buffer) - 1)]
            return None
        del self._buffer[:start]
        try:
            result = _parse_at_start(bytes(self._buffer))
        except FrameError as exc:
            del self._buffer[:2]  # drop this start code; resync on the next one
            return exc
        if result is None:
            return None
        message, used = result
        del self._buffer[:used]
        return message


def decode_frame(raw: bytes) -> Message:
    """Decode exactly one complete frame (leading preamble zeros allowed); raise on anything else."""
    start = raw.find(b"\x00\xff")
    if start < 0 or any(raw[:start]):
        raise FrameError(f"no start code 00 FF at the beginning of {raw.hex(' ')}")
    result = _parse_at_start(raw[start:])
    if result is None:
        raise FrameError(f"truncated frame: {raw.hex(' ')}")
    message, used = result
    if start + used != len(raw):
        raise FrameError(f"{len(raw) - start - used} bytes after the frame's postamble")
    return message


def _parse_at_start(buf: bytes) -> tuple[Message, int] | None:
    """Parse the frame whose start code 00 FF begins `buf`: (message, bytes used) or None if
    more bytes are needed."""
    if len(buf) < 4:
        return None
    if buf[2:4] == b"\x00\xff":
        return _short_frame(buf, Ack())
    if buf[2:4] == b"\xff\x00":
        return _short_frame(buf, Nack())
    if buf[2:4] == b"\xff\xff":
        return _body_frame(buf, header_end=7, length_bytes=buf[4:6])
    return _body_frame(buf, header_end=4, length_bytes=buf[2:3])


def _short_frame(buf: bytes, message: Message) -> tuple[Message, int] | None:
    if len(buf) < 5:
        return None
    _expect_postamble(buf, 4)
    return message, 5


def _body_frame(buf: bytes, header_end: int, length_bytes: bytes) -> tuple[Message, int] | None:
    if len(buf) < header_end:
        return None
    if checksum(length_bytes) != buf[header_end - 1]:
        raise ChecksumError(
            f"length checksum: LEN {length_bytes.hex(' ')} with LCS {buf[header_end - 1]:02x}"
        )
    length = int.from_bytes(length_bytes, "big")
    if not 1 <= length <= MAX_BODY:
        raise FrameError(f"frame length {length} outside 1..{MAX_BODY}")
    end = header_end + length
    if len(buf) < end + 2:
        return None
    body = buf[header_end:end]
    if checksum(body) != buf[end]:
        raise ChecksumError(f"data checksum: body {body.hex(' ')} with DCS {buf[end]:02x}")
    _expect_postamble(buf, end + 1)
    return _message_from_body(body), end + 2


def _expect_postamble(buf: bytes, index: int) -> None:
    if buf[index] != 0x00:
        raise FrameError(f"postamble should be 00, got {buf[index]:02x}")


def _message_from_body(body: bytes) -> Message:
    if body == bytes([ERROR_TFI]):
        return ErrorFrame()
    if body[0] not in (HOST_TO_PN532, PN532_TO_HOST):
        raise FrameError(f"unknown frame identifier TFI {body[0]:02x}")
    if len(body) < 2:
        raise FrameError("information frame without a command code")
    return Information(body[0], bytes(body[1:]))


@dataclass(frozen=True)
class FirmwareVersion:
    ic: int  # 0x32 for a PN532
    version: int
    revision: int
    support: int  # bit 0 ISO 14443A, bit 1 ISO 14443B, bit 2 ISO 18092


@dataclass(frozen=True)
class TargetA:
    """One ISO 14443 type A card found by InListPassiveTarget."""

    number: int  # Tg, the chip's handle for the card
    sens_res: bytes  # ATQA
    sel_res: int  # SAK
    uid: bytes  # NFCID1: 4, 7 or 10 bytes


def parse_firmware_version(params: bytes) -> FirmwareVersion:
    if len(params) != 4:
        raise ResponseError(f"GetFirmwareVersion answer needs 4 bytes, got {params.hex(' ')}")
    return FirmwareVersion(*params)


def parse_passive_targets(params: bytes) -> list[TargetA]:
    """The targets of an InListPassiveTarget answer at 106 kbps type A."""
    if not params:
        raise ResponseError("InListPassiveTarget answer without a target count")
    targets, rest = [], params[1:]
    for _ in range(params[0]):
        target, rest = _parse_target_a(rest)
        targets.append(target)
    if rest:
        raise ResponseError(f"{len(rest)} unexpected bytes after the targets: {rest.hex(' ')}")
    return targets


def _parse_target_a(data: bytes) -> tuple[TargetA, bytes]:
    if len(data) < 5 or len(data) < 5 + data[4]:
        raise ResponseError(f"truncated type A target data: {data.hex(' ')}")
    uid_end = 5 + data[4]
    target = TargetA(data[0], data[1:3], data[3], data[5:uid_end])
    rest = data[uid_end:]
    # An ISO 14443-4 card (SAK bit 6) is followed by its ATS, whose first byte is its length.
    if target.sel_res & 0x20 and rest:
        rest = rest[rest[0] :]
    return target, rest


class SerialPort(Protocol):
    """What the driver needs of a pyserial port (a real UART or a simulator URL)."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    def write(self, data: bytes, /) -> int | None: ...

    def read(self, size: int = 1, /) -> bytes: ...

    def reset_input_buffer(self) -> None: ...


class PN532:
    """The chip on a serial port: one command at a time, ACK first, then the answer."""

    ACK_TIMEOUT_S = 0.1
    RETRIES = 2  # NACKs sent for a corrupt answer before giving up
    SLICE_S = 0.02  # one blocking read; a fixed value, as setting a UART's timeout is a syscall

    def __init__(self, port: SerialPort, clock: Callable[[], float] = time.monotonic) -> None:
        self._port = port
        self._clock = clock
        self._parser = FrameParser()
        self._pending: deque[Message | FrameError] = deque()

    def begin(self, timeout_s: float = 1.0) -> FirmwareVersion:
        """Wake the chip, put it in normal mode and check it is a PN532."""
        self._port.reset_input_buffer()
        self._port.write(WAKEUP)
        self._send(sam_configuration())
        self._answer(SAM_CONFIGURATION, self._clock() + timeout_s)
        self._send(get_firmware_version())
        params = self._answer(GET_FIRMWARE_VERSION, self._clock() + timeout_s)
        firmware = parse_firmware_version(params)
        if firmware.ic != PN532_IC:
            raise ResponseError(f"chip reports IC {firmware.ic:02x}, a PN532 is {PN532_IC:02x}")
        return firmware

    def read_uid(self, timeout_s: float) -> bytes | None:
        """The UID of a card in the field, or None when none comes within `timeout_s`."""
        self._send(in_list_passive_target())
        try:
            params = self._answer(IN_LIST_PASSIVE_TARGET, self._clock() + timeout_s)
        except PN532Timeout:
            return self._abort_listing()
        targets = parse_passive_targets(params)
        return targets[0].uid if targets else None

    def call(self, command: int, params: bytes = b"", timeout_s: float = 1.0) -> bytes:
        """Send one command and return its answer's parameters."""
        self._send(encode_command(command, params))
        return self._answer(command, self._clock() + timeout_s)

    def _abort_listing(self) -> bytes | None:
        # The chip keeps looking for a card until the host sends an ACK (UM0701-02 6.2.1.3).
        # A card may have arrived just before the abort: take its answer if it is there.
        self._port.write(ACK_FRAME)
        try:
            answer = self._next_message(self._clock() + self.ACK_TIMEOUT_S / 5)
        except PN532Timeout:
            return None
        if isinstance(answer, Information) and answer.command == IN_LIST_PASSIVE_TARGET + 1:
            targets = parse_passive_targets(answer.params)
            return targets[0].uid if targets else None
        return None

    def _send(self, frame: bytes) -> None:
        self._port.write(frame)
        self._wait_ack()

    def _answer(self, command: int, deadline: float) -> bytes:
        message = self._next_message(deadline)
        for _ in range(self.RETRIES):
            if not isinstance(message, FrameError):
                break
            self._port.write(NACK_FRAME)  # ask the chip to send its answer again
            message = self._next_message(deadline)
        if isinstance(message, FrameError):
            raise message
        return self._answer_params(message, command)

    def _wait_ack(self) -> None:
        deadline = self._clock() + self.ACK_TIMEOUT_S
        message = self._next_message(deadline)
        while isinstance(message, Information):
            # an answer that came after its command was aborted: too late to be of use
            message = self._next_message(deadline)
        if isinstance(message, FrameError):
            raise message
        if not isinstance(message, Ack):
            raise ResponseError(f"expected the chip's ACK, got {message}")

    def _answer_params(self, message: Message, command: int) -> bytes:
        if isinstance(message, ErrorFrame):
            raise ChipError(f"the PN532 rejected command {command:02x} (error frame)")
        if not isinstance(message, Information) or message.tfi != PN532_TO_HOST:
            raise ResponseError(f"expected the answer to command {command:02x}, got {message}")
        if message.command != command + 1:
            raise ResponseError(f"answer {message.command:02x} does not match {command:02x}")
        return message.params

    def _next_message(self, deadline: float) -> Message | FrameError:
        while not self._pending:
            if self._clock() >= deadline:
                raise PN532Timeout("no answer from the PN532 (is it wired, powered and awake?)")
            if self._port.timeout != self.SLICE_S:
                self._port.timeout = self.SLICE_S
            waiting = max(1, self._port.in_waiting)  # all that came, without waiting for more
            self._pending.extend(self._parser.feed(self._port.read(waiting)))
        return self._pending.popleft()


class BadgeReader:
    """Badge taps as uppercase hex UIDs, each tap once.

    A badge resting on the reader, or tapped again within `debounce_s` of last being seen,
    does not count twice: a clerk who taps twice by habit must not log in and straight out.
    """

    def __init__(
        self,
        pn532: PN532,
        clock: Callable[[], float] = time.monotonic,
        debounce_s: float = 3.0,
        poll_s: float = 0.1,
    ) -> None:
        self._pn532 = pn532
        self._clock = clock
        self._debounce_s = debounce_s
        self._poll_s = poll_s
        self._last_uid: str | None = None
        self._last_seen = 0.0

    def poll(self) -> str | None:
        """Wait up to `poll_s` for a card; its UID if this is a new tap, else None."""
        raw = self._pn532.read_uid(self._poll_s)
        if raw is None:
            return None
        uid, now = raw.hex().upper(), self._clock()
        repeat = uid == self._last_uid and now - self._last_seen < self._debounce_s
        self._last_uid, self._last_seen = uid, now
        return None if repeat else uid


def open_reader(url: str, debounce_s: float = 3.0, baudrate: int = 115200) -> BadgeReader:
    """The badge reader on a serial device path or URL (`ypnfc://w-01` in the simulator),
    woken and checked: raises PN532Error if no PN532 answers there."""
    import serial  # the codec above needs no pyserial

    try:
        port = serial.serial_for_url(url, baudrate=baudrate)
    except (serial.SerialException, ValueError) as exc:
        raise ReaderPortError(f"cannot open the badge reader's port {url}: {exc}") from exc
    pn532 = PN532(port)
    try:
        pn532.begin()
    except PN532Error:
        port.close()
        raise
    return BadgeReader(pn532, debounce_s=debounce_s)
