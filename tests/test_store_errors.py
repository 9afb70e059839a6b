"""A store that cannot be reached, opened or written is one clear error (issue 16, item 2):
:class:`StoreConnectionError` names the server (host, port, database) or the SQLite file and says what to
check; the command line prints it as ``Error: …`` with exit code 1 and no traceback."""

from __future__ import annotations

import socket
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

import labelport
from labelport import StoreConnectionError
from labelport.cli import main
from labelport.store import engine
from tests.conftest import POSTGRES_URL


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_error(url: str, tmp_path: Path) -> str:
    """What ``labelport project list --db URL`` prints; it must fail with code 1."""
    result = CliRunner(env={"LABELPORT_MEDIA_DIR": str(tmp_path / "media")}).invoke(
        main, ["project", "list", "--db", url], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    return result.output.removeprefix("Error: ").rstrip("\n")


def test_nothing_listening_on_the_port(tmp_path):
    port = closed_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/shop"
    with pytest.raises(StoreConnectionError) as raised:
        labelport.Client(url, media_dir=tmp_path / "media")
    message = str(raised.value)
    assert message == (
        f"Cannot connect to the PostgreSQL database 'shop' on 127.0.0.1:{port}: the connection was refused "
        "(nothing listens on that host and port). Check that the server is running there and accepts TCP/IP "
        "connections, and the host and port of the database URL (--db or $LABELPORT_DATABASE_URL)."
    )
    assert isinstance(raised.value, labelport.LabelportError)
    assert cli_error(url, tmp_path) == message


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs LABELPORT_TEST_POSTGRES_URL")
def test_a_database_the_server_does_not_have(tmp_path):
    assert POSTGRES_URL is not None
    server = make_url(engine.normalize_database_url(POSTGRES_URL))
    name = f"labelport_missing_{uuid.uuid4().hex[:8]}"
    url = server.set(database=name).render_as_string(hide_password=False)
    with pytest.raises(StoreConnectionError) as raised:
        labelport.Client(url, media_dir=tmp_path / "media")
    where = f"{server.host}:{server.port or 5432}"
    assert str(raised.value) == (
        f"Cannot connect to the PostgreSQL database {name!r} on {where}: the server has no database {name!r}. "
        f"Create it (createdb -h {server.host} -p {server.port or 5432} {name}) or fix the database name of the "
        "URL (--db or $LABELPORT_DATABASE_URL)."
    )
    assert cli_error(url, tmp_path) == str(raised.value)


def test_a_locked_sqlite_file(tmp_path, monkeypatch):
    path = tmp_path / "store.db"
    labelport.Client(f"sqlite:///{path}").close()
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreConnectionError) as raised, labelport.Client(f"sqlite:///{path}") as client:
            client.create_project(input_type="IMAGE", json_interface={"jobs": {}}, title="t")
    finally:
        holder.rollback()
        holder.close()
    assert str(raised.value) == (
        f"The SQLite database {str(path)!r} is locked: another program is writing to it (waited 0.1 s). "
        "Wait for it to finish, or stop it, and try again."
    )


def test_a_read_only_sqlite_file(tmp_path):
    path = tmp_path / "store.db"
    labelport.Client(f"sqlite:///{path}").close()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    with pytest.raises(StoreConnectionError) as raised, labelport.Client(url, media_dir=tmp_path / "media") as client:
        client.create_project(input_type="IMAGE", json_interface={"jobs": {}}, title="t")
    assert str(raised.value) == (
        f"The SQLite database {str(path)!r} is read-only: labelport cannot write to it. Check the permissions of "
        "the file and of its folder (SQLite writes a -wal and a -shm file beside it), or the URL's mode=ro."
    )
    assert not (Path.cwd() / "file:").exists()


def test_a_sqlite_file_whose_folder_cannot_be_created(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    path = blocker / "store.db"
    with pytest.raises(StoreConnectionError) as raised:
        labelport.Client(f"sqlite:///{path}")
    assert str(raised.value) == (
        f"Cannot open the SQLite database {str(path)!r}: {str(blocker)!r} is a file, not a folder. Check the path "
        "of the database URL (--db or $LABELPORT_DATABASE_URL)."
    )
    assert cli_error(f"sqlite:///{path}", tmp_path) == str(raised.value)
