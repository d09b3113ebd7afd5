"""The gateway's commands: `yuping gateway`, `yuping staff`, `yuping admin`, `yuping backup|restore`."""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from gateway import config as gwconfig
from gateway.config import Config, ConfigError


def _config(path: str | None, **overrides: Any) -> Config:
    try:
        cfg = gwconfig.load(path).with_overrides(**overrides)
        cfg.broker_host_port  # noqa: B018 - validate early, with a clear message
        cfg.http_host_port  # noqa: B018
        return cfg
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def store_options(fn: Callable) -> Callable:
    fn = click.option("--hall", help="hall id (overrides the config file)")(fn)
    fn = click.option("--db", help="store URL or SQLite path (overrides the config file)")(fn)
    return click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False))(fn)


def _engine(cfg: Config) -> sa.Engine:
    import gateway.store.tables  # noqa: F401 - core tables join the metadata
    from gateway.registry import ensure_hall
    from gateway.store import make_engine, migrate

    engine = make_engine(cfg.db)
    migrate(engine)
    with engine.begin() as conn:
        ensure_hall(conn, cfg.hall, cfg.hall_name)
    return engine


def _in_store(cfg: Config, action: Callable[[sa.Connection], Any]) -> Any:
    from gateway.registry import RegistryError

    engine = _engine(cfg)
    try:
        with engine.begin() as conn:
            return action(conn)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()


def broker_options(fn: Callable) -> Callable:
    """Broker flags; the password itself is never a flag (it would show in `ps`)."""
    fn = click.option("--broker-ca", help="CA certificate (PEM) of an mqtts:// broker")(fn)
    fn = click.option(
        "--broker-password-file",
        help="file holding the broker password (else broker_password_file, $YUPING_BROKER_PASSWORD)",
    )(fn)
    fn = click.option("--broker-user", help="broker login, e.g. gateway.<hall>")(fn)
    return click.option(
        "--broker", help="mqtt://HOST:PORT or mqtts://HOST:PORT (overrides the config file)"
    )(fn)


@click.command()
@store_options
@broker_options
@click.option("--http", help="HOST:PORT for the HTTP API (overrides the config file)")
def gateway(
    config_path: str | None,
    db: str | None,
    hall: str | None,
    http: str | None,
    **broker: str | None,
) -> None:
    """Run the hall gateway until interrupted."""
    from gateway import logs
    from gateway.app import Gateway
    from gateway.brokeraccess import broker_access
    from gateway.hooks import GatewayError

    logs.setup()
    cfg = _config(config_path, db=db, hall=hall, http=http, **broker)
    try:
        broker_access(cfg)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        gw = Gateway(cfg).start()
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    gw.settle()
    click.echo(
        f"gateway for hall {cfg.hall} on {cfg.broker}, store {cfg.db}, http {cfg.http or 'off'}",
        err=True,
    )
    try:
        stop.wait()
    finally:
        gw.stop()


@click.group()
def staff() -> None:
    """Staff and their badges."""


@staff.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@store_options
def staff_import(csv_file: str, config_path: str | None, db: str | None, hall: str | None) -> None:
    """Import staff from CSV (name,staff_no,role,badge_uid,team): every row or none.

    Running gateways push the new badge lists to terminals at their next hello; use the HTTP
    API's /api/staff/import to push at once.
    """
    from gateway.staff import import_csv

    cfg = _config(config_path, db=db, hall=hall)
    text = Path(csv_file).read_text(encoding="utf-8-sig")
    count = _in_store(cfg, lambda conn: import_csv(conn, cfg.hall, text))
    click.echo(f"imported {count} staff into hall {cfg.hall}")


@click.group()
def admin() -> None:
    """Register windows, devices and web users."""


@admin.command("window")
@click.argument("window_id")
@click.argument("number", type=int)
@click.option("--label", help='shown on the device, default "<number>号窗口"')
@store_options
def admin_window(
    window_id: str,
    number: int,
    label: str | None,
    config_path: str | None,
    db: str | None,
    hall: str | None,
) -> None:
    """Register a window."""
    from gateway.registry import add_window

    cfg = _config(config_path, db=db, hall=hall)
    _in_store(cfg, lambda conn: add_window(conn, cfg.hall, window_id, number, label))
    click.echo(f"window {window_id} registered")


@admin.command("device")
@click.argument("device_id")
@click.argument("kind", type=click.Choice(["terminal", "ratingbox"]))
@click.option("--window")
@click.option("--paired", help="the terminal a rating box serves")
@store_options
def admin_device(
    device_id: str,
    kind: str,
    window: str | None,
    paired: str | None,
    config_path: str | None,
    db: str | None,
    hall: str | None,
) -> None:
    """Register a device (technicians: `yuping provision` also writes broker credentials)."""
    from gateway.registry import add_device

    cfg = _config(config_path, db=db, hall=hall)
    _in_store(cfg, lambda conn: add_device(conn, cfg.hall, device_id, kind, window, paired))
    click.echo(f"device {device_id} registered")


@admin.command("user")
@click.argument("username")
@click.argument("role", type=click.Choice(["manager", "technician", "clerk"]))
@click.option("--staff-no", help="the staff member a clerk login belongs to")
@click.password_option()
@store_options
def admin_user(
    username: str,
    role: str,
    staff_no: str | None,
    password: str,
    config_path: str | None,
    db: str | None,
    hall: str | None,
) -> None:
    """Create a web user (password hashed with argon2id)."""
    from gateway.registry import RegistryError
    from gateway.store.tables import staff as staff_table
    from gateway.users import add_user

    cfg = _config(config_path, db=db, hall=hall)

    def create(conn: sa.Connection) -> None:
        staff_id = None
        if staff_no:
            query = sa.select(staff_table.c.id).where(
                staff_table.c.hall == cfg.hall, staff_table.c.staff_no == staff_no
            )
            staff_id = conn.execute(query).scalar()
            if staff_id is None:
                raise RegistryError(f"no staff number {staff_no!r} in hall {cfg.hall}")
        add_user(conn, username, password, role, cfg.hall, staff_id)

    _in_store(cfg, create)
    click.echo(f"user {username} ({role}) created")


def _sqlite_path(cfg: Config) -> Path:
    from gateway.store import normalise_url

    url = normalise_url(cfg.db)
    if not url.startswith("sqlite:///"):
        raise click.ClickException(
            "backup/restore handle SQLite stores; use pg_dump for PostgreSQL"
        )
    return Path(url[len("sqlite:///") :])


def _copy(source: Path, target: Path) -> int:
    """Copy one SQLite database into another with the online backup API (safe while in use)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=1024)
        return int(dst.execute("pragma page_count").fetchone()[0])
    finally:
        dst.close()
        src.close()


@click.command()
@click.argument("destination", type=click.Path(dir_okay=False))
@store_options
def backup(destination: str, config_path: str | None, db: str | None, hall: str | None) -> None:
    """Copy the live SQLite store to DESTINATION (consistent even while the gateway writes)."""
    source = _sqlite_path(_config(config_path, db=db, hall=hall))
    if not source.exists():
        raise click.ClickException(f"no store at {source}")
    if Path(destination).exists():
        raise click.ClickException(f"{destination} exists; choose a new file")
    pages = _copy(source, Path(destination))
    click.echo(f"backed up {source} to {destination} ({pages} pages)")


@click.command()
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False))
@store_options
@click.option("--yes", is_flag=True, help="replace the store's contents without asking")
def restore(
    backup_file: str, config_path: str | None, db: str | None, hall: str | None, yes: bool
) -> None:
    """Replace the SQLite store's contents with BACKUP_FILE. Stop the gateway first."""
    target = _sqlite_path(_config(config_path, db=db, hall=hall))
    try:
        with sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True) as check:
            if check.execute("pragma integrity_check").fetchone()[0] != "ok":
                raise click.ClickException(f"{backup_file} fails SQLite's integrity check")
            check.execute("select count(*) from events").fetchone()
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{backup_file} is not a Yuping store: {exc}") from exc
    if not yes:
        click.confirm(f"replace everything in {target} with {backup_file}?", abort=True)
    pages = _copy(Path(backup_file), target)
    click.echo(f"restored {target} from {backup_file} ({pages} pages)")
