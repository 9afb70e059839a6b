"""Kili's category search language, parsed into SQL over the ``label_categories`` side table.

A condition is ``JOB.CATEGORY.count OP N`` with ``OP`` one of ``== >= <= > <``; conditions combine
with ``AND`` (binds tighter) and ``OR`` and group with parentheses::

    (JOB_CLASSIF.CAT_A.count == 1 OR JOB_NER.CAT_B.count > 0) AND JOB_BBOX.CAT_C.count > 10

``*`` in a job or category name matches any run of characters. ``count`` is how many times the
category is used in the label's job: 1 per chosen classification category, 1 per object (child jobs
are counted under their own names).

A query nests at most :data:`~labelport.store.limits.MAX_SEARCH_DEPTH` parentheses and holds at
most :data:`~labelport.store.limits.MAX_SEARCH_CONDITIONS` conditions; long chains of ``OR`` and
``AND`` become balanced trees of SQL (SQLite refuses expressions deeper than 1,000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Table, func, literal, select

from labelport.errors import FilterError
from labelport.store import schema
from labelport.store.limits import MAX_SEARCH_CONDITIONS, MAX_SEARCH_DEPTH
from labelport.store.lists import all_of, any_of
from labelport.values import shown

_TOKEN = re.compile(
    r"\s*(?:(?P<lpar>\()|(?P<rpar>\))|(?P<op>==|>=|<=|>|<)|(?P<int>\d+)"
    r"|(?P<cond>[A-Za-z][A-Za-z0-9_*\-]*\.[A-Za-z][A-Za-z0-9_*\-]*\.count)|(?P<word>[A-Za-z]+))"
)


@dataclass(frozen=True)
class Condition:
    job: str
    category: str
    op: str
    value: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # "AND" | "OR"
    items: tuple[Any, ...]


def _tokens(query: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    text = query.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FilterError(
                f"Invalid category search query: {shown(query)} (cannot read from {shown(text[position:])})."
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, query: str, name: str) -> None:
        self.query = query
        self.name = name
        self.tokens = _tokens(query)
        self.index = 0
        self.depth = 0
        self.conditions = 0

    def error(self, what: str) -> FilterError:
        return FilterError(
            f"Invalid category search query: {shown(self.query)} ({what}). "
            "Write conditions like 'JOB.CATEGORY.count > 0', joined with AND / OR."
        )

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.error("it ends too early")
        self.index += 1
        return token

    def parse(self) -> Any:
        if not self.tokens:
            raise self.error("it is empty")
        node = self.expression()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def expression(self) -> Any:
        items = [self.term()]
        while self._keyword("OR"):
            items.append(self.term())
        return _joined("OR", items)

    def term(self) -> Any:
        items = [self.factor()]
        while self._keyword("AND"):
            items.append(self.factor())
        return _joined("AND", items)

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].upper() == word:
            self.index += 1
            return True
        return False

    def factor(self) -> Any:
        kind, value = self.take()
        if kind == "lpar":
            self.depth += 1
            if self.depth > MAX_SEARCH_DEPTH:
                raise FilterError(
                    f"Filter {self.name} nests parentheses deeper than {MAX_SEARCH_DEPTH} levels: "
                    f"{shown(self.query)}. Remove the parentheses that group nothing (AND binds tighter than OR)."
                )
            node = self.expression()
            if self.take()[0] != "rpar":
                raise self.error("a parenthesis is not closed")
            self.depth -= 1
            return node
        if kind != "cond":
            raise self.error(f"expected JOB.CATEGORY.count, got {value!r}")
        job, category, _count = value.split(".")
        op_kind, op = self.take()
        if op_kind != "op":
            raise self.error(f"expected one of == >= <= > < after {value!r}, got {op!r}")
        int_kind, number = self.take()
        if int_kind != "int":
            raise self.error(f"expected a whole number after {op!r}, got {number!r}")
        if len(number.lstrip("0")) > _MAX_DIGITS:  # int() of thousands of digits is refused, or slow
            raise self.error(f"{shown(number)} has more than {_MAX_DIGITS} digits; counts are at most 2**63-1")
        self.conditions += 1
        if self.conditions > MAX_SEARCH_CONDITIONS:
            raise FilterError(
                f"Filter {self.name} has more than {MAX_SEARCH_CONDITIONS:,} conditions: {shown(self.query)}. "
                "Use * in job and category names to match several with one condition."
            )
        count = int(number)
        if count > _MAX_COUNT:
            raise self.error(f"{shown(number)} is more than 2**63-1")
        return Condition(job, category, op, count)


_MAX_COUNT = 2**63 - 1
_MAX_DIGITS = len(str(_MAX_COUNT))


def _joined(op: str, items: list[Any]) -> Any:
    """One item, or a :class:`BoolOp` of them; an item with the same operator is merged into it."""
    if len(items) == 1:
        return items[0]
    flat: list[Any] = []
    for item in items:
        flat.extend(item.items if isinstance(item, BoolOp) and item.op == op else (item,))
    return BoolOp(op, tuple(flat))


def parse(query: str, name: str = "category_search") -> Any:
    """Parse a category search string (given to filter ``name``) into a tree of :class:`Condition`
    and :class:`BoolOp`."""
    if not isinstance(query, str):
        raise FilterError(f"Invalid category search query: {shown(query)} is not a string.")
    return _Parser(query, name).parse()


def conditions(node: Any) -> list[Condition]:
    """Every condition of a parsed query."""
    if isinstance(node, Condition):
        return [node]
    return [c for item in node.items for c in conditions(item)]


def _match(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    if "*" not in pattern:
        return column == pattern
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
    return column.like(escaped, escape="\\")


def to_sql(node: Any, labels: Table) -> ColumnElement[bool]:
    """The condition on rows of ``labels`` that a parsed query expresses."""
    if isinstance(node, BoolOp):
        parts = [to_sql(item, labels) for item in node.items]
        return all_of(parts) if node.op == "AND" else any_of(parts)
    lc = schema.label_categories
    count = func.coalesce(
        select(func.sum(lc.c.count))
        .where(
            lc.c.label_pk == labels.c.pk,
            _match(lc.c.job, node.job),
            _match(lc.c.category, node.category),
        )
        .scalar_subquery(),
        0,
    )
    value = literal(node.value, BigInteger())  # a count up to 2**63-1, which PostgreSQL's INTEGER cannot bind
    return {
        "==": count == value,
        ">=": count >= value,
        "<=": count <= value,
        ">": count > value,
        "<": count < value,
    }[node.op]
