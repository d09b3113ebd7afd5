"""pyserial handler for `ypnfc://<name>`: a simulated PN532 (see `nfc`)."""

from simulator.serialsim import nfc
from simulator.serialsim.device import SimulatedDevice
from simulator.serialsim.port import DeviceSerial


class Serial(DeviceSerial):
    scheme = "ypnfc"

    def lookup(self, name: str) -> SimulatedDevice:
        return nfc.chip(name)
