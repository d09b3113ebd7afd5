"""Registering a provisioned device in the gateway's store, so the gateway accepts it."""

from __future__ import annotations

from gateway import registry
from gateway.provision.registry import DeviceRecord
from gateway.store import make_engine, migrate


def register(db: str, record: DeviceRecord, hall_name: str | None = None) -> None:
    """Add the device (and its hall and window, if new) to the gateway database at `db`."""
    import gateway.fleet.tables  # noqa: F401 - every table joins the metadata before migrating
    import gateway.store.tables  # noqa: F401

    engine = make_engine(db)
    try:
        migrate(engine)
        with engine.begin() as conn:
            registry.ensure_hall(conn, record.hall, hall_name or record.hall)
            window = record.window or None
            if window and registry.window_label(conn, record.hall, window) is None:
                if not window.isdigit():
                    raise registry.RegistryError(
                        f"window {window!r} is not registered; use its number or register it first"
                    )
                registry.add_window(conn, record.hall, window, int(window))
            registry.add_device(
                conn, record.hall, record.device, record.kind, window, record.paired or None
            )
    finally:
        engine.dispose()
