"""`yuping device --config /etc/yuping/device.toml`: run the window terminal until SIGTERM.

Also `python -m firmware.terminal.main --config PATH`. Imports only the device extra (gpiozero,
luma, pyserial, paho-mqtt), never the gateway's web or database stack.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import tomllib
from importlib import metadata
from typing import Any

import click

from firmware.terminal import config as device_config
from firmware.terminal.config import DeviceConfig
from firmware.terminal.errors import TerminalError
from firmware.terminal.keys import Keypad
from firmware.terminal.link import Backoff, Link
from firmware.terminal.machine import Settings
from firmware.terminal.outbox import Outbox
from firmware.terminal.terminal import WindowTerminal

log = logging.getLogger("yuping.device")


def firmware_version() -> str:
    try:
        return "yuping-" + metadata.version("yuping")
    except metadata.PackageNotFoundError:
        return "yuping-dev"


def pin_factory(name: str | None) -> Any:
    """The gpiozero pin factory named in [gpio] (an entry point name such as "lgpio" or "mock"),
    or None for gpiozero's own choice (which honours GPIOZERO_PIN_FACTORY)."""
    if name is None:
        return None
    for entry in metadata.entry_points(group="gpiozero_pin_factories"):
        if entry.name == name:
            return entry.load()()
    raise device_config.ConfigError("gpio.pin_factory", f"no gpiozero pin factory named {name!r}")


def settings_of(cfg: DeviceConfig, fw: str) -> Settings:
    return Settings(
        hall=cfg.hall,
        device=cfg.device,
        fw=fw,
        hall_name=cfg.hall_name,
        window_label=cfg.window_label,
        rating_window_s=cfg.rating_window_s,
        reasons_s=cfg.reasons_s,
        thanks_s=cfg.thanks_s,
        rate_url=cfg.rate_url,
        heartbeat_s=cfg.heartbeat_s,
    )


def open_outbox(cfg: DeviceConfig) -> Outbox:
    booted = time.monotonic()
    return Outbox(
        cfg.outbox_path,
        cfg.outbox_max,
        wall_ms=lambda: int(time.time() * 1000),
        up_ms=lambda: int((time.monotonic() - booted) * 1000),
    )


def open_screen(cfg: DeviceConfig) -> Any:
    from firmware.terminal.display import Screen, open_display
    from firmware.terminal.fonts import load_fonts

    return Screen(open_display(cfg.display), load_fonts(cfg.display.get("font")))


class ReopeningReader:
    """The badge reader, opened on first use and reopened after a failure: a missing or flaky
    PN532 costs badge logins until it answers again, never the ratings at the counter."""

    def __init__(self, cfg: DeviceConfig):
        self._cfg = cfg
        self._port: Any = None
        self._reader: Any = None

    def poll(self) -> str | None:
        try:
            if self._reader is None:
                self._open()
            uid: str | None = self._reader.poll()
            return uid
        except Exception:
            self._close()
            raise  # the terminal logs it and tries again a little later

    def _open(self) -> None:
        import serial

        from firmware.terminal.pn532 import PN532, BadgeReader

        self._port = serial.serial_for_url(self._cfg.nfc_port, baudrate=115200, timeout=0.05)
        chip = PN532(self._port)
        chip.begin()
        self._reader = BadgeReader(chip, time.monotonic, self._cfg.nfc_debounce_s)

    def _close(self) -> None:
        if self._port is not None:
            self._port.close()
        self._port = self._reader = None


class Mute:
    """No speech: the TTS module's port could not be opened at start. The screen still shows
    every prompt, so the counter keeps working; the log says why it is silent."""

    def __init__(self, reason: str):
        self.reason = reason

    def say(self, text: str, interrupt: bool = False) -> None:
        log.info("not said (voice unavailable: %s): %s", self.reason, text)


def open_voice(cfg: DeviceConfig) -> Any:
    from firmware.terminal.voice import VoiceConfigError, voice_from_config

    try:
        return voice_from_config(cfg.voice)
    except VoiceConfigError as exc:
        if exc.key != "voice.port":
            raise  # a wrong setting is the installer's to fix; an unplugged module is not fatal
        log.error("running without speech: %s", exc)
        return Mute(str(exc))


def open_updater(config_path: str | None, outbox: Outbox, link: Link) -> Any:
    """The release updater, when the config file's [update] table names a release key."""
    if config_path is None or not _names_release_key(config_path):
        return None  # and the updater's crypto stack is never loaded
    from firmware.update.service import UpdateService

    return UpdateService.from_config(config_path, outbox, kick=link.kick)


def _names_release_key(config_path: str) -> bool:
    with open(config_path, "rb") as f:
        return bool(tomllib.load(f).get("update", {}).get("public_key"))


def build(cfg: DeviceConfig, factory: Any = None, config_path: str | None = None) -> WindowTerminal:
    """The terminal with every part opened from the config (factory: a gpiozero pin factory;
    config_path: the file it came from, for the updater's own [update] table)."""
    fw = firmware_version()
    outbox = open_outbox(cfg)
    backoff = Backoff(cap_s=cfg.broker.reconnect_max_s)
    link = Link(cfg.hall, cfg.device, cfg.broker, outbox, fw, backoff, cfg.broker.resend_s)
    keypad = Keypad(cfg.keys, pin_factory=factory or pin_factory(cfg.gpio_pin_factory))
    return WindowTerminal(
        settings_of(cfg, fw),
        keypad,
        open_screen(cfg),
        ReopeningReader(cfg),
        open_voice(cfg),
        outbox,
        link,
        updater=open_updater(config_path, outbox, link),
    )


def run(terminal: WindowTerminal) -> None:
    """Run until SIGTERM or SIGINT, then say goodbye on the broker."""
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    terminal.start()
    log.info("window terminal running")
    done.wait()
    terminal.stop()


@click.command("device")
@click.option(
    "--config",
    "config_path",
    default=device_config.DEFAULT_PATH,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="the device config (see docs/device.example.toml)",
)
@click.option("--log-level", default="INFO", show_default=True)
def device(config_path: str, log_level: str) -> None:
    """Run the window terminal (keys, badge reader, screen, voice, MQTT link)."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        terminal = build(device_config.load(config_path), config_path=config_path)
    except (TerminalError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    run(terminal)


if __name__ == "__main__":
    device()
