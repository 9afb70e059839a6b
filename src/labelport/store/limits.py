"""What a query accepts: values both databases can bind, and bounds on the size of a query.

Checked before any SQL is built, so that hostile or mistaken input is refused with a
:class:`~labelport.errors.LabelportError` naming the argument and the limit, the same way on SQLite
and PostgreSQL, instead of failing inside a driver (``UnicodeEncodeError``, ``OverflowError``) or
inside Python (``RecursionError``). docs/query.md ("Limits") lists them.
"""

from __future__ import annotations

import math
from typing import Any

from labelport.errors import ValidationError

#: Integers are 64-bit, as SQLite stores them and PostgreSQL's ``bigint``: larger ones are refused.
MIN_INT = -(2**63)
MAX_INT = 2**63 - 1
#: Names in one dotted field path (``labels.author.email`` has 3).
MAX_FIELD_DEPTH = 10
#: Parentheses nested in one category search. SQLite 3.40's parser takes about 30 nested pairs in a
#: statement; a level of more than 32 conditions costs a second pair (labelport.store.lists.FAN_OUT).
MAX_SEARCH_DEPTH = 10
#: Conditions (``JOB.CATEGORY.count OP N``) in one category search.
MAX_SEARCH_CONDITIONS = 1_000
#: Keys in one ``metadata_where``.
MAX_METADATA_KEYS = 1_000


def shown(value: Any, width: int = 80) -> str:
    """``repr(value)`` for a message: shortened, and safe for integers too long to print."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    try:
        text = repr(value)
    except ValueError:  # a container holding an integer too long to print
        return f"a {type(value).__name__}"
    return text if len(text) <= width else f"{text[: width - 1]}…"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be bound as text on both databases, or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"it holds a lone surrogate (U+{ord(value[error.start]):04X}), which UTF-8 cannot encode"
    if "\x00" in value:
        return "it holds a NUL character (U+0000), which PostgreSQL text cannot hold"
    return None


def check_text(what: str, value: str, error: type[ValidationError] = ValidationError) -> str:
    """``value``, or ``error`` naming ``what`` when it cannot be bound as text."""
    problem = text_problem(value)
    if problem is not None:
        raise error(f"{what} {shown(value)} cannot be looked up: {problem}.")
    return value


def check_texts(what: str, values: list[str], error: type[ValidationError] = ValidationError) -> list[str]:
    """``values`` (strings), or ``error`` naming ``what`` and the first one that cannot be bound."""
    if text_problem("".join(values)) is not None:  # one check for the whole list; then find the culprit
        for value in values:
            check_text(what, value, error)
    return values


def int_beyond(value: int, low: int = MIN_INT, high: int = MAX_INT) -> str | None:
    """How the integer ``value`` misses ``low`` … ``high`` ("at most 2**63-1"), or None."""
    if value > high:
        return f"at most {_bound(high)}"
    if value < low:
        return f"at least {_bound(low)}"
    return None


def _bound(bound: int) -> str:
    return {MAX_INT: "2**63-1", MIN_INT: "-2**63"}.get(bound, str(bound))


def is_number(value: Any) -> bool:
    """An int or a float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_beyond(value: int | float) -> str | None:
    """Why a number cannot be compared with on both databases ("NaN", "beyond 64-bit integers"), or None."""
    if isinstance(value, float):
        return "NaN compares with nothing" if math.isnan(value) else None
    if int_beyond(value) is not None:
        return "integers are 64-bit, from -2**63 to 2**63-1 (give a float, e.g. 1e300, for a larger bound)"
    return None
