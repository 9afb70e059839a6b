"""Thumbnails of the assets' pictures, made with Pillow and kept on disk.

A thumbnail is a JPEG at most :data:`THUMB_SIZE` pixels on its longer side (EXIF orientation applied,
like the stored ``resolution``), kept in ``<media folder>/.thumbnails/`` under a name derived from the
picture's version (its content hash for stored files; path, size and modification time for local
paths), so a changed picture gets a new thumbnail and an unchanged one is made once. It is written to
a temporary file and renamed, so concurrent requests never see half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from labelport.services.browse import ImageSource

THUMB_SIZE = 320
FOLDER = ".thumbnails"


def version_of(source: ImageSource) -> str | None:
    """What identifies this picture's bytes; None when it is not a readable local file."""
    if source.path is None:
        return None
    try:
        stat = source.path.stat()
    except OSError:
        return None
    if not source.path.is_file():
        return None
    raw = f"{source.version}\n{source.path}\n{stat.st_size}\n{stat.st_mtime_ns}"
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def thumbnail(media_dir: Path, source: ImageSource, version: str) -> Path | None:
    """The thumbnail's file (made now if missing); None when the picture cannot be read as an image."""
    folder = media_dir / FOLDER / version[:2]
    target = folder / f"{version}-{THUMB_SIZE}.jpg"
    if target.is_file():
        return target
    assert source.path is not None
    try:
        with Image.open(source.path) as opened:
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((THUMB_SIZE, THUMB_SIZE))
            image = image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            image.save(out, "JPEG", quality=82)
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


def is_image(path: Path) -> bool:
    """Whether Pillow reads the file as an image (the full picture is served only then)."""
    try:
        with Image.open(path) as opened:
            opened.verify()
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True
