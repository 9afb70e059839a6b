"""The media files of the store: copies made during a write, and removing the ones no asset uses."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, or_, select

from labelport import media
from labelport.store import schema
from labelport.store.engine import Store
from labelport.store.fields import MEDIA_PREFIX

A = schema.assets
_MEDIA_REF = re.compile(r'"media:([0-9a-f]{2}/[0-9a-f]{64}[^"]*)"')


@dataclass
class MediaWriter:
    """Copies local files into the media folder and removes the new ones if the transaction fails."""

    media_dir: Path
    created: list[Path] = field(default_factory=list)

    def add(self, path: Path) -> str:
        key, is_new = media.store_file(self.media_dir, path)
        if is_new:
            self.created.append(self.media_dir / key)
        return key

    def rollback(self) -> None:
        for path in self.created:
            path.unlink(missing_ok=True)
        self.created.clear()


def media_keys_of(rows: Iterable[Row[Any]]) -> list[str]:
    """Media keys referenced by asset rows of (media_key, json_content)."""
    keys: set[str] = set()
    for media_key, json_content in rows:
        if media_key:
            keys.add(media_key)
        if json_content and MEDIA_PREFIX in json_content:
            keys.update(_MEDIA_REF.findall(json_content))
    return sorted(keys)


def unreferenced_media(conn: Connection, keys: Iterable[str]) -> list[str]:
    """The keys no asset of any project still uses."""
    orphans = []
    for key in keys:
        used = conn.execute(
            select(A.c.pk)
            .where(
                or_(
                    A.c.media_key == key,
                    A.c.json_content.contains(f"{MEDIA_PREFIX}{key}", autoescape=True),
                )
            )
            .limit(1)
        ).first()
        if used is None:
            orphans.append(key)
    return orphans


def remove_unreferenced(store: Store, keys: Iterable[str]) -> None:
    """Delete the media files among ``keys`` that no asset uses any more (after a delete committed)."""
    with store.read() as conn:
        orphans = unreferenced_media(conn, keys)
    for key in orphans:
        (store.media_dir / key).unlink(missing_ok=True)
