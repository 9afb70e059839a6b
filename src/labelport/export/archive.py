"""The export archive: a zip written incrementally to a temporary file, renamed into place at the end.

Members get a fixed timestamp and are written in the order the writers produce them, so the same
store and options give the same bytes (apart from the export date inside README.kili.txt). The zip
is written by :mod:`labelport.export.zipwriter`, whose memory does not grow with the number of
members.
"""

from __future__ import annotations

import errno
import os
import secrets
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from labelport.errors import ExportError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
from labelport.export.names import DigestSet
from labelport.export.zipwriter import DEFLATED, STORED, Deflated, DeflatedPart, ZipWriter, deflate

#: Media are stored as they are (images and videos are compressed already); text is deflated.
_STORED_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".jp2"}
    | {".mp4", ".mov", ".avi", ".mkv", ".pdf", ".zip", ".gz"}
)
#: Deflate level of text members: level 1 writes about twice as fast as zlib's default (6), for
#: archives about 15 % larger (measured on Kili JSON labels); exports favour speed.
COMPRESS_LEVEL = 1


def compressed(data: bytes) -> Deflated:
    """A text member's bytes compressed as the archive would compress them, for :meth:`Archive.write_member`:
    writers compress in ``convert`` (which may run in a worker process) rather than in ``emit``."""
    return deflate(data, COMPRESS_LEVEL)


def _method(name: str) -> int:
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > name.rfind("/") else ""
    return STORED if suffix in _STORED_SUFFIXES else DEFLATED


class Member(Protocol):
    """A member being written: bytes, and parts compressed ahead of time."""

    def write(self, data: bytes) -> int: ...

    def write_part(self, part: DeflatedPart) -> None: ...


class Archive:
    """Members of the export archive; names are relative to its root (``labels/a.json``)."""

    def __init__(self, writer: ZipWriter) -> None:
        self._zip = writer
        self.names = DigestSet()

    def _claim(self, name: str) -> None:
        if name in self.names:
            raise ExportError(f"The archive already has a member {name!r}; this is a labelport bug, please report it.")
        self.names.add(name)

    def write_bytes(self, name: str, data: bytes) -> None:
        self._claim(name)
        self._zip.write_bytes(name, data, _method(name) if data else STORED)

    def write_text(self, name: str, text: str) -> None:
        self.write_bytes(name, text.encode("utf-8"))

    def write_member(self, name: str, member: Deflated) -> None:
        """A text member compressed beforehand by :func:`compressed` (in a worker process, say): the same
        bytes in the archive as ``write_bytes`` with the original."""
        if member.size == 0 or _method(name) != DEFLATED:
            self.write_bytes(name, zlib.decompress(member.body, -15))
            return
        self._claim(name)
        self._zip.write_deflated(name, member)

    def copy_file(self, name: str, source: Path) -> None:
        """Copy a file's bytes as they are (never re-encoded)."""
        self._claim(name)
        method = _method(name) if source.stat().st_size else STORED
        with source.open("rb") as reader:
            self._zip.copy_file(name, reader, method)

    def part(self) -> DeflatedPart:
        """A part of a member to come, compressed as it is written (``member.write_part(part)`` adds it)."""
        return DeflatedPart(self._zip.level)

    @contextmanager
    def open(self, name: str, large: bool = False) -> Iterator[Member]:
        """A member to stream into (for big JSON files and downloads); ``large`` is accepted for
        compatibility: every streamed member can exceed 4 GiB."""
        del large
        self._claim(name)
        with self._zip.open(name, _method(name)) as writer:
            yield writer


def check_target(filename: str | os.PathLike[str]) -> Path:
    """The archive's path, ``~`` expanded; an :class:`ExportError` naming it and saying what to do when it
    cannot name a file to write: empty, with a NUL character or a character the file system cannot encode,
    ending with a separator, or an existing folder. Checked before anything is read or written (the folders
    and the file are checked when they are created, by :func:`atomic_archive`)."""
    raw = os.fspath(filename)
    if not raw:
        raise ExportError("The export path is empty; give the path of the zip archive to write, e.g. 'export.zip'.")
    if "\0" in raw:
        raise ExportError(
            f"Cannot write the export to {raw!r}: the path contains a NUL character, which no file system "
            "accepts; remove it."
        )
    try:
        os.fsencode(raw)
    except UnicodeEncodeError as error:
        raise ExportError(
            f"Cannot write the export to {raw!r}: {raw[error.start : error.end]!r} at position {error.start} "
            "cannot be written in a file name on this system (a lone surrogate is not text); fix the path."
        ) from None
    try:
        target = Path(raw).expanduser()
    except RuntimeError as error:  # ~name of an unknown user
        raise ExportError(f"Cannot write the export to {raw!r}: {error}; give the folder in full.") from None
    if raw.endswith(("/", os.sep)) or _is_dir(target):
        raise ExportError(
            f"Cannot write the export to {raw!r}: it names a folder; give the path of the zip archive to write "
            f"in it, e.g. {str(target / 'export.zip')!r}."
        )
    return target


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # not allowed to look: creating the file will say
        return False


def _create(folder: Path, name: str) -> tuple[int, Path]:
    """A new file in ``folder`` named after ``name``, opened for writing, with the permissions any file the
    user creates gets (``0o666`` less the umask; ``tempfile.mkstemp`` would give ``0o600``), and locked
    (:func:`_lock`) for as long as this export writes it."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        path = folder / f".{name}.{secrets.token_hex(4)}.partial"
        try:
            handle = os.open(path, flags, 0o666)
        except FileExistsError:
            continue
        _lock(handle)
        return handle, path
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def _lock(handle: int) -> bool:
    """Take the advisory lock of an open temporary file without waiting (``flock``: held until every copy of
    the descriptor is closed, so also when the process is killed); whether it was free. Where ``flock`` does
    not exist (Windows), always False: stale files are then never removed."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _is_partial_of(entry: str, name: str) -> bool:
    """Whether ``entry`` is a temporary file of an export to ``name``: ``.<name>.<8 hex digits>.partial``."""
    prefix, suffix = f".{name}.", ".partial"
    if not entry.startswith(prefix) or not entry.endswith(suffix) or len(entry) != len(prefix) + 8 + len(suffix):
        return False
    return all(c in "0123456789abcdef" for c in entry[len(prefix) : -len(suffix)])


def remove_stale_partials(target: Path, started: float) -> list[Path]:
    """Remove the temporary files that earlier exports to ``target`` left behind (killed by SIGKILL, or the
    machine stopped): ``.<name>.<hex>.partial`` beside it, last written before ``started`` (this export's
    start) and not locked, i.e. no export is writing it (a running export holds its file's lock, a killed one
    held it no more). Return what was removed."""
    if fcntl is None:
        return []
    removed = []
    try:
        entries = os.listdir(target.parent)
    except OSError:
        return []
    for entry in entries:
        if not _is_partial_of(entry, target.name):
            continue
        path = target.parent / entry
        try:
            handle = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            if os.fstat(handle).st_mtime < started and _lock(handle):
                path.unlink(missing_ok=True)
                removed.append(path)
        except OSError:
            continue
        finally:
            os.close(handle)
    return removed


@contextmanager
def atomic_archive(filename: str | os.PathLike[str]) -> Iterator[Archive]:
    """An archive written to a temporary file next to ``filename``, renamed to it on success only. The
    folders it creates for it are removed again on failure: a failed export leaves nothing behind."""
    target = check_target(filename)
    started = time.time()
    created: list[Path] = []  # deepest first
    try:
        for folder in (target.parent, *target.parent.parents):
            if folder.exists():
                break
            created.append(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = _create(target.parent, target.name)
    except OSError as error:
        _remove_folders(created)
        raise ExportError(
            f"Cannot write the export to {str(target)!r}: {error.strerror or error}; choose a writable path."
        ) from None
    try:
        with os.fdopen(handle, "w+b") as out:
            writer = ZipWriter(out, COMPRESS_LEVEL)
            yield Archive(writer)
            writer.close()
        try:
            os.replace(temporary, target)
        except OSError as error:
            raise ExportError(
                f"Cannot write the export to {str(target)!r}: {error.strerror or error}; choose a writable path."
            ) from None
        remove_stale_partials(target, started)
    except BaseException:
        temporary.unlink(missing_ok=True)
        _remove_folders(created)
        raise


def _remove_folders(folders: list[Path]) -> None:
    """Remove the folders an export created (``folders``: deepest first), as long as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
