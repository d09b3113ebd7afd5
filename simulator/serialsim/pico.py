"""A simulated Raspberry Pi Pico W running MicroPython, reached at `yppico://<name>`.

It speaks the REPL over USB serial as the board does: the normal REPL (">>> "; Ctrl-D soft
reboot, which runs /main.py), and the raw REPL (Ctrl-A; code ended by Ctrl-D is answered "OK",
its output, \\x04, its error, \\x04, ">"). Code runs in a small interpreter confined to the board:
`open` and `os` reach only the board's own in-memory flash, `hashlib` and `binascii` are the real
ones (so hashes are real), `sys.implementation` says MicroPython, `machine.reset()` reboots.

For tests: `board.files` (path -> bytes), `board.resets`, and `board.corrupt_writes = n` flips a
bit in the next n writes, as a bad cable would.
"""

from __future__ import annotations

import binascii
import hashlib
import io
from typing import Any

from simulator.serialsim.device import Registry, SimulatedDevice

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
BANNER = b"MicroPython v1.27.0 on 2025-12-09; Raspberry Pi Pico W with RP2040\r\n"
MPY = 6 | (3 << 8) | (2 << 10)  # .mpy v6.3, armv6m: what sys.implementation._mpy says


class BoardFlash:
    """The board's filesystem: files and directories, nothing else."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = {"/"}
        self.corrupt_writes = 0

    def _parent(self, path: str) -> str:
        return path.rsplit("/", 1)[0] or "/"

    def open(self, path: str, mode: str = "r") -> Any:
        if "w" in mode:
            if self._parent(path) not in self.dirs:
                raise OSError(2, "ENOENT")
            return _WriteFile(self, path, "b" in mode)
        if path not in self.files:
            raise OSError(2, "ENOENT")
        data = self.files[path]
        return io.BytesIO(data) if "b" in mode else io.StringIO(data.decode())

    def store(self, path: str, data: bytes) -> None:
        if self.corrupt_writes and data:
            self.corrupt_writes -= 1
            data = bytes([data[0] ^ 0x01]) + data[1:]
        self.files[path] = self.files.get(path, b"") + data

    def mkdir(self, path: str) -> None:
        if path in self.dirs or path in self.files:
            raise OSError(17, "EEXIST")
        if self._parent(path) not in self.dirs:
            raise OSError(2, "ENOENT")
        self.dirs.add(path)

    def listdir(self, path: str = "/") -> list[str]:
        if path not in self.dirs:
            raise OSError(2, "ENOENT")
        prefix = path.rstrip("/") + "/"
        names = {
            p[len(prefix) :].split("/")[0]
            for p in list(self.files) + list(self.dirs)
            if p.startswith(prefix) and p != path
        }
        return sorted(n for n in names if n)

    def remove(self, path: str) -> None:
        if path not in self.files:
            raise OSError(2, "ENOENT")
        del self.files[path]


class _WriteFile:
    def __init__(self, flash: BoardFlash, path: str, binary: bool) -> None:
        self.flash, self.path, self.binary = flash, path, binary
        flash.files[path] = b""

    def write(self, data: Any) -> int:
        raw = bytes(data) if self.binary else str(data).encode()
        self.flash.store(self.path, raw)
        return len(raw)

    def close(self) -> None:
        pass


class _Module:
    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


class SimulatedPico(SimulatedDevice):
    baudrate = 115200

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.flash = BoardFlash()
        self.raw = False
        self.code = bytearray()
        self.resets = 0
        self.ran_main = 0
        self.globals: dict[str, Any] | None = None  # the REPL's __main__, kept between runs

    @property
    def files(self) -> dict[str, bytes]:
        return self.flash.files

    def receive(self, data: bytes) -> None:
        for byte in data:
            self._byte(bytes([byte]))

    def _byte(self, b: bytes) -> None:
        if b == b"\x01":
            self.raw, self.code = True, bytearray()
            self.send(RAW_BANNER)
        elif b == b"\x02" and self.raw:
            self.raw = False
            self.send(b"\r\n" + BANNER + b'Type "help()" for more information.\r\n>>> ')
        elif b == b"\x03":
            self.code = bytearray()
            if not self.raw:
                self.send(b"\r\n>>> ")
        elif b == b"\x04":
            self._ctrl_d()
        elif self.raw:
            self.code += b

    def _ctrl_d(self) -> None:
        if not self.raw:
            self.soft_reset()
        elif not self.code:
            self.soft_reset()
            self.send(RAW_BANNER)
        else:
            code, self.code = bytes(self.code), bytearray()
            out, err = self.execute(code.decode("utf-8", "replace"))
            self.send(b"OK" + out.encode() + b"\x04" + err.encode() + b"\x04>")

    def soft_reset(self) -> None:
        self.resets += 1
        self.globals = None
        self.send(b"MPY: soft reboot\r\n")
        if not self.raw and "/main.py" in self.flash.files:
            self.ran_main += 1  # the real board would now run the firmware

    def execute(self, code: str) -> tuple[str, str]:
        """Run a snippet with only the board's own modules in reach."""
        out = io.StringIO()
        if self.globals is None:
            self.globals = {}
        self.globals["__builtins__"] = self._builtins(out)
        try:
            exec(compile(code, "<stdin>", "exec"), self.globals)  # noqa: S102 - the board's interpreter
        except BaseException as exc:  # noqa: BLE001 - the board prints any exception as a traceback
            # MicroPython has no OSError subclasses: ENOENT is "OSError: [Errno 2] ENOENT"
            name = "OSError" if isinstance(exc, OSError) else type(exc).__name__
            return out.getvalue(), f"Traceback (most recent call last):\r\n{name}: {exc}\r\n"
        return out.getvalue(), ""

    def _builtins(self, out: io.StringIO) -> dict[str, Any]:
        flash = self.flash
        modules = {
            "os": _Module(mkdir=flash.mkdir, listdir=flash.listdir, remove=flash.remove),
            "hashlib": _Module(sha256=hashlib.sha256),
            "binascii": _Module(hexlify=binascii.hexlify, a2b_base64=binascii.a2b_base64),
            "sys": _Module(implementation=_Module(name="micropython", _mpy=MPY)),
            "machine": _Module(reset=self.soft_reset),
        }

        def board_import(name: str, *_a: Any, **_k: Any) -> Any:
            if name not in modules:
                raise ImportError(f"no module named '{name}'")
            return modules[name]

        def board_print(*args: Any, end: str = "\n") -> None:
            out.write(" ".join(str(a) for a in args) + end.replace("\n", "\r\n"))

        return {
            "__import__": board_import,
            "open": flash.open,
            "print": board_print,
            "OSError": OSError,
            "ImportError": ImportError,
            "True": True,
            "False": False,
            "None": None,
            "len": len,
            "range": range,
            "str": str,
            "bytes": bytes,
            "int": int,
        }


_boards: Registry[SimulatedPico] = Registry(SimulatedPico)


def board(name: str) -> SimulatedPico:
    """The simulated board called `name` (the same one a `yppico://<name>` port reaches)."""
    return _boards.get(name)


def unplug(name: str) -> None:
    _boards.forget(name)
