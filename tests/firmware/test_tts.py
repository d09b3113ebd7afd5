"""TTS module frames byte for byte (the SYN6288 and XFS5152 datasheet examples, checksums
worked by hand), the module-side decoder's rejections, and the driver speaking Chinese
through the simulated module behind yptts://."""

from __future__ import annotations

import uuid

import pytest
import serial

from firmware.terminal import tts
from firmware.terminal.tts import (
    Control,
    RequestParser,
    SerialTTS,
    Speak,
    TTSChecksumError,
    TTSFrameError,
    TTSRejected,
    TTSTextError,
    TTSTimeout,
)
from simulator import serialsim
from simulator.serialsim import tts as simtts

H = bytes.fromhex


def test_syn6288_datasheet_example():
    # 宇音天下 in GB2312, no background music; XOR of FD..C2 is C1
    frame = H("fd 000b 01 00 d3ee d2f4 ccec cfc2 c1")
    assert tts.encode_speak("宇音天下", "syn6288", "gb2312") == frame


def test_xfs5152_datasheet_example():
    # 科大讯飞 in GBK: length 0A = command + parameter + 8 text bytes, no checksum
    frame = H("fd 000a 01 01 bfc6 b4f3 d1b6 b7c9")
    assert tts.encode_speak("科大讯飞", "xfs5152", "gbk") == frame


def test_syn6288_background_music_sits_in_the_high_five_bits():
    # tune 2, GBK: parameter 2<<3 | 1 = 11; XOR FD^07^01^11^C4^FA^BA^C3 = AD
    assert tts.encode_speak("您好", "syn6288", "gbk", music=2) == H("fd 0007 01 11 c4fa bac3 ad")


@pytest.mark.parametrize(
    "command, syn6288, xfs5152",
    [
        (tts.STOP, "fd 0002 02 fd", "fd 0001 02"),
        (tts.PAUSE, "fd 0002 03 fc", "fd 0001 03"),
        (tts.RESUME, "fd 0002 04 fb", "fd 0001 04"),
        (tts.STATUS, "fd 0002 21 de", "fd 0001 21"),
        (tts.SLEEP, "fd 0002 88 77", "fd 0001 88"),
    ],
)
def test_control_frames(command, syn6288, xfs5152):
    assert tts.encode_control(command, "syn6288") == H(syn6288)
    assert tts.encode_control(command, "xfs5152") == H(xfs5152)


def test_call_announcement_in_gbk():
    frame = tts.encode_speak("请A012号到3号窗口办理", "xfs5152", "gbk")
    assert frame[5:] == H("c7eb 41303132 bac5 b5bd 33 bac5 b4b0 bfda b0ec c0ed")


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"text": "王喆", "encoding": "gb2312"}, "'喆' in '王喆' has no GB2312 code"),
        ({"text": ""}, "empty text"),
        ({"text": "评" * 101}, "202 bytes of text, the syn6288 takes 200"),
        ({"text": "好", "chip": "syn6658"}, "chip 'syn6658'"),
        ({"text": "好", "encoding": "utf-8"}, "encoding 'utf-8'"),
        ({"text": "好", "chip": "xfs5152", "music": 1}, "needs a SYN6288"),
        ({"text": "好", "music": 16}, "0..15"),
    ],
)
def test_text_the_module_cannot_take_is_refused_clearly(kwargs, problem):
    with pytest.raises(TTSTextError, match=problem.replace("(", r"\(")):
        tts.encode_speak(**kwargs)


def test_gbk_covers_name_characters_gb2312_lacks():
    assert tts.encode_speak("王喆", "syn6288", "gbk")[5:9] == H("cdf5 86b4")


def test_errors_are_also_the_builtins_they_resemble():
    assert issubclass(TTSTextError, ValueError) and issubclass(TTSChecksumError, ValueError)
    assert issubclass(TTSTimeout, TimeoutError) and issubclass(TTSRejected, tts.TTSError)


@pytest.mark.parametrize("chip", tts.CHIPS)
@pytest.mark.parametrize("encoding", tts.ENCODINGS)
def test_module_decoder_round_trips_every_chip_and_encoding(chip, encoding):
    text = "請到窗口辦理" if encoding == "big5" else "请到窗口办理"
    frame = tts.encode_speak(text, chip, encoding)
    assert RequestParser(chip).feed(frame) == [Speak(text, encoding)]


def test_module_decoder_resyncs_after_noise_and_a_bad_checksum():
    good = tts.encode_speak("谢谢您的评价")
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    parser = RequestParser("syn6288")
    out = parser.feed(b"\x00\x13" + bytes(bad) + good[:4])
    assert isinstance(out[0], TTSChecksumError)
    assert parser.feed(good[4:] + tts.encode_control(tts.STATUS)) == [
        Speak("谢谢您的评价", "gbk"),
        Control(tts.STATUS),
    ]


@pytest.mark.parametrize(
    "frame, problem",
    [
        (H("fd 0001 77"), "unknown command 77"),
        (H("fd 0003 01 01 bd"), "not valid GBK"),
        (H("fd 0002 01 07"), "without parameter or text"),
        (H("fd 0fff"), "length 4095"),
        (H("fd 0003 01 06 41"), "unknown text encoding 6"),
    ],
)
def test_module_decoder_rejects_bad_frames_clearly(frame, problem):
    (error,) = RequestParser("xfs5152").feed(frame)
    assert isinstance(error, TTSFrameError) and problem in str(error)


# -- the driver against the simulated module -------------------------------------------------


@pytest.fixture
def name():
    return "w-" + uuid.uuid4().hex[:8]


@pytest.fixture
def port(name):
    serialsim.register()
    with serial.serial_for_url(f"yptts://{name}", baudrate=9600) as opened:
        yield opened


@pytest.mark.parametrize("encoding", ["gbk", "gb2312"])
def test_chinese_text_round_trips_through_the_module(port, name, encoding):
    SerialTTS(port, "syn6288", encoding).say("请A012号到3号窗口办理")
    assert simtts.module(name).spoken == ["请A012号到3号窗口办理"]
    assert not simtts.module(name).busy


def test_xfs5152_ignores_its_power_on_byte(port, name):
    module = simtts.module(name)
    module.chip = "xfs5152"
    module.power_on()
    SerialTTS(port, "xfs5152").say("谢谢您的评价")
    assert module.spoken == ["谢谢您的评价"]


def test_busy_while_speaking_until_stopped(port, name):
    simtts.module(name).seconds_per_char = 10.0
    voice = SerialTTS(port)
    voice.speak("请对我的服务进行评价")
    assert voice.is_busy()
    voice.stop()
    assert not voice.is_busy()


def test_wait_idle_gives_up_with_a_clear_error(port, name):
    simtts.module(name).seconds_per_char = 10.0
    voice = SerialTTS(port)
    voice.speak("评价")
    with pytest.raises(TTSTimeout, match="still speaking"):
        voice.wait_idle(timeout_s=0.1)


def test_module_rejects_a_corrupt_frame_and_says_nothing(port, name):
    bad = bytearray(tts.encode_speak("您好"))
    bad[-1] ^= 0x01
    port.timeout = 1.0
    port.write(bytes(bad))
    assert port.read(1) == bytes([tts.REJECTED])
    assert simtts.module(name).spoken == []


def test_driver_reports_a_rejected_frame(port, name):
    # a SYN6288 frame sent to an XFS5152: its XOR byte (BD) ends the text as a broken GBK char
    simtts.module(name).chip = "xfs5152"
    with pytest.raises(TTSRejected, match="0x45"):
        SerialTTS(port, "syn6288").speak("您好")


def test_wrong_baud_rate_times_out_with_a_clear_error(name):
    serialsim.register()
    fast = serial.serial_for_url(f"yptts://{name}", baudrate=115200)
    with fast, pytest.raises(TTSTimeout, match="no answer"):
        SerialTTS(fast).speak("您好")


def test_bad_options_fail_when_the_driver_is_made(port):
    with pytest.raises(TTSTextError, match="encoding 'utf8'"):
        SerialTTS(port, encoding="utf8")
