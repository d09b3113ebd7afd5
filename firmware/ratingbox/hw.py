"""The Pico W's keys and LEDs (machine.Pin). Imported only on the board."""

import time

import machine

DEBOUNCE_MS = 30


class Keys:
    """Five keys to ground with pull-ups; poll() reports each press once, debounced."""

    def __init__(self, pins):
        self.pins = [machine.Pin(n, machine.Pin.IN, machine.Pin.PULL_UP) for n in pins]
        self.down = [False] * len(self.pins)
        self.changed = [0] * len(self.pins)

    def poll(self):
        now = time.ticks_ms()
        pressed = []
        for i, pin in enumerate(self.pins):
            down = pin.value() == 0
            if down != self.down[i] and time.ticks_diff(now, self.changed[i]) >= DEBOUNCE_MS:
                self.down[i] = down
                self.changed[i] = now
                if down:
                    pressed.append(i)
        return pressed


class Leds:
    def __init__(self, pins):
        self.pins = [machine.Pin(n, machine.Pin.OUT, value=0) for n in pins]

    def show(self, states):
        for pin, on in zip(self.pins, states):
            pin.value(1 if on else 0)


class Clock:
    """Monotonic ms that survive ticks_ms wrapping, and the wall clock in ms."""

    def __init__(self):
        self.last = time.ticks_ms()
        self.total = 0

    def ms(self):
        now = time.ticks_ms()
        self.total += time.ticks_diff(now, self.last)
        self.last = now
        return self.total

    def wall_ms(self):
        return int(time.time()) * 1000
