"""Simulated serial hardware behind pyserial URLs, driven by the same firmware drivers.

After `register()`, `serial.serial_for_url("ypnfc://w-01")` reaches a simulated PN532 and
`"yptts://w-01"` a simulated TTS module. pyserial finds a scheme's handler as the module
`protocol_<scheme>` of this package, whose `Serial` class wraps one simulated device (see
`port.DeviceSerial`); tests and the simulator reach the same device by name through
`nfc.chip(name)` or `tts.module(name)`.

Adding a device (say `ypprinter://`): a module `printer.py` with a `SimulatedDevice` subclass
(`receive()` the host's bytes, `send()` answers; `next_event()`/`on_time()` for anything it does
later on its own) and a `Registry` of them, plus `protocol_ypprinter.py` whose `Serial`
subclasses `port.DeviceSerial` with `scheme = "ypprinter"` and `lookup()` into that registry.
"""

from __future__ import annotations

import serial

PACKAGE = __name__


def register() -> None:
    """Make the simulator's URL schemes known to `serial.serial_for_url` (idempotent)."""
    if PACKAGE not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(PACKAGE)
