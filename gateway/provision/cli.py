"""`yuping provision`: register devices, write the broker's credentials and ACL, make TLS files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gateway.provision import tls, tomlfile
from gateway.provision.errors import TechnicianError
from gateway.provision.registry import DeviceRecord, Site
from protocol.messages import DEVICE_KINDS

DEFAULT_SITE = "/etc/yuping"


def site_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--site",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="YUPING_SITE",
        default=DEFAULT_SITE,
        show_default=True,
        help="The site registry directory (also $YUPING_SITE).",
    )(fn)


def fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
def provision() -> None:
    """Register devices and write the broker's password, ACL and TLS files."""


@provision.command("init")
@site_option
@click.option(
    "--broker", "broker_url", help="Broker URL devices connect to, e.g. mqtt://gw.local:1883"
)
@click.option("--gateway-url", help="Gateway HTTP base URL, e.g. http://gw.local:8080")
@click.option("--hall-name", help="The hall's name shown on devices, e.g. 郑州市民之家")
def init(
    site: Path, broker_url: str | None, gateway_url: str | None, hall_name: str | None
) -> None:
    """Create or update the site settings that flashing writes into every device."""
    settings = Site(site).update_settings(
        broker_url=broker_url, gateway_url=gateway_url, hall_name=hall_name
    )
    for key, value in settings.items():
        click.echo(f"{key} = {value}")


@provision.command("device")
@site_option
@click.option("--hall", required=True, help="Hall id, e.g. zz-1")
@click.option("--device", required=True, help="Device id, e.g. w-0012")
@click.option("--kind", type=click.Choice(DEVICE_KINDS), default="terminal", show_default=True)
@click.option("--window", default="", help="Window number or label the device serves, e.g. 3")
@click.option("--paired", default="", help="For a rating box: the window terminal it serves")
@click.option("--db", help="Gateway database URL: also register the device in the gateway store")
def device(
    site: Path, hall: str, device: str, kind: str, window: str, paired: str, db: str | None
) -> None:
    """Register a device, create its broker account and rewrite the broker files."""
    try:
        record = DeviceRecord(hall, device, kind, window, paired)
        Site(site).check_new(record)
        if db:  # the gateway's store first: a refusal there leaves the broker files untouched
            from gateway.provision.store import register

            register(db, record, Site(site).settings().get("hall_name"))
        Site(site).add_device(record)
    except (TechnicianError, ValueError) as exc:
        raise fail(exc) from exc
    click.echo(
        f"provisioned {record.device}: {record.kind}, hall {record.hall}, window {window or '-'}"
    )
    click.echo(f"broker files rewritten in {Site(site).broker_dir}; reload Mosquitto to apply")


@provision.command("gateway")
@site_option
@click.option("--hall", required=True, help="Hall id, e.g. zz-1")
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the password (default <site>/gateways/<hall>.password)",
)
def gateway_credentials(site: Path, hall: str, password_file: Path | None) -> None:
    """Write the hall gateway's broker password to a file and print its [gateway] settings."""
    try:
        path, created = Site(site).write_gateway_password(hall, password_file)
    except (TechnicianError, ValueError, OSError) as exc:
        raise fail(exc) from exc
    click.echo(tomlfile.dumps(gateway_settings(Site(site), hall, path)).lstrip(), nl=False)
    note = "; broker files rewritten: reload Mosquitto" if created else ""
    click.echo(f"# password written to {path} (0600){note}", err=True)


def gateway_settings(site: Site, hall: str, password_file: Path) -> dict[str, Any]:
    """The gateway.toml lines that log the hall gateway in to the site's broker."""
    settings: dict[str, Any] = {"hall": hall}
    broker = site.settings().get("broker_url")
    if broker:
        settings["broker"] = broker
    settings["broker_user"] = site.gateway(hall).user
    settings["broker_password_file"] = str(password_file.resolve())
    ca = site.root / "tls" / "ca.crt"
    if str(broker or "").startswith("mqtts://") and ca.exists():
        settings["broker_ca"] = str(ca.resolve())
    return {"gateway": settings}


@provision.command("list")
@site_option
def list_devices(site: Path) -> None:
    """Show every provisioned device."""
    for rec in Site(site).devices():
        paired = f" paired={rec.paired}" if rec.paired else ""
        click.echo(f"{rec.hall}\t{rec.device}\t{rec.kind}\twindow={rec.window or '-'}{paired}")


@provision.command("remove")
@site_option
@click.option("--device", required=True)
def remove(site: Path, device: str) -> None:
    """Withdraw a device: its broker account goes with the next broker reload."""
    try:
        Site(site).remove_device(device)
    except (TechnicianError, ValueError) as exc:
        raise fail(exc) from exc
    click.echo(f"removed {device}; reload Mosquitto to apply")


@provision.command("rotate")
@site_option
@click.option("--device", required=True)
def rotate(site: Path, device: str) -> None:
    """Give a device a new broker password (flash it again afterwards)."""
    try:
        Site(site).rotate_password(device)
    except (TechnicianError, ValueError) as exc:
        raise fail(exc) from exc
    click.echo(f"new password for {device}; flash the device again, then reload Mosquitto")


@provision.command("tls-ca")
@site_option
@click.option("--hall", required=True)
def tls_ca(site: Path, hall: str) -> None:
    """Create the hall's CA (keep tls/ca.key off the broker)."""
    try:
        path = tls.make_ca(site / "tls", hall)
    except (TechnicianError, ValueError) as exc:
        raise fail(exc) from exc
    click.echo(f"CA written: {path}")


@provision.command("tls-server")
@site_option
@click.option("--name", required=True, help="File name stem, e.g. broker")
@click.option("--host", "hosts", multiple=True, required=True, help="DNS name or IP (repeat)")
@click.option("--port", default=8883, show_default=True)
def tls_server(site: Path, name: str, hosts: tuple[str, ...], port: int) -> None:
    """Issue a broker's server certificate from the hall CA and print its listener config."""
    try:
        tls.make_server_cert(site / "tls", name, list(hosts))
    except (TechnicianError, ValueError) as exc:
        raise fail(exc) from exc
    click.echo(tls.listener_config(site / "tls", name, port), nl=False)


# The province tier's bridge from a hall broker to the centre (gateway/province/bridge.py).
from gateway.province.bridge import bridge  # noqa: E402 - registered last, after the group exists

provision.add_command(bridge)
