"""Identifiers: time-ordered, unique, URL-safe strings generated on the client side.

An id is 26 characters of lower-case Crockford base32: 48 bits of milliseconds since the epoch,
then 80 bits that are random at the start of each millisecond and incremented within it, so ids
made by one process sort in creation order (like ULID, and like Kili's cuids in spirit).
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id() -> str:
    """Return a new identifier, greater than every identifier this process returned before."""
    global _last_ms, _last_rand
    with _lock:
        now = time.time_ns() // 1_000_000
        if now <= _last_ms:
            now = _last_ms
            _last_rand += 1
        else:
            _last_rand = int.from_bytes(os.urandom(10), "big") >> 1  # leave room to increment
        _last_ms = now
        return _encode(now, 10) + _encode(_last_rand, 16)


def new_ids(count: int) -> list[str]:
    """Return ``count`` increasing identifiers."""
    return [new_id() for _ in range(count)]
