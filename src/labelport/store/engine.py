"""Opening a store: the database URL, the engine and its connection settings, the media folder."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.pool import StaticPool

from labelport.errors import LabelportError, StoreConnectionError, ValidationError
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


_WHERE_URL = "(--db or $LABELPORT_DATABASE_URL)"


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL (``sqlite:///path`` or ``sqlite:///file:path?uri=true``); None in memory."""
    parsed = make_url(url) if isinstance(url, str) else url
    database = parsed.database
    if database in (None, "", ":memory:"):
        return None
    assert database is not None
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
        if database.startswith("//"):  # file://host/path: the host is empty or localhost
            database = "/" + database[2:].partition("/")[2]
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            return None
    return Path(database)


def _postgres_problem(url: URL, error: BaseException) -> StoreConnectionError:
    """The error for a PostgreSQL server that cannot be reached or lacks the database or the user."""
    database = url.database or ""
    place = f"{url.host}:{url.port or 5432}" if url.host else "the local socket"
    said = str(error)
    lower = said.lower()
    if "does not exist" in lower and f'database "{database}"' in said:
        problem = f"the server has no database {database!r}"
        check = (
            f"Create it (createdb{f' -h {url.host} -p {url.port or 5432}' if url.host else ''} {database}) or fix "
            f"the database name of the URL {_WHERE_URL}."
        )
    elif "connection refused" in lower:
        problem = "the connection was refused (nothing listens on that host and port)"
        check = (
            "Check that the server is running there and accepts TCP/IP connections, and the host and port of the "
            f"database URL {_WHERE_URL}."
        )
    elif "password" in lower or "authentication" in lower or ("role" in lower and "does not exist" in lower):
        problem = f"the server refused user {url.username or '(none)'!r} ({_first_line(said)})"
        check = f"Check the user name and password of the database URL {_WHERE_URL}."
    elif "resolve" in lower or "translate host name" in lower or "name or service not known" in lower:
        problem = f"the host name {url.host!r} is unknown"
        check = f"Check the host of the database URL {_WHERE_URL}."
    else:
        problem = _first_line(said)
        check = (
            "Check that the server is running and reachable, that the database exists, and the user and password "
            f"of the database URL {_WHERE_URL}."
        )
    return StoreConnectionError(
        f"Cannot connect to the PostgreSQL database {database!r} on {place}: {problem}. {check}"
    )


def _first_line(text: str) -> str:
    """The driver's message without its prefix and hints: ``FATAL:  password authentication failed …``."""
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    line = line.removeprefix("connection failed: ")
    if "failed: " in line:
        line = line.split("failed: ", 1)[1]
    return line.replace("FATAL:  ", "").strip().rstrip(".")


def _sqlite_problem(url: URL, error: BaseException) -> StoreConnectionError | None:
    """The error for a SQLite file that is locked, read-only or cannot be opened; None for other errors."""
    path = sqlite_path(url)
    name = repr(str(path)) if path is not None else "in memory"
    said = str(error).lower()
    if "database is locked" in said or "database table is locked" in said:
        return StoreConnectionError(
            f"The SQLite database {name} is locked: another program is writing to it "
            f"(waited {SQLITE_BUSY_TIMEOUT_MS / 1000:g} s). Wait for it to finish, or stop it, and try again."
        )
    if "readonly database" in said or "read-only" in said:
        return StoreConnectionError(
            f"The SQLite database {name} is read-only: labelport cannot write to it. Check the permissions of "
            "the file and of its folder (SQLite writes a -wal and a -shm file beside it), or the URL's mode=ro."
        )
    if "unable to open database file" in said:
        return StoreConnectionError(
            f"Cannot open the SQLite database {name}: check that its folder exists and that labelport may read "
            f"and write there, and the path of the database URL {_WHERE_URL}."
        )
    return None


def _translate_errors(engine: Engine) -> None:
    """Connection problems raise :class:`StoreConnectionError` (naming the server or the file and what to
    check) instead of the driver's error; other database errors are left as they are."""
    url = engine.url

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> BaseException | None:
        if context.is_pre_ping:  # the pool's check of a pooled connection: it reconnects by itself
            return None
        original = context.original_exception
        if isinstance(original, LabelportError):  # labelport's own refusal (a time limit): not the database's
            return None
        if url.get_backend_name() == "postgresql":
            if context.connection is None or context.is_disconnect:
                return _postgres_problem(url, original)
            return None
        return _sqlite_problem(url, original)


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    path = sqlite_path(parsed)
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if path is None:
        options["poolclass"] = StaticPool
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            blocker = next((folder for folder in path.parents if folder.exists()), None)
            problem = (
                f"{str(blocker)!r} is a file, not a folder"
                if blocker is not None and not blocker.is_dir()
                else f"its folder {str(path.parent)!r} cannot be created ({error.strerror or error})"
            )
            raise StoreConnectionError(
                f"Cannot open the SQLite database {str(path)!r}: {problem}. Check the path of the database URL "
                f"{_WHERE_URL}."
            ) from None
    in_memory = path is None
    engine = create_engine(url, **options)
    _translate_errors(engine)

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
            _translate_errors(self.engine)
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
            path = sqlite_path(self.url)
            if path is not None:
                return path.resolve().parent / "media"
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
