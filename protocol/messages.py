"""Message kinds of protocol v1 and their field rules.

A message is a plain dict. `validate_event(kind, msg)` / `validate_command(kind, msg)` return it
unchanged when it follows the rules, else raise a ProtocolError subclass. Unknown fields are
ignored (a later minor revision may add optional fields); a newer major version is refused.
"""

from protocol import fields as f
from protocol.errors import FieldError, UnknownKindError, VersionError
from protocol.levels import BAD_REASONS, LEVELS, PAUSE_REASONS

VERSION = 1
DEVICE_KINDS = ("terminal", "ratingbox")
CLERK_ACTIONS = ("call_next", "recall", "complete", "pause", "resume", "no_show")
UNRATED_REASONS = ("timeout", "cancelled", "power_loss")
SESSION_STATES = ("open", "closed", "rejected")
TICKET_ACTIONS = ("call", "recall", "clear")
UPDATE_STATES = (
    "offered",
    "downloading",
    "verified",
    "installed",
    "healthy",
    "failed",
    "rolled_back",
    "refused",
)
MESSAGE_LEVELS = ("info", "warning", "error")
BADGE_ACTIONS = ("login", "logout")


def _opt(check):
    return (False, check)


def _req(check):
    return (True, check)


def _text(longest, shortest=1):
    return lambda name, value: f.text(name, value, longest, shortest)


def _int(low=0, high=f.INT_MAX):
    return lambda name, value: f.integer(name, value, low, high)


def _choice(allowed):
    return lambda name, value: f.choice(name, value, allowed)


def _texts(count, longest):
    return lambda name, value: f.items(name, value, count, _text(longest))


def _service(name, value):
    """What a rating window rates: the ticket and matter served, all optional but typed."""
    f.obj(name, value)
    _check_fields(name + ".", value, SERVICE_FIELDS)
    return value


def _clerk(name, value):
    f.obj(name, value)
    _check_fields(name + ".", value, CLERK_FIELDS)
    return value


def _badge_entry(name, value):
    f.obj(name, value)
    _check_fields(name + ".", value, BADGE_ENTRY_FIELDS)
    return value


def _event_ids(name, value):
    return f.items(name, value, 500, f.event_id)


SERVICE_FIELDS = {
    "ticket": _opt(_text(16)),  # "A012"
    "service": _opt(_text(32)),  # service id, e.g. "realestate"
    "service_name": _opt(_text(32)),  # "不动产登记"
    "matter": _opt(_text(64)),  # 事项 code
    "case_no": _opt(_text(64)),  # 办件编号
}

CLERK_FIELDS = {
    "name": _req(_text(32)),
    "staff_no": _req(_text(32)),
    "role": _opt(_choice(("clerk", "helper", "manager", "technician"))),
}

BADGE_ENTRY_FIELDS = {
    "h": _req(lambda n, v: f.hex_text(n, v, 16, 64)),  # keyed hash of the badge UID
    "name": _req(_text(32)),
    "staff_no": _req(_text(32)),
}

COMMON_EVENT = {
    "v": _req(_int(1, 1)),
    "id": _req(f.event_id),
    "ts": _req(f.timestamp),  # device wall clock, ms since epoch (may be wrong)
    "up": _req(_int()),  # ms since this boot (monotonic): corrects a wrong clock
}

EVENTS = {
    "hello": {
        "kind": _req(_choice(DEVICE_KINDS)),
        "fw": _req(_text(32)),
        "boot": _req(_int(0, 9999999999)),
        "paired": _opt(_text(32)),  # a rating box names the terminal it serves
    },
    "heartbeat": {
        "uptime_s": _req(_int()),
        "outbox": _req(_int(0, 10000000)),
        "fw": _opt(_text(32)),
        "rssi": _opt(_int(-150, 0)),
        "session": _opt(f.boolean),
    },
    "badge": {
        "uid": _req(lambda n, v: f.hex_text(n, v, 8, 20)),  # 4, 7 or 10 byte NFC UID
        "action": _req(_choice(BADGE_ACTIONS)),
        "offline": _opt(f.boolean),  # decided from the pushed badge list while offline
    },
    "clerk": {
        "action": _req(_choice(CLERK_ACTIONS)),
        "reason": _opt(_choice(PAUSE_REASONS)),
    },
    "rw_open": {
        "rw": _req(f.event_id),  # the rating window id: the id of this very event
        "timeout_s": _req(_int(1, 600)),
        "by": _req(_choice(("clerk", "queue"))),
        "service": _opt(_service),
    },
    "rating": {
        "rw": _req(f.event_id),
        "level": _req(_choice(LEVELS)),
        "reasons": _opt(
            lambda n, v: f.items(n, v, 4, lambda n2, v2: f.choice(n2, v2, BAD_REASONS))
        ),
        "channel": _opt(_choice(("keys", "phone"))),
    },
    "unrated": {
        "rw": _req(f.event_id),
        "reason": _req(_choice(UNRATED_REASONS)),
    },
    "stray": {
        "count": _req(_int(1, 1000000)),
    },
    "update": {
        "version": _req(_text(32)),
        "state": _req(_choice(UPDATE_STATES)),
        "detail": _opt(_text(200)),
    },
}

COMMON_COMMAND = {
    "v": _req(_int(1, 1)),
    "ts": _req(f.timestamp),  # gateway clock
}

COMMANDS = {
    "session": {
        "state": _req(_choice(SESSION_STATES)),
        "clerk": _opt(_clerk),
        "window": _opt(_text(16)),  # window label shown on the device, e.g. "3号窗口"
        "reason": _opt(_text(64)),  # why a badge was rejected, in Chinese
    },
    "ticket": {
        "action": _req(_choice(TICKET_ACTIONS)),
        "ticket": _opt(_text(16)),
        "service_name": _opt(_text(32)),
        "display": _opt(_text(64)),  # "A012 请到3号窗口"
        "voice": _opt(_text(64)),  # "请A012号到3号窗口办理"
    },
    "prompt": {
        "timeout_s": _req(_int(1, 600)),
        "service": _opt(_service),
    },
    "config": {
        "hall_name": _opt(_text(32)),
        "window": _opt(_text(16)),
        "rating_timeout_s": _opt(_int(1, 600)),
        "badge_key": _opt(lambda n, v: f.hex_text(n, v, 32, 128)),
        "badges": _opt(lambda n, v: f.items(n, v, 500, _badge_entry)),
        "rate_url": _opt(_text(200)),  # base of the QR code for rating on a phone
        "paired": _opt(_text(32)),
    },
    "update": {
        "release": _req(_text(64)),
        "version": _req(_text(32)),
        "url": _req(_text(300)),
        "sha256": _req(lambda n, v: f.hex_text(n, v, 64, 64)),
        "sig": _req(_text(200)),  # Ed25519 signature of the sha256, base64
        "size": _req(_int(1, 2**31)),
    },
    "rw_close": {  # a rating window closed on the gateway's side (rated on a phone)
        "rw": _req(f.event_id),
        "outcome": _req(_choice(("rated",))),
        "channel": _opt(_choice(("keys", "phone"))),
    },
    "message": {
        "level": _req(_choice(MESSAGE_LEVELS)),
        "text": _req(_text(64)),  # shown on the device screen, in Chinese
        "code": _opt(_text(32)),
    },
}

ACK = {
    "v": _req(_int(1, 1)),
    "ids": _req(_event_ids),
}

STATE = {
    "v": _req(_int(1, 1)),
    "online": _req(f.boolean),
    "ts": _opt(f.timestamp),
    "kind": _opt(_choice(DEVICE_KINDS + ("gateway",))),
    "fw": _opt(_text(32)),
}


def _check_fields(prefix, msg, schema):
    for name in schema:
        required, check = schema[name]
        if name in msg:
            check(prefix + name, msg[name])
        elif required:
            raise FieldError(prefix + name, "is required")


def check_version(msg):
    """Refuse a newer major version before anything else is looked at."""
    v = msg.get("v")
    if not f.is_int(v):
        raise FieldError("v", "must be the protocol major version, an integer")
    if v != VERSION:
        raise VersionError("message of protocol v%d, this side speaks v%d" % (v, VERSION))


def _validate(msg, common, schema):
    f.obj("message", msg)
    check_version(msg)
    _check_fields("", msg, common)
    _check_fields("", msg, schema)
    return msg


def validate_event(kind, msg):
    if kind not in EVENTS:
        raise UnknownKindError("unknown event kind: %r" % (kind,))
    _validate(msg, COMMON_EVENT, EVENTS[kind])
    if kind == "rw_open" and msg["rw"] != msg["id"]:
        raise FieldError("rw", "must equal the id of the rw_open event")
    return msg


def validate_command(kind, msg):
    if kind not in COMMANDS:
        raise UnknownKindError("unknown command kind: %r" % (kind,))
    return _validate(msg, COMMON_COMMAND, COMMANDS[kind])


def validate_ack(msg):
    return _validate(msg, {}, ACK)


def validate_state(msg):
    return _validate(msg, {}, STATE)


def make_event(event_kind, event_id, ts, up, **fields):
    """Build and validate an event dict. (`event_kind`, not `kind`: hello has a `kind` field.)"""
    msg = {"v": VERSION, "id": event_id, "ts": ts, "up": up}
    msg.update(fields)
    return validate_event(event_kind, msg)


def make_command(command_kind, ts, **fields):
    """Build and validate a command dict."""
    msg = {"v": VERSION, "ts": ts}
    msg.update(fields)
    return validate_command(command_kind, msg)


def make_ack(ids):
    return validate_ack({"v": VERSION, "ids": list(ids)})


def make_state(online, **fields):
    msg = {"v": VERSION, "online": online}
    msg.update(fields)
    return validate_state(msg)
