"""The decoder never raises anything but ProtocolError and never accepts an invalid message."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import codec, messages, topics
from protocol.errors import ProtocolError

KINDS = sorted(messages.EVENTS)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "v",
        "id",
        "ts",
        "up",
        "rw",
        "level",
        "reasons",
        "count",
        "uid",
        "action",
        "kind",
        "fw",
        "boot",
        "timeout_s",
        "by",
        "service",
        "reason",
        "uptime_s",
        "outbox",
        "ids",
        "online",
    ]
)
near_valid = st.dictionaries(field_names, json_values, max_size=10)
topic_text = st.one_of(
    st.text(max_size=60),
    st.builds(lambda k: topics.event("h", "d", k), st.sampled_from(KINDS)),
    st.builds(
        "/".join,
        st.lists(
            st.sampled_from(
                [
                    "yp",
                    "1",
                    "2",
                    "h",
                    "d",
                    "evt",
                    "cmd",
                    "ack",
                    "state",
                    "+",
                    "#",
                    "",
                    "gateway",
                    "rating",
                ]
            ),
            max_size=7,
        ),
    ),
)
payloads = st.one_of(
    st.binary(max_size=300),
    near_valid.map(lambda d: json.dumps(d).encode()),
    st.text(max_size=200).map(str.encode),
)


def _valid_again(message):
    """Anything accepted must pass the validators once more, re-encoded."""
    t = message.topic
    if t.direction == "evt":
        messages.validate_event(t.kind, json.loads(codec.encode(message.body)))
    elif t.direction == "cmd":
        messages.validate_command(t.kind, json.loads(codec.encode(message.body)))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(topic_text, payloads)
def test_decoder_raises_only_protocol_errors(topic, payload):
    try:
        message = codec.decode(topic, payload)
    except ProtocolError:
        return
    _valid_again(message)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(KINDS), near_valid)
def test_accepted_events_have_every_required_field_of_the_right_type(kind, body):
    body = dict(body, v=1)
    try:
        message = codec.decode(topics.event("h", "d", kind), json.dumps(body).encode())
    except ProtocolError:
        return
    for name, (required, _check) in {**messages.COMMON_EVENT, **messages.EVENTS[kind]}.items():
        assert not required or name in message.body


def _doc_examples():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text("utf-8")
    return [
        (t, json.loads(p)) for t, p in re.findall(r"```json topic=(\S+)\n(.*?)\n```", doc, re.S)
    ]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_doc_examples()), field_names, json_values)
def test_one_mutated_field_is_refused_or_still_valid(example, name, value):
    topic, body = example
    mutated = dict(body, **{name: value})
    try:
        message = codec.decode(topic, json.dumps(mutated).encode())
    except ProtocolError:
        return
    _valid_again(message)
    assert message.body[name] == value
