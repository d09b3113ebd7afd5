"""Versions side by side on the device, and the `current` link the service starts from.

    <root>/releases/<version>/   one unpacked release each (a venv when the release ships wheels)
    <root>/current               symlink to the running release (switched atomically)
    <root>/trial.json            a switched-to release not yet confirmed healthy
    <root>/rolled_back.json      a rollback the restored version has still to report
    <root>/downloads/            partial and complete downloads

A switch first writes trial.json (version, previous, deadline), then repoints `current`. Until the
new version confirms its health, anything that restarts the service — a crash, a power cut, the
deadline — brings the previous version back (see guard.py, which runs before every start).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from firmware.update import guard
from firmware.update.errors import InstallFailed

KEEP = 3  # releases kept on the card, the running one included


class ReleaseStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.releases = self.root / "releases"
        self.current = self.root / "current"
        self.downloads = self.root / "downloads"

    def current_version(self) -> str | None:
        try:
            return os.readlink(self.current).rstrip("/").rsplit("/", 1)[-1]
        except FileNotFoundError:
            return None

    def unpack(self, archive: Path, version: str) -> Path:
        """Unpack a verified release beside the others; refuses links or paths leaving it."""
        target = self.releases / version
        staging = self.releases / f".{version}.unpacking"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(staging, filter="data")
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise InstallFailed(f"release archive cannot be unpacked: {exc}") from exc
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        if (target / "wheels").is_dir():
            self._install_wheels(target)
        return target

    @staticmethod
    def _install_wheels(target: Path) -> None:
        """A terminal release ships wheels: it becomes its own venv (made in place, since a venv
        cannot be moved), installed offline from those wheels only."""
        steps = [
            [sys.executable, "-m", "venv", str(target)],
            [
                str(target / "bin" / "pip"),
                "install",
                "--no-index",
                "--find-links",
                str(target / "wheels"),
                "yuping[device]",
            ],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            if done.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                raise InstallFailed(f"installing the release failed: {done.stderr.strip()[-150:]}")

    def switch(self, version: str) -> None:
        try:
            guard.switch(self.root, version)
        except FileNotFoundError as exc:
            raise InstallFailed(str(exc)) from exc

    # --- trial of a newly switched-to release ----------------------------------------------
    def begin_trial(self, version: str, previous: str, deadline_ms: int) -> None:
        guard.write_json(
            self.root / "trial.json",
            {"version": version, "previous": previous, "deadline_ms": deadline_ms, "starts": 0},
        )

    def trial(self) -> dict[str, Any] | None:
        return guard.read_json(self.root / "trial.json")

    def confirm(self) -> None:
        """The running release is healthy: it stays, older ones beyond KEEP go."""
        (self.root / "trial.json").unlink(missing_ok=True)
        self._prune()

    def roll_back(self, detail: str) -> str:
        """Return to the previous release, leaving a note for it to report; returns its version."""
        previous = guard.roll_back(self.root, detail)
        if previous is None:
            raise InstallFailed("no update on trial to roll back")
        return previous

    def take_rollback_note(self) -> dict[str, Any] | None:
        note = guard.read_json(self.root / "rolled_back.json")
        (self.root / "rolled_back.json").unlink(missing_ok=True)
        return note

    def _prune(self) -> None:
        running = self.current_version()
        others = [
            p
            for p in self.releases.iterdir()
            if p.is_dir() and p.name != running and not p.name.startswith(".")
        ]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[KEEP - 1 :]:
            shutil.rmtree(old, ignore_errors=True)
