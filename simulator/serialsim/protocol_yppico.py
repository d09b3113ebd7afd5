"""pyserial handler for `yppico://<name>`: a simulated Pico W running MicroPython (see `pico`)."""

from simulator.serialsim import pico
from simulator.serialsim.device import SimulatedDevice
from simulator.serialsim.port import DeviceSerial


class Serial(DeviceSerial):
    scheme = "yppico"

    def lookup(self, name: str) -> SimulatedDevice:
        return pico.board(name)
