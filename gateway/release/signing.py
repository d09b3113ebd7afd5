"""Release keys and signed manifests. Runs on a technician's machine: the private key stays
there; gateways get the public key (in device configs) and the signed manifests."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.update import manifest
from gateway.provision.errors import TechnicianError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


class ReleaseError(TechnicianError, ValueError):
    """A release, manifest or key that cannot be used."""


def keygen(folder: Path) -> tuple[Path, Path]:
    """release.key (private, 0600) and release.pub (base64 raw public key) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = folder / "release.key", folder / "release.pub"
    if key_path.exists():
        raise ReleaseError(f"{key_path} exists; a new key would orphan every signed release")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.touch(mode=0o600)
    key_path.write_bytes(pem)
    pub_path.write_text(public_key_text(key) + "\n")
    return key_path, pub_path


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{path} is not a readable release signing key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError(f"{path} is not an Ed25519 key")
    return key


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while chunk := data.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()


def check_name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise ReleaseError(f"{what} must be 1-32 of A-Z a-z 0-9 . _ - : {value!r}")
    return value


def sign(key_path: Path, archive: Path, version: str, release: str | None = None) -> dict[str, Any]:
    """Sign `archive`; writes and returns the manifest (<archive>.manifest.json)."""
    if not archive.is_file():
        raise ReleaseError(f"{archive} is not a file")
    check_name(version, "version")
    key = load_private_key(key_path)
    release = check_name(release or f"r-{version}", "release")
    body: dict[str, Any] = {
        "release": release,
        "version": version,
        "file": archive.name,
        "size": archive.stat().st_size,
        "sha256": file_sha256(archive),
    }
    statement = manifest.statement(release, version, body["sha256"], body["size"])
    body["sig"] = base64.b64encode(key.sign(statement)).decode()
    body["public_key"] = public_key_text(key)
    manifest_path(archive).write_text(json.dumps(body, indent=2) + "\n")
    return body


def manifest_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".manifest.json")
