"""The input of an import: a folder, a zip archive (extracted to a temporary folder) or a single file.

Files are named by their path relative to the input (POSIX separators), listed in archive order for
a zip (the order an export wrote them) and sorted for a folder. Messages name a file as
``<input>/<relative path>`` (folder), ``<input>:<member>`` (zip) or the path itself (single file).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from labelport.errors import DatasetError

#: Bytes read from a file to guess its format.
PEEK = 1 << 16
README = "README.kili.txt"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass
class Source:
    """An opened input. ``root`` is the folder its files are in; ``single`` names a single-file input."""

    display: str
    root: Path
    files: list[str]
    kind: str  # "folder", "zip" or "file"
    single: str | None = None
    _by_name: dict[str, list[str]] | None = field(default=None, repr=False)
    _known: set[str] | None = field(default=None, repr=False)
    _listings: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def is_file(self, path: str) -> bool:
        """Whether ``path`` (absolute, normalized) is a file; each folder is listed once, so that looking
        up thousands of images costs one directory read, not thousands of ``stat`` calls."""
        folder, name = os.path.split(path)
        listing = self._listings.get(folder)
        if listing is None:
            try:
                with os.scandir(folder) as entries:
                    listing = frozenset(entry.name for entry in entries if entry.is_file())
            except OSError:
                listing = frozenset()
            self._listings[folder] = listing
        return name in listing

    def path(self, rel: str) -> Path:
        return self.root / rel

    def describe(self, rel: str) -> str:
        """How messages name the file ``rel``."""
        if self.kind == "zip":
            return f"{self.display}:{rel}"
        if self.kind == "file":
            return str(self.root / rel)
        return str(Path(self.display) / rel)

    def has(self, rel: str) -> bool:
        if self._known is None:
            self._known = set(self.files)
        return rel in self._known

    def with_name(self, name: str) -> list[str]:
        """The files whose base name is ``name`` (any folder)."""
        if self._by_name is None:
            self._by_name = {}
            for rel in self.files:
                self._by_name.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
        return self._by_name.get(name, [])

    def peek(self, rel: str) -> bytes:
        with self.path(rel).open("rb") as handle:
            return handle.read(PEEK)

    def read_bytes(self, rel: str) -> bytes:
        try:
            return self.path(rel).read_bytes()
        except OSError as error:
            raise DatasetError(f"{self.describe(rel)}: cannot be read ({error}).") from None

    def read_text(self, rel: str) -> str:
        data = self.read_bytes(rel)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise DatasetError(f"{self.describe(rel)}, line {line}: not UTF-8 text ({error.reason}).") from None

    def read_json(self, rel: str) -> Any:
        """Parse a JSON file; a syntax error names the file, line and column."""
        data = self.read_bytes(rel)
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as error:
            line, column = _line_column(data, error.pos)
            raise DatasetError(
                f"{self.describe(rel)}, line {line}, column {column}: not valid JSON ({error.msg})."
            ) from None


def _line_column(data: bytes, position: int) -> tuple[int, int]:
    before = data[:position]
    line = before.count(b"\n") + 1
    column = position - (before.rfind(b"\n") + 1) + 1
    return line, column


@contextmanager
def open_source(path: str | os.PathLike[str]) -> Iterator[Source]:
    """Open a folder, a zip archive or a file; a zip is extracted to a temporary folder, removed afterwards."""
    given = Path(path).expanduser()
    if not given.exists():
        raise DatasetError(f"{given}: no such file or folder; give the export archive, its folder or the file.")
    if given.is_dir():
        yield Source(str(given), given.resolve(), _walk(given.resolve()), "folder")
    elif zipfile.is_zipfile(given):
        with tempfile.TemporaryDirectory(prefix="labelport-import-") as folder:
            files = _extract(given, Path(folder))
            yield Source(str(given), Path(folder), files, "zip")
    else:
        resolved = given.resolve()
        yield Source(str(given), resolved.parent, [resolved.name], "file", single=resolved.name)


def _walk(root: Path) -> list[str]:
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(folder).relative_to(root)
        for name in sorted(names):
            if not name.startswith("."):
                files.append((base / name).as_posix())
    return sorted(files)


def _extract(archive: Path, target: Path) -> list[str]:
    """Extract every member under ``target``; a member that would land outside it is refused."""
    files = []
    try:
        with zipfile.ZipFile(archive) as opened:
            for info in opened.infolist():
                if info.is_dir():
                    continue
                name = PurePosixPath(info.filename.replace("\\", "/"))
                if name.is_absolute() or ".." in name.parts or not name.parts:
                    raise DatasetError(
                        f"{archive}:{info.filename}: the member's path leaves the archive; refusing to extract it."
                    )
                if any(part.startswith(".") for part in name.parts) or name.parts[0] == "__MACOSX":
                    continue
                destination = target.joinpath(*name.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with opened.open(info) as source, destination.open("wb") as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
                files.append(name.as_posix())
    except zipfile.BadZipFile as error:
        raise DatasetError(f"{archive}: not a readable zip archive ({error}).") from None
    return files


def readme(source: Source) -> dict[str, str]:
    """The fields of the ``README.kili.txt`` at the root of a Kili or labelport export (``Project name``,
    ``Project description``, ``Exported format``…); empty when there is none."""
    if source.kind == "file" or not source.has(README):
        return {}
    fields = {}
    for line in source.read_text(README).splitlines():
        if line.startswith("- ") and ":" in line:
            key, _, value = line[2:].partition(":")
            fields[key.strip()] = value[1:] if value.startswith(" ") else value
    return fields


def is_image_name(rel: str) -> bool:
    return rel.lower().endswith(IMAGE_SUFFIXES)
