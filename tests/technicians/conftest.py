"""Fixtures of the technician tests."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def broker_readable_dir():
    """A directory the broker can read after dropping to its own user (pytest's tmp is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="yp-site-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
