"""Yuping protocol v1: topics, messages and their codec. Pure code, no I/O.

Imports and runs unchanged on CPython and MicroPython (no dataclasses, no runtime typing).
"""

from protocol.codec import (  # noqa: F401
    MAX_COMMAND_BYTES,
    MAX_EVENT_BYTES,
    Message,
    decode,
    encode,
    encode_command,
    encode_event,
)
from protocol.errors import (  # noqa: F401
    FieldError,
    PayloadError,
    ProtocolError,
    TooLargeError,
    TopicError,
    UnknownKindError,
    VersionError,
)
from protocol.messages import (  # noqa: F401
    COMMANDS,
    EVENTS,
    VERSION,
    make_ack,
    make_command,
    make_event,
    make_state,
    validate_ack,
    validate_command,
    validate_event,
    validate_state,
)
