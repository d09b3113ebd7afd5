"""Fixtures of the follow-up tests: a seeded store on SQLite, or on PostgreSQL when asked."""

from __future__ import annotations

import shutil

import pytest

from followup.seed import make_store
from gateway.store import make_engine


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    """One migrated, seeded SQLite file; each test gets a copy (migrating costs more than copying)."""
    path = tmp_path_factory.mktemp("followup-template") / "template.db"
    make_store(f"sqlite:///{path}").dispose()  # dispose checkpoints the WAL into the file
    return path


@pytest.fixture
def engine(tmp_path, seeded_template):
    path = tmp_path / "followup.db"
    shutil.copyfile(seeded_template, path)
    store = make_engine(f"sqlite:///{path}")
    yield store
    store.dispose()


@pytest.fixture
def pg_engine(pg_url):
    store = make_store(pg_url)
    yield store
    store.dispose()
