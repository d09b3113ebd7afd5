"""File modes for what the broker reads (password, ACL, TLS key)."""

from __future__ import annotations

import grp
import os
from pathlib import Path


def broker_readable(path: Path) -> None:
    """Mosquitto drops to its own user before reading some files: give them to its group where
    it exists (0640), else leave them readable (0644); never writable by others."""
    try:
        os.chown(path, -1, grp.getgrnam("mosquitto").gr_gid)
        path.chmod(0o640)
    except (KeyError, PermissionError):
        path.chmod(0o644)
