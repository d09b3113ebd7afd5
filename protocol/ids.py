"""Event ids that are unique per device forever, across reboots and power loss.

An id is "<boot>-<seq>": `boot` is a counter the device increments durably (written and synced)
before it sends anything after a start; `seq` counts events within that boot from 1. A power loss
can lose the seq counter but never the boot increment, so no id is ever issued twice. When seq would
pass 10 digits the device takes a new boot number, as if it had restarted.

The storage of the boot counter is the caller's: pass load/store callables.
"""

SEQ_MAX = 9999999999


class EventIds:
    def __init__(self, load_boot, store_boot):
        self._store = store_boot
        self.boot = self._next_boot(load_boot())
        self.seq = 0

    def _next_boot(self, previous):
        boot = (previous or 0) + 1
        self._store(boot)  # must be durable before the first id of this boot is used
        return boot

    def next(self):
        if self.seq >= SEQ_MAX:
            self.boot = self._next_boot(self.boot)
            self.seq = 0
        self.seq += 1
        return "%d-%d" % (self.boot, self.seq)


def split(event_id):
    """(boot, seq) of an event id."""
    boot, seq = event_id.split("-")
    return int(boot), int(seq)
