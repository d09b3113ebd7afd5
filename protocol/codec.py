"""JSON codec with size limits, and the decoder that turns (topic, payload) into a message.

Everything that is not a valid v1 message raises a ProtocolError subclass, nothing else.
"""

import json

from protocol import messages, topics
from protocol.errors import PayloadError, ProtocolError, TooLargeError

MAX_EVENT_BYTES = 4096  # anything a device sends
MAX_COMMAND_BYTES = 65536  # a config with the badge list is the largest command


def encode(msg, limit=MAX_COMMAND_BYTES):
    """Compact UTF-8 JSON of a message dict; refuses to produce an oversize payload."""
    try:
        data = json.dumps(msg, separators=(",", ":"), ensure_ascii=False)
    except TypeError:
        data = json.dumps(msg)  # MicroPython's json has no keyword arguments
    raw = data.encode("utf-8")
    if len(raw) > limit:
        raise TooLargeError("payload of %d bytes is over the %d byte limit" % (len(raw), limit))
    return raw


def loads(payload, limit):
    """Parse a payload (bytes or str) into a dict, or raise a PayloadError subclass."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if not isinstance(payload, (bytes, bytearray)):
        raise PayloadError("payload must be bytes")
    if len(payload) > limit:
        raise TooLargeError("payload of %d bytes is over the %d byte limit" % (len(payload), limit))
    try:
        value = _parse(bytes(payload).decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any parser failure is the sender's fault
        raise PayloadError("payload is not UTF-8 JSON: %s" % (type(exc).__name__,)) from None
    if not isinstance(value, dict):
        raise PayloadError("payload must be a JSON object")
    return value


def _refuse_constant(name):
    raise ValueError("non-standard JSON constant " + name)


try:  # one decoder for every message: json.loads with a keyword builds a new one each call
    _DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
except (AttributeError, TypeError):
    # MicroPython: no JSONDecoder, and its json has no NaN literal to refuse
    _DECODER = None  # type: ignore[assignment]


def _parse(text):
    """json.loads that refuses NaN and Infinity, which no other JSON reader accepts, and text
    that is not Unicode (a lone surrogate escape, which a database's JSON type refuses)."""
    if _DECODER is None:
        return json.loads(text)
    value = _DECODER.decode(text)
    if "\\u" in text:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("lone surrogate") from None
    return value


class Message:
    """A decoded message: where it came from and its validated fields."""

    def __init__(self, topic, body):
        self.topic = topic
        self.body = body

    @property
    def kind(self):
        return self.topic.kind or self.topic.direction

    def __repr__(self):
        return "Message(%r, %r)" % (self.topic, self.body)


def decode(topic, payload):
    """Decode any protocol v1 message. Raises only ProtocolError subclasses."""
    try:
        return _decode(topic, payload)
    except ProtocolError:
        raise
    except Exception as exc:  # noqa: BLE001 - keep the promise: nothing but ProtocolError
        raise PayloadError("malformed message: %s" % (type(exc).__name__,)) from None


def _decode(topic, payload):
    where = topics.parse(topic)
    if where.direction == "evt":
        body = messages.validate_event(where.kind, loads(payload, MAX_EVENT_BYTES))
    elif where.direction == "cmd":
        body = messages.validate_command(where.kind, loads(payload, MAX_COMMAND_BYTES))
    elif where.direction == "ack":
        body = messages.validate_ack(loads(payload, MAX_EVENT_BYTES * 4))
    else:
        body = messages.validate_state(loads(payload, MAX_EVENT_BYTES))
    return Message(where, body)


def encode_event(kind, msg):
    messages.validate_event(kind, msg)
    return encode(msg, MAX_EVENT_BYTES)


def encode_command(kind, msg):
    messages.validate_command(kind, msg)
    return encode(msg, MAX_COMMAND_BYTES)
