"""Web users of the HTTP API: argon2id password hashes, login sessions kept as token hashes."""

from __future__ import annotations

import hashlib
import secrets
import time

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.registry import RegistryError
from gateway.store.tables import user_sessions, users

ROLES = ("manager", "technician", "clerk")
SESSION_MS = 12 * 3600 * 1000  # one working day
_hasher = PasswordHasher()


class UserError(RegistryError):
    """A user that cannot be created."""


def add_user(
    conn: sa.Connection,
    username: str,
    password: str,
    role: str,
    hall: str | None = None,
    staff_id: int | None = None,
) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not 1 <= len(username) <= 64 or not username.isprintable() or " " in username:
        raise UserError("username must be 1 to 64 printable characters without spaces")
    if len(password) < 8:
        raise UserError("password must have at least 8 characters")
    if conn.execute(sa.select(users.c.username).where(users.c.username == username)).first():
        raise UserError(f"user {username!r} already exists")
    conn.execute(
        users.insert().values(
            username=username,
            password_hash=_hasher.hash(password),
            role=role,
            hall=hall,
            staff_id=staff_id,
            created_ms=int(time.time() * 1000),
        )
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(conn: sa.Connection, username: str, password: str) -> str | None:
    """A new session token when the password is right, else None."""
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None:
        _hasher.hash(password)  # same cost as a real check: no user enumeration by timing
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    token = secrets.token_urlsafe(32)
    expires = int(time.time() * 1000) + SESSION_MS
    conn.execute(
        user_sessions.insert().values(
            token_hash=_token_hash(token), username=username, expires_ms=expires
        )
    )
    return token


def session_user(conn: sa.Connection, token: str) -> sa.Row | None:
    """The user a live session token belongs to, or None."""
    now = int(time.time() * 1000)
    query = (
        sa.select(users)
        .join(user_sessions, user_sessions.c.username == users.c.username)
        .where(user_sessions.c.token_hash == _token_hash(token), user_sessions.c.expires_ms > now)
    )
    return conn.execute(query).first()


def logout(conn: sa.Connection, token: str) -> None:
    conn.execute(user_sessions.delete().where(user_sessions.c.token_hash == _token_hash(token)))
