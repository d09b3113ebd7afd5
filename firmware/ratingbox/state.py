"""Small durable state in flash: the boot counter behind event ids and the open rating window.

Written whole to a new file and renamed over the old one, so a power cut leaves either the old or
the new state, never half of one.
"""

import json
import os


def _replace(tmp, path):
    try:
        os.rename(tmp, path)
    except OSError:  # a filesystem that will not rename over an existing file
        os.remove(path)
        os.rename(tmp, path)


def write_json(path, value):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(json.dumps(value))
    _replace(tmp, path)


def read_json(path, default):
    for name in (path, path + ".new"):  # .new alone: the power went between remove and rename
        try:
            with open(name) as f:
                return json.loads(f.read())
        except (OSError, ValueError):
            pass
    return default


class State:
    def __init__(self, path="/state.json"):
        self.path = path
        self.data = read_json(path, {})

    def get(self, key, default=None):
        return self.data.get(key, default)

    def set(self, key, value):
        self.data[key] = value
        write_json(self.path, self.data)

    def load_boot(self):
        return self.get("boot", 0)

    def store_boot(self, boot):
        self.set("boot", boot)
