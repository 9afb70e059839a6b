"""Kili's category search language, parsed into SQL over the ``label_categories`` side table.

A condition is ``JOB.CATEGORY.count OP N`` with ``OP`` one of ``== >= <= > <``; conditions combine
with ``AND`` (binds tighter) and ``OR`` and group with parentheses::

    (JOB_CLASSIF.CAT_A.count == 1 OR JOB_NER.CAT_B.count > 0) AND JOB_BBOX.CAT_C.count > 10

``*`` in a job or category name matches any run of characters. ``count`` is how many times the
category is used in the label's job: 1 per chosen classification category, 1 per object (child jobs
are counted under their own names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select

from labelport.errors import FilterError
from labelport.store import schema

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
            raise FilterError(f"Invalid category search query: {query!r} (cannot read from {text[position:]!r}).")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokens(query)
        self.index = 0

    def error(self, what: str) -> FilterError:
        return FilterError(
            f"Invalid category search query: {self.query!r} ({what}). "
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
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def term(self) -> Any:
        items = [self.factor()]
        while self._keyword("AND"):
            items.append(self.factor())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].upper() == word:
            self.index += 1
            return True
        return False

    def factor(self) -> Any:
        kind, value = self.take()
        if kind == "lpar":
            node = self.expression()
            if self.take()[0] != "rpar":
                raise self.error("a parenthesis is not closed")
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
        return Condition(job, category, op, int(number))


def parse(query: str) -> Any:
    """Parse a category search string into a tree of :class:`Condition` and :class:`BoolOp`."""
    if not isinstance(query, str):
        raise FilterError(f"Invalid category search query: {query!r} is not a string.")
    return _Parser(query).parse()


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
        return and_(*parts) if node.op == "AND" else or_(*parts)
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
    return {
        "==": count == node.value,
        ">=": count >= node.value,
        "<=": count <= node.value,
        ">": count > node.value,
        "<": count < node.value,
    }[node.op]
