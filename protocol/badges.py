"""The keyed hash of a badge UID, computed the same way by the gateway and by a device.

    h = lowercase hex of HMAC-SHA256(key = bytes of the hall's badge_key hex,
                                     msg = the UID's raw bytes, i.e. bytes of the uid hex)

The gateway stores only `h`, never the UID. It pushes `badge_key` and the list of `h` to each
terminal in cmd/config, so a terminal that is offline can still tell a known badge. Taking the
UID as raw bytes makes the hash independent of hex case. Written with hashlib only (MicroPython
has no hmac module), so it runs unchanged on both.
"""

import hashlib
from binascii import hexlify, unhexlify

BLOCK = 64  # SHA-256 block size in bytes


def _pad(key, byte):
    return bytes([b ^ byte for b in key]) + bytes([byte]) * (BLOCK - len(key))


def hmac_sha256(key, msg):
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    inner = hashlib.sha256(_pad(key, 0x36) + msg).digest()
    return hashlib.sha256(_pad(key, 0x5C) + inner).digest()


def badge_hash(badge_key, uid):
    """Hex HMAC-SHA256 of the UID (hex text) under the hall's badge_key (hex text)."""
    digest = hmac_sha256(unhexlify(badge_key), unhexlify(uid))
    return hexlify(digest).decode()
