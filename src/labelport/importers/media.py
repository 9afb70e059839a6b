"""Finding the media files a dataset names, and measuring images.

A name is looked up, in order: as an absolute path; relative to the folder of the file that names
it, then to the input's root, each under the format's usual media folders (``data/`` for COCO,
``images/`` for YOLO…); under ``media_root``, by relative path then by base name; and last, by base
name anywhere in the input when exactly one file has it.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path

from labelport import media
from labelport.errors import DatasetError, MediaError
from labelport.importers.dataset import ImportOptions
from labelport.importers.source import Source


def find_media(
    source: Source,
    name: str,
    near: str | None,
    options: ImportOptions,
    folders: Sequence[str] = ("",),
) -> Path | None:
    """The local file ``name`` designates, or None when it cannot be found."""
    if not name or media.is_url(name):
        return None
    clean = name.replace("\\", "/")
    if os.path.isabs(clean):
        if os.path.isfile(clean):
            return Path(clean)
        clean = posixpath.basename(clean)
    base = posixpath.basename(clean)
    root = str(source.root)
    starts = [posixpath.dirname(near), ""] if near else [""]
    for start in starts:
        for folder in folders:
            candidate = os.path.normpath(os.path.join(root, start, folder, clean))
            if source.is_file(candidate):
                return Path(candidate)
    if options.media_root is not None:
        for local in (options.media_root / clean, options.media_root / base):
            if local.is_file():
                return local
    if source.kind != "file":
        matches = source.with_name(base)
        if len(matches) > 1:
            matches = [rel for rel in matches if rel.endswith(clean)]
        if len(matches) == 1:
            return source.path(matches[0])
        if len(matches) > 1:
            listed = ", ".join(matches[:5])
            raise DatasetError(
                f"{source.describe(near or matches[0])}: media {name!r} matches several files ({listed}); "
                "give media_root=<the folder that holds the right ones>."
            )
    return None


def image_size(path: Path, external_id: str, origin: str) -> tuple[int, int]:
    """The displayed width and height of an image (EXIF orientation applied), or an error naming ``origin``."""
    try:
        return media.image_size(path, external_id)
    except MediaError as error:
        raise DatasetError(f"{origin}: {error}") from None


def missing(source: Source, name: str, origin: str, options: ImportOptions, what: str = "image") -> DatasetError:
    """The error for a media file that cannot be found, saying where it was looked for and what to do."""
    root = f" or under media_root {options.media_root}" if options.media_root is not None else ""
    return DatasetError(
        f"{origin}: {what} {name!r} not found next to the file, in the input{root}; "
        "put the media in the input, give media_root=<folder with the media>, "
        "or missing_media='skip' to import the rest without these assets."
    )
