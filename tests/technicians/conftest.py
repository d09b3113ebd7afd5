"""Fixtures of the technician tests."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from gateway.flash.errors import FlashError
from gateway.flash.umqtt import umqtt_source as find_umqtt


@pytest.fixture
def broker_readable_dir():
    """A directory the broker can read after dropping to its own user (pytest's tmp is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="yp-site-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def umqtt_source() -> Path:
    """micropython-lib's umqtt/simple.py, as the flasher gets it (cache, else PyPI).

    Skipped with the reason where neither is available; with YUPING_REQUIRE_NETWORK_PACKAGES=1
    (set by .ci/run, whose bootstrap fills the cache) it fails instead."""
    try:
        return find_umqtt()
    except FlashError as exc:
        if os.environ.get("YUPING_REQUIRE_NETWORK_PACKAGES") == "1":
            pytest.fail(f"{exc} (YUPING_REQUIRE_NETWORK_PACKAGES=1)")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def box_runner(umqtt_source):
    """The RunningBox class, with umqtt.simple importable on CPython (see boxrunner)."""
    root = str(umqtt_source.parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from technicians.boxrunner import RunningBox

    return RunningBox
