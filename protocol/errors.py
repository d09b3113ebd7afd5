"""Errors raised by the protocol package.

One root, `ProtocolError`, which is also a `ValueError`, so callers can catch either.
MicroPython-safe: single inheritance only.
"""


class ProtocolError(ValueError):
    """Anything on the wire that does not follow protocol v1."""

    reason = "protocol"


class TopicError(ProtocolError):
    """A topic outside the layout yp/<v>/<hall>/<device>/..."""

    reason = "bad_topic"


class VersionError(ProtocolError):
    """A message or topic of a protocol major version this side does not speak."""

    reason = "unsupported_version"


class PayloadError(ProtocolError):
    """A payload that is not a JSON object within the size limit."""

    reason = "bad_payload"


class TooLargeError(PayloadError):
    """A payload over the size limit for its direction."""

    reason = "too_large"


class FieldError(PayloadError):
    """A field that is missing, of the wrong type, or out of range."""

    reason = "bad_field"

    def __init__(self, field, problem):
        PayloadError.__init__(self, "%s: %s" % (field, problem))
        self.field = field
        self.problem = problem


class UnknownKindError(ProtocolError):
    """A message kind that protocol v1 does not define."""

    reason = "unknown_kind"
