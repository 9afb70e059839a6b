"""Stopping cleanly on SIGTERM and SIGINT (``timeout``, ``docker stop``, systemd, Ctrl-C).

Python turns SIGINT into :class:`KeyboardInterrupt`, so ``finally`` blocks and context managers run; SIGTERM,
by default, ends the process at once, leaving the export's temporary file behind. While
:func:`terminate_raises` lasts, SIGTERM raises :class:`Terminated` in the main thread instead, so the same
cleanup runs (the export removes its ``.partial`` file and stops its worker processes).

- The command line wraps every command in it and exits with 143 after SIGTERM, 130 after SIGINT
  (``cli/__init__.py``).
- A long call of the library (an export) wraps itself in :func:`stop_on_terminate`: with SIGTERM's default
  handler in place, a SIGTERM cleans up, then ends the process by SIGTERM as it would have ended without
  labelport's handler. A program that set its own SIGTERM handler, or a call from another thread (the
  server's), is left alone.
- Worker processes (``export/parallel.py``) ignore SIGINT (a Ctrl-C reaches the whole process group: the
  exporting process stops them) and take SIGTERM's default action: no traceback from them.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The exit code of a process stopped by a signal, as shells report it.
EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143


class Terminated(BaseException):
    """SIGTERM was received: raised in the main thread so that cleanup runs, as for KeyboardInterrupt."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def _can_handle() -> bool:
    """Whether this thread may set signal handlers (the main thread only) and SIGTERM has its default one."""
    return threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) in (
        signal.SIG_DFL,
        None,
    )


@contextmanager
def terminate_raises() -> Iterator[bool]:
    """While this lasts, SIGTERM raises :class:`Terminated` in the main thread; yields whether the handler was
    set (not from another thread, nor over a handler the program set)."""
    if not _can_handle():
        yield False
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield True
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def stop_on_terminate() -> Iterator[None]:
    """For a long library call: SIGTERM cleans up (see :func:`terminate_raises`), then ends the process by
    SIGTERM, as the default handler would have; nothing changes when the handler cannot be set."""
    with terminate_raises() as installed:
        try:
            yield
        except Terminated:
            if not installed:
                raise
            stopped = True
        else:
            stopped = False
    if stopped:  # the default handler is back in place
        os.kill(os.getpid(), signal.SIGTERM)
        raise Terminated()  # not reached on POSIX


def quiet_worker() -> None:
    """In a worker process: ignore SIGINT (the exporting process stops its workers), take SIGTERM's default
    action (no traceback), unblock what :func:`blocked` blocked in the parent when it forked, and end with the
    parent on Linux (a parent killed by SIGKILL leaves no orphan converting pages for nobody)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    _die_with_parent()


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except (OSError, ImportError):
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextmanager
def blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back while this lasts (around forking worker processes, so that none starts
    with the parent's handlers before :func:`quiet_worker` replaces them); delivered when it ends."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
