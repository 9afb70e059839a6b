"""Media files owned by the store: content-addressed copies, and the probing of images.

A local file given at import is copied to ``<media_dir>/<first two hex digits>/<sha256><ext>``;
two assets with the same bytes share one file. URLs are kept as references and never fetched. An asset
refers to its file by key in its ``media_key`` column, and to the frames of a video stored as files by
``media:<key>`` items of its ``jsonContent``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from labelport.errors import MediaError

_CHUNK = 1 << 20
#: How a jsonContent refers to a stored file (a video frame): ``"media:<key>"``.
MEDIA_PREFIX = "media:"
_MEDIA_REF = re.compile(r'"media:([0-9a-f]{2}/[0-9a-f]{64}[^"]*)"')
#: EXIF orientations under which the displayed image is the stored one turned by 90°.
_TRANSPOSED_ORIENTATIONS = frozenset({5, 6, 7, 8})
_EXIF_ORIENTATION = 0x0112


def keys_used(media_key: str | None, json_content: str | None) -> set[str]:
    """The keys of the stored files an asset uses: its own file and its stored frames."""
    keys = {media_key} if media_key else set()
    if json_content and MEDIA_PREFIX in json_content:
        keys.update(_MEDIA_REF.findall(json_content))
    return keys


def is_url(content: str) -> bool:
    return content.startswith(("http://", "https://"))


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def media_key_for(path: Path) -> str:
    digest = file_digest(path)
    return f"{digest[:2]}/{digest}{path.suffix.lower()}"


def store_file(media_dir: Path, path: Path) -> tuple[str, bool]:
    """Copy ``path`` into the media folder; return its key and whether the file is new."""
    key = media_key_for(path)
    target = media_dir / key
    if target.exists():
        return key, False
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    os.close(handle)
    try:
        shutil.copyfile(path, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return key, True


def image_size(path: Path, external_id: str) -> tuple[int, int]:
    """The displayed width and height of an image: EXIF orientation 5–8 swaps the stored sides."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            orientation = image.getexif().get(_EXIF_ORIENTATION)
    except (UnidentifiedImageError, OSError) as error:
        raise MediaError(
            f"Asset {external_id!r}: {path} is not an image Pillow can read ({error}); "
            "convert it to PNG or JPEG, or import it in a project of the right input type."
        ) from None
    if orientation in _TRANSPOSED_ORIENTATIONS:
        width, height = height, width
    return width, height
