"""Local files sent through the server, as Kili's SDK sends them (signed upload URLs).

For each local file of an import, the SDK asks ``createUploadBucketSignedUrls`` for a URL, PUTs the file
to that URL cut before ``&id=``, then sends the whole URL as the asset's content. labelport's URLs are
``<base>/api/label/v2/upload?file=<id>&user=<email>&expires=<unix time>&signature=<hmac>&id=<id>``: the
PUT (with the caller's API key) stores the bytes under ``<media folder>/.uploads/<id>``, and
``appendManyAssets`` recognizes its own URLs, checks their signature and owner, and imports the stored
file as the Python client imports a local path. Staged files are removed once imported, and those never
imported after :data:`STAGED_FOR` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from labelport.errors import PermissionDenied, ValidationError
from labelport.store.engine import Store

UPLOAD_PATH = "/api/label/v2/upload"
#: How long an upload URL may be used, and a staged file kept, in seconds.
STAGED_FOR = 24 * 3600
_FOLDER = ".uploads"
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


def staging_folder(store: Store) -> Path:
    return store.media_dir / _FOLDER


def _signature(secret: bytes, file_id: str, user: str, expires: str) -> str:
    return hmac.new(secret, f"{file_id}\n{user}\n{expires}".encode(), hashlib.sha256).hexdigest()


def upload_url(base_url: str, secret: bytes, user: str, bucket_path: str) -> str:
    """A URL the user may PUT one file to (``bucket_path`` is the SDK's name for it, unused)."""
    del bucket_path
    file_id = secrets.token_hex(16)
    expires = str(int(time.time()) + STAGED_FOR)
    signature = _signature(secret, file_id, user, expires)
    query = f"file={file_id}&user={quote(user)}&expires={expires}&signature={signature}"
    return f"{base_url}{UPLOAD_PATH}?{query}&id={file_id}"


def check(secret: bytes, user: str, query: str) -> str:
    """The file id of an upload URL's query, if its signature is good, it has not expired and it is
    ``user``'s; else a LabelportError saying which."""
    fields = {key: values[0] for key, values in parse_qs(query).items() if values}
    file_id, owner, expires, signature = (fields.get(k, "") for k in ("file", "user", "expires", "signature"))
    if not file_id.isalnum() or not expires.isdigit():
        raise ValidationError("This upload URL is malformed; ask createUploadBucketSignedUrls for a new one.")
    if not hmac.compare_digest(signature, _signature(secret, file_id, owner, expires)):
        raise PermissionDenied("This upload URL's signature is wrong; ask createUploadBucketSignedUrls for a new one.")
    if owner != user:
        raise PermissionDenied("This upload URL was given to another user.")
    if int(expires) < time.time():
        raise ValidationError("This upload URL has expired; ask createUploadBucketSignedUrls for a new one.")
    return file_id


class TooLarge(Exception):
    """An upload beyond the server's limit (the upload route answers 413 with the message)."""


def suffix_of(content_type: str | None) -> str:
    """The file extension of an upload's ``Content-Type`` (``image/png`` → ``.png``), "" when unknown: the
    stored file keeps it, so that it is served back with its type."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    suffix = {"image/jpeg": ".jpg", "text/plain": ".txt"}.get(kind) or mimetypes.guess_extension(kind) or ""
    return suffix if _SUFFIX.match(suffix) else ""


class Staged:
    """An uploaded file being written to the staging folder (as ``<id><suffix>``): a temporary file renamed
    into place when the upload is whole; more than ``limit`` bytes, or any failure, leaves nothing."""

    def __init__(self, store: Store, file_id: str, limit: int, suffix: str = "") -> None:
        self.folder = staging_folder(store)
        self.name, self.limit, self.size = file_id + suffix, limit, 0
        self.temporary = self.folder / f".{file_id}.{secrets.token_hex(4)}.partial"

    def __enter__(self) -> Staged:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.out = self.temporary.open("wb")
        return self

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise TooLarge(f"The file is larger than this server takes ({self.limit} bytes).")
        self.out.write(chunk)

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        self.out.close()
        if kind is None:
            os.replace(self.temporary, self.folder / self.name)
        self.temporary.unlink(missing_ok=True)


def remove_stale(store: Store) -> None:
    """Remove staged files older than :data:`STAGED_FOR` (uploads never imported)."""
    folder = staging_folder(store)
    if not folder.is_dir():
        return
    deadline = time.time() - STAGED_FOR
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < deadline:
                path.unlink(missing_ok=True)
        except OSError:
            continue


@contextmanager
def resolved(store: Store, secret: bytes, user: str) -> Iterator[Callable[[str | None], str | None]]:
    """Within the block, a function that turns this server's upload URLs (signed by ``secret`` for
    ``user``) into the staged files' paths (other values are returned as they are); the staged files it
    named are removed afterwards."""
    used: list[Path] = []

    def local(value: str | None) -> str | None:
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            return value
        parts = urlsplit(value)
        if parts.path != UPLOAD_PATH:
            return value
        file_id = check(secret, user, parts.query)
        path = next((found for found in staging_folder(store).glob(f"{file_id}*") if found.is_file()), None)
        if path is None:
            raise ValidationError(f"No file was uploaded to {value.split('&id=')[0]!r}; PUT the file first.")
        used.append(path)
        return str(path)

    try:
        yield local
    finally:
        for path in used:
            path.unlink(missing_ok=True)
