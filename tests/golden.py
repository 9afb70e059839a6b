"""Golden archives: an export's members compared with files under ``tests/golden/<format>/<case>/``.

Run the tests with ``LABELPORT_UPDATE_GOLDEN=1`` to (re)write the golden files, then review the diff.
Members that differ between runs by design (ids, dates) are normalized by ``normalize`` first.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
_DATE_LINE = re.compile(rb"- Export date: \d{8}-\d{6}")


def read_archive(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def default_normalize(name: str, data: bytes) -> bytes:
    if name.endswith("README.kili.txt"):
        return _DATE_LINE.sub(b"- Export date: <date>", data)
    return data


def assert_matches_golden(
    archive_path: Path,
    case: str,
    normalize: Callable[[str, bytes], bytes] = default_normalize,
    binary_suffixes: tuple[str, ...] = (".png", ".jpg", ".jpeg"),
) -> dict[str, bytes]:
    """Compare every member (text members normalized) with ``tests/golden/<case>/``; return the members."""
    members = read_archive(archive_path)
    folder = GOLDEN / case
    produced = {
        name: (data if name.endswith(binary_suffixes) else normalize(name, data)) for name, data in members.items()
    }
    if os.environ.get("LABELPORT_UPDATE_GOLDEN"):
        if folder.exists():
            for old in sorted(folder.rglob("*"), reverse=True):
                old.unlink() if old.is_file() else old.rmdir()
        for name, data in produced.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data if not name.endswith(binary_suffixes) else b"<binary>")
    expected_names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert sorted(produced) == expected_names, f"golden tree of {case} differs"
    for name, data in produced.items():
        if name.endswith(binary_suffixes):
            continue
        assert data.decode() == (folder / name).read_text(), f"{case}: {name} differs from its golden file"
    return members
