"""The short link a window terminal shows as a QR code for rating on a phone.

    <rate_url>/<token>
    token = the first 10 characters of lowercase base32 (no padding) of
            HMAC-SHA256(key = bytes of the hall's badge_key hex, msg = "rate:<device>:<rw>")

The terminal derives the token from the badge_key the gateway pushes in cmd/config, without asking
the gateway; the gateway finds the rating window by computing the tokens of its recent windows.
50 bits cannot be guessed, and the link stays within the 53 bytes a QR code on the terminal's
64 px square holds, whatever the length of the hall and device ids. Written with hashlib only
(via protocol.badges), so it runs unchanged on MicroPython.
"""

from binascii import unhexlify

from protocol.badges import hmac_sha256

ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
TOKEN_LEN = 10


def rate_token(badge_key, device, rw):
    """The token of rating window `rw` on `device` under the hall's badge_key (hex text)."""
    digest = hmac_sha256(unhexlify(badge_key), ("rate:%s:%s" % (device, rw)).encode())
    out = []
    acc = bits = 0
    for byte in digest:
        acc, bits = (acc << 8) | byte, bits + 8
        while bits >= 5 and len(out) < TOKEN_LEN:
            bits -= 5
            out.append(ALPHABET[(acc >> bits) & 31])
        acc &= (1 << bits) - 1
        if len(out) == TOKEN_LEN:
            break
    return "".join(out)


def rate_link(rate_url, token):
    return rate_url.rstrip("/") + "/" + token


def is_token(text):
    return len(text) == TOKEN_LEN and all(c in ALPHABET for c in text)
