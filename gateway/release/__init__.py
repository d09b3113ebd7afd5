"""Firmware releases: signing on the technician's machine (the key never reaches a gateway)."""
