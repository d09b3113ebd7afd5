"""`yuping release`: signing keys and signed releases (technician), import and rollouts (gateway)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gateway.release import signing


def fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
def release() -> None:
    """Sign firmware releases and roll them out to devices in waves."""


@release.command("keygen")
@click.option("--out", required=True, type=click.Path(path_type=Path, file_okay=False))
def keygen(out: Path) -> None:
    """Create the release signing key. Keep release.key offline; release.pub goes to devices."""
    try:
        key, pub = signing.keygen(out)
    except signing.ReleaseError as exc:
        raise fail(exc) from exc
    click.echo(f"private key: {key} (never copy it to a gateway)")
    click.echo(f"public key:  {pub.read_text().strip()}")
    click.echo("give devices the public key: yuping provision init --release-key " + str(pub))


@release.command("sign")
@click.option("--key", "key_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--version", "version", required=True, help="Firmware version, e.g. 0.2.0")
@click.option("--release", "name", help="Release id (default r-<version>)")
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
def sign(key_path: Path, version: str, name: str | None, archive: Path) -> None:
    """Sign a firmware archive; writes ARCHIVE.manifest.json (version, sha256, Ed25519 sig)."""
    try:
        body = signing.sign(key_path, archive, version, name)
    except signing.ReleaseError as exc:
        raise fail(exc) from exc
    click.echo(
        f"{signing.manifest_path(archive)}: {body['release']} {body['version']} sha256={body['sha256']}"
    )


@release.command("import")
@click.option("--db", required=True, help="The gateway's database URL")
@click.option("--hall", required=True)
@click.option("--releases", "releases_dir", required=True, type=click.Path(path_type=Path))
@click.option("--public-key", "pub", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def import_(db: str, hall: str, releases_dir: Path, pub: Path, archive: Path) -> None:
    """On the gateway: accept a signed release (signature and hash checked) for rollouts."""
    from gateway.fleet.rollout import FleetError, import_release
    from gateway.store import make_engine, migrate

    try:
        signed = json.loads(signing.manifest_path(archive).read_text())
        engine = make_engine(db)
        migrate(engine)
        name = import_release(engine, releases_dir, archive, signed, pub.read_text().strip())
    except (OSError, ValueError, FleetError) as exc:
        raise fail(exc) from exc
    click.echo(f"release {name} imported; offer it with POST /api/fleet/rollouts")
