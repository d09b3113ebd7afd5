"""`yuping flash pi`: prepare a Raspberry Pi OS boot partition for a window terminal.

Writes yuping/device.toml (identity, broker credentials, update key), the hall CA when the broker
uses TLS, and yuping-firstrun.sh, which cmdline.txt runs once on first boot.
"""

from __future__ import annotations

import shutil
import tomllib
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from gateway.flash.errors import FlashError, NotABootPartition
from gateway.provision import tomlfile
from gateway.provision.registry import DeviceRecord, Site

FIRSTRUN = "yuping-firstrun.sh"
DEVICE_CA = "/etc/yuping/ca.pem"
FIRST_BOOT_ARGS = "systemd.run_success_action=reboot systemd.unit=kernel-command-line.target"


def check_boot_partition(boot: Path) -> None:
    missing = [name for name in ("config.txt", "cmdline.txt") if not (boot / name).is_file()]
    if missing:
        raise NotABootPartition(
            f"{boot} is not a Raspberry Pi OS boot partition (no {' or '.join(missing)}); "
            "mount the card's first (FAT) partition and give that path"
        )


def hardware_tables(path: Path | None) -> dict[str, Any]:
    if path is None:
        text = resources.files("gateway.flash").joinpath("pi_hardware.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FlashError(f"hardware profile {path}: {exc}") from exc


def site_ca(site: Site) -> Path:
    return site.root / "tls" / "ca.crt"


def window_label(window: str) -> str:
    return f"{window}号窗口" if window.isdigit() else window


def device_config(site: Site, record: DeviceRecord, hardware: dict[str, Any]) -> dict[str, Any]:
    settings = site.settings()
    if "broker_url" not in settings:
        raise FlashError(
            f"no broker URL in {site.settings_path}: run `yuping provision init --broker URL`"
        )
    broker: dict[str, Any] = {
        "url": settings["broker_url"],
        "username": record.device,
        "password": record.password,
    }
    if settings["broker_url"].startswith("mqtts:") and site_ca(site).exists():
        broker["tls_ca"] = DEVICE_CA
    config: dict[str, Any] = {
        "hall": record.hall,
        "device": record.device,
        "hall_name": settings.get("hall_name", ""),
        "window_label": window_label(record.window),
        "broker": broker,
    }
    config.update(hardware)
    config["update"] = update_settings(settings)
    return config


def update_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """What the device's updater needs: where releases come from and the key that signs them."""
    table: dict[str, Any] = {"root": "/opt/yuping"}
    if "gateway_url" in settings:
        table["gateway_url"] = settings["gateway_url"]
    if "release_public_key" in settings:
        table["public_key"] = settings["release_public_key"]
    return table


def check_config(config: dict[str, Any]) -> None:
    """Refuse a config the terminal firmware would refuse at start, before touching the card."""
    from firmware.terminal import config as terminal_config
    from firmware.terminal.errors import ConfigError

    try:
        terminal_config.parse(config)
    except ConfigError as exc:
        raise FlashError(f"the device config would not load: {exc}") from exc


def first_boot_cmdline(boot: Path, mount: str) -> str:
    """cmdline.txt with the one-time run of our first-boot script added (idempotent)."""
    cmdline = (boot / "cmdline.txt").read_text().strip()
    if FIRSTRUN in cmdline:
        return cmdline + "\n"
    if "systemd.run=" in cmdline:
        raise FlashError(
            "cmdline.txt already runs another first-boot script (systemd.run=…); "
            "boot the card once, or remove that entry, then flash again"
        )
    run = f"systemd.run={mount.rstrip('/')}/{FIRSTRUN}"
    return f"{cmdline} {run} {FIRST_BOOT_ARGS}\n"


def firstrun_script() -> str:
    text = resources.files("gateway.flash").joinpath("firstrun.sh").read_text("utf-8")
    return text.replace("@VERSION@", metadata.version("yuping"))


def flash_pi(
    site: Site,
    device: str,
    boot: Path,
    hardware: Path | None = None,
    mount: str = "/boot/firmware",
    wheels: Path | None = None,
) -> Path:
    """Write everything a first boot needs; returns the device config's path on the card."""
    check_boot_partition(boot)
    record = site.device(device)
    if record.kind != "terminal":
        raise FlashError(f"{device} is a {record.kind}: use `yuping flash pico` for a rating box")
    config = device_config(site, record, hardware_tables(hardware))
    check_config(config)
    cmdline = first_boot_cmdline(boot, mount)
    target = boot / "yuping"
    target.mkdir(exist_ok=True)
    tomlfile.write(target / "device.toml", config)
    if "tls_ca" in config["broker"]:
        shutil.copyfile(site_ca(site), target / "ca.pem")
    if wheels is not None:
        shutil.copytree(wheels, target / "wheels", dirs_exist_ok=True)
    (boot / FIRSTRUN).write_text(firstrun_script())
    (boot / "cmdline.txt").write_text(cmdline)
    return target / "device.toml"
