"""The terminal's voice: one interface over interchangeable speech backends.

`say(text)` checks the text can be said, queues it and returns at once; a worker thread
speaks one text at a time, so key feedback never waits for speech. `say(text, interrupt=True)`
drops what is queued and cuts the current speech short (a recall replaces a call). Failures
while speaking cannot reach the caller, who has moved on: they are logged and kept in
`last_error` for the heartbeat.

Backends: `TTSVoice` (a SYN6288/XFS5152 module on a serial port), `ClipVoice` (pre-recorded
WAV clips through aplay) and `EspeakVoice` (espeak-ng's Mandarin voice through aplay).
`voice_from_config()` picks one from the device config's [voice] table.
"""

from __future__ import annotations

import logging
import queue
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from firmware.terminal import phrases, tts
from firmware.terminal.errors import ConfigError, TerminalError
from firmware.terminal.tts import SerialTTS, TTSTextError

log = logging.getLogger(__name__)


class VoiceError(TerminalError):
    """Base of everything a voice can raise."""


class UnsayableError(VoiceError, ValueError):
    """Text this backend cannot say (no GB2312 code, no recorded clips for it …)."""


class MissingClipError(VoiceError, FileNotFoundError):
    """Recorded clips that the text needs are not in the clip directory."""


class PlaybackError(VoiceError, OSError):
    """The audio player or speech engine failed or is not installed."""


class VoiceConfigError(VoiceError, ConfigError):
    """A [voice] config table that does not describe a usable voice; `key` names the setting."""


class Voice:
    """The queue and worker every backend shares; backends implement `_prepare`/`_speak`."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._state = threading.Condition()
        self._pending = 0
        self._closed = False
        self._cut = threading.Event()
        self.last_error: Exception | None = None
        self._worker = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._worker.start()

    def say(self, text: str, interrupt: bool = False) -> None:
        """Queue `text`; raises at once if this voice cannot say it."""
        job = self._prepare(text)
        with self._state:
            if self._closed:
                raise VoiceError("the voice is closed")
            if interrupt:
                self._drop_queued()
                self._cut.set()
            self._pending += 1
            self._jobs.put(job)

    @property
    def busy(self) -> bool:
        """True while anything is queued or being said."""
        with self._state:
            return self._pending > 0

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until everything queued has been said; False on timeout."""
        with self._state:
            return self._state.wait_for(lambda: self._pending == 0, timeout_s)

    def close(self) -> None:
        """Stop speaking, drop the queue and end the worker."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            self._drop_queued()
            self._cut.set()
            self._jobs.put(None)
        self._worker.join(timeout=5.0)

    def __enter__(self) -> Voice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _prepare(self, text: str) -> Any:
        """Check `text` and turn it into what `_speak` needs; raise VoiceError if unsayable."""
        return text

    def _speak(self, job: Any) -> None:
        raise NotImplementedError

    def _drop_queued(self) -> None:
        while True:
            try:
                if self._jobs.get_nowait() is not None:
                    self._pending -= 1
            except queue.Empty:
                return

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            self._cut.clear()
            try:
                self._speak(job)
            except Exception as exc:  # the worker must outlive any one failure
                self.last_error = exc
                log.warning("voice: %s", exc)
            finally:
                with self._state:
                    self._pending -= 1
                    self._state.notify_all()


class TTSVoice(Voice):
    """A serial TTS module: it speaks any text its encoding covers."""

    def __init__(self, module: SerialTTS) -> None:
        self._tts = module
        super().__init__()

    def _prepare(self, text: str) -> str:
        try:
            self._tts.check(text)
        except TTSTextError as exc:
            raise UnsayableError(str(exc)) from exc
        return text

    def _speak(self, job: str) -> None:
        self._tts.speak(job)
        self._tts.wait_idle(timeout_s=2.0 + 0.5 * len(job), cancelled=self._cut.is_set)


class _PlayerVoice(Voice):
    """Backends that play WAV files with aplay, on the default or a named ALSA device."""

    def __init__(self, alsa_device: str | None = None, player: str = "aplay") -> None:
        self._player = [player, "-q", *(["-D", alsa_device] if alsa_device else [])]
        super().__init__()

    def _play(self, files: Sequence[Path]) -> None:
        self._run_cancellable([*self._player, *map(str, files)])

    def _run_cancellable(self, argv: list[str]) -> None:
        try:
            process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except FileNotFoundError as exc:
            raise PlaybackError(f"{argv[0]} is not installed") from exc
        while process.poll() is None:
            if self._cut.wait(0.02):
                process.terminate()
                break
        _, stderr = process.communicate()
        if process.returncode != 0 and not self._cut.is_set():
            last = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            raise PlaybackError(f"{argv[0]} exited with {process.returncode}: {last[0]}")


class ClipVoice(_PlayerVoice):
    """Pre-recorded clips `<name>.wav` in `clip_dir` (names in phrases.ALL_CLIPS)."""

    def __init__(self, clip_dir: str | Path, alsa_device: str | None = None) -> None:
        self.clip_dir = Path(clip_dir)
        super().__init__(alsa_device)

    def clip_paths(self, text: str) -> list[Path]:
        """The files that say `text`, in order; MissingClipError names any that are absent."""
        try:
            names = phrases.clips_for(text)
        except ValueError as exc:
            raise UnsayableError(str(exc)) from exc
        self._require(names)
        return [self.clip_dir / f"{name}.wav" for name in names]

    def missing_clips(self) -> list[str]:
        """Clips of the full set (phrases.ALL_CLIPS) that are not recorded yet."""
        return [name for name in phrases.ALL_CLIPS if not self._path(name).is_file()]

    def _require(self, names: Sequence[str]) -> None:
        missing = sorted({f"{name}.wav" for name in names if not self._path(name).is_file()})
        if missing:
            raise MissingClipError(f"missing voice clips in {self.clip_dir}: {', '.join(missing)}")

    def _path(self, name: str) -> Path:
        return self.clip_dir / f"{name}.wav"

    def _prepare(self, text: str) -> list[Path]:
        return self.clip_paths(text)

    def _speak(self, job: list[Path]) -> None:
        self._play(job)


class EspeakVoice(_PlayerVoice):
    """espeak-ng's Mandarin voice: robotic but always there, for test benches and fallbacks.

    It renders to a WAV and plays that with aplay: espeak-ng's own audio output exits 0 even
    when there is no sound device, which would hide a broken speaker setup.
    """

    def __init__(
        self,
        voice: str = "cmn",
        speed_wpm: int = 160,
        alsa_device: str | None = None,
        engine: str = "espeak-ng",
    ) -> None:
        self._engine = [engine, "-v", voice, "-s", str(speed_wpm)]
        super().__init__(alsa_device)

    def render(self, text: str, wav_path: str | Path) -> None:
        """Write `text` as speech to a WAV file (for recording clips, or checking the engine)."""
        argv = self._render_argv(text, wav_path)
        try:
            subprocess.run(argv, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise PlaybackError(f"{argv[0]} could not render {text!r}: {exc}") from exc

    def _render_argv(self, text: str, wav_path: str | Path) -> list[str]:
        return [*self._engine, "-w", str(wav_path), text]

    def _prepare(self, text: str) -> str:
        if not text.strip():
            raise UnsayableError("nothing to say: empty text")
        return text

    def _speak(self, job: str) -> None:
        with tempfile.TemporaryDirectory(prefix="yuping-voice-") as tmp:
            wav = Path(tmp) / "speech.wav"
            self._run_cancellable(self._render_argv(job, wav))
            if not self._cut.is_set():
                self._play([wav])


def voice_from_config(config: Mapping[str, Any]) -> Voice:
    """A voice from the device config's [voice] table: `backend` and that backend's options.

    tts:    port (device path or pyserial URL), baudrate (9600), chip (syn6288 | xfs5152),
            encoding (gbk | gb2312 | big5 | unicode), music (0-15, SYN6288 only)
    clips:  dir (the WAV clips, see phrases.ALL_CLIPS), alsa_device
    espeak: voice (cmn), speed_wpm (160), alsa_device
    """
    options = dict(config)
    backend = options.pop("backend", None)
    builders = {"tts": _tts_voice, "clips": _clip_voice, "espeak": _espeak_voice}
    if backend not in builders:
        raise VoiceConfigError("voice.backend", f"{backend!r} is not one of {', '.join(builders)}")
    return builders[backend](options)


def _check_keys(options: dict[str, Any], required: set[str], optional: set[str]) -> None:
    for key in sorted(set(options) - required - optional):
        raise VoiceConfigError(f"voice.{key}", "unknown setting for this backend")
    for key in sorted(required - set(options)):
        raise VoiceConfigError(f"voice.{key}", "required")


def _tts_voice(options: dict[str, Any]) -> Voice:
    import serial  # only the TTS backend needs pyserial

    _check_keys(options, {"port"}, {"baudrate", "chip", "encoding", "music"})
    chip = {key: options[key] for key in ("chip", "encoding", "music") if key in options}
    try:
        tts.encode_speak("检查", **chip)
    except TTSTextError as exc:
        raise VoiceConfigError("voice", str(exc)) from exc
    try:
        port = serial.serial_for_url(options["port"], baudrate=options.get("baudrate", 9600))
    except (serial.SerialException, ValueError) as exc:
        raise VoiceConfigError("voice.port", f"cannot open {options['port']}: {exc}") from exc
    return TTSVoice(SerialTTS(port, **chip))


def _clip_voice(options: dict[str, Any]) -> Voice:
    _check_keys(options, {"dir"}, {"alsa_device"})
    if not Path(options["dir"]).is_dir():
        raise VoiceConfigError("voice.dir", f"{options['dir']} is not a directory")
    return ClipVoice(options["dir"], options.get("alsa_device"))


def _espeak_voice(options: dict[str, Any]) -> Voice:
    _check_keys(options, set(), {"voice", "speed_wpm", "alsa_device"})
    return EspeakVoice(**options)
