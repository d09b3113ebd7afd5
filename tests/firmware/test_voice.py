"""The terminal's phrases and its voices: the serial TTS module (simulated behind yptts://),
recorded clips played by the real aplay into ALSA's file plugin, and espeak-ng really
producing audio."""

from __future__ import annotations

import time
import uuid
import wave
from pathlib import Path

import pytest
import serial

from firmware.terminal import phrases
from firmware.terminal.errors import ConfigError
from firmware.terminal.tts import SerialTTS, TTSTimeout
from firmware.terminal.voice import (
    ClipVoice,
    EspeakVoice,
    MissingClipError,
    PlaybackError,
    TTSVoice,
    UnsayableError,
    VoiceConfigError,
    VoiceError,
    voice_from_config,
)
from simulator import serialsim
from simulator.serialsim import tts as simtts

CALL = "请A012号到3号窗口办理"
CALL_CLIPS = ["qing", "letter_a", "digit_0", "digit_1", "digit_2", "hao", "dao", "digit_3"]
CALL_CLIPS += ["hao_chuangkou", "banli"]

# -- phrases ---------------------------------------------------------------------------------


def test_call_announcement_text_and_clips():
    assert phrases.call_announcement("A012", 3) == CALL
    assert phrases.call_clips("A012", "3") == CALL_CLIPS
    assert phrases.clips_for(CALL) == CALL_CLIPS
    assert phrases.clips_for(phrases.call_announcement("B7", 12))[1:3] == ["letter_b", "digit_7"]


def test_fixed_phrases():
    assert phrases.RATE_PROMPT == "请对我的服务进行评价"
    assert phrases.THANKS == "谢谢您的评价"
    assert phrases.clips_for(phrases.RATE_PROMPT) == ["rate_prompt"]
    assert phrases.clips_for(phrases.THANKS) == ["thanks"]


def test_greetings_name_the_clerk_and_their_clips_leave_the_name_out():
    assert phrases.login_greeting(" 张伟 ") == "张伟，您好，祝您工作愉快"
    assert phrases.logout_farewell("张伟") == "张伟，您辛苦了，再见"
    assert phrases.clips_for(phrases.login_greeting("欧阳娜娜")) == ["login_greeting"]
    assert phrases.clips_for(phrases.logout_farewell("李强")) == ["logout_farewell"]


@pytest.mark.parametrize(
    "call, problem",
    [
        (lambda: phrases.call_announcement("a012", 3), "ticket 'a012'"),
        (lambda: phrases.call_announcement("A01234", 3), "ticket 'A01234'"),
        (lambda: phrases.call_announcement("A012", 0), "window number 0"),
        (lambda: phrases.call_clips("A012", "3号"), "window number '3号'"),
        (lambda: phrases.login_greeting("  "), "clerk's name"),
        (lambda: phrases.clips_for("欢迎光临"), "no recorded clips say '欢迎光临'"),
    ],
)
def test_bad_phrase_input_is_refused_clearly(call, problem):
    with pytest.raises(ValueError, match=problem):
        call()


def test_every_clip_name_is_unique_and_covers_the_call_parts():
    assert len(set(phrases.ALL_CLIPS)) == len(phrases.ALL_CLIPS)
    assert set(CALL_CLIPS) <= set(phrases.ALL_CLIPS)


# -- the serial TTS module -------------------------------------------------------------------


@pytest.fixture
def name():
    return "w-" + uuid.uuid4().hex[:8]


@pytest.fixture
def module(name):
    serialsim.register()
    return simtts.module(name)


@pytest.fixture
def tts_voice(module, name):
    port = serial.serial_for_url(f"yptts://{name}", baudrate=9600)
    with TTSVoice(SerialTTS(port)) as voice:
        yield voice
    port.close()


def wait_until(condition, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_say_returns_while_the_module_is_still_speaking(tts_voice, module):
    module.seconds_per_char = 10.0  # a minute and a half of speech
    tts_voice.say(phrases.RATE_PROMPT)
    assert tts_voice.busy
    wait_until(lambda: module.spoken == [phrases.RATE_PROMPT])
    assert module.busy


def test_texts_are_spoken_in_order(tts_voice, module):
    for text in (CALL, phrases.RATE_PROMPT, phrases.THANKS):
        tts_voice.say(text)
    assert tts_voice.wait(timeout_s=10)
    assert module.spoken == [CALL, phrases.RATE_PROMPT, phrases.THANKS]
    assert not tts_voice.busy and tts_voice.last_error is None


def test_interrupt_cuts_the_current_speech_and_drops_the_queue(tts_voice, module):
    module.seconds_per_char = 10.0
    tts_voice.say(CALL)
    wait_until(lambda: module.spoken == [CALL])
    tts_voice.say(phrases.RATE_PROMPT)  # queued behind the long call
    module.seconds_per_char = 0.01
    tts_voice.say(phrases.call_announcement("A013", 3), interrupt=True)
    assert tts_voice.wait(timeout_s=10)
    assert tts_voice.last_error is None  # cut short, not given up on after a timeout
    assert module.spoken == [CALL, "请A013号到3号窗口办理"]


def test_unsayable_text_is_refused_at_once_and_nothing_is_sent(module, name):
    port = serial.serial_for_url(f"yptts://{name}", baudrate=9600)
    with TTSVoice(SerialTTS(port, encoding="gb2312")) as voice:
        with pytest.raises(UnsayableError, match="GB2312"):
            voice.say(phrases.login_greeting("王喆"))
        assert not voice.busy
    assert module.spoken == []


def test_a_failure_while_speaking_is_kept_and_the_voice_carries_on(name):
    serialsim.register()
    port = serial.serial_for_url(f"yptts://{name}", baudrate=115200)  # the module runs at 9600
    with TTSVoice(SerialTTS(port)) as voice:
        voice.say(phrases.THANKS)
        assert voice.wait(timeout_s=5)
        assert isinstance(voice.last_error, TTSTimeout)
        port.baudrate = 9600
        voice.say(phrases.THANKS)
        assert voice.wait(timeout_s=5)
    assert simtts.module(name).spoken == [phrases.THANKS]


def test_a_closed_voice_refuses_new_text(tts_voice):
    tts_voice.close()
    with pytest.raises(VoiceError, match="closed"):
        tts_voice.say(phrases.THANKS)


# -- recorded clips through aplay -------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    """Real WAV clips for the call announcement, recorded by espeak-ng."""
    folder = tmp_path_factory.mktemp("clips")
    recorder = EspeakVoice()
    words = {"qing": "请", "hao": "号", "dao": "到", "hao_chuangkou": "号窗口", "banli": "办理"}
    words |= {"letter_a": "A", "thanks": phrases.THANKS}
    words |= {f"digit_{d}": d for d in "0123"}
    for clip, text in words.items():
        recorder.render(text, folder / f"{clip}.wav")
    recorder.close()
    return folder


def pcm(path: Path) -> bytes:
    with wave.open(str(path)) as wav:
        return wav.readframes(wav.getnframes())


def test_call_announcement_plays_its_clips_in_order(clip_dir, tmp_path):
    played = tmp_path / "played.raw"
    with ClipVoice(clip_dir, alsa_device=f"file:FILE={played},FORMAT=raw") as voice:
        assert voice.clip_paths(CALL) == [clip_dir / f"{c}.wav" for c in CALL_CLIPS]
        voice.say(CALL)
        assert voice.wait(timeout_s=30)
        assert voice.last_error is None
    audio, position = played.read_bytes(), 0
    for clip in CALL_CLIPS:  # each clip's samples, whole and in order (the player pads)
        position = audio.index(pcm(clip_dir / f"{clip}.wav"), position)


def test_missing_clips_are_named(clip_dir, tmp_path):
    for clip in ("qing", "hao", "dao", "hao_chuangkou", "banli", "letter_a", "digit_0"):
        (tmp_path / f"{clip}.wav").write_bytes((clip_dir / f"{clip}.wav").read_bytes())
    with ClipVoice(tmp_path) as voice:
        with pytest.raises(MissingClipError, match=r"digit_1\.wav, digit_2\.wav, digit_3\.wav"):
            voice.say(CALL)
        assert not voice.busy
        assert "digit_9" in voice.missing_clips() and "qing" not in voice.missing_clips()
    assert issubclass(MissingClipError, FileNotFoundError)


def test_free_text_has_no_clips(clip_dir):
    with ClipVoice(clip_dir) as voice, pytest.raises(UnsayableError, match="no recorded clips"):
        voice.say("请稍等片刻")


def test_a_broken_sound_device_is_reported(clip_dir):
    with ClipVoice(clip_dir, alsa_device="no_such_pcm") as voice:
        voice.say(phrases.THANKS)
        assert voice.wait(timeout_s=30)
    assert isinstance(voice.last_error, PlaybackError)
    assert "aplay exited" in str(voice.last_error)


# -- espeak-ng ---------------------------------------------------------------------------------


def test_espeak_renders_real_mandarin_audio(tmp_path):
    wav_path = tmp_path / "call.wav"
    with EspeakVoice() as voice:
        voice.render(CALL, wav_path)
    with wave.open(str(wav_path)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        samples = wav.readframes(wav.getnframes())
    assert seconds > 1.0  # ten syllables and a letter, not a click
    assert max(samples) > 0 and len(set(samples)) > 100  # not silence


def test_espeak_voice_plays_through_aplay(tmp_path):
    played = tmp_path / "played.raw"
    with EspeakVoice(alsa_device=f"file:FILE={played},FORMAT=raw") as voice:
        voice.say(phrases.RATE_PROMPT)
        assert voice.wait(timeout_s=30)
        assert voice.last_error is None
    assert played.stat().st_size > 22050  # more than half a second of 16-bit speech


def test_a_missing_speech_engine_is_reported(tmp_path):
    with EspeakVoice(engine="no-such-espeak") as voice:
        with pytest.raises(PlaybackError, match="no-such-espeak could not render"):
            voice.render(CALL, tmp_path / "call.wav")
        voice.say(CALL)
        assert voice.wait(timeout_s=30)
    assert isinstance(voice.last_error, PlaybackError)
    assert "no-such-espeak is not installed" in str(voice.last_error)


def test_espeak_refuses_empty_text():
    with EspeakVoice() as voice, pytest.raises(UnsayableError, match="empty"):
        voice.say("  ")


# -- choosing a voice from the device config ------------------------------------------------


def test_config_builds_a_tts_voice_on_a_simulated_port(module, name):
    config = {"backend": "tts", "port": f"yptts://{name}", "chip": "syn6288", "encoding": "gbk"}
    with voice_from_config(config) as voice:
        assert isinstance(voice, TTSVoice)
        voice.say(phrases.THANKS)
        assert voice.wait(timeout_s=5)
    assert module.spoken == [phrases.THANKS]


def test_config_builds_clip_and_espeak_voices(clip_dir):
    with voice_from_config({"backend": "clips", "dir": str(clip_dir)}) as clips:
        assert isinstance(clips, ClipVoice)
    with voice_from_config({"backend": "espeak", "speed_wpm": 140}) as espeak:
        assert isinstance(espeak, EspeakVoice)


@pytest.mark.parametrize(
    "config, key, problem",
    [
        ({}, "voice.backend", "None is not one of tts, clips, espeak"),
        ({"backend": "festival"}, "voice.backend", "'festival'"),
        ({"backend": "tts"}, "voice.port", "required"),
        ({"backend": "tts", "port": "yptts://w-1", "volume": 5}, "voice.volume", "unknown"),
        ({"backend": "tts", "port": "yptts://w-1", "encoding": "utf8"}, "voice", "'utf8'"),
        ({"backend": "tts", "port": "/dev/no-such-tty"}, "voice.port", "cannot open"),
        ({"backend": "clips", "dir": "/no/such/dir"}, "voice.dir", "not a directory"),
    ],
)
def test_bad_voice_config_names_its_key(config, key, problem):
    serialsim.register()
    with pytest.raises(VoiceConfigError, match=problem) as caught:
        voice_from_config(config)
    assert caught.value.key == key
    assert isinstance(caught.value, ConfigError)
