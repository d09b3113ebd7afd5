"""Rating box entry point (copied to the board's root as main.py by `yuping flash pico`)."""

import time

import network

from ratingbox import config
from ratingbox.box import RatingBox
from ratingbox.hw import Clock, Keys, Leds
from ratingbox.net import Link
from ratingbox.outbox import FileOutbox
from ratingbox.state import State


def run():
    cfg = config.load()
    outbox = FileOutbox(max_events=cfg["outbox_max"])
    clock = Clock()
    box = RatingBox(cfg, outbox, State(), Keys(cfg["keys"]), Leds(cfg["leds"]), clock)
    link = Link(cfg, outbox, box.command, clock, network.WLAN(network.STA_IF))
    while True:
        before = outbox.added
        box.tick()
        link.poll(connected_hook=box.hello)
        if outbox.added > before:
            link.send_new()
        time.sleep_ms(20)


run()
