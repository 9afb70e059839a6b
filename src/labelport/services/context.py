"""The acting context: what every service function takes first.

A front door (the Python client, the command line, the coming server) builds one
:class:`ActingContext` — the store, the acting user, how progress shows — and passes it to the
service functions; nothing below the front doors reads the environment or knows which front door
called. Writes go through :meth:`ActingContext.write`: one database transaction with the media
files it copied, committed or rolled back together (see :mod:`labelport.services.media` for the rule
that keeps every file a committed asset uses).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import Connection

from labelport._gc import gc_paused
from labelport.enums import OrganizationRole
from labelport.services.media import MediaWriter, lock_media, remove_unused
from labelport.store.engine import Store


@dataclass
class ActingContext:
    """Who acts, on which store.

    :param store: the database and its media folder.
    :param user_email: the acting user: author of the labels written, creator of the projects.
    :param new_user_role: the organization role the acting user gets when the store does not know
        its email yet (the Python client creates its user on first use); None: the user must exist.
    :param disable_tqdm: progress bars: None shows them on terminals, True hides them, False shows them.
    :param media_url: the prefix under which queries name stored media files (the server's media URL);
        None: their paths in the store's media folder.
    """

    store: Store
    user_email: str
    new_user_role: str | None = OrganizationRole.ADMIN
    disable_tqdm: bool | None = None
    media_url: str | None = None
    #: The acting user's primary key once a committed transaction has seen it (see users.acting_user_pk).
    user_pk: int | None = field(default=None, repr=False)

    def progress_off(self, disable_tqdm: bool | None) -> bool | None:
        """``disable_tqdm`` for one call: the call's own value, else the context's."""
        return disable_tqdm if disable_tqdm is not None else self.disable_tqdm

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (one transaction, rolled back at the end)."""
        with self.store.read() as conn:
            yield conn

    @contextmanager
    def write(self, *, media: bool = False) -> Iterator[Transaction]:
        """One write transaction. On success it commits, then runs the ``after_commit`` hooks; on any
        error nothing is stored. ``media=True``: the write copies media files in (``tx.media``); it holds
        the media lock from its start, and if it fails, the files it copied that no committed asset
        uses are removed."""
        writer = MediaWriter(self.store.media_dir) if media else None
        tx = Transaction(writer)
        try:
            with gc_paused(), self.store.write() as conn:
                tx.conn = conn
                if media:
                    lock_media(conn)
                yield tx
        except BaseException:
            if writer is not None and writer.created:
                _remove_quietly(self.store, writer.created)
            raise
        for hook in tx.committed:
            hook()


def _remove_quietly(store: Store, keys: list[str]) -> None:
    """After a failed write: remove the files it copied that no committed asset uses. A failure here
    (the database unreachable, say) must not hide the write's own error: the files stay, unused."""
    with suppress(Exception):
        remove_unused(store, keys)


@dataclass
class Transaction:
    """A write in progress: its connection, the media files it copied, what to do once committed."""

    writer: MediaWriter | None
    conn: Connection = field(init=False)
    committed: list[Callable[[], object]] = field(default_factory=list)

    @property
    def media(self) -> MediaWriter:
        """The media writer of a write opened with ``media=True`` (only such a write holds the media lock)."""
        if self.writer is None:
            raise RuntimeError("this write was not opened with media=True: it may not copy media files")
        return self.writer

    def after_commit(self, hook: Callable[[], object]) -> None:
        """Run ``hook`` once the transaction has committed (never if it fails)."""
        self.committed.append(hook)
