"""A rating box opens its rating window when its paired window terminal opens one: the terminal's
rw_open is forwarded to every rating box paired with it as cmd/prompt (same timeout, same service,
so the one-rating-per-service rule spans both devices)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gateway.hooks import EventContext, Hooks
from gateway.store.tables import devices

# Built once, run with parameters: it runs inside the ingest for every rw_open.
PAIRED_BOXES = sa.select(devices.c.id).where(
    devices.c.hall == sa.bindparam("hall"),
    devices.c.paired == sa.bindparam("terminal"),
    devices.c.kind == "ratingbox",
)


class Pairing:
    def install(self, hooks: Hooks) -> None:
        hooks.on("rw_open", self.forward_prompt)

    def forward_prompt(self, ctx: EventContext) -> None:
        boxes = ctx.conn.scalars(PAIRED_BOXES, {"hall": ctx.hall, "terminal": ctx.device}).all()
        fields: dict[str, Any] = {"timeout_s": ctx.body["timeout_s"]}
        if ctx.body.get("service"):
            fields["service"] = ctx.body["service"]
        for box in boxes:
            ctx.send(box, "prompt", **fields)


def install(gateway: Any) -> None:
    """The entry in gateway.app.SUBSYSTEMS."""
    Pairing().install(gateway.hooks)
