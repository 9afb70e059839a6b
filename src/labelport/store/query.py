"""Streaming reads: filtered, keyset-paginated queries that yield nested dicts page by page."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select
from tqdm import tqdm

from labelport._gc import gc_paused
from labelport.errors import ValidationError
from labelport.store.engine import Store
from labelport.store.fields import ENTITIES, Context, make_plan, materialize, parse_fields
from labelport.store.limits import MAX_INT, int_beyond
from labelport.values import shown

#: Root rows fetched per query. Links (labels, authors…) are fetched once per page.
PAGE_SIZE = 500


def check_paging(first: Any, skip: Any) -> None:
    """``first`` and ``skip`` are whole numbers from 0 to 2**63-1 (what both databases' LIMIT and OFFSET take)."""
    if first is not None and (isinstance(first, bool) or not isinstance(first, int) or first < 0):
        raise ValidationError(f"first must be a whole number ≥ 0 or None, got {shown(first)}.")
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise ValidationError(f"skip must be a whole number ≥ 0, got {shown(skip)}.")
    for name, value in (("first", first), ("skip", skip)):
        if value is not None and int_beyond(value, 0, MAX_INT) is not None:
            raise ValidationError(f"{name} must be at most 2**63-1, got {shown(value)}.")


def count(store: Store, entity_name: str, where: Sequence[ColumnElement[bool]]) -> int:
    with store.read() as conn:
        return count_in(conn, entity_name, where)


def count_in(conn: Connection, entity_name: str, where: Sequence[ColumnElement[bool]]) -> int:
    """The entity's rows matching ``where``, read with ``conn`` (in its transaction)."""
    table = ENTITIES[entity_name].table
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def stream(
    store: Store,
    entity_name: str,
    fields: Sequence[str] | None,
    where: Sequence[ColumnElement[bool]],
    *,
    first: int | None = None,
    skip: int = 0,
    disable_tqdm: bool | None = None,
    description: str = "",
    page_size: int | None = None,
    media_base: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the entity's rows matching ``where`` in creation order, as dicts with ``fields``.

    Fields and paging are checked before the first row is read, so errors surface at the call
    even when the caller keeps the generator for later. Stored media are named under ``media_base``
    (a URL prefix, for the server), by default the store's media folder.
    """
    check_paging(first, skip)
    plan = make_plan(entity_name, parse_fields(entity_name, fields))
    size = page_size or PAGE_SIZE
    ctx = Context(media_base or str(store.media_dir))
    return _pages(store, entity_name, plan, list(where), first, skip, disable_tqdm, description, size, ctx)


def _pages(
    store: Store,
    entity_name: str,
    plan: Any,
    where: list[ColumnElement[bool]],
    first: int | None,
    skip: int,
    disable_tqdm: bool | None,
    description: str,
    page_size: int,
    ctx: Context,
) -> Iterator[dict[str, Any]]:
    table = ENTITIES[entity_name].table
    bar = None
    if disable_tqdm is False or disable_tqdm is None:
        total = max(count(store, entity_name, where) - skip, 0)
        if first is not None:
            total = min(total, first)
        # None: tqdm decides (shown on a terminal, hidden in logs and pipes)
        bar = tqdm(total=total, desc=description, disable=disable_tqdm, leave=False, unit=" rows")
    remaining = first
    last_pk: int | None = None
    offset = skip
    try:
        while remaining is None or remaining > 0:
            limit = page_size if remaining is None else min(page_size, remaining)
            query = select(*plan.columns()).where(*where)
            if last_pk is not None:
                query = query.where(table.c.pk > last_pk)
            query = query.order_by(table.c.pk).limit(limit)
            if offset:
                query = query.offset(offset)
                offset = 0
            with gc_paused(), store.read() as conn:  # a page parses many small acyclic objects
                rows = conn.execute(query).all()
                objects = materialize(conn, plan, rows, ctx)
            if not rows:
                return
            last_pk = rows[-1]._mapping["pk"]
            if remaining is not None:
                remaining -= len(rows)
            if bar is not None:
                bar.update(len(rows))
            yield from objects
            if len(rows) < limit:
                return
    finally:
        if bar is not None:
            bar.close()
