"""PN532 frames byte for byte (examples checked by hand against UM0701-02), the parser's
recovery from noise, and the real driver against the simulated chip behind ypnfc://."""

from __future__ import annotations

import threading
import uuid

import pytest
import serial

from firmware.terminal import pn532
from firmware.terminal.pn532 import (
    PN532,
    Ack,
    BadgeReader,
    ChecksumError,
    ChipError,
    ErrorFrame,
    FrameError,
    FrameParser,
    Information,
    Nack,
    PN532Timeout,
    ResponseError,
    TargetA,
)
from simulator import serialsim
from simulator.serialsim import nfc

H = bytes.fromhex

# Checksums worked out by hand: LCS = 0x100 - LEN, DCS = 0x100 - (TFI + PD...) & 0xFF.
GET_FIRMWARE = H("0000ff02fe d4 02 2a00")
FIRMWARE_ANSWER = H("0000ff06fa d5 03 32010607 e800")
SAM_NORMAL = H("0000ff05fb d4 14 011401 0200")
SAM_ANSWER = H("0000ff02fe d5 15 1600")
LIST_TYPE_A = H("0000ff04fc d4 4a 0100 e100")
# one MIFARE Classic card: Tg 1, ATQA 00 04, SAK 08, UID length 4, UID 04 A1 B2 C3
LIST_ANSWER = H("0000ff0cf4 d5 4b 01 01 0004 08 04 04a1b2c3 b400")


def test_commands_encode_byte_for_byte():
    assert pn532.get_firmware_version() == GET_FIRMWARE
    assert pn532.sam_configuration() == SAM_NORMAL
    assert pn532.in_list_passive_target() == LIST_TYPE_A
    assert pn532.encode_response(pn532.GET_FIRMWARE_VERSION, H("32010607")) == FIRMWARE_ANSWER


def test_fixed_frames():
    fixed = (pn532.ACK_FRAME, pn532.NACK_FRAME, pn532.ERROR_FRAME)
    assert fixed == (H("0000ff00ff00"), H("0000ffff0000"), H("0000ff01ff7f8100"))
    assert pn532.WAKEUP.startswith(b"\x55\x55")


def test_long_body_uses_an_extended_frame():
    # TFI + 0x40 + 0x01 + 256 data bytes = 259 = 0x0103; LCS = 0x100 - 0x04; DCS = 0x100 - 0x15
    frame = pn532.encode_command(0x40, b"\x01" + bytes(256))
    assert frame == H("0000ffff ff 0103 fc d4 40 01") + bytes(256) + H("eb00")
    assert FrameParser().feed(frame) == [Information(0xD4, b"\x40\x01" + bytes(256))]


def test_body_over_the_chip_buffer_is_refused():
    with pytest.raises(FrameError, match="265"):
        pn532.encode_command(0x40, bytes(264))


def test_parser_decodes_each_frame_kind():
    stream = pn532.ACK_FRAME + FIRMWARE_ANSWER + pn532.NACK_FRAME + pn532.ERROR_FRAME
    assert FrameParser().feed(stream) == [
        Ack(),
        Information(0xD5, H("0332010607")),
        Nack(),
        ErrorFrame(),
    ]


def test_parser_takes_bytes_one_at_a_time():
    parser = FrameParser()
    out = [m for byte in pn532.ACK_FRAME + LIST_ANSWER for m in parser.feed(bytes([byte]))]
    assert out == [Ack(), Information(0xD5, H("4b 01 01 0004 08 04 04a1b2c3"))]


def test_parser_skips_noise_and_wakeup_bytes_before_a_frame():
    assert FrameParser().feed(H("55 55 13 37 ff") + SAM_ANSWER) == [Information(0xD5, b"\x15")]


def test_bad_data_checksum_is_reported_and_the_next_frame_still_parses():
    corrupt = bytearray(FIRMWARE_ANSWER)
    corrupt[-2] ^= 0x01
    out = FrameParser().feed(bytes(corrupt) + SAM_ANSWER)
    assert isinstance(out[0], ChecksumError) and "data checksum" in str(out[0])
    assert out[1:] == [Information(0xD5, b"\x15")]


def test_bad_length_checksum_is_reported_and_the_parser_resyncs():
    out = FrameParser().feed(H("0000ff06fb d5") + SAM_ANSWER)
    assert isinstance(out[0], ChecksumError) and "length checksum" in str(out[0])
    assert out[-1] == Information(0xD5, b"\x15")


@pytest.mark.parametrize(
    "raw, problem",
    [
        (H("0000ff0cf4 d5 4b"), "truncated"),
        (H("0000"), "no start code"),
        (H("1234"), "no start code"),
        (H("0000ff02fe 42 15 a9 00"), "TFI 42"),
        (H("0000ff02fe d5 15 16 01"), "postamble"),
        (SAM_ANSWER + b"\x00", "after the frame"),
        (H("0000ffffff 0200 fe"), "length 512"),
        (H("0000ff00ff"), "truncated"),
    ],
)
def test_decode_frame_rejects_bad_input_clearly(raw, problem):
    with pytest.raises(FrameError, match=problem):
        pn532.decode_frame(raw)


def test_errors_are_also_the_builtins_they_resemble():
    assert issubclass(ChecksumError, ValueError) and issubclass(ChecksumError, pn532.PN532Error)
    assert issubclass(PN532Timeout, TimeoutError)
    assert issubclass(ResponseError, ValueError)


def test_target_parsing_handles_7_byte_uids_and_rejects_truncation():
    seven = H("01 01 0044 00 07 04112233445566")
    assert pn532.parse_passive_targets(seven) == [TargetA(1, H("0044"), 0, H("04112233445566"))]
    assert pn532.parse_passive_targets(b"\x00") == []
    with pytest.raises(ResponseError, match="truncated"):
        pn532.parse_passive_targets(H("01 01 0044 00 07 0411"))
    with pytest.raises(ResponseError, match="4 bytes"):
        pn532.parse_firmware_version(H("3201"))


# -- the driver against the simulated chip -----------------------------------------------


@pytest.fixture
def name():
    return "w-" + uuid.uuid4().hex[:8]


@pytest.fixture
def port(name):
    serialsim.register()
    with serial.serial_for_url(f"ypnfc://{name}", baudrate=115200) as opened:
        yield opened


@pytest.fixture
def reader(port):
    driver = PN532(port)
    driver.begin()
    return driver


def test_begin_wakes_the_chip_and_reads_its_firmware(port, name):
    firmware = PN532(port).begin()
    assert (firmware.ic, firmware.version, firmware.revision) == (0x32, 1, 6)
    assert nfc.chip(name).sam_configured


def test_a_sleeping_chip_ignores_commands_until_woken(port):
    port.write(pn532.get_firmware_version())
    port.timeout = 0.05
    assert port.read(64) == b""
    port.write(pn532.WAKEUP + pn532.get_firmware_version())
    port.timeout = 0.5
    assert port.read(len(pn532.ACK_FRAME + FIRMWARE_ANSWER)) == pn532.ACK_FRAME + FIRMWARE_ANSWER


def test_wrong_baud_rate_times_out_with_a_clear_error(name):
    serialsim.register()
    slow = serial.serial_for_url(f"ypnfc://{name}", baudrate=9600)
    with slow, pytest.raises(PN532Timeout, match="no answer"):
        PN532(slow).begin(timeout_s=0.2)


def test_no_card_reads_none(reader):
    assert reader.read_uid(0.05) is None


def test_tapped_card_reads_its_uid(reader, name):
    nfc.chip(name).tap("04A1B2C3")
    assert reader.read_uid(0.5) == H("04a1b2c3")


def test_card_arriving_while_waiting_is_read(reader, name):
    timer = threading.Timer(0.05, nfc.chip(name).tap, args=("04112233445566",))
    timer.start()
    assert reader.read_uid(2.0) == H("04112233445566")
    timer.join()


def test_removed_card_is_no_longer_read(reader, name):
    chip = nfc.chip(name)
    chip.tap("04A1B2C3")
    chip.remove()
    assert reader.read_uid(0.05) is None


def test_corrupt_answer_is_nacked_and_resent(reader, name):
    chip = nfc.chip(name)
    chip.tap("04A1B2C3")
    chip.corrupt_next_answer()
    assert reader.read_uid(0.5) == H("04a1b2c3")
    assert chip.commands.count(pn532.IN_LIST_PASSIVE_TARGET) == 1  # resent, not re-run


def test_an_answer_arriving_after_its_abort_does_not_confuse_the_next_command(reader, name):
    nfc.chip(name).send(LIST_ANSWER)  # the chip found a card just as the host gave up
    firmware = pn532.parse_firmware_version(reader.call(pn532.GET_FIRMWARE_VERSION))
    assert firmware.ic == pn532.PN532_IC


def test_unsupported_command_raises_chip_error(reader):
    with pytest.raises(ChipError, match="rejected command 60"):
        reader.call(0x60, b"\x01")


def test_registering_the_simulator_twice_is_harmless():
    serialsim.register()
    serialsim.register()
    assert serial.protocol_handler_packages.count(serialsim.PACKAGE) == 1


def test_simulator_rejects_bad_uids(name):
    with pytest.raises(ValueError, match="4, 7 or 10"):
        nfc.chip(name).tap("04A1B2")


def test_open_reader_wakes_the_chip_behind_a_url(name):
    serialsim.register()
    badges = pn532.open_reader(f"ypnfc://{name}", debounce_s=3.0)
    nfc.chip(name).tap("04a1b2c3")
    assert badges.poll() == "04A1B2C3"


def test_open_reader_names_a_port_that_does_not_exist():
    with pytest.raises(pn532.ReaderPortError, match="/dev/no-such-tty"):
        pn532.open_reader("/dev/no-such-tty")
    assert issubclass(pn532.ReaderPortError, OSError)


# -- badge reader debounce -----------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_badge_reader_reports_each_tap_once_and_ignores_quick_retaps(reader, name):
    clock, chip = FakeClock(), nfc.chip(name)
    badges = BadgeReader(reader, clock=clock, debounce_s=3.0, poll_s=0.05)
    chip.tap("04a1b2c3")
    assert badges.poll() == "04A1B2C3"
    chip.remove()
    assert badges.poll() is None
    clock.now += 1.0
    chip.tap("04a1b2c3")
    assert badges.poll() is None  # the same badge again within 3 s
    chip.remove()
    clock.now += 3.5
    chip.tap("04a1b2c3")
    assert badges.poll() == "04A1B2C3"  # a real second tap: logout


def test_badge_reader_reports_another_badge_at_once(reader, name):
    clock, chip = FakeClock(), nfc.chip(name)
    badges = BadgeReader(reader, clock=clock, debounce_s=3.0, poll_s=0.05)
    chip.tap("04a1b2c3")
    assert badges.poll() == "04A1B2C3"
    chip.tap("04112233")
    assert badges.poll() == "04112233"
