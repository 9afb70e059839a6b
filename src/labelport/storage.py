"""Where finished job archives are kept: a local folder (the default) or S3-compatible object storage.

One small interface, :class:`Storage`, over keys such as ``exports/<job id>.zip``:

- :meth:`~Storage.put` publishes a local file under a key *atomically*: a reader sees the whole file or
  nothing (a local folder: copy or move to a hidden temporary name, then rename; S3: one upload, which
  the object store makes visible only once complete);
- :meth:`~Storage.open` reads a stored file as a stream, :meth:`~Storage.size` gives its size;
- :meth:`~Storage.delete`, :meth:`~Storage.older_than` (for pruning).

Jobs write their archive to a local staging folder first (:meth:`~Storage.staging_dir`): for a local
folder, a hidden folder inside it (so that publishing is a rename), for S3 a local temporary folder.
S3 goes through fsspec (``s3fs``), imported only when an ``s3://`` URL is configured.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from labelport.errors import ValidationError

#: The hidden folder of a local storage where jobs stage their files (never listed, never served).
STAGING = ".staging"


class Storage(Protocol):
    """A place that keeps files under keys (``a/b.zip``)."""

    @property
    def url(self) -> str:
        """The storage's URL (``file:///…``, ``s3://bucket/prefix``)."""
        ...

    def put(self, key: str, source: Path) -> None:
        """Publish the local file ``source`` under ``key``, whole or not at all; ``source`` is consumed."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """The stored file, opened for reading (FileNotFoundError when missing)."""
        ...

    def size(self, key: str) -> int:
        """The stored file's size in bytes (FileNotFoundError when missing)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the stored file; a missing one is not an error."""
        ...

    def older_than(self, prefix: str, cutoff: datetime) -> list[str]:
        """The keys under ``prefix`` last written before ``cutoff``."""
        ...

    def staging_dir(self) -> Path:
        """A local folder where a job writes the file it will publish with :meth:`put`."""
        ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise ValidationError(f"{key!r} is not a storage key (relative, no empty, '.', '..' or hidden parts).")
    return key


@dataclass
class LocalStorage:
    """Files in a local (or shared, e.g. NFS) folder."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root).expanduser().resolve()

    @property
    def url(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def staging_dir(self) -> Path:
        folder = self.root / STAGING
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.parent / f".{target.name}.{secrets.token_hex(4)}.partial"
        try:
            try:
                os.replace(source, temporary)  # the staging folder is on the same file system: no copy
            except OSError:
                shutil.copyfile(source, temporary)
                source.unlink()
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def open(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def older_than(self, prefix: str, cutoff: datetime) -> list[str]:
        folder = self.root / _check_key(prefix)
        if not folder.is_dir():
            return []
        limit = cutoff.timestamp()
        found = []
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            if any(part.startswith(".") for part in relative.split("/")):
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.is_file() and path.stat().st_mtime < limit:
                    found.append(relative)
        return found


@dataclass
class FsspecStorage:
    """Files in object storage through fsspec (``s3://bucket/prefix``, with s3fs)."""

    url: str
    options: dict[str, Any] = field(default_factory=dict)
    fs: Any = field(init=False, repr=False)
    base: str = field(init=False)

    def __post_init__(self) -> None:
        try:
            import fsspec  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - fsspec comes with the jobs extra
            raise ValidationError(
                f"Storage {self.url!r} needs fsspec and s3fs: pip install 'labelport[jobs]'."
            ) from None
        try:
            self.fs, path = fsspec.core.url_to_fs(self.url, **self.options)
        except ImportError as error:
            raise ValidationError(f"Storage {self.url!r} needs a driver that is not installed: {error}.") from None
        self.base = str(path).rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self.base}/{_check_key(key)}"

    def staging_dir(self) -> Path:
        folder = Path(tempfile.gettempdir()) / "labelport-staging"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def put(self, key: str, source: Path) -> None:
        try:
            self.fs.put_file(str(source), self._path(key))  # an object appears only once its upload is complete
        finally:
            source.unlink(missing_ok=True)

    def open(self, key: str) -> IO[bytes]:
        handle: IO[bytes] = self.fs.open(self._path(key), "rb")
        return handle

    def size(self, key: str) -> int:
        return int(self.fs.size(self._path(key)))

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._path(key))

    def older_than(self, prefix: str, cutoff: datetime) -> list[str]:
        root = self._path(prefix)
        self.fs.invalidate_cache()
        try:
            entries = self.fs.find(root, detail=True)
        except FileNotFoundError:
            return []
        found = []
        for path, info in sorted(entries.items()):
            modified = _modified(info)
            if modified is not None and modified < cutoff:
                found.append(path[len(self.base) + 1 :])
        return found


def _modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("LastModified") or info.get("mtime") or info.get("created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def default_storage_url(media_dir: str | os.PathLike[str]) -> str:
    """Where archives go when no storage is configured: ``archives/`` next to the media folder."""
    return str(Path(media_dir).expanduser().resolve().parent / "archives")


def open_storage(url: str, endpoint_url: str | None = None) -> Storage:
    """The storage a URL names: ``s3://bucket/prefix`` (with ``endpoint_url`` for an S3-compatible server
    other than AWS: MinIO, Ceph, moto), or a local folder (a path or ``file://`` URL)."""
    if url.startswith("file://"):
        return LocalStorage(Path(url[len("file://") :]))
    if "://" not in url:
        return LocalStorage(Path(url))
    if not url.startswith("s3://"):
        raise ValidationError(
            f"Unsupported storage URL {url!r}: use a folder path or s3://bucket/prefix (with an endpoint URL for an "
            "S3-compatible server)."
        )
    options: dict[str, Any] = {}
    if endpoint_url:
        options["client_kwargs"] = {"endpoint_url": endpoint_url}
    return FsspecStorage(url, options)


@contextlib.contextmanager
def reading(storage: Storage, key: str, chunk: int = 1 << 20) -> Iterator[Iterator[bytes]]:
    """The stored file's bytes in chunks, the file closed when the block ends."""
    handle = storage.open(key)
    try:
        yield iter(lambda: handle.read(chunk), b"")
    finally:
        handle.close()
