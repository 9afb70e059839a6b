"""Time limits on work done through a store (the server gives each request one).

A :class:`Deadline` is made current for a block of code with :func:`limited`; while it is current, every
store opened by this process enforces it (:func:`install` adds the hooks to each engine):

- before each SQL statement: past the deadline, the statement is not sent and :class:`TimeLimitExceeded`
  is raised, so the transaction it belongs to is rolled back;
- during a statement: SQLite's progress handler interrupts it (checked every :data:`SQLITE_CHECK_EVERY`
  virtual-machine steps); PostgreSQL gets ``SET LOCAL statement_timeout`` (the time left when the
  transaction begins) and cancels the statement itself. Either way the error raised is TimeLimitExceeded;
- before a write transaction commits (:meth:`Store.write <labelport.store.engine.Store.write>`): past the
  deadline, or once the deadline's owner has given up waiting (:meth:`Deadline.abandon`), the transaction
  is rolled back instead of committed. A commit that began in time is left to finish, and its owner waits
  for it (``abandon`` says so), so that an answer "time limit exceeded" never hides a committed write.

So a write is all or nothing, also at a time limit. What the limit cannot stop is Python work between two
statements (decoding a large JSON value, say): that work goes on until its next statement or commit, which
is then refused.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, event

from labelport.errors import TimeLimitExceeded

#: SQLite runs the progress handler every this many virtual-machine steps (about a millisecond of work).
SQLITE_CHECK_EVERY = 10_000

_current: ContextVar[Deadline | None] = ContextVar("labelport_deadline", default=None)


class Deadline:
    """A time limit of ``seconds`` from now on ``what`` (e.g. "This request")."""

    def __init__(self, seconds: float, what: str = "This request") -> None:
        self.seconds = seconds
        self.what = what
        self.at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._committing = 0
        self._abandoned = False

    def remaining(self) -> float:
        """Seconds left (0 once past the deadline or abandoned)."""
        return 0.0 if self._abandoned else max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self._abandoned or time.monotonic() >= self.at

    def error(self) -> TimeLimitExceeded:
        return TimeLimitExceeded(
            f"{self.what} ran past its time limit of {self.seconds:g} s and was stopped; what it was writing "
            "was rolled back. Ask for less at a time (a smaller page, fewer assets per call) or raise the "
            "server's time limit (labelport serve --request-timeout)."
        )

    def check(self) -> None:
        """Raise TimeLimitExceeded once past the deadline (never while a commit is under way)."""
        if self._committing == 0 and self.expired():
            raise self.error()

    def interrupting(self) -> bool:
        """Whether a running statement should be interrupted now."""
        return self._committing == 0 and self.expired()

    @contextmanager
    def committing(self) -> Iterator[None]:
        """Around a commit: refused (TimeLimitExceeded) past the deadline; otherwise :meth:`abandon`
        waits for it."""
        with self._lock:
            if self.expired():
                raise self.error()
            self._committing += 1
        try:
            yield
        finally:
            with self._lock:
                self._committing -= 1

    def abandon(self) -> bool:
        """The owner gives up waiting: from now on nothing more commits. False when a commit is under way
        (then the owner should wait for the work to end, since the commit is going to land)."""
        with self._lock:
            if self._committing:
                return False
            self._abandoned = True
            return True


def current() -> Deadline | None:
    """The deadline of the running code, if any."""
    return _current.get()


@contextmanager
def limited(deadline: Deadline) -> Iterator[Deadline]:
    """Within the block (in this thread or task), the stores enforce ``deadline``."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def _sqlite_progress() -> int:
    deadline = _current.get()
    return 1 if deadline is not None and deadline.interrupting() else 0


def on_sqlite_connect(dbapi_connection: Any) -> None:
    """Interrupt a SQLite statement that runs past the current deadline."""
    dbapi_connection.set_progress_handler(_sqlite_progress, SQLITE_CHECK_EVERY)


def install(engine: Engine, dialect: str) -> None:
    """Make ``engine`` enforce the current deadline (see the module's documentation)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn: Connection, _cursor: Any, _statement: str, _parameters: Any, _context: Any, _many: bool) -> None:
        deadline = _current.get()
        if deadline is not None:
            deadline.check()

    @event.listens_for(engine, "handle_error")
    def _handle(context: Any) -> None:
        deadline = _current.get()
        if deadline is None or not deadline.expired():
            return
        original = context.original_exception
        if isinstance(original, TimeLimitExceeded):
            return
        if _interrupted(original):
            raise deadline.error() from original

    if dialect == "postgresql":

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            deadline = _current.get()
            if deadline is not None:
                milliseconds = max(1, math.ceil(deadline.remaining() * 1000))
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(milliseconds)}")


def _interrupted(error: BaseException) -> bool:
    """A statement stopped by the deadline: SQLite's "interrupted", PostgreSQL's query_canceled (57014)."""
    if getattr(error, "sqlstate", None) == "57014":
        return True
    return type(error).__module__.startswith("sqlite3") and "interrupted" in str(error)
