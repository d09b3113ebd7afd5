"""Flashing devices: a Raspberry Pi terminal's boot partition, a Pico W rating box's raw REPL."""
