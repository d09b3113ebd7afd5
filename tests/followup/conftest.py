"""Fixtures of the follow-up tests: a seeded store on SQLite, or on PostgreSQL when asked."""

from __future__ import annotations

import pytest

from followup.seed import make_store


@pytest.fixture
def engine(tmp_path):
    store = make_store(f"sqlite:///{tmp_path / 'followup.db'}")
    yield store
    store.dispose()


@pytest.fixture
def pg_engine(pg_url):
    store = make_store(pg_url)
    yield store
    store.dispose()
