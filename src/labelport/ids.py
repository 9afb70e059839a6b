"""Identifiers: time-ordered, unique strings generated on the client side.

An id is 32 lower-case hex digits (128 bits, like a UUIDv7 without dashes): 48 bits of
milliseconds since the epoch, then 80 bits that are random at the start of each millisecond and
incremented within it, so ids made by one process sort in creation order.
"""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = -1
_last_rand = 0
_RAND_BITS = 80
_RAND_LIMIT = 1 << _RAND_BITS


def _fresh_random() -> int:
    return int.from_bytes(os.urandom(10), "big") >> 1  # the top bit is left free for increments


def new_ids(count: int) -> list[str]:
    """Return ``count`` increasing identifiers, each greater than every one returned before."""
    global _last_ms, _last_rand
    with _lock:
        now = time.time_ns() // 1_000_000
        if now > _last_ms:
            _last_ms, _last_rand = now, _fresh_random() - 1
        if _last_rand + count >= _RAND_LIMIT:  # astronomically rare: move to the next millisecond
            _last_ms, _last_rand = _last_ms + 1, _fresh_random() - 1
        first = (_last_ms << _RAND_BITS) | (_last_rand + 1)
        _last_rand += count
    return [f"{value:032x}" for value in range(first, first + count)]


def new_id() -> str:
    """Return a new identifier, greater than every identifier this process returned before."""
    return new_ids(1)[0]
