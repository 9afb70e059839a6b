"""Copying asset media into the archive: bytes as they are, from the store or from a URL."""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from labelport.export.model import ExportContext

DOWNLOAD_TIMEOUT_S = 30
_CHUNK = 1 << 20
_SPOOL = 16 << 20


def add_media(ctx: ExportContext, external_id: str, member: str, path: Path | None, url: str | None) -> bool:
    """Put one media file in the archive as ``member``; on failure, report it and return False.

    Stored files are copied byte for byte; http(s) URLs are downloaded and streamed in.
    """
    if path is not None:
        if not path.is_file():
            ctx.report.skip(external_id, f"media not included: the stored file {path} is missing")
            return False
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
        buffer.seek(0)
        with ctx.archive.open(member, large=True) as out:
            shutil.copyfileobj(buffer, out, _CHUNK)
    ctx.report.files += 1
    return True
