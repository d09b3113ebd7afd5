"""`yuping province worker`: one central ingest worker (run N of them, on any hosts)."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click

from gateway import config as gwconfig
from gateway.brokeraccess import broker_access
from gateway.commands import broker_options
from gateway.config import Config, ConfigError
from gateway.store import normalise_url

BROKER_FIELDS = (
    "broker",
    "broker_user",
    "broker_password",
    "broker_password_file",
    "broker_ca",
    "broker_cert",
    "broker_key",
)


def hall_configs(folder: Path | None, worker: Config) -> Callable[[str], Config]:
    """A hall's settings: <folder>/<hall>.toml (a hall gateway's file: queue set-up, time zone,
    follow-up …) when present, else the defaults; store and broker are always the worker's."""
    shared = {name: getattr(worker, name) for name in ("db", *BROKER_FIELDS)}

    def load(hall: str) -> Config:
        path = folder / f"{hall}.toml" if folder else None
        base = gwconfig.load(path) if path and path.exists() else Config()
        return replace(base, hall=hall, http=None, client_id=None, **shared)

    return load


def _subsystems(text: str | None) -> list[str] | None:
    from gateway.app import SUBSYSTEMS

    if text is None:
        return None
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SUBSYSTEMS))
    if unknown:
        known = ", ".join(SUBSYSTEMS)
        raise click.ClickException(f"unknown subsystem(s) {', '.join(unknown)}; known: {known}")
    return chosen


@click.group()
def province() -> None:
    """The province tier: central ingest workers (see docs/deployment.md)."""


@province.command("worker")
@click.option("--db", required=True, help="the central PostgreSQL URL")
@broker_options
@click.option("--group", default="yuping", show_default=True, help="shared subscription group")
@click.option("--worker-id", help="unique per worker; default <host>-<pid>")
@click.option(
    "--halls",
    "halls_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="folder of per-hall gateway settings, <hall>.toml",
)
@click.option("--subsystems", help="comma-separated gateway subsystems per hall; default all")
@click.option(
    "--pool-size",
    default=20,
    show_default=True,
    type=click.IntRange(2, 500),
    help="store connections; each busy hall's ingest holds one while it writes",
)
def worker(
    db: str,
    group: str,
    worker_id: str | None,
    halls_dir: Path | None,
    subsystems: str | None,
    pool_size: int,
    **broker: str | None,
) -> None:
    """Consume every hall's events from the shared subscription until SIGTERM/SIGINT."""
    from gateway import logs
    from gateway.province.worker import Worker
    from gateway.store import make_engine

    logs.setup()
    settings = Config(db=db).with_overrides(**broker)
    try:
        access = broker_access(settings)
        if not normalise_url(db).startswith("postgresql"):
            raise ConfigError("province workers share a PostgreSQL store: --db postgresql://…")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    name = worker_id or f"{socket.gethostname()}-{os.getpid()}"
    chosen = _subsystems(subsystems)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    engine = make_engine(db, pool_size=pool_size, max_overflow=pool_size // 2)
    running = Worker(engine, access, group, name, hall_configs(halls_dir, settings), chosen)
    running.start()
    click.echo(f"province worker {name}: group {group} on {access.address}", err=True)
    try:
        stop.wait()
    finally:
        running.stop()
        engine.dispose()
