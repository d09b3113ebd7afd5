"""The durable outbox in a flash file: an event is on flash before it is published, and leaves
only when the gateway's `ack` names its id — the same rule as the window terminal's outbox.

The file is a log of lines: `E <json>` adds an event, `A <id>,<id>` records an ack. Appending is
cheap on flash; when nothing is waiting (or the log grows long) it is rewritten with only the
events still waiting. A line torn by a power cut is the last one and is skipped on load.
"""

import json
import os

from ratingbox.state import _replace

DROP_FIRST = ("heartbeat", "stray", "hello")  # when full; ratings and windows are never dropped
COMPACT_LINES = 400


class FileOutbox:
    def __init__(self, path="/outbox.log", max_events=300):
        self.path = path
        self.max_events = max_events
        self.events = []  # [(kind, body)] in order
        self.lines = 0
        # Events kept since boot. The main loop publishes when this grows; the depth cannot tell
        # it, since an ack handled in the same pass takes one away as a key press adds one.
        self.added = 0
        self._load()

    def _load(self):
        try:
            f = open(self.path)
        except OSError:
            return
        with f:
            for line in f:
                self._replay(line.strip())

    def _replay(self, line):
        self.lines += 1
        try:
            if line.startswith("E "):
                item = json.loads(line[2:])
                self.events.append((item["k"], item["b"]))
            elif line.startswith("A "):
                self._forget(line[2:].split(","))
        except (ValueError, KeyError):
            pass  # the torn last line of a power cut

    def _append(self, line):
        with open(self.path, "a") as f:
            f.write(line + "\n")
        self.lines += 1

    def add(self, kind, body):
        """Keep an event durably; returns False when it was refused because the box is full."""
        if len(self.events) >= self.max_events and not self._drop_one(kind):
            return False
        self._append("E " + json.dumps({"k": kind, "b": body}))
        self.events.append((kind, body))
        self.added += 1
        return True

    def _drop_one(self, incoming):
        for kind in DROP_FIRST:
            for i in range(len(self.events)):
                if self.events[i][0] == kind:
                    self._append("A " + self.events[i][1]["id"])
                    self.events.pop(i)
                    return True
        return incoming not in DROP_FIRST  # a citizen's act is kept beyond the bound

    def _forget(self, ids):
        self.events = [e for e in self.events if e[1]["id"] not in ids]

    def ack(self, ids):
        """The gateway stored these: they leave the outbox."""
        mine = [i for i in ids if any(e[1]["id"] == i for e in self.events)]
        if not mine:
            return
        self._forget(mine)
        if not self.events or self.lines > COMPACT_LINES:
            self._compact()
        else:
            self._append("A " + ",".join(mine))

    def _compact(self):
        tmp = self.path + ".new"
        with open(tmp, "w") as f:
            for kind, body in self.events:
                f.write("E " + json.dumps({"k": kind, "b": body}) + "\n")
        _replace(tmp, self.path)
        self.lines = len(self.events)

    def pending(self):
        return list(self.events)

    def depth(self):
        return len(self.events)
