"""Signed firmware updates on a window terminal: download, verify, install beside the running
version, switch, confirm health or roll back by itself."""
