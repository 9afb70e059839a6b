"""Pausing Python's cyclic garbage collector around bulk work.

Bulk reads and writes allocate millions of small acyclic objects (annotations, vertices, rows).
Each allocation burst triggers collections that walk every object still alive, and with a page
of parsed labels alive they can take half the time. Those objects are freed by reference counting
anyway, so the collector is paused for the duration and restored afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (nested use is fine); restore it after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
