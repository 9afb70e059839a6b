"""Schema versions, applied when a store is opened.

A fresh database gets the current schema and the latest version number at once. An older database
is brought forward by the steps in :data:`STEPS`, in order, inside one transaction; a database
written by a newer labelport is refused rather than damaged.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, or_, select, text

from labelport.errors import SchemaVersionError
from labelport.media import MEDIA_PREFIX, keys_used
from labelport.store import schema

_FILL_BATCH = 5_000


def _asset_media(conn: Connection) -> None:
    """Version 2: the ``asset_media`` table (which stored files each asset uses), filled from the assets."""
    A = schema.assets
    schema.asset_media.create(conn)
    last = 0
    while True:
        rows = conn.execute(
            select(A.c.pk, A.c.media_key, A.c.json_content)
            .where(A.c.pk > last, or_(A.c.media_key.is_not(None), A.c.json_content.contains(MEDIA_PREFIX)))
            .order_by(A.c.pk)
            .limit(_FILL_BATCH)
        ).all()
        if not rows:
            return
        used = [{"asset_pk": row.pk, "key": key} for row in rows for key in sorted(keys_used(row[1], row[2]))]
        if used:
            conn.execute(schema.asset_media.insert(), used)
        last = rows[-1].pk


def _api_keys(conn: Connection) -> None:
    """Version 3: the ``api_keys`` table (the server's API keys, stored as hashes), empty."""
    schema.api_keys.create(conn)


def _jobs(conn: Connection) -> None:
    """Version 4: the ``jobs`` table (the server's background jobs: exports), empty."""
    schema.jobs.create(conn)


def _web_ui(conn: Connection) -> None:
    """Version 5, the web UI: the ``passwords`` (argon2 hashes) and ``web_sessions`` tables, empty; two
    indexes of ``labels`` from which members' marks are read."""
    schema.passwords.create(conn)
    schema.web_sessions.create(conn)
    for index in schema.labels.indexes:
        if index.name in ("ix_labels_member_assets", "ix_labels_member_honeypot"):
            index.create(conn)


#: ``STEPS[n]`` takes a database from version ``n + 1`` to ``n + 2``. Version 1 is the first schema.
STEPS: list[Callable[[Connection], None]] = [_asset_media, _api_keys, _jobs, _web_ui]
LATEST_VERSION = 1 + len(STEPS)


def current_version(conn: Connection) -> int:
    """The schema version stored in the database, 0 when it has no labelport tables yet."""
    if not inspect(conn).has_table(schema.meta.name):
        return 0
    value = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")).scalar_one_or_none()
    return int(value) if value is not None else 0


def migrate(conn: Connection) -> int:
    """Bring the database at ``conn`` to :data:`LATEST_VERSION`; return the version it had."""
    if conn.dialect.name == "postgresql":  # one migrator at a time per database
        conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    version = current_version(conn)
    if version > LATEST_VERSION:
        raise SchemaVersionError(
            f"This database has schema version {version}, newer than this labelport understands "
            f"({LATEST_VERSION}); upgrade labelport to open it."
        )
    if version == 0:
        schema.metadata.create_all(conn)
        conn.execute(schema.meta.insert().values(key="schema_version", value=str(LATEST_VERSION)))
        return 0
    for step in STEPS[version - 1 :]:
        step(conn)
    if version != LATEST_VERSION:
        conn.execute(
            schema.meta.update().where(schema.meta.c.key == "schema_version").values(value=str(LATEST_VERSION))
        )
    return version
