"""The media files of the store, and the rule that keeps every file a committed asset uses.

Files are content-addressed and shared: two assets with the same bytes use one file, and an asset
may use several (a video's frames). The ``asset_media`` table lists which files each asset uses; it
follows the assets (written with them, deleted with them by cascade).

**The rule.** A file is removed only by a write transaction that holds the *media lock* and finds, in
the committed state, no asset using it; and every write that copies files in (an import of assets, a
content change) holds the media lock from its start to its commit. The media lock is the write lock
itself on SQLite (one writer at a time, ``BEGIN IMMEDIATE``) and a transaction-level advisory lock on
PostgreSQL, so it holds across processes and machines. Hence a file is never removed between the
moment a writer finds it present (or copies it) and the moment that writer's assets are committed: the
removal either comes before (the writer then copies the file again) or sees the writer's assets.
Removals happen after a deletion commits (the files its assets used) and after a refused write rolled
back (the files it copied), each in its own short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from labelport import media
from labelport.store import schema
from labelport.store.bulk import KEYS, executemany_insert, select_for_keys
from labelport.store.engine import Store

#: The PostgreSQL advisory lock that orders every write that adds or removes media files.
MEDIA_LOCK = 0x6C705F6D  # "lp_m"


def lock_media(conn: Connection) -> None:
    """Take the media lock until the end of the transaction (on SQLite, the write lock already is)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({MEDIA_LOCK})"))


@dataclass
class MediaWriter:
    """Copies local files into the media folder during a write that holds the media lock; remembers the
    files it created, which are removed again if the write fails (unless another asset uses them)."""

    media_dir: Path
    created: list[str] = field(default_factory=list)

    def add(self, path: Path) -> str:
        key, is_new = media.store_file(self.media_dir, path)
        if is_new:
            self.created.append(key)
        return key


def used_rows(asset_pk: int, media_key: str | None, json_content: str | None) -> list[dict[str, object]]:
    """The ``asset_media`` rows of an asset."""
    return [{"asset_pk": asset_pk, "key": key} for key in sorted(media.keys_used(media_key, json_content))]


def record_use(conn: Connection, rows: list[dict[str, object]]) -> None:
    executemany_insert(conn, schema.asset_media, rows)


def keys_of_assets(conn: Connection, asset_pks: Iterable[int]) -> list[str]:
    """The keys of the files these assets use."""
    rows = select_for_keys(conn, f"SELECT DISTINCT key FROM asset_media WHERE asset_pk {KEYS}", sorted(set(asset_pks)))
    return sorted(key for (key,) in rows)


def unused(conn: Connection, keys: Iterable[str]) -> list[str]:
    """The keys among ``keys`` that no asset of any project uses."""
    wanted = sorted(set(keys))
    used = {key for (key,) in select_for_keys(conn, f"SELECT DISTINCT key FROM asset_media WHERE key {KEYS}", wanted)}
    return [key for key in wanted if key not in used]


def remove_unused(store: Store, keys: Iterable[str]) -> list[str]:
    """Remove the files among ``keys`` that no committed asset uses, under the media lock; return
    their keys."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    with store.write() as conn:
        lock_media(conn)
        orphans = unused(conn, wanted)
        for key in orphans:
            (store.media_dir / key).unlink(missing_ok=True)
    return orphans
