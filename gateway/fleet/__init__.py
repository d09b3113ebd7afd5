"""The fleet: which devices run which firmware, signed releases offered in waves, and the fleet
view data. `install(gateway, releases_dir, base_url)` joins a running gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def install(gateway: Any, releases_dir: Path, base_url: str) -> Any:
    """Hook the fleet into a gateway.app.Gateway (before start); returns the Fleet."""
    from gateway.fleet.api import router
    from gateway.fleet.rollout import Fleet

    fleet = Fleet(gateway, releases_dir, base_url)
    fleet.install(gateway.hooks)
    gateway.fleet = fleet
    gateway.routers.append(router(fleet))
    return fleet
