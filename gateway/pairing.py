"""A rating box opens its rating window when its paired window terminal opens one: the terminal's
rw_open is forwarded to every rating box paired with it as cmd/prompt (same timeout, same service,
so the one-rating-per-service rule spans both devices)."""

from __future__ import annotations

from typing import Any

from gateway.hooks import EventContext, Hooks


class Pairing:
    def __init__(self) -> None:
        # The rating boxes of each terminal, worked out once per registry the ingest reads (one
        # per batch), not per rw_open: (that registry, {terminal: [boxes]}).
        self._boxes: tuple[Any, dict[str, list[str]]] = (None, {})

    def install(self, hooks: Hooks) -> None:
        hooks.on("rw_open", self.forward_prompt)

    def boxes_of(self, registry: dict[str, Any], terminal: str) -> list[str]:
        seen, boxes = self._boxes
        if seen is not registry:
            boxes = {}
            for device in registry.values():
                if device.kind == "ratingbox" and device.paired:
                    boxes.setdefault(device.paired, []).append(device.id)
            self._boxes = (registry, boxes)
        return boxes.get(terminal, [])

    def forward_prompt(self, ctx: EventContext) -> None:
        # From the registry the ingest read for this batch: no query per rw_open.
        boxes = self.boxes_of(ctx.devices, ctx.device)
        fields: dict[str, Any] = {"timeout_s": ctx.body["timeout_s"]}
        if ctx.body.get("service"):
            fields["service"] = ctx.body["service"]
        for box in boxes:
            ctx.send(box, "prompt", **fields)


def install(gateway: Any) -> None:
    """The entry in gateway.app.SUBSYSTEMS."""
    Pairing().install(gateway.hooks)
