"""Errors of the flashing tools."""

from gateway.provision.errors import TechnicianError


class FlashError(TechnicianError):
    """Root of flashing errors."""


class NotABootPartition(FlashError, ValueError):
    """The path given as a Raspberry Pi boot partition is not one."""


class BoardError(FlashError, OSError):
    """The board did not answer as a MicroPython raw REPL should, or a command failed on it."""


class TransferCorrupted(FlashError, ValueError):
    """A file's hash on the board differs from the file sent."""
