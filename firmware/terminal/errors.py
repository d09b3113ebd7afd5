"""Errors of the window terminal firmware: one root, leaves that also inherit the built-in
they resemble, so callers may catch either."""


class TerminalError(Exception):
    """Root of the window terminal's own errors."""


class ConfigError(TerminalError, ValueError):
    """A device config that cannot be used; `key` names the offending setting."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


class OutboxError(TerminalError, OSError):
    """The outbox file cannot be opened or written (missing directory, full or read-only disk)."""
