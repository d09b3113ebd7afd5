"""A simulated PN532 on its HSU interface, answering like the chip (UM0701-02).

It sleeps until a 0x55 wake-up byte arrives (frames sent to a sleeping chip are lost), ACKs
each valid command before answering, resends its last answer on NACK, drops frames with bad
checksums without a word, answers unsupported commands or parameters with the error frame,
and keeps an InListPassiveTarget waiting until a card is tapped or the host aborts with an ACK.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from firmware.terminal import pn532
from simulator.serialsim.device import Registry, SimulatedDevice

FIRMWARE = bytes([pn532.PN532_IC, 0x01, 0x06, 0x07])  # PN532 v1.6, type A, B and ISO 18092
SAK_MIFARE_CLASSIC_1K = 0x08


class SimulatedPN532(SimulatedDevice):
    baudrate = 115200  # the HSU default

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(name, clock)
        self.awake = False
        self.sam_configured = False
        self.commands: list[int] = []  # command codes received, for tests
        self._parser = pn532.FrameParser()
        self._listing = False
        self._card: bytes | None = None
        self._card_until = 0.0
        self._last_answer = b""
        self._corrupt_next = False

    def tap(self, uid_hex: str, present_s: float = 0.5) -> None:
        """Hold a card with this UID (4, 7 or 10 bytes, hex) to the antenna for `present_s`."""
        uid = bytes.fromhex(uid_hex)
        if len(uid) not in (4, 7, 10):
            raise ValueError(f"a type A UID has 4, 7 or 10 bytes, not {len(uid)}: {uid_hex!r}")
        with self._lock:
            self._card, self._card_until = uid, self.clock() + present_s
            if self._listing:
                self._answer_listing()

    def remove(self) -> None:
        """Take the card away now."""
        with self._lock:
            self._card = None

    def corrupt_next_answer(self) -> None:
        """Flip a bit in the next answer's data checksum (line noise), once."""
        with self._lock:
            self._corrupt_next = True

    def receive(self, data: bytes) -> None:
        with self._lock:
            if not self.awake:
                wake_at = data.find(0x55)
                if wake_at < 0:
                    return
                self.awake, data = True, data[wake_at:]
            for message in self._parser.feed(data):
                self._handle(message)

    def _handle(self, message: pn532.Message | pn532.FrameError) -> None:
        if isinstance(message, pn532.Ack):
            self._listing = False  # the host aborts the command in progress
        elif isinstance(message, pn532.Nack):
            self._send_raw(self._last_answer)
        elif isinstance(message, pn532.Information) and message.tfi == pn532.HOST_TO_PN532:
            self._send_raw(pn532.ACK_FRAME)
            self.commands.append(message.command)
            self._execute(message.command, message.params)
        # a corrupt frame, or one in the wrong direction, gets no answer: the host times out

    def _execute(self, command: int, params: bytes) -> None:
        if command == pn532.GET_FIRMWARE_VERSION:
            self._answer(command, FIRMWARE)
        elif command == pn532.SAM_CONFIGURATION and params[:1] == bytes([pn532.SAM_NORMAL_MODE]):
            self.sam_configured = True
            self._answer(command, b"")
        elif command == pn532.IN_LIST_PASSIVE_TARGET and self._listing_supported(params):
            self._listing = True
            if self._card_present():
                self._answer_listing()
        else:
            self._answer_error()

    def _listing_supported(self, params: bytes) -> bool:
        return len(params) == 2 and params[0] in (1, 2) and params[1] == pn532.BAUD_106_TYPE_A

    def _card_present(self) -> bool:
        return self._card is not None and self.clock() < self._card_until

    def _answer_listing(self) -> None:
        assert self._card is not None
        uid = self._card
        atqa = b"\x00\x04" if len(uid) == 4 else b"\x00\x44"
        target = bytes([1]) + atqa + bytes([SAK_MIFARE_CLASSIC_1K, len(uid)]) + uid
        self._listing = False
        self._answer(pn532.IN_LIST_PASSIVE_TARGET, bytes([1]) + target)

    def _answer(self, command: int, params: bytes) -> None:
        frame = bytearray(pn532.encode_response(command, params))
        self._last_answer = bytes(frame)
        if self._corrupt_next:
            self._corrupt_next = False
            frame[-2] ^= 0x01
        self._send_raw(bytes(frame))

    def _answer_error(self) -> None:
        self._last_answer = pn532.ERROR_FRAME
        self._send_raw(pn532.ERROR_FRAME)

    def _send_raw(self, frame: bytes) -> None:
        self._out += frame
        self._lock.notify_all()


_chips: Registry[SimulatedPN532] = Registry(SimulatedPN532)


def chip(name: str) -> SimulatedPN532:
    """The simulated PN532 that `ypnfc://<name>` talks to."""
    return _chips.get(name)


def unplug(name: str) -> None:
    """Forget the chip: the next `chip(name)` or port open gets a fresh, sleeping one."""
    _chips.forget(name)
