"""Bulk statements straight through the driver.

Inserts whose primary keys are known before the rows are written: primary keys are reserved
first — from the table's sequence on PostgreSQL, after the current maximum on SQLite, where the
write transaction (``BEGIN IMMEDIATE``) excludes other writers — then the rows go in with a plain
``executemany``, which is several times faster than ``INSERT … RETURNING`` row batches and gives
the keys in the order of the rows. Updates by key the same way, and reads of the rows for a list of
keys in one statement (``select_for_keys``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Table, func, select, text

_CHUNK = 10_000
#: Values per ``IN (…)`` list where a statement binds one parameter per value: SQLite accepts at most
#: 32,766 bound parameters per statement; stay far below.
IN_CHUNK = 900


def reserve_pks(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` new, increasing primary keys for ``table``, unused by any other transaction."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        query = text("SELECT nextval(pg_get_serial_sequence(:table, 'pk')) FROM generate_series(1, :count)")
        return sorted(conn.execute(query, {"table": table.name, "count": count}).scalars())
    start = conn.execute(select(func.coalesce(func.max(table.c.pk), 0))).scalar_one() + 1
    return list(range(start, start + count))


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (their ``pk`` is set here) and return the primary keys, in row order."""
    pks = reserve_pks(conn, table, len(rows))
    for row, pk in zip(rows, pks, strict=True):
        row["pk"] = pk
    executemany_insert(conn, table, rows)
    return pks


def executemany_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys, straight through the driver's ``executemany``.

    The values are plain Python values the drivers bind natively (str, int, float, bool, None), so
    SQLAlchemy's per-row parameter processing is skipped; on wide batches it costs more than the
    database itself.
    """
    if not rows:
        return
    # Columns that are NULL in every row are left to the database: binding costs per value. (A key
    # the table lacks raises KeyError here, naming it.)
    columns = [name for name in rows[0] if not (table.c[name].nullable and all(row[name] is None for row in rows))]
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    values = _values_of(columns)
    for start in range(0, len(rows), _CHUNK):
        conn.exec_driver_sql(sql, [values(row) for row in rows[start : start + _CHUNK]])


def executemany_update(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str = "pk") -> None:
    """``UPDATE table SET … WHERE key = …`` for rows that all have the same keys, through the driver."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    for name in [*columns, key]:
        _ = table.c[name]  # a KeyError names a column the table lacks
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    assignments = ", ".join(f"{name} = {marker}" for name in columns)
    sql = f"UPDATE {table.name} SET {assignments} WHERE {key} = {marker}"
    values = _values_of([*columns, key])
    for start in range(0, len(rows), _CHUNK):
        conn.exec_driver_sql(sql, [values(row) for row in rows[start : start + _CHUNK]])


def _values_of(columns: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's values for ``columns``, as a tuple (``itemgetter`` does it in C)."""
    if len(columns) == 1:
        (name,) = columns
        return lambda row: (row[name],)
    return itemgetter(*columns)


def lock_rows(conn: Connection, table: Table, pks: Sequence[int], *, shared: bool = False) -> None:
    """Lock the rows until the end of the transaction, in key order (so that two writers never wait
    on each other in a circle): ``FOR UPDATE``, or ``FOR SHARE`` with ``shared``. On PostgreSQL, where
    writers run side by side, the writes that derive state from rows they read (an asset's flags,
    status and marks from its labels) take them first, so that a concurrent writer of the same rows
    waits, then reads what the first committed. SQLite runs one writer at a time: nothing to do."""
    if conn.dialect.name != "postgresql" or not pks:
        return
    mode = "SHARE" if shared else "UPDATE"
    conn.exec_driver_sql(
        f"SELECT pk FROM {table.name} WHERE pk = ANY(%s) ORDER BY pk FOR {mode}", (sorted(set(pks)),)
    ).all()


#: Where ``select_for_keys`` puts the list of keys.
KEYS = "{KEYS}"


def select_for_keys(conn: Connection, sql: str, keys: Sequence[int] | Sequence[str]) -> list[Any]:
    """The rows of ``sql`` for a list of keys (integers or strings), in one statement whatever their number: ``sql``
    says where they go with :data:`KEYS` (``… WHERE asset_pk {KEYS}``), and the list is one
    parameter, a JSON array read by ``json_each`` on SQLite, an array on PostgreSQL. No statement to
    compile per call and no parameter per key (SQLAlchemy's expanding ``IN`` costs more than the
    query on large lists). Values are the driver's (SQLite: 0/1 for booleans).
    """
    if not keys:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.exec_driver_sql(sql.replace(KEYS, "= ANY(%s)"), (list(keys),)))
    statement = sql.replace(KEYS, "IN (SELECT value FROM json_each(?))")
    return list(conn.exec_driver_sql(statement, (orjson.dumps(list(keys)).decode(),)))
