"""pyserial handler for `ypprinter://<name>`: a simulated ESC/POS thermal printer (see `printer`)."""

from simulator.serialsim import printer
from simulator.serialsim.device import SimulatedDevice
from simulator.serialsim.port import DeviceSerial


class Serial(DeviceSerial):
    scheme = "ypprinter"

    def lookup(self, name: str) -> SimulatedDevice:
        return printer.printer(name)
