"""Values the store keeps about itself (``labelport_meta``): its schema version, the server's secret."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from labelport.store import schema
from labelport.store.engine import Store

M = schema.meta


def secret(store: Store, name: str) -> bytes:
    """A random 256-bit secret named ``name``, created the first time it is asked for and the same for
    every process and machine sharing the store (the server signs its upload URLs with one)."""
    key = f"secret:{name}"
    with store.read() as conn:
        found = conn.execute(select(M.c.value).where(M.c.key == key)).scalar_one_or_none()
    if found is None:
        try:
            with store.write() as conn:
                conn.execute(M.insert().values(key=key, value=secrets.token_hex(32)))
        except IntegrityError:  # another process created it first
            pass
        with store.read() as conn:
            found = conn.execute(select(M.c.value).where(M.c.key == key)).scalar_one()
    return bytes.fromhex(found)
