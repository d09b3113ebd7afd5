"""The Yuping rating box: MicroPython firmware for a Raspberry Pi Pico W with five keys and LEDs.

On the board these modules live in /ratingbox/, main.py at the root, umqtt in /lib/. Plain
MicroPython: no dataclasses, no typing; hardware and network stay in hw.py and net.py so the
logic (box.py, outbox.py, state.py) runs unchanged under the MicroPython WebAssembly port in tests.
"""
