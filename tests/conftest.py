"""Shared fixtures: a real Mosquitto per test, unique ids, PostgreSQL when reachable."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.broker import Broker  # noqa: E402


@pytest.fixture
def broker():
    """A fresh Mosquitto on a free loopback port; `broker.restart()` for fault tests."""
    with Broker() as running:
        yield running


@pytest.fixture
def uid(request) -> str:
    """A short id unique to this test run, for client ids, halls and devices."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def hall(uid) -> str:
    return f"h-{uid}"


PG_URL = os.environ.get("YUPING_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable(url: str) -> str | None:
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", say why
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL server URL; skipped with the reason where none is reachable.

    With YUPING_REQUIRE_POSTGRES=1 (set by .ci/run, since CI has a server) it fails instead.
    """
    problem = _pg_reachable(PG_URL)
    if problem:
        message = f"PostgreSQL not reachable at {PG_URL}: {problem}"
        if os.environ.get("YUPING_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (YUPING_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    return PG_URL


@pytest.fixture
def pg_url(pg_server_url, uid):
    """A fresh PostgreSQL schema for this test; dropped after. The URL selects it as search_path."""
    import sqlalchemy

    schema = f"t_{uid}"
    engine = sqlalchemy.create_engine(pg_server_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'create schema "{schema}"')
    sep = "&" if "?" in pg_server_url else "?"
    yield f"{pg_server_url}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f'drop schema "{schema}" cascade')
    engine.dispose()
