"""What a release signature covers, and its check. Shared by the technician's signing tool and
the device, so both sides build the very same bytes.

The signature is Ed25519 over `yuping-release:1:<release>:<version>:<sha256>:<size>`: binding the
version and size with the file's SHA-256 stops a gateway from relabelling an old signed release
as a new version.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from firmware.update.errors import ReleaseRefused

FIELDS = ("release", "version", "sha256", "size", "sig")


def statement(release: str, version: str, sha256: str, size: int) -> bytes:
    return f"yuping-release:1:{release}:{version}:{sha256.lower()}:{size}".encode()


def load_public_key(text: str) -> Ed25519PublicKey:
    """A public key as the device config holds it: base64 of the 32 raw bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ReleaseRefused(f"the configured release public key is not valid: {exc}") from exc


def check_signature(public_key: str, offer: dict) -> None:
    """Raise ReleaseRefused unless `offer` (cmd/update fields) is signed by the release key."""
    key = load_public_key(public_key)
    try:
        sig = base64.b64decode(offer["sig"], validate=True)
        key.verify(
            sig, statement(offer["release"], offer["version"], offer["sha256"], offer["size"])
        )
    except (binascii.Error, InvalidSignature) as exc:
        raise ReleaseRefused("signature does not match the release key") from exc
