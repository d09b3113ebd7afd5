"""Login sessions and role checks for the HTTP API.

POST /api/login with a username and password (argon2id-hashed in the store) sets the `yp_session`
cookie and returns the same token, usable as `Authorization: Bearer <token>`. Roles: manager,
technician, clerk. Every write needs a role; nothing writes without a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from gateway import users

COOKIE = "yp_session"
router = APIRouter(tags=["auth"])


def gateway_of(request: Request) -> Any:
    return request.app.state.gateway


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE)


def current_user(request: Request, gw: Any = Depends(gateway_of)) -> sa.Row:
    token = _token(request)
    user = None
    if token:
        with gw.engine.connect() as conn:
            user = users.session_user(conn, token)
    if user is None:
        raise HTTPException(401, "login required", headers={"WWW-Authenticate": "Bearer"})
    return user


def require(*roles: str) -> Callable[..., sa.Row]:
    """A dependency that lets only users of these roles through (403 for others)."""

    def check(user: sa.Row = Depends(current_user)) -> sa.Row:
        if user.role not in roles:
            raise HTTPException(403, f"needs role {' or '.join(roles)}")
        return user

    return check


class Credentials(BaseModel):
    username: str
    password: str


@router.post("/api/login")
def login(body: Credentials, response: Response, gw: Any = Depends(gateway_of)) -> dict[str, str]:
    with gw.engine.begin() as conn:
        token = users.login(conn, body.username, body.password)
        role = conn.execute(
            sa.select(users.users.c.role).where(users.users.c.username == body.username)
        ).scalar()
    if token is None:
        raise HTTPException(401, "wrong username or password")
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="lax", max_age=users.SESSION_MS // 1000
    )
    return {"token": token, "role": str(role)}


@router.post("/api/logout")
def logout(request: Request, response: Response, gw: Any = Depends(gateway_of)) -> dict[str, bool]:
    token = _token(request)
    if token:
        with gw.engine.begin() as conn:
            users.logout(conn, token)
    response.delete_cookie(COOKIE)
    return {"ok": True}


@router.get("/api/me")
def me(user: sa.Row = Depends(current_user)) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "staff_id": user.staff_id}
