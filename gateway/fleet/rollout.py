"""Releases offered to devices in waves.

A rollout offers a release to its first wave; when every device of a wave reports `healthy`, the
next wave is offered from inside the ingest of that last report. A device that reports `failed`,
`refused` or `rolled_back` halts the rollout, and a technician's stop ends it: in both cases no
further wave is offered (devices already offered finish on their own).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from firmware.update import manifest
from firmware.update.errors import ReleaseRefused
from gateway.fleet.tables import hellos, releases, rollout_devices, rollouts
from gateway.hooks import EventContext, GatewayError, Hooks
from gateway.release.signing import check_name, file_sha256
from gateway.store.tables import devices
from protocol import ids

FINAL = ("healthy", "failed", "refused", "rolled_back")
BAD = ("failed", "refused", "rolled_back")
Send = Callable[..., None]


class FleetError(GatewayError, ValueError):
    """A release or rollout request that cannot be carried out."""


def now_ms() -> int:
    return int(time.time() * 1000)


def import_release(
    engine: sa.Engine, releases_dir: Path, archive: Path, signed: dict[str, Any], public_key: str
) -> str:
    """Accept a signed release (checked here too, so a bad one is refused before any offer)."""
    release = check_name(str(signed.get("release", "")), "release")
    try:
        manifest.check_signature(public_key, signed)
    except (ReleaseRefused, KeyError, TypeError) as exc:
        raise FleetError(f"release {release} refused: {exc}") from exc
    if archive.stat().st_size != signed["size"] or file_sha256(archive) != signed["sha256"]:
        raise FleetError(f"release {release} refused: the file does not match its manifest")
    releases_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(archive, releases_dir / f"{release}.tar")
    row = {k: signed[k] for k in ("version", "size", "sha256", "sig")}
    with engine.begin() as conn:
        conn.execute(sa.delete(releases).where(releases.c.id == release))
        conn.execute(
            releases.insert().values(id=release, file=f"{release}.tar", added_ms=now_ms(), **row)
        )
    return release


class Fleet:
    def __init__(self, gateway: Any, releases_dir: Path, base_url: str):
        self.gateway = gateway
        self.engine: sa.Engine = gateway.engine
        self.hall: str = gateway.hall
        self.releases_dir = Path(releases_dir)
        self.base_url = base_url.rstrip("/")

    def install(self, hooks: Hooks) -> None:
        hooks.on("update", self.on_update)
        hooks.on("hello", self.on_hello)

    # --- releases ---------------------------------------------------------------------------
    def import_release(self, archive: Path, signed: dict[str, Any], public_key: str) -> str:
        return import_release(self.engine, self.releases_dir, archive, signed, public_key)

    def release_file(self, name: str) -> Path | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(releases.c.file).where(releases.c.file == name)).first()
        return self.releases_dir / row.file if row else None

    def _offer_fields(self, release: sa.Row) -> dict[str, Any]:
        return {
            "release": release.id,
            "version": release.version,
            "url": f"{self.base_url}/releases/{release.file}",
            "sha256": release.sha256,
            "sig": release.sig,
            "size": release.size,
        }

    # --- rollouts ---------------------------------------------------------------------------
    def start(self, release: str, device_ids: list[str], wave_size: int) -> int:
        """Create a rollout and offer its first wave; returns the rollout id."""
        if wave_size < 1:
            raise FleetError("a wave needs at least one device")
        sent: list[tuple[str, dict[str, Any]]] = []
        with self.engine.begin() as conn:
            rel = self._release(conn, release)
            self._check_devices(conn, device_ids)
            now = now_ms()
            key = conn.execute(
                rollouts.insert().values(
                    hall=self.hall,
                    release=release,
                    wave_size=wave_size,
                    wave=0,
                    state="running",
                    created_ms=now,
                    updated_ms=now,
                )
            ).inserted_primary_key
            assert key is not None
            rollout = key[0]
            conn.execute(
                rollout_devices.insert(),
                [
                    {
                        "rollout": rollout,
                        "device": d,
                        "wave": i // wave_size + 1,
                        "state": "waiting",
                        "updated_ms": now,
                    }
                    for i, d in enumerate(device_ids)
                ],
            )
            self._offer_next(conn, rollout, rel, lambda dev, kind, **f: sent.append((dev, f)))
        for device, fields in sent:
            self.gateway.send(device, "update", **fields)
        return int(rollout)

    def _release(self, conn: sa.Connection, release: str) -> sa.Row:
        row = conn.execute(sa.select(releases).where(releases.c.id == release)).first()
        if row is None:
            raise FleetError(f"release {release!r} has not been imported")
        return row

    def _check_devices(self, conn: sa.Connection, device_ids: list[str]) -> None:
        if not device_ids or len(set(device_ids)) != len(device_ids):
            raise FleetError("a rollout needs a list of distinct devices")
        known = set(conn.scalars(sa.select(devices.c.id).where(devices.c.hall == self.hall)))
        unknown = [d for d in device_ids if d not in known]
        if unknown:
            raise FleetError(f"not registered in hall {self.hall}: {', '.join(unknown)}")

    def stop(self, rollout: int) -> None:
        """No further wave is offered. Devices already offered finish what they started."""
        with self.engine.begin() as conn:
            row = self._rollout(conn, rollout)
            if row.state == "running":
                conn.execute(
                    rollouts.update()
                    .where(rollouts.c.id == rollout)
                    .values(state="stopped", updated_ms=now_ms())
                )

    def _rollout(self, conn: sa.Connection, rollout: int) -> sa.Row:
        row = conn.execute(
            sa.select(rollouts).where(rollouts.c.id == rollout, rollouts.c.hall == self.hall)
        ).first()
        if row is None:
            raise FleetError(f"no rollout {rollout} in hall {self.hall}")
        return row

    def status(self, rollout: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = self._rollout(conn, rollout)
            members = conn.execute(
                sa.select(rollout_devices)
                .where(rollout_devices.c.rollout == rollout)
                .order_by(rollout_devices.c.wave, rollout_devices.c.device)
            ).all()
        return {
            "id": row.id,
            "release": row.release,
            "state": row.state,
            "wave": row.wave,
            "devices": [
                {"device": m.device, "wave": m.wave, "state": m.state, "detail": m.detail}
                for m in members
            ],
        }

    def _offer_next(self, conn: sa.Connection, rollout: int, release: sa.Row, send: Send) -> None:
        row = self._rollout(conn, rollout)
        wave = row.wave + 1
        members = conn.scalars(
            sa.select(rollout_devices.c.device).where(
                rollout_devices.c.rollout == rollout, rollout_devices.c.wave == wave
            )
        ).all()
        state = "running" if members else "done"
        conn.execute(
            rollouts.update()
            .where(rollouts.c.id == rollout)
            .values(wave=wave if members else row.wave, state=state, updated_ms=now_ms())
        )
        for device in members:
            self._set_state(conn, rollout, device, "offered", None)
            send(device, "update", **self._offer_fields(release))

    def _set_state(
        self, conn: sa.Connection, rollout: int, device: str, state: str, detail: str | None
    ) -> None:
        conn.execute(
            rollout_devices.update()
            .where(rollout_devices.c.rollout == rollout, rollout_devices.c.device == device)
            .values(state=state, detail=detail, updated_ms=now_ms())
        )

    # --- hooks ------------------------------------------------------------------------------
    def on_update(self, ctx: EventContext) -> None:
        """A device's update progress; the last healthy report of a wave offers the next."""
        member = ctx.conn.execute(
            sa.select(rollouts, rollout_devices.c.wave.label("member_wave"))
            .join(rollout_devices, rollout_devices.c.rollout == rollouts.c.id)
            .join(releases, releases.c.id == rollouts.c.release)
            .where(
                rollouts.c.hall == ctx.hall,
                rollout_devices.c.device == ctx.device,
                releases.c.version == ctx.body["version"],
            )
            .order_by(rollouts.c.id.desc())
        ).first()
        if member is None:
            return  # progress of an update no rollout of this hall offered: kept as an event only
        self._set_state(ctx.conn, member.id, ctx.device, ctx.body["state"], ctx.body.get("detail"))
        if member.state == "running" and member.member_wave == member.wave:
            self._wave_settled(ctx, member)

    def _wave_settled(self, ctx: EventContext, rollout: sa.Row) -> None:
        states = ctx.conn.scalars(
            sa.select(rollout_devices.c.state).where(
                rollout_devices.c.rollout == rollout.id, rollout_devices.c.wave == rollout.wave
            )
        ).all()
        if any(s in BAD for s in states):
            ctx.conn.execute(
                rollouts.update()
                .where(rollouts.c.id == rollout.id)
                .values(state="halted", updated_ms=ctx.received_ms)
            )
        elif all(s == "healthy" for s in states):
            release = self._release(ctx.conn, rollout.release)
            self._offer_next(ctx.conn, rollout.id, release, ctx.send)

    def on_hello(self, ctx: EventContext) -> None:
        boot, _ = ids.split(ctx.body["id"])
        values = {"last_hello_ms": ctx.received_ms, "boot": boot}
        updated = ctx.conn.execute(
            hellos.update()
            .where(hellos.c.hall == ctx.hall, hellos.c.device == ctx.device)
            .values(**values)
        )
        if updated.rowcount == 0:
            ctx.conn.execute(hellos.insert().values(hall=ctx.hall, device=ctx.device, **values))

    # --- fleet view -------------------------------------------------------------------------
    def view(self) -> list[dict[str, Any]]:
        """Each device: kind, firmware, presence, outbox depth, last hello, latest update."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(devices, hellos.c.last_hello_ms)
                .outerjoin(
                    hellos,
                    sa.and_(hellos.c.hall == devices.c.hall, hellos.c.device == devices.c.id),
                )
                .where(devices.c.hall == self.hall)
                .order_by(devices.c.id)
            ).all()
            updates = self._latest_updates(conn)
        return [
            {
                "device": r.id,
                "kind": r.kind,
                "window": r.window,
                "paired": r.paired,
                "fw": r.fw,
                "online": bool(r.online),
                "last_seen_ms": r.last_seen_ms,
                "last_hello_ms": r.last_hello_ms,
                "outbox": r.outbox,
                "update": updates.get(r.id),
            }
            for r in rows
        ]

    def _latest_updates(self, conn: sa.Connection) -> dict[str, dict[str, Any]]:
        rows = conn.execute(
            sa.select(rollout_devices, rollouts.c.release, releases.c.version)
            .join(rollouts, rollouts.c.id == rollout_devices.c.rollout)
            .join(releases, releases.c.id == rollouts.c.release)
            .where(rollouts.c.hall == self.hall)
            .order_by(rollout_devices.c.rollout)
        ).all()
        return {
            r.device: {
                "rollout": r.rollout,
                "release": r.release,
                "version": r.version,
                "state": r.state,
                "detail": r.detail,
                "updated_ms": r.updated_ms,
            }
            for r in rows  # later rollouts overwrite earlier ones
        }
