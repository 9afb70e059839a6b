"""Copying asset media into the archive: bytes as they are, from the store or from a URL."""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from labelport.export.model import ExportContext

DOWNLOAD_TIMEOUT_S = 30
_CHUNK = 1 << 20
_SPOOL = 16 << 20


def add_media(ctx: ExportContext, external_id: str, member: str, path: Path | None, url: str | None) -> bool:
    """Put one media file in the archive as ``member``; on failure, report it and return False.

    Stored files are copied byte for byte; http(s) URLs are downloaded and streamed in.
    """
    return add_media_copies(ctx, external_id, [member], path, url)


def add_media_copies(
    ctx: ExportContext, external_id: str, members: Sequence[str], path: Path | None, url: str | None
) -> bool:
    """Put one media file in the archive under each name of ``members`` (a URL is downloaded once, and a
    failure is reported once); on failure, report it and return False."""
    if not members:
        return True
    if path is not None:
        if not path.is_file():
            ctx.report.skip(external_id, f"media not included: the stored file {path} is missing")
            return False
        for member in members:
            ctx.archive.copy_file(member, path)
            ctx.report.files += 1
        return True
    if url is None or not url.startswith(("http://", "https://")):
        ctx.report.skip(external_id, "media not included: the asset has no file or URL")
        return False
    # Download completely first, so that a failed download leaves no truncated member behind.
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as buffer:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                shutil.copyfileobj(response, buffer, _CHUNK)
        except (urllib.error.URLError, OSError, ValueError) as error:
            ctx.report.skip(external_id, f"media not included: download of {url} failed ({error})")
            return False
        for member in members:
            buffer.seek(0)
            with ctx.archive.open(member, large=True) as out:
                shutil.copyfileobj(buffer, out, _CHUNK)
            ctx.report.files += 1
    return True
