"""Errors of the technician tools (provisioning, flashing, releases): one root, leaves that also
inherit the built-in they resemble, so callers may catch either."""


class TechnicianError(Exception):
    """Root of provisioning, flashing and release errors."""


class SiteError(TechnicianError, ValueError):
    """A site directory or record that is missing or malformed."""


class DeviceExists(TechnicianError, ValueError):
    """Provisioning a device id that is already registered."""


class UnknownDevice(TechnicianError, LookupError):
    """A device that was never provisioned."""
