"""The export archive: a zip written incrementally to a temporary file, renamed into place at the end.

Members get a fixed timestamp and are written in the order the writers produce them, so the same
store and options give the same bytes (apart from the export date inside README.kili.txt).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from labelport.errors import ExportError

_EPOCH = (1980, 1, 1, 0, 0, 0)
#: Media are stored as they are (images and videos are compressed already); text is deflated.
_STORED_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".jp2"}
    | {".mp4", ".mov", ".avi", ".mkv", ".pdf", ".zip", ".gz"}
)
_COPY_CHUNK = 1 << 20
#: Deflate level of text members: level 1 writes about twice as fast as zlib's default (6), for
#: archives about 15 % larger (measured on Kili JSON labels); exports favour speed.
COMPRESS_LEVEL = 1
#: ZipInfo's attribute for it: ``compress_level`` since Python 3.13, ``_compresslevel`` before.
_LEVEL_ATTRIBUTE = "compress_level" if hasattr(zipfile.ZipInfo("x"), "compress_level") else "_compresslevel"


class Archive:
    """Members of the export archive; names are relative to its root (``labels/a.json``)."""

    def __init__(self, zip_file: zipfile.ZipFile) -> None:
        self._zip = zip_file
        self.names: set[str] = set()

    def _info(self, name: str, stored: bool) -> zipfile.ZipInfo:
        if name in self.names:
            raise ExportError(f"The archive already has a member {name!r}; this is a labelport bug, please report it.")
        self.names.add(name)
        info = zipfile.ZipInfo(name, date_time=_EPOCH)
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        if not stored:
            setattr(info, _LEVEL_ATTRIBUTE, COMPRESS_LEVEL)
        info.external_attr = 0o644 << 16
        return info

    def write_bytes(self, name: str, data: bytes) -> None:
        stored = Path(name).suffix.lower() in _STORED_SUFFIXES
        self._zip.writestr(self._info(name, stored), data)

    def write_text(self, name: str, text: str) -> None:
        self.write_bytes(name, text.encode("utf-8"))

    def copy_file(self, name: str, source: Path) -> None:
        """Copy a file's bytes as they are (never re-encoded)."""
        size = source.stat().st_size
        info = self._info(name, Path(name).suffix.lower() in _STORED_SUFFIXES or size == 0)
        with source.open("rb") as reader, self._zip.open(info, "w", force_zip64=size > 2**31) as writer:
            shutil.copyfileobj(reader, writer, _COPY_CHUNK)

    @contextmanager
    def open(self, name: str, large: bool = False) -> Iterator[IO[bytes]]:
        """A member to stream into (for big JSON files)."""
        stored = Path(name).suffix.lower() in _STORED_SUFFIXES
        with self._zip.open(self._info(name, stored), "w", force_zip64=large) as writer:
            yield writer


@contextmanager
def atomic_archive(filename: str | os.PathLike[str]) -> Iterator[Archive]:
    """An archive written to a temporary file next to ``filename``, renamed to it on success only."""
    target = Path(filename).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    except OSError as error:
        raise ExportError(
            f"Cannot write the export to {str(target)!r}: {error.strerror or error}; choose a writable path."
        ) from None
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zip_file:
            yield Archive(zip_file)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
