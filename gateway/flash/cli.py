"""`yuping flash`: put a provisioned device's software and credentials onto it."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.provision.cli import site_option
from gateway.provision.errors import TechnicianError
from gateway.provision.registry import Site


@click.group()
def flash() -> None:
    """Prepare a Raspberry Pi terminal's SD card or flash a Pico W rating box."""


@flash.command("pi")
@site_option
@click.option("--device", required=True, help="A provisioned window terminal, e.g. w-0012")
@click.option(
    "--boot",
    required=True,
    type=click.Path(path_type=Path),
    help="The mounted boot (FAT) partition of a Raspberry Pi OS card",
)
@click.option(
    "--hardware", type=click.Path(path_type=Path, dir_okay=False), help="Pin profile TOML"
)
@click.option("--mount", default="/boot/firmware", show_default=True, help="Where the Pi mounts it")
@click.option("--wheels", type=click.Path(path_type=Path, file_okay=False), help="Offline wheels")
def pi(
    site: Path, device: str, boot: Path, hardware: Path | None, mount: str, wheels: Path | None
) -> None:
    """Write the device config, credentials and first-boot setup onto a Pi's boot partition."""
    from gateway.flash.pi import flash_pi

    try:
        config = flash_pi(Site(site), device, boot, hardware, mount, wheels)
    except (TechnicianError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {config}")
    click.echo(
        "first boot installs yuping-device.service; the terminal says hello when it connects"
    )


@flash.command("pico")
@site_option
@click.option("--device", required=True, help="A provisioned rating box, e.g. r-0012")
@click.option("--port", required=True, help="Serial port or pyserial URL, e.g. /dev/ttyACM0")
@click.option("--wifi-ssid", required=True, envvar="YUPING_WIFI_SSID")
@click.option("--wifi-password", required=True, envvar="YUPING_WIFI_PASSWORD")
@click.option(
    "--umqtt",
    type=click.Path(path_type=Path),
    help="umqtt/simple.py, its PyPI .tar.gz or a micropython-lib checkout (default: cache, PyPI)",
)
@click.option(
    "--umqtt-on-board",
    is_flag=True,
    help="Keep the board's own umqtt.simple (from `mpremote mip install umqtt.simple`)",
)
def pico(
    site: Path,
    device: str,
    port: str,
    wifi_ssid: str,
    wifi_password: str,
    umqtt: Path | None,
    umqtt_on_board: bool,
) -> None:
    """Copy the rating box firmware, its config and umqtt to a Pico W, check, and reset it."""
    import serial

    from gateway.flash import pico as flasher
    from gateway.flash.umqtt import umqtt_source

    try:
        record = Site(site).device(device)
        if record.kind != "ratingbox":
            raise TechnicianError(f"{device} is a {record.kind}: use `yuping flash pi`")
        config = flasher.box_config(Site(site), record, wifi_ssid, wifi_password)
        if umqtt is not None and umqtt_on_board:
            raise TechnicianError("--umqtt and --umqtt-on-board exclude each other: choose one")
        library = None if umqtt_on_board else umqtt_source(umqtt)
        files = [*flasher.firmware_files(library), flasher.config_file(config)]
        with serial.serial_for_url(port, baudrate=115200, timeout=0.2) as link:
            flasher.flash_pico(link, files, click.echo)
    except (TechnicianError, ValueError, OSError, serial.SerialException) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{device}: {len(files)} files verified on the board; reset, it connects as {device}"
    )
