"""Errors of the device updater: one root, leaves that also inherit the built-in they resemble."""


class UpdateError(Exception):
    """Root of the updater's errors."""


class ReleaseRefused(UpdateError, ValueError):
    """A release whose size, SHA-256 or signature does not match: never installed."""


class DownloadFailed(UpdateError, OSError):
    """The release could not be fetched completely."""


class InstallFailed(UpdateError, OSError):
    """A verified release could not be unpacked or switched to."""
