"""pyserial handler for `yptts://<name>`: a simulated SYN6288 / XFS5152 (see `tts`)."""

from simulator.serialsim import tts
from simulator.serialsim.device import SimulatedDevice
from simulator.serialsim.port import DeviceSerial


class Serial(DeviceSerial):
    scheme = "yptts"

    def lookup(self, name: str) -> SimulatedDevice:
        return tts.module(name)
