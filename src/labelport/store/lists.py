"""Conditions on long lists of values, whatever their length, on SQLite and PostgreSQL.

A long list given to a filter goes to the database as **one** value (the idea of
:func:`labelport.store.bulk.select_for_keys`, as SQLAlchemy expressions): on SQLite a bound
parameter holding a JSON array, read by ``json_each``; on PostgreSQL an array constant, written into
the statement when it runs (:func:`_array` says why not a parameter). So 100,000 ids are one value,
the compiled statement is the same for any list length (compiled once, cached), and SQLite's limits
on bound variables (32,766) and on expression depth (1,000) are never reached:

- :func:`in_values` — ``expr IN (SELECT value FROM json_each(:p))`` / ``expr = ANY('{…}'::VARCHAR[])``;
  a list of at most :data:`FEW_VALUES` stays a plain ``IN (:p1, :p2, …)``, planned as before (an
  array parameter made PostgreSQL settle on a generic plan after psycopg prepared the statement,
  2.4× slower on a 3-value ``metadata_where`` list);
- :func:`contains_any` — the text contains one of the parts: a few parts are an ``OR`` of
  ``instr`` / ``strpos`` tests; many parts are looked up: every substring of the text whose length
  is one of the parts' lengths is looked for in the list (a hashed or indexed lookup), which costs
  per row what the text's length costs, not what the list's length costs;
- :func:`any_of`, :func:`all_of` — ``OR`` / ``AND`` of conditions that cannot be one parameter,
  in groups of :data:`FAN_OUT`, so that neither the depth of the expression nor the nesting of
  parentheses grows with their number (SQLite refuses expressions deeper than 1,000, and its 3.40
  parser about 30 nested parentheses).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import BigInteger, Boolean, ColumnElement, Float, Integer, String, and_, bindparam, false, or_, true
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, TypeDecorator, TypeEngine

#: ``in_values`` writes lists of at most this many values as a plain ``IN (…)``.
FEW_VALUES = 16
#: ``contains_any`` tests at most this many parts one by one (an ``OR`` of ``instr`` tests) …
FEW_PARTS = 32
#: … or this many per distinct length of the parts, up to :data:`MANY_PARTS`; beyond, it looks them up.
PARTS_PER_LENGTH = 16
MANY_PARTS = 512

Value = str | int | float


class ListParam(TypeDecorator[Sequence[Value]]):
    """A list as one value: a JSON array bound as a parameter on SQLite (read by ``json_each``); on
    PostgreSQL, an array constant written into the statement when it runs (see :func:`_array`)."""

    impl = String
    cache_ok = True

    def __init__(self, item: TypeEngine[Any]) -> None:
        super().__init__()
        self.item = item

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return NullType() if dialect.name == "postgresql" else dialect.type_descriptor(String())

    def process_bind_param(self, value: Sequence[Value] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return array_literal(value)
        cached = getattr(value, "json", None)
        if cached is not None:
            return cached
        text = orjson.dumps(list(value)).decode()
        if isinstance(value, Values):
            value.json = text
        return text

    def process_literal_param(self, value: Sequence[Value] | None, dialect: Dialect) -> str:
        assert value is not None
        cached = getattr(value, "sql_literal", None)
        if cached is not None:  # the pages of a query run one statement with the same list
            return cached
        text = array_literal(value).replace("'", "''")
        if dialect.identifier_preparer._double_percents:  # pyformat (psycopg): % is written %%
            text = text.replace("%", "%%")
        if isinstance(value, Values):
            value.sql_literal = f"'{text}'"
        return f"'{text}'"


class Values(list[Value]):
    """The list of a list parameter, with room for its text (JSON on SQLite, an SQL constant on
    PostgreSQL), written once for all the runs of its statement (the pages of a query)."""

    json: str | None = None
    sql_literal: str | None = None


_CONTROL = re.compile(r"[\x00-\x1f]")


def array_literal(values: Sequence[Value]) -> str:
    """PostgreSQL's text form of an array (``{"a","b\\"c"}``, ``{1,2.5}``), which the server reads
    several times faster than psycopg adapts a long Python list (100,000 strings: 26 ms, not 120)."""
    if values and isinstance(values[0], str) and _CONTROL.search("".join(values)):  # type: ignore[arg-type]
        quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)  # type: ignore[union-attr]
        return "{" + ",".join(quoted) + "}"
    # Without control characters, JSON writes strings as an array's text form does: in double
    # quotes, with only " and \ escaped by a backslash; and numbers alike (finite ones only here).
    return "{" + orjson.dumps(list(values)).decode()[1:-1] + "}"


_ARRAY_TYPES = {String: "VARCHAR[]", BigInteger: "BIGINT[]", Integer: "INTEGER[]", Float: "DOUBLE PRECISION[]"}


def _array(param: BindParameter[Any], compiler: SQLCompiler, **kw: Any) -> str:
    """A list parameter as a PostgreSQL array constant (``'{"a","b"}'::VARCHAR[]``), written into the
    statement each time it runs (the compiled statement, cached, holds a placeholder).

    Not a bound parameter: once psycopg prepares a statement (its 6th run on a connection; pages of a
    query are runs of one statement), PostgreSQL may switch to a generic plan, in which an array
    parameter is searched from end to end for every row (100,000 ids: 47 s a query, not 0.15 s);
    an array constant is hashed once in every plan.
    """
    kw["literal_execute"] = True
    assert isinstance(param.type, ListParam)
    return f"{compiler.process(param, **kw)}::{_ARRAY_TYPES[type(param.type.item)]}"


def _item_type(values: Sequence[Value]) -> TypeEngine[Any]:
    if all(isinstance(value, str) for value in values):
        return String()
    if all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return BigInteger()
    if all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
        return Float()
    raise TypeError("a list parameter holds strings, or numbers, not a mix")


def _list_param(values: Sequence[Value], item: TypeEngine[Any] | None = None) -> BindParameter[Any]:
    return bindparam(None, Values(values), type_=ListParam(item or _item_type(values)), unique=True)


def unique(values: Sequence[Value]) -> list[Value]:
    """The values without repeats, in their first order."""
    return list(dict.fromkeys(values))


class _ListCondition(ColumnElement[bool]):
    """A boolean condition on ``expr`` and list parameters, written per dialect by ``@compiles``."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's declaration of the children, for cache keys and copies)
        ("expr", InternalTraversal.dp_clauseelement),
        ("list_params", InternalTraversal.dp_clauseelement_list),
    ]

    def __init__(self, expr: ColumnElement[Any], *params: BindParameter[Any]) -> None:
        self.expr = expr
        self.list_params: list[BindParameter[Any]] = list(params)

    @property
    def _from_objects(self) -> list[Any]:
        return self.expr._from_objects


class _InValues(_ListCondition):
    inherit_cache = True


class _LookupParts(_ListCondition):
    """``expr`` has a substring, of one of the listed lengths, that is one of the listed parts."""

    inherit_cache = True


class _Position(_ListCondition):
    """``expr`` contains the text of one (scalar) parameter."""

    inherit_cache = True


def _parts(element: _ListCondition, compiler: SQLCompiler, **kw: Any) -> tuple[str, list[str]]:
    return compiler.process(element.expr, **kw), [compiler.process(param, **kw) for param in element.list_params]


@compiles(_InValues)
def _in_values_sqlite(element: _InValues, compiler: SQLCompiler, **kw: Any) -> str:
    expr, (values,) = _parts(element, compiler, **kw)
    return f"{expr} IN (SELECT value FROM json_each({values}))"


@compiles(_InValues, "postgresql")
def _in_values_postgresql(element: _InValues, compiler: SQLCompiler, **kw: Any) -> str:
    (values,) = element.list_params
    return f"{compiler.process(element.expr, **kw)} = ANY({_array(values, compiler, **kw)})"


@compiles(_Position)
def _position_sqlite(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    expr, (part,) = _parts(element, compiler, **kw)
    return f"instr({expr}, {part}) > 0"


@compiles(_Position, "postgresql")
def _position_postgresql(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    expr, (part,) = _parts(element, compiler, **kw)
    return f"strpos({expr}, {part}) > 0"


@compiles(_LookupParts)
def _lookup_sqlite(element: _LookupParts, compiler: SQLCompiler, **kw: Any) -> str:
    # Per length n of the parts, the positions 1 … length - n + 1 come from a recursive CTE; the
    # parts' list is read once into an index (an uncorrelated IN).
    expr, (lengths, parts) = _parts(element, compiler, **kw)
    return (
        f"EXISTS (SELECT 1 FROM json_each({lengths}) AS lp_len WHERE EXISTS ("
        f"WITH RECURSIVE lp_pos(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM lp_pos "
        f"WHERE i < length({expr}) - lp_len.value + 1) "
        f"SELECT 1 FROM lp_pos WHERE substr({expr}, lp_pos.i, lp_len.value) IN (SELECT value FROM json_each({parts}))))"
    )


@compiles(_LookupParts, "postgresql")
def _lookup_postgresql(element: _LookupParts, compiler: SQLCompiler, **kw: Any) -> str:
    # ``= ANY(array constant)`` hashes a long array once per statement (PostgreSQL ≥ 14); ``IN
    # (SELECT unnest(…))`` would only hash it when it fits in work_mem, else scan it for every substring.
    expr = compiler.process(element.expr, **kw)
    lengths, parts = (_array(param, compiler, **kw) for param in element.list_params)
    return (
        f"EXISTS (SELECT 1 FROM unnest({lengths}) AS lp_len(n), "
        f"generate_series(1, length({expr}) - lp_len.n + 1) AS lp_pos(i) "
        f"WHERE substr({expr}, lp_pos.i, lp_len.n) = ANY({parts}))"
    )


def in_values(expr: ColumnElement[Any], values: Sequence[Value], few: int = FEW_VALUES) -> ColumnElement[bool]:
    """``expr`` is one of ``values`` (strings, or numbers): more than ``few`` go to the database as
    one parameter (0: always; then a statement binds one parameter per list, whatever their sizes)."""
    values = unique(values)
    if not values:
        return false()
    if len(values) <= few:
        return expr.in_(values)
    return _InValues(expr, _list_param(values))


def contains_any(expr: ColumnElement[Any], parts: Sequence[str]) -> ColumnElement[bool]:
    """The text ``expr`` contains one of ``parts`` (case-sensitive, on both databases)."""
    parts = [str(part) for part in unique(parts)]
    if not parts:
        return false()
    if "" in parts:
        return true()
    lengths = sorted({len(part) for part in parts})
    if len(parts) <= max(FEW_PARTS, min(PARTS_PER_LENGTH * len(lengths), MANY_PARTS)):
        return any_of([_Position(expr, bindparam(None, part, type_=String(), unique=True)) for part in parts])
    return _LookupParts(expr, _list_param(lengths, Integer()), _list_param(parts))


class _Parenthesized(ColumnElement[bool]):
    """A condition in parentheses that ``or_`` / ``and_`` keep as one operand.

    SQLAlchemy flattens an ``OR`` of ``OR``\\ s into one chain (even through a ``Grouping``, which
    passes its element's ``operator`` on), and SQLite parses a chain as a left-deep tree again.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, element: ColumnElement[bool]) -> None:
        self.element = element

    @property
    def _from_objects(self) -> list[Any]:
        return self.element._from_objects

    def self_group(self, against: Any = None) -> ColumnElement[bool]:
        return self


@compiles(_Parenthesized)
def _parenthesized(element: _Parenthesized, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.element, **kw)})"


#: Conditions chained in one group of :func:`any_of` / :func:`all_of`.
FAN_OUT = 32


def _grouped(join: Callable[..., ColumnElement[bool]], clauses: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    # A chain of n conditions is n deep for SQLite, and each pair of parentheses costs its parser
    # (3.40: about 30 nested pairs at most): chains of FAN_OUT conditions, grouped by FAN_OUT, keep
    # both small (1,000 conditions: one pair of parentheses deep, 64 conditions deep).
    while len(clauses) > FAN_OUT:
        clauses = [
            _Parenthesized(join(*clauses[start : start + FAN_OUT])) if len(clauses) - start > 1 else clauses[start]
            for start in range(0, len(clauses), FAN_OUT)
        ]
    return join(*clauses)


def any_of(clauses: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """``OR`` of ``clauses``, in groups (no clause: false)."""
    if not clauses:
        return false()
    if len(clauses) == 1:
        return clauses[0]
    return _grouped(or_, clauses)


def all_of(clauses: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """``AND`` of ``clauses``, in groups (no clause: true)."""
    if not clauses:
        return true()
    if len(clauses) == 1:
        return clauses[0]
    return _grouped(and_, clauses)
