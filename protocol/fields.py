"""Field checks used by the message schemas. Each returns the value or raises FieldError."""

from protocol.errors import FieldError

# Milliseconds since the epoch, up to 2200-01-01. A device clock may be wrong (even 1970): the
# event still counts and protocol.clock corrects it.
TS_MIN = 0
TS_MAX = 7258118400000
INT_MAX = 2**53 - 1  # what every JSON reader represents exactly


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def integer(name, value, low=0, high=INT_MAX):
    if not is_int(value):
        raise FieldError(name, "must be an integer")
    if not low <= value <= high:
        raise FieldError(name, "must be between %d and %d" % (low, high))
    return value


def number(name, value, low, high):
    if not (is_int(value) or isinstance(value, float)) or value != value:
        raise FieldError(name, "must be a number")
    if not low <= value <= high:
        raise FieldError(name, "must be between %s and %s" % (low, high))
    return value


def boolean(name, value):
    if not isinstance(value, bool):
        raise FieldError(name, "must be true or false")
    return value


def text(name, value, longest, shortest=1):
    if not isinstance(value, str):
        raise FieldError(name, "must be text")
    if not shortest <= len(value) <= longest:
        raise FieldError(name, "must be %d to %d characters" % (shortest, longest))
    for ch in value:
        if ord(ch) < 32:
            raise FieldError(name, "must not contain control characters")
    return value


def choice(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise FieldError(name, "must be one of " + ", ".join(allowed))
    return value


def items(name, value, longest, check):
    """A list of at most `longest` items, each passed through check(name, item)."""
    if not isinstance(value, list):
        raise FieldError(name, "must be a list")
    if len(value) > longest:
        raise FieldError(name, "must have at most %d items" % longest)
    for index, item in enumerate(value):
        check("%s[%d]" % (name, index), item)
    return value


def obj(name, value):
    if not isinstance(value, dict):
        raise FieldError(name, "must be an object")
    return value


def timestamp(name, value):
    return integer(name, value, TS_MIN, TS_MAX)


def event_id(name, value):
    """An event id: "<boot>-<seq>", both decimal, at most 10 digits each."""
    if not isinstance(value, str) or len(value) > 21:
        raise FieldError(name, "must be text of the form <boot>-<seq>")
    parts = value.split("-")
    if len(parts) != 2:
        raise FieldError(name, "must be of the form <boot>-<seq>")
    for part in parts:
        if not 1 <= len(part) <= 10 or not part.isdigit() or (len(part) > 1 and part[0] == "0"):
            raise FieldError(name, "must be of the form <boot>-<seq> in plain decimal")
    return value


def hex_text(name, value, shortest, longest):
    """Upper- or lower-case hex of an even number of digits."""
    text(name, value, longest, shortest)
    if len(value) % 2:
        raise FieldError(name, "must have an even number of hex digits")
    for ch in value:
        if ch not in "0123456789abcdefABCDEF":
            raise FieldError(name, "must be hex digits")
    return value
