"""MicroPython's raw REPL over a serial port: enter, run code, read its output and error, leave.

The framing, byte for byte:
  enter     host: \\r \\x03 \\x03 (stop a running program), then \\x01 (Ctrl-A)
            board: "raw REPL; CTRL-B to exit\\r\\n>"
  run       host: the code, then \\x04 (Ctrl-D)
            board: "OK", then the output, \\x04, the error output (a traceback), \\x04, ">"
  leave     host: \\x02 (Ctrl-B); board: its banner and the ">>> " prompt
  reset     in the normal REPL, \\x04 soft-reboots the board, which then runs main.py

`split_reply` is the pure half (bytes in, output and error out); `RawRepl` does the I/O.
"""

from __future__ import annotations

import time
from typing import Any

from gateway.flash.errors import BoardError

CTRL_A, CTRL_B, CTRL_C, CTRL_D = b"\x01", b"\x02", b"\x03", b"\x04"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
EOT = b"\x04"


def split_reply(reply: bytes) -> tuple[str, str]:
    """Output and error of a reply that starts after "OK" and ends with the two \\x04 and ">"."""
    if not reply.endswith(EOT + EOT + b">") and not reply.endswith(EOT + b">"):
        raise BoardError(f"incomplete raw REPL reply: {reply[-40:]!r}")
    body = reply[:-1]  # the ">" prompt
    parts = body.split(EOT)
    if len(parts) != 3 or parts[2] != b"":
        raise BoardError(f"malformed raw REPL reply: {reply[:60]!r}")
    return parts[0].decode("utf-8", "replace"), parts[1].decode("utf-8", "replace")


class RawRepl:
    def __init__(self, port: Any, timeout: float = 10.0):
        self.port = port
        self.timeout = timeout

    def read_until(self, ending: bytes, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        data = b""
        while not data.endswith(ending):
            if time.monotonic() > deadline:
                raise BoardError(
                    f"the board did not answer as a MicroPython raw REPL (expected {ending!r}, "
                    f"got {data[-60:]!r}); is it a Pico running MicroPython, and the right port?"
                )
            data += self.port.read(1)
        return data

    def enter(self) -> None:
        self.port.write(b"\r" + CTRL_C + CTRL_C)
        time.sleep(0.1)
        self.port.reset_input_buffer()
        self.port.write(b"\r" + CTRL_A)
        self.read_until(RAW_BANNER, timeout=3.0)  # a board answers at once

    def run(self, code: str) -> str:
        """Run code on the board; returns its output, raises BoardError with its traceback."""
        self.port.write(code.encode("utf-8") + CTRL_D)
        ok = self.port.read(2)
        if ok != b"OK":
            raise BoardError(f"the board refused the code: {ok + self.port.read(200)!r}")
        out, err = split_reply(self.read_until(EOT + b">"))
        if err:
            raise BoardError(f"error on the board: {err.strip().splitlines()[-1]}")
        return out

    def leave_and_reset(self) -> None:
        """Back to the normal REPL, then a soft reset: the board starts main.py afresh."""
        self.port.write(CTRL_B)
        self.read_until(b">>> ")
        self.port.write(CTRL_D)
