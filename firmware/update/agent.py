"""The device's side of an update, from cmd/update to `healthy` or `rolled_back`.

The terminal's main loop wires it up:

    updater = Updater(ReleaseStore(root), public_key, report=send_update_event, restart=restart)
    updater.start()                # at service start: report a rollback, note a trial in progress
    updater.healthy()              # once the gateway has acked this start's hello
    updater.tick()                 # now and then: a trial past its deadline rolls back by itself
    updater.offer(cmd_body)        # on cmd/update, in a worker thread (it downloads)

`report(state, version, detail)` must put an `update` event into the durable outbox, so a state
reported just before a restart is still delivered afterwards.
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from firmware.update import manifest
from firmware.update.errors import DownloadFailed, InstallFailed, ReleaseRefused
from firmware.update.store import ReleaseStore

Report = Callable[[str, str, str | None], None]
HEALTH_S = 300  # a new release must reach the gateway within this after switching
CHUNK = 64 * 1024


def now_ms() -> int:
    return int(time.time() * 1000)


class Updater:
    def __init__(
        self,
        store: ReleaseStore,
        public_key: str,
        report: Report,
        restart: Callable[[], None],
        health_s: int = HEALTH_S,
        clock: Callable[[], int] = now_ms,
    ):
        self.store = store
        self.public_key = public_key
        self.report = report
        self.restart = restart
        self.health_s = health_s
        self.clock = clock
        self.running = store.current_version() or "unknown"

    def start(self) -> None:
        note = self.store.take_rollback_note()
        if note is not None:
            self.report("rolled_back", note["version"], note.get("detail"))

    def _on_trial(self) -> dict | None:
        trial = self.store.trial()
        return trial if trial is not None and trial["version"] == self.running else None

    def healthy(self) -> None:
        if self._on_trial() is not None:
            self.store.confirm()
            self.report("healthy", self.running, None)

    def tick(self) -> bool:
        """Roll back (and restart) when the release on trial missed its deadline."""
        trial = self._on_trial()
        if trial is None or self.clock() <= trial["deadline_ms"]:
            return False
        self.store.roll_back("not healthy before the deadline")
        self.restart()
        return True

    def offer(self, offer: dict) -> str:
        """Fetch, verify, install and switch to an offered release; returns the final state."""
        version = offer["version"]
        if version == self.running:
            self.report("healthy", version, "already running")
            return "healthy"
        try:
            manifest.check_signature(self.public_key, offer)
            self.report("downloading", version, None)
            archive = self._download(offer)
            self._check_file(archive, offer)
            self.report("verified", version, None)
            self.store.unpack(archive, version)
        except ReleaseRefused as exc:
            self.report("refused", version, str(exc)[:200])
            return "refused"
        except (DownloadFailed, InstallFailed) as exc:
            self.report("failed", version, str(exc)[:200])
            return "failed"
        self.store.begin_trial(version, self.running, self.clock() + self.health_s * 1000)
        self.store.switch(version)
        self.report("installed", version, None)
        self.restart()
        return "installed"

    def _download(self, offer: dict) -> Path:
        self.store.downloads.mkdir(parents=True, exist_ok=True)
        target = self.store.downloads / f"{offer['release']}.tar"
        try:
            with (
                urllib.request.urlopen(offer["url"], timeout=30) as response,
                open(target, "wb") as out,
            ):
                copied = 0
                while chunk := response.read(CHUNK):
                    copied += len(chunk)
                    if copied > offer["size"]:
                        raise ReleaseRefused(
                            f"larger than the signed size of {offer['size']} bytes"
                        )
                    out.write(chunk)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            target.unlink(missing_ok=True)
            raise DownloadFailed(f"download from {offer['url']} failed: {exc}") from exc
        return target

    def _check_file(self, archive: Path, offer: dict) -> None:
        digest = hashlib.sha256()
        with open(archive, "rb") as data:
            while chunk := data.read(CHUNK):
                digest.update(chunk)
        size = archive.stat().st_size
        if size < offer["size"]:
            archive.unlink()
            raise DownloadFailed(f"download ended after {size} of {offer['size']} bytes")
        if digest.hexdigest() != offer["sha256"].lower():
            archive.unlink()
            raise ReleaseRefused("file does not match its signed SHA-256")
