"""A rating box opens its rating window when its paired window terminal opens one: the terminal's
rw_open is forwarded to every rating box paired with it as cmd/prompt (same timeout, same service,
so the one-rating-per-service rule spans both devices)."""

from __future__ import annotations

from typing import Any

from gateway.hooks import EventContext, Hooks


class Pairing:
    def install(self, hooks: Hooks) -> None:
        hooks.on("rw_open", self.forward_prompt)

    def forward_prompt(self, ctx: EventContext) -> None:
        # From the registry the ingest read for this batch: no query per rw_open.
        boxes = [
            d.id for d in ctx.devices.values() if d.paired == ctx.device and d.kind == "ratingbox"
        ]
        fields: dict[str, Any] = {"timeout_s": ctx.body["timeout_s"]}
        if ctx.body.get("service"):
            fields["service"] = ctx.body["service"]
        for box in boxes:
            ctx.send(box, "prompt", **fields)


def install(gateway: Any) -> None:
    """The entry in gateway.app.SUBSYSTEMS."""
    Pairing().install(gateway.hooks)
