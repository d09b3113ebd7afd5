"""The fleet: which devices run which firmware, signed releases offered in waves, and the fleet
view data. `install(gateway, releases_dir, base_url)` joins a running gateway."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

RELEASES_DIR = "/var/lib/yuping/releases"


def install(gateway: Any, releases_dir: Path, base_url: str) -> Any:
    """Hook the fleet into a gateway.app.Gateway (before start); returns the Fleet."""
    from gateway.fleet.api import router
    from gateway.fleet.rollout import Fleet

    fleet = Fleet(gateway, releases_dir, base_url)
    fleet.install(gateway.hooks)
    gateway.fleet = fleet
    gateway.routers.append(router(fleet))
    return fleet


def gateway_url(gateway: Any) -> str:
    """Where devices download releases: $YUPING_GATEWAY_URL, else the gateway's HTTP address
    (a wildcard bind address replaced by this host's name)."""
    if os.environ.get("YUPING_GATEWAY_URL"):
        return os.environ["YUPING_GATEWAY_URL"]
    host, port = gateway.config.http_host_port or ("localhost", 8080)
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    return f"http://{host}:{port}"


def install_subsystem(gateway: Any) -> Any:
    """The entry in gateway.app.SUBSYSTEMS; releases live in $YUPING_RELEASES_DIR."""
    releases = Path(os.environ.get("YUPING_RELEASES_DIR", RELEASES_DIR))
    return install(gateway, releases, gateway_url(gateway))
