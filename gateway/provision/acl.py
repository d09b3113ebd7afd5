"""The broker's ACL file.

A device's broker user name is its device id, so Mosquitto's `%u` patterns confine every device to
its own topics: it may publish only its events and its retained state, and read only its own
commands and acks (plus the gateway's state). Patterns use the authenticated user name, never the
client id (`%c`), because a client picks its own client id and could borrow another's rights.
Each hall's gateway has its own account with rights over the whole hall.
"""

from __future__ import annotations

from collections.abc import Iterable

from protocol import topics


def gateway_user(hall: str) -> str:
    """The gateway's broker account for a hall. The '.' keeps it out of the device id space."""
    return f"gateway.{topics.check_id(hall, 'hall')}"


def device_patterns(hall: str) -> list[str]:
    base = f"{topics.ROOT}/{topics.VERSION}/{hall}"
    return [
        f"pattern write {base}/%u/evt/+",
        f"pattern readwrite {base}/%u/state",
        f"pattern read {base}/%u/cmd/+",
        f"pattern read {base}/%u/ack",
        f"pattern read {topics.gateway_state(hall)}",
    ]


def gateway_rules(hall: str) -> list[str]:
    return [
        f"user {gateway_user(hall)}",
        f"topic readwrite {topics.ROOT}/{topics.VERSION}/{hall}/#",
    ]


def render(halls: Iterable[str]) -> str:
    """The whole ACL file for the halls served by one broker."""
    lines = ["# Written by `yuping provision`; edits here are overwritten.", ""]
    for hall in sorted(set(halls)):
        topics.check_id(hall, "hall")
        lines += [f"# hall {hall}: each device only under its own id (%u)"]
        lines += device_patterns(hall)
        lines += gateway_rules(hall) + [""]
    return "\n".join(lines)
