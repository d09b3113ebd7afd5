"""The start guard: runs before every start of the device service (systemd ExecStartPre) and
rolls back an update that has not proven healthy in time or keeps failing to start.

Standard library only and free of other yuping imports: the first boot copies this file outside
the release directories (/opt/yuping/guard.py), so a broken release cannot break its own rollback.

    python3 /opt/yuping/guard.py /opt/yuping
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

MAX_STARTS = 3  # a release that needed more starts than this without confirming is broken


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as out:
        json.dump(data, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return None


def switch(root: Path, version: str) -> None:
    """Repoint <root>/current at releases/<version> in one rename."""
    if not (root / "releases" / version).is_dir():
        raise FileNotFoundError(f"release {version} is not installed")
    link = root / ".current.tmp"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(Path("releases") / version)
    os.replace(link, root / "current")


def roll_back(root: Path, detail: str) -> str | None:
    """Back to the release before the one on trial; the restored one reports it. Returns it."""
    trial = read_json(root / "trial.json")
    if trial is None:
        return None
    switch(root, trial["previous"])
    write_json(root / "rolled_back.json", {"version": trial["version"], "detail": detail})
    (root / "trial.json").unlink()
    return str(trial["previous"])


def check(root: Path, now_ms: int, max_starts: int = MAX_STARTS) -> str:
    """Count this start of a release on trial; roll back when it is overdue or keeps failing."""
    trial = read_json(root / "trial.json")
    if trial is None:
        return "no update on trial"
    if now_ms > trial["deadline_ms"]:
        return f"rolled back to {roll_back(root, 'not healthy before the deadline')}"
    if trial["starts"] >= max_starts:
        return f"rolled back to {roll_back(root, 'did not stay up')}"
    trial["starts"] += 1
    write_json(root / "trial.json", trial)
    return f"{trial['version']} on trial, start {trial['starts']}"


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "/opt/yuping")
    print("yuping guard:", check(root, int(time.time() * 1000)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
