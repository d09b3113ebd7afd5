"""The rating box's errors: one root; single inheritance keeps MicroPython happy."""


class BoxError(Exception):
    """Root of the rating box's own errors."""


class ConfigError(BoxError):
    """A config.json that cannot be used; the message names the key."""
