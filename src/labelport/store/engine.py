"""Opening a store: the database URL, the engine and its connection settings, the media folder."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from labelport.errors import ValidationError
from labelport.store import deadline, schema
from labelport.store.migrations import migrate

#: How long a SQLite writer waits for another writer before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Page cache per SQLite connection, in KiB.
SQLITE_CACHE_KIB = 65_536
#: What a SQLite write-ahead log file keeps on disk once a checkpoint has copied it all into the database, in
#: bytes. A long reader (an export) keeps checkpoints from catching up, so the log grows by what is written
#: meanwhile; without a limit the file would keep that size for as long as the store is open.
SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024
#: A snapshot id as ``pg_export_snapshot()`` writes it (e.g. ``00000003-0000001B-1``).
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


def normalize_database_url(url: str) -> str:
    """The URL to open: ``postgresql://`` and ``postgres://`` URLs get the psycopg 3 driver; a bare path
    means a SQLite file."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def ensure_postgres_database(url: str | URL) -> None:
    """Create the PostgreSQL database that ``url`` names when the server does not have it yet
    (connecting to the server's ``postgres`` maintenance database). Used by the test suite and the
    benchmarks, which are pointed at a server rather than at a prepared database."""
    base = make_url(url) if isinstance(url, str) else url
    maintenance = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": base.database}).first()
            if found is None:
                conn.execute(text(f'CREATE DATABASE "{base.database}"'))
    finally:
        maintenance.dispose()


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:")
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        options["poolclass"] = StaticPool
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below owns transactions
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_LIMIT_BYTES}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # bulk writes touch many index pages
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        deadline.on_sqlite_connect(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front, so two writers queue on the busy timeout instead
        # of failing when a read transaction tries to become a write transaction.
        write = conn.get_execution_options().get("labelport_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Store:
    """A database (SQLite or PostgreSQL) and the folder that holds its media files."""

    def __init__(self, database_url: str, media_dir: str | Path | None = None) -> None:
        self.url = normalize_database_url(database_url)
        dialect = make_url(self.url).get_backend_name()
        if dialect == "sqlite":
            self.engine = _sqlite_engine(self.url)
        elif dialect == "postgresql":
            self.engine = create_engine(self.url, pool_pre_ping=True)
        else:
            raise ValidationError(
                f"Unsupported database URL {self.url!r}: use sqlite:///path/to/file.db "
                "or postgresql+psycopg://user:password@host/dbname."
            )
        self.dialect = dialect
        deadline.install(self.engine, dialect)
        self.media_dir = self._media_dir(media_dir)
        with self.write() as conn:
            migrate(conn)

    def _media_dir(self, media_dir: str | Path | None) -> Path:
        """The folder given, else ``media/`` next to a SQLite file (a temporary folder for an in-memory
        database); a server database needs one given."""
        if media_dir:
            return Path(media_dir).expanduser().resolve()
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database not in (None, "", ":memory:"):
                return Path(database).resolve().parent / "media"
            return Path(tempfile.mkdtemp(prefix="labelport-media-"))
        raise ValidationError(
            f"A store on {make_url(self.url).render_as_string()} needs a media folder: pass media_dir "
            "(or set LABELPORT_MEDIA_DIR for the client and the command line)."
        )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside one write transaction: committed on success, rolled back on error, and
        rolled back too when the current time limit (:mod:`labelport.store.deadline`) has passed by then."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(labelport_write=True)
            transaction = conn.begin()
            try:
                yield conn
                limit = deadline.current()
                if limit is None:
                    transaction.commit()
                else:
                    with limit.committing():
                        transaction.commit()
            finally:
                if transaction.is_active:
                    transaction.rollback()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (one transaction, rolled back at the end)."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def snapshot(self, adopt: str | None = None) -> Iterator[Connection]:
        """A connection inside one read-only transaction that sees the store as it was when this began,
        however long it lasts and whatever is committed meanwhile; rolled back at the end.

        PostgreSQL: a REPEATABLE READ, READ ONLY transaction; with ``adopt``, a snapshot that another
        transaction still open exported (:meth:`export_snapshot`), which this one sees instead, so that
        several processes read one moment. SQLite: a read transaction, begun at once; in WAL mode (file
        stores) a reader keeps the moment it began while writers go on. A SQLite snapshot cannot be shared
        with another process. While it lasts, checkpoints cannot copy into the database what was committed
        after it began, so the write-ahead log grows by what is written meanwhile; ``journal_size_limit``
        shrinks the file back once a later checkpoint has caught up.
        """
        if adopt is not None and (self.dialect != "postgresql" or not _SNAPSHOT_ID.fullmatch(adopt)):
            raise ValueError(f"cannot adopt the snapshot {adopt!r} on a {self.dialect} store")
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if adopt is not None:
                    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{adopt}'")
            # The moment is fixed by the transaction's first read of a table.
            conn.execute(select(func.count()).select_from(schema.meta)).scalar_one()
            yield conn

    def export_snapshot(self, conn: Connection) -> str:
        """The id of the snapshot of ``conn``, a :meth:`snapshot` transaction of a PostgreSQL store, which
        other connections can adopt while it stays open."""
        if self.dialect != "postgresql":
            raise ValueError(f"a {self.dialect} store cannot share a snapshot with another connection")
        return str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())

    def checkpoint(self) -> None:
        """SQLite file stores: copy into the database what the write-ahead log holds, as far as readers
        allow, without waiting for anyone (``PRAGMA wal_checkpoint(PASSIVE)``): after a long snapshot, the
        log is caught up at once rather than at the next commit's automatic checkpoint, and the next write
        starts it afresh, the file cut back to :data:`SQLITE_WAL_LIMIT_BYTES`. Nothing elsewhere."""
        if self.dialect != "sqlite" or make_url(self.url).database in (None, "", ":memory:"):
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()

    def close(self) -> None:
        self.engine.dispose()
