"""Mosquitto password-file lines in the format mosquitto_passwd writes (Mosquitto 2.x):

    <user>:$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512 of the password>

Generated here so a technician's laptop needs no Mosquitto install to provision a device.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

ITERATIONS = 101  # mosquitto_passwd's default
SALT_BYTES = 12
HASH_BYTES = 64


def _digest(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, HASH_BYTES)


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The `$7$...` hash of a password, with a fresh random salt unless one is given."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = _digest(password, salt, iterations)
    salt_b64 = base64.b64encode(salt).decode()
    return f"$7${iterations}${salt_b64}${base64.b64encode(digest).decode()}"


def verify(hashed: str, password: str) -> bool:
    """True when `password` matches a `$7$` hash (as read from a password file)."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        raise ValueError("not a Mosquitto $7$ password hash")
    salt = base64.b64decode(parts[3])
    expected = base64.b64decode(parts[4])
    return hmac.compare_digest(_digest(password, salt, int(parts[2])), expected)


def password_line(user: str, password: str) -> str:
    if ":" in user or not user:
        raise ValueError(f"a broker user name may not be empty or contain ':': {user!r}")
    return f"{user}:{hash_password(password)}"
