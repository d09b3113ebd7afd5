"""docs/protocol.md and protocol/ cannot drift: every example decodes, every kind has one."""

import json
import re
from pathlib import Path

import pytest

from protocol import COMMANDS, EVENTS, decode

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
EXAMPLE = re.compile(r"```json topic=(\S+)\n(.*?)\n```", re.S)


def examples():
    return EXAMPLE.findall(DOC.read_text(encoding="utf-8"))


@pytest.mark.parametrize("topic,payload", examples())
def test_every_example_decodes(topic, payload):
    message = decode(topic, payload.encode("utf-8"))
    assert message.body == json.loads(payload)


def test_every_kind_has_an_example():
    shown = {decode(topic, payload.encode()).topic for topic, payload in examples()}
    events = {t.kind for t in shown if t.direction == "evt"}
    commands = {t.kind for t in shown if t.direction == "cmd"}
    directions = {t.direction for t in shown}
    assert events == set(EVENTS)
    assert commands == set(COMMANDS)
    assert {"ack", "state"} <= directions
