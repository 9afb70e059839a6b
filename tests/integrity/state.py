"""The whole state of a store, to check that a refused call changed nothing."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

import labelport
from labelport.store import schema


def store_state(client: labelport.Client) -> dict[str, Any]:
    """Every row of every table (in key order) and every media file (path and digest)."""
    state: dict[str, Any] = {}
    with client.store.read() as conn:
        for table in schema.metadata.sorted_tables:
            keys = list(table.primary_key.columns) or list(table.columns)
            state[table.name] = [tuple(row) for row in conn.execute(select(table).order_by(*keys))]
    media = client.store.media_dir
    state["media files"] = sorted(
        (str(path.relative_to(media)), hashlib.sha256(path.read_bytes()).hexdigest())
        for path in (media.rglob("*") if media.exists() else [])
        if path.is_file()
    )
    return state
