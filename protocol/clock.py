"""The rule for device clocks that are wrong.

Every event carries `ts` (device wall clock) and `up` (ms since that boot, monotonic), and its id
names the boot. A receiver keeps, per (device, boot), the earliest estimate of when the boot
started on its own clock: `recv_ms - up` for each message received live. The lowest such estimate
is the least delayed. An event's corrected time is then `boot_start + up`, whatever the device's
wall clock said. When no live message of a boot was seen (a box that never reached the network
before losing power), `ts` is used if it is plausible, otherwise the receive time.
"""

PLAUSIBLE_PAST_MS = 366 * 24 * 3600 * 1000
PLAUSIBLE_FUTURE_MS = 5 * 60 * 1000
LIVE_MS = 10 * 1000  # a message this fresh (by up-age) counts as received live


def boot_start_estimate(recv_ms, up):
    return recv_ms - up


def better_boot_start(known, candidate):
    """Keep the earliest estimate: transport delay only ever makes estimates later."""
    if known is None or candidate < known:
        return candidate
    return known


def corrected_time(ts, up, recv_ms, boot_start):
    """Best estimate of when the event happened, on the receiver's clock."""
    if boot_start is not None:
        return boot_start + up
    if recv_ms - PLAUSIBLE_PAST_MS <= ts <= recv_ms + PLAUSIBLE_FUTURE_MS:
        return ts
    return recv_ms


def skew_ms(ts, up, boot_start):
    """How far the device's wall clock is from the receiver's (positive: device ahead)."""
    if boot_start is None:
        return None
    return ts - (boot_start + up)
