from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

import labelport
from labelport import settings
from labelport.errors import SchemaVersionError, ValidationError
from labelport.services.api_keys import authenticate
from labelport.store import migrations, schema
from labelport.store.engine import SQLITE_WAL_LIMIT_BYTES, Store, normalize_database_url
from tests import factories


def test_database_url_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("LABELPORT_DATABASE_URL", raising=False)
    monkeypatch.setenv("LABELPORT_HOME", str(tmp_path / "home"))
    assert settings.database_url(None) == f"sqlite:///{tmp_path / 'home' / 'labelport.db'}"
    monkeypatch.setenv("LABELPORT_DATABASE_URL", "postgresql://u:p@h/db")
    assert settings.database_url(None) == "postgresql+psycopg://u:p@h/db"
    assert settings.media_dir(None, "postgresql+psycopg://u:p@h/db") == tmp_path / "home" / "media"
    assert settings.media_dir(None, "sqlite:///x.db") is None  # the store's own default: next to the file
    assert normalize_database_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert normalize_database_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ValidationError, match="Unsupported database URL 'mysql://h/db'"):
        Store("mysql://h/db")


def test_a_server_database_needs_a_media_folder(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a SQLite store keeps its media next to its file")
    with pytest.raises(ValidationError, match=r"needs a media folder: pass media_dir \(or set LABELPORT_MEDIA_DIR"):
        Store(database_url)


def test_default_client_uses_home_and_creates_the_acting_user(monkeypatch, tmp_path):
    monkeypatch.delenv("LABELPORT_DATABASE_URL", raising=False)
    monkeypatch.delenv("LABELPORT_MEDIA_DIR", raising=False)
    monkeypatch.setenv("LABELPORT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELPORT_USER_EMAIL", "Me@Example.com")
    with labelport.Client(disable_tqdm=True) as client:
        assert client.store.media_dir == tmp_path / "home" / "media"
        client.create_project("P", "TEXT", {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "content": {}}}})
        assert client.users() == [
            {
                "email": "me@example.com",
                "id": client.users()[0]["id"],
                "firstname": "",
                "lastname": "",
            }
        ]
    assert (tmp_path / "home" / "labelport.db").exists()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    with store.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()


def test_schema_version_is_stamped_and_a_newer_one_refused(tmp_path):
    path = tmp_path / "s.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM labelport_meta WHERE key='schema_version'").fetchone() == (
            str(migrations.LATEST_VERSION),
        )
        raw.execute("UPDATE labelport_meta SET value='999' WHERE key='schema_version'")
    with pytest.raises(SchemaVersionError) as error:
        Store(f"sqlite:///{path}")
    assert str(error.value) == (
        f"This database has schema version 999, newer than this labelport understands "
        f"({migrations.LATEST_VERSION}); upgrade labelport to open it."
    )


def test_migration_steps_run_in_order_on_open(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    Store(f"sqlite:///{path}").close()
    ran = []

    def step(conn):
        ran.append(migrations.current_version(conn))
        conn.execute(text("CREATE TABLE extra (x INTEGER)"))

    current = migrations.LATEST_VERSION
    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS, step])
    monkeypatch.setattr(migrations, "LATEST_VERSION", current + 1)
    Store(f"sqlite:///{path}").close()
    Store(f"sqlite:///{path}").close()  # already at the new version: the step does not run again
    assert ran == [current]
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM labelport_meta").fetchone() == (str(current + 1),)
        assert raw.execute("SELECT count(*) FROM extra").fetchone() == (0,)


def test_in_memory_sqlite_works(tmp_path):
    with labelport.Client("sqlite://", user_email="a@b.c", media_dir=tmp_path, disable_tqdm=True) as client:
        pid = client.create_project("P", "TEXT", {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "content": {}}}})["id"]
        client.append_many_to_dataset(pid, content_array=["hello"], external_id_array=["t1"])
        assert client.assets(pid, fields=["content"]) == [{"content": "hello"}]


def test_two_clients_share_one_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = labelport.Client(url, user_email="a@x.io", disable_tqdm=True)
    second = labelport.Client(url, user_email="b@x.io", disable_tqdm=True)
    pid = first.create_project("P", "TEXT", {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "content": {}}}})["id"]
    second.append_many_to_dataset(pid, content_array=["x"], external_id_array=["1"])
    assert first.count_assets(pid) == 1
    first.close()
    second.close()


def test_media_dir_defaults_next_to_the_database(tmp_path, monkeypatch):
    monkeypatch.delenv("LABELPORT_MEDIA_DIR", raising=False)
    store = Store(f"sqlite:///{tmp_path / 'db' / 's.db'}")
    assert store.media_dir == Path(tmp_path / "db" / "media")
    store.close()


def test_version_1_stores_get_the_table_of_media_in_use(tmp_path, images):
    """Migration to version 2: asset_media is filled from the assets' files and stored video frames."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    interface = {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "content": {}}}}
    with labelport.Client(url, "a@b.c", media_dir=tmp_path / "media", disable_tqdm=True) as client:
        image = client.create_project("I", "IMAGE", interface)["id"]
        client.append_many_to_dataset(
            image, [str(images.make("a.png")), "https://example.com/b.png"], external_id_array=["a", "b"]
        )
        video = client.create_project("V", "VIDEO", interface)["id"]
        frames = [str(images.make(f"f{i}.png", color=(i, 0, 0))) for i in range(2)]
        client.append_many_to_dataset(video, json_content_array=[[*frames, frames[0]]], external_id_array=["v"])
    with sqlite3.connect(tmp_path / "s.db") as raw:
        before = sorted(raw.execute("SELECT asset_pk, key FROM asset_media"))
        raw.execute("DROP TABLE asset_media")
        raw.execute("DROP TABLE api_keys")  # version 3
        raw.execute("DROP TABLE jobs")  # version 4
        raw.execute("DROP TABLE web_sessions")  # version 5
        raw.execute("DROP TABLE passwords")
        raw.execute("DROP INDEX ix_labels_member_assets")
        raw.execute("DROP INDEX ix_labels_member_honeypot")
        raw.execute("UPDATE labelport_meta SET value='1' WHERE key='schema_version'")
    assert len(before) == 3  # a.png, and the video's two frames (one used twice)
    Store(url, tmp_path / "media").close()
    with sqlite3.connect(tmp_path / "s.db") as raw:
        assert sorted(raw.execute("SELECT asset_pk, key FROM asset_media")) == before
        assert raw.execute("SELECT value FROM labelport_meta").fetchone() == (str(migrations.LATEST_VERSION),)


def test_version_2_stores_get_the_table_of_api_keys(database_url, tmp_path):
    """Migration to version 3: an empty api_keys table (with its indexes), in which keys then work."""
    media = tmp_path / "media"
    with labelport.Client(database_url, "a@b.c", media_dir=media, disable_tqdm=True) as client:
        client.create_user("u@b.c")
        with client.store.write() as conn:
            conn.execute(text("DROP TABLE api_keys"))
            conn.execute(text("DROP TABLE jobs"))
            conn.execute(text("DROP TABLE web_sessions"))  # version 5
            conn.execute(text("DROP TABLE passwords"))
            conn.execute(text("DROP INDEX ix_labels_member_assets"))
            conn.execute(text("DROP INDEX ix_labels_member_honeypot"))
            conn.execute(text("UPDATE labelport_meta SET value='2' WHERE key='schema_version'"))
            assert migrations.current_version(conn) == 2
    store = Store(database_url, media)
    with store.read() as conn:
        assert migrations.current_version(conn) == migrations.LATEST_VERSION
        assert conn.execute(select(func.count()).select_from(schema.api_keys)).scalar_one() == 0
        indexes = inspect(conn).get_indexes("api_keys")  # PostgreSQL also lists the unique id's index
        assert {index["name"]: bool(index["unique"]) for index in indexes if index["name"].startswith("ix_")} == {
            "ix_api_keys_hash": True,
            "ix_api_keys_user": False,
        }
    store.close()
    with labelport.Client(database_url, "a@b.c", media_dir=media, disable_tqdm=True) as client:
        key = client.create_api_key("u@b.c", "after the migration")
        assert authenticate(client.store, {"X-API-Key": key}).email == "u@b.c"


def test_version_3_stores_get_the_table_of_jobs(database_url, tmp_path):
    """Migration to version 4: an empty jobs table (with its indexes)."""
    media = tmp_path / "media"
    with labelport.Client(database_url, "a@b.c", media_dir=media, disable_tqdm=True) as client:
        client.create_user("u@b.c")
        with client.store.write() as conn:
            conn.execute(text("DROP TABLE jobs"))
            conn.execute(text("DROP TABLE web_sessions"))  # version 5
            conn.execute(text("DROP TABLE passwords"))
            conn.execute(text("DROP INDEX ix_labels_member_assets"))
            conn.execute(text("DROP INDEX ix_labels_member_honeypot"))
            conn.execute(text("UPDATE labelport_meta SET value='3' WHERE key='schema_version'"))
    store = Store(database_url, media)
    with store.read() as conn:
        assert migrations.current_version(conn) == migrations.LATEST_VERSION
        assert migrations.STEPS[2].__name__ == "_jobs"
        assert conn.execute(select(func.count()).select_from(schema.jobs)).scalar_one() == 0
        indexes = inspect(conn).get_indexes("jobs")
        assert {index["name"]: bool(index["unique"]) for index in indexes if index["name"].startswith("ix_")} == {
            "ix_jobs_project": False,
            "ix_jobs_state": False,
        }
    store.close()


def test_a_snapshot_sees_the_store_as_it_was_when_it_began(client):
    store = client.store
    projects = select(func.count()).select_from(schema.projects)
    client.create_project("Before", "IMAGE", factories.image_interface())
    with store.snapshot() as snapshot:
        client.create_project("During", "IMAGE", factories.image_interface())
        assert snapshot.execute(projects).scalar_one() == 1
        if store.dialect == "postgresql":
            with store.snapshot(adopt=store.export_snapshot(snapshot)) as adopted:
                assert adopted.execute(projects).scalar_one() == 1
            with store.snapshot() as later:
                assert later.execute(projects).scalar_one() == 2
        else:
            with (
                pytest.raises(ValueError, match="cannot adopt the snapshot 'x' on a sqlite store"),
                store.snapshot("x"),
            ):
                pass
        assert snapshot.execute(projects).scalar_one() == 1
    with store.read() as conn:
        assert conn.execute(projects).scalar_one() == 2


def test_sqlite_limits_the_write_ahead_log_left_after_a_checkpoint(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == SQLITE_WAL_LIMIT_BYTES
    store.close()


def test_version_4_stores_get_the_sign_in_tables(database_url, tmp_path):
    """Migration to version 5: empty passwords and web_sessions tables, in which a password then works."""
    from labelport.services import sign_in

    media = tmp_path / "media"
    with labelport.Client(database_url, "a@b.c", media_dir=media, disable_tqdm=True) as client:
        client.create_user("u@b.c")
        with client.store.write() as conn:
            conn.execute(text("DROP TABLE web_sessions"))
            conn.execute(text("DROP TABLE passwords"))
            conn.execute(text("DROP INDEX ix_labels_member_assets"))
            conn.execute(text("DROP INDEX ix_labels_member_honeypot"))
            conn.execute(text("UPDATE labelport_meta SET value='4' WHERE key='schema_version'"))
    store = Store(database_url, media)
    with store.read() as conn:
        assert migrations.current_version(conn) == migrations.LATEST_VERSION == 5
        assert migrations.STEPS[3].__name__ == "_web_ui"
        assert conn.execute(select(func.count()).select_from(schema.passwords)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(schema.web_sessions)).scalar_one() == 0
        names = {index["name"] for index in inspect(conn).get_indexes("labels")}
        assert {"ix_labels_member_assets", "ix_labels_member_honeypot"} <= names
    store.close()
    with labelport.Client(database_url, "a@b.c", media_dir=media, disable_tqdm=True) as client:
        sign_in.set_password(client.ctx, "u@b.c", "long enough")
        opened = sign_in.sign_in(client.store, "u@b.c", "long enough")
        assert opened is not None and opened[1].email == "u@b.c"
