"""Device presence (hello, heartbeat) and the config each device is pushed.

A device gets cmd/config on every hello, and again whenever the staff list changes: a terminal's
config carries the hall's badge key and the badge list, so it can accept a known badge offline.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gateway.config import Config
from gateway.hooks import EventContext, Hooks
from gateway.registry import hall_row, window_label
from gateway.staff import badge_list
from gateway.store.tables import devices
from protocol import clock, ids


def device_config(conn: sa.Connection, config: Config, device: sa.Row) -> dict[str, Any]:
    """The fields of cmd/config for one device."""
    hall = hall_row(conn, device.hall)
    fields: dict[str, Any] = {
        "hall_name": hall.name[:32],
        "rating_timeout_s": config.rating_timeout_s,
    }
    label = window_label(conn, device.hall, device.window)
    if label:
        fields["window"] = label
    if config.rate_url:
        fields["rate_url"] = config.rate_url
    if device.kind == "terminal":
        fields["badge_key"] = hall.badge_key
        fields["badges"] = badge_list(conn, device.hall)
    if device.paired:
        fields["paired"] = device.paired
    return fields


class Presence:
    def __init__(self, config: Config) -> None:
        self.config = config

    def install(self, hooks: Hooks) -> None:
        hooks.on("hello", self.hello)
        hooks.on("heartbeat", self.heartbeat)

    def _update(self, ctx: EventContext, **values: Any) -> None:
        ctx.conn.execute(
            devices.update()
            .where(devices.c.hall == ctx.hall, devices.c.id == ctx.device)
            .values(last_seen_ms=ctx.received_ms, **values)
        )

    def hello(self, ctx: EventContext) -> None:
        body = ctx.body
        boot, _ = ids.split(body["id"])
        start = ctx.at_ms - body["up"]  # the boot start estimate the corrected time used
        skew = clock.skew_ms(body["ts"], body["up"], start)
        self._update(ctx, fw=body["fw"], boot=boot, online=True, skew_ms=skew)
        row = ctx.conn.execute(
            sa.select(devices).where(devices.c.hall == ctx.hall, devices.c.id == ctx.device)
        ).one()
        ctx.send(ctx.device, "config", **device_config(ctx.conn, self.config, row))

    def heartbeat(self, ctx: EventContext) -> None:
        values: dict[str, Any] = {"outbox": ctx.body["outbox"], "online": True}
        if ctx.body.get("fw"):
            values["fw"] = ctx.body["fw"]
        self._update(ctx, **values)  # the ingest sets the outbox metric after commit
