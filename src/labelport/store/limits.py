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
from labelport.values import check_text, text_problem

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


def check_texts(what: str, values: list[str], error: type[ValidationError] = ValidationError) -> list[str]:
    """``values`` (strings), or ``error`` naming ``what`` and the first one that cannot be bound."""
    if text_problem("".join(values)) is not None:  # one check for the whole list; then find the culprit
        for value in values:
            check_text(value, what, error=error)
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
