"""A window terminal process whose clock is wrong: its wall clock runs `--skew-s` seconds off,
as a device with a dead RTC battery or a bad NTP server would, for everything in the process.

    python -m simulator.wrongclock --skew-s 7200 --config device.toml --control w.sock

The remaining arguments go to simulator.device unchanged. Monotonic time stays true: that is
what the protocol's clock rule (`up` since boot) relies on to correct such a device.
"""

from __future__ import annotations

import sys
import time


def skew_clock(skew_s: float) -> None:
    true_time, true_time_ns = time.time, time.time_ns
    time.time = lambda: true_time() + skew_s  # type: ignore[assignment]
    time.time_ns = lambda: true_time_ns() + int(skew_s * 1e9)  # type: ignore[assignment]


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "--skew-s":
        sys.exit("usage: python -m simulator.wrongclock --skew-s SECONDS [simulator.device args]")
    skew_clock(float(args[1]))
    from simulator.device import main as device_main

    device_main(args[2:])


if __name__ == "__main__":
    main()
