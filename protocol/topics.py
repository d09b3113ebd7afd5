"""Topic builders and the one topic parser.

Layout (protocol v1):
    yp/1/<hall>/<device>/evt/<kind>   device -> gateway
    yp/1/<hall>/<device>/ack          gateway -> device
    yp/1/<hall>/<device>/cmd/<kind>   gateway -> device
    yp/1/<hall>/<device>/state        device, retained
    yp/1/<hall>/gateway/state         gateway, retained
"""

from protocol.errors import TopicError, VersionError

ROOT = "yp"
VERSION = 1
GATEWAY = "gateway"  # reserved: no device may take this id
ID_MAX = 32
KIND_MAX = 16

_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
_KIND_CHARS = "abcdefghijklmnopqrstuvwxyz_"


def _valid(text, chars, longest):
    if not isinstance(text, str) or not 1 <= len(text) <= longest:
        return False
    return not text.strip(chars)  # every character is one of chars


def valid_id(text):
    """True when text may name a hall or a device: [a-z0-9-]{1,32}."""
    return _valid(text, _ID_CHARS, ID_MAX)


def check_id(text, what):
    """Return text when it is a valid hall/device id, else raise TopicError."""
    if not valid_id(text):
        raise TopicError("%s id must match [a-z0-9-]{1,32}: %r" % (what, text))
    return text


def _check_kind(kind):
    if not _valid(kind, _KIND_CHARS, KIND_MAX):
        raise TopicError("message kind must match [a-z_]{1,16}: %r" % (kind,))
    return kind


def _base(hall, device):
    return "%s/%d/%s/%s" % (ROOT, VERSION, check_id(hall, "hall"), check_id(device, "device"))


def _device_base(hall, device):
    if device == GATEWAY:
        raise TopicError("device id 'gateway' is reserved")
    return _base(hall, device)


def event(hall, device, kind):
    """yp/1/<hall>/<device>/evt/<kind>"""
    return _device_base(hall, device) + "/evt/" + _check_kind(kind)


def command(hall, device, kind):
    """yp/1/<hall>/<device>/cmd/<kind>"""
    return _device_base(hall, device) + "/cmd/" + _check_kind(kind)


def ack(hall, device):
    """yp/1/<hall>/<device>/ack"""
    return _device_base(hall, device) + "/ack"


def state(hall, device):
    """yp/1/<hall>/<device>/state (retained)"""
    return _device_base(hall, device) + "/state"


def gateway_state(hall):
    """yp/1/<hall>/gateway/state (retained)"""
    return _base(hall, GATEWAY) + "/state"


def device_commands(hall, device):
    """Subscription filter for everything a device receives."""
    return _device_base(hall, device) + "/cmd/+"


def hall_events(hall):
    """Subscription filter for every device event of a hall."""
    return "%s/%d/%s/+/evt/+" % (ROOT, VERSION, check_id(hall, "hall"))


def hall_states(hall):
    """Subscription filter for every device state of a hall."""
    return "%s/%d/%s/+/state" % (ROOT, VERSION, check_id(hall, "hall"))


class Topic:
    """A parsed topic. `direction` is one of evt, cmd, ack, state."""

    def __init__(self, hall, device, direction, kind):
        self.hall = hall
        self.device = device
        self.direction = direction
        self.kind = kind

    def __eq__(self, other):
        return isinstance(other, Topic) and self.parts() == other.parts()

    def __hash__(self):
        return hash(self.parts())

    def __repr__(self):
        return "Topic(%r, %r, %r, %r)" % self.parts()

    def parts(self):
        return (self.hall, self.device, self.direction, self.kind)

    @property
    def is_gateway(self):
        return self.device == GATEWAY


def _check_version(text):
    if not text.isdigit() or len(text) > 4:
        raise TopicError("protocol version must be a number: %r" % (text,))
    if int(text) != VERSION:
        raise VersionError("topic of protocol v%s, this side speaks v%d" % (text, VERSION))


def parse(topic):
    """Parse a concrete topic into a Topic, or raise a TopicError subclass.

    Wildcards, empty levels, extra or missing levels, bad ids and unknown versions are refused.
    """
    if not isinstance(topic, str):
        raise TopicError("topic must be text")
    parts = topic.split("/")
    if len(parts) < 5 or len(parts) > 6 or parts[0] != ROOT:
        raise TopicError("not a yp/<v>/<hall>/<device>/... topic: %r" % (topic[:80],))
    _check_version(parts[1])
    hall = check_id(parts[2], "hall")
    device = check_id(parts[3], "device")
    direction = parts[4]
    if len(parts) == 5:
        return _parse_short(hall, device, direction)
    if direction not in ("evt", "cmd") or device == GATEWAY:
        raise TopicError("unknown topic layout: %r" % (topic[:80],))
    return Topic(hall, device, direction, _check_kind(parts[5]))


def _parse_short(hall, device, direction):
    if direction == "state":
        return Topic(hall, device, "state", None)
    if direction == "ack" and device != GATEWAY:
        return Topic(hall, device, "ack", None)
    raise TopicError("unknown topic layout under %s/%s: %r" % (hall, device, direction))
