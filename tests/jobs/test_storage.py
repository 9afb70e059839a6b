"""The job storage: a local folder, and S3 through fsspec against moto's S3-compatible server (run here)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from labelport.errors import ValidationError
from labelport.storage import FsspecStorage, LocalStorage, Storage, default_storage_url, open_storage, reading


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    endpoint = request.getfixturevalue("s3_endpoint")
    return open_storage(f"s3://jobs/{tmp_path.name}", endpoint)


def _staged(storage: Storage, data: bytes) -> Path:
    path = storage.staging_dir() / f"file-{len(data)}.zip"
    path.write_bytes(data)
    return path


def test_a_file_put_is_read_back_whole(storage):
    data = os.urandom(3 * (1 << 20) + 17)
    source = _staged(storage, data)
    storage.put("exports/a.zip", source)
    assert not source.exists()  # consumed
    assert storage.exists("exports/a.zip") and storage.size("exports/a.zip") == len(data)
    with reading(storage, "exports/a.zip") as chunks:
        assert b"".join(chunks) == data
    storage.delete("exports/a.zip")
    storage.delete("exports/a.zip")  # missing: not an error
    assert not storage.exists("exports/a.zip")
    with pytest.raises(FileNotFoundError):
        storage.size("exports/a.zip")


def test_older_than_lists_the_files_written_before_the_cutoff(storage):
    storage.put("exports/old.zip", _staged(storage, b"old"))
    storage.put("exports/new.zip", _staged(storage, b"newer"))
    if isinstance(storage, LocalStorage):
        past = (datetime.now(UTC) - timedelta(days=8)).timestamp()
        os.utime(storage.root / "exports" / "old.zip", (past, past))
        cutoff = datetime.now(UTC) - timedelta(days=7)
        assert storage.older_than("exports", cutoff) == ["exports/old.zip"]
    future = datetime.now(UTC) + timedelta(minutes=5)
    assert storage.older_than("exports", future) == ["exports/new.zip", "exports/old.zip"]
    assert storage.older_than("exports", datetime.now(UTC) - timedelta(days=30)) == []
    assert storage.older_than("elsewhere", future) == []


def test_a_local_put_that_fails_leaves_nothing_visible(tmp_path):
    storage = LocalStorage(tmp_path / "store")
    (storage.root / "exports").mkdir(parents=True)
    (storage.root / "exports" / "a.zip").mkdir()  # a folder where the file should go: the rename fails
    source = _staged(storage, b"data")
    with pytest.raises(OSError):
        storage.put("exports/a.zip", source)
    assert sorted(path.name for path in (storage.root / "exports").iterdir()) == ["a.zip"]
    assert storage.older_than("exports", datetime.now(UTC) + timedelta(minutes=1)) == []


@pytest.mark.parametrize("key", ["", "/abs.zip", "../up.zip", "a/../b.zip", ".staging/x.zip", "a//b.zip"])
def test_keys_must_be_relative_and_visible(tmp_path, key):
    with pytest.raises(ValidationError, match="is not a storage key"):
        LocalStorage(tmp_path).exists(key)


def test_urls_name_the_storage(tmp_path):
    assert isinstance(open_storage(str(tmp_path / "a")), LocalStorage)
    assert open_storage(f"file://{tmp_path / 'b'}").url == str(tmp_path / "b")
    assert default_storage_url(tmp_path / "media") == str(tmp_path / "archives")
    with pytest.raises(ValidationError) as refused:
        open_storage("ftp://host/x")
    assert str(refused.value) == (
        "Unsupported storage URL 'ftp://host/x': use a folder path or s3://bucket/prefix (with an endpoint URL for an "
        "S3-compatible server)."
    )


def test_s3_storage_is_fsspec_with_the_endpoint(s3_endpoint):
    storage = open_storage("s3://jobs/prefix", s3_endpoint)
    assert isinstance(storage, FsspecStorage) and storage.base == "jobs/prefix"
