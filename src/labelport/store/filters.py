"""Kili's query filters (keyword arguments) → SQL ``WHERE`` clauses.

Every filter keeps Kili's name and meaning (``kili-query-spec.md`` §2). Label criteria are written
once over the ``labels`` table and used twice: directly by ``labels()``, and by ``assets()`` under
its ``label_*`` names, where an asset is kept when **one** of its labels matches **all** the label
criteria given (an ``EXISTS`` sub-query). The ``*_not_in`` label filters of ``assets()`` are the
exception: they exclude the assets that have any such label.

Kili's deprecated ``_gt``/``_lt`` forms are strict comparisons here (Kili sends them as ``>=`` and
``<=``); each warns and names its replacement. An unknown filter, a filter of Kili's hosted workflow
that labelport does not have, or a value of the wrong kind raises :class:`FilterError` naming it, as
does a value outside what both databases bind (:mod:`labelport.store.limits`).

A list goes to the database as one parameter whatever its length, and long chains of ``OR`` /
``AND`` are nested as balanced trees (:mod:`labelport.store.lists`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Table, and_, exists, false, func, not_, or_, select, true

from labelport._warnings import warn
from labelport.enums import AssetStatus, LabelType
from labelport.errors import FilterError, ValidationError
from labelport.store import category_search, schema
from labelport.store.limits import MAX_METADATA_KEYS, check_texts, is_number, number_beyond
from labelport.store.lists import FEW_VALUES, any_of, contains_any, in_values, unique
from labelport.timeutil import day_range, parse_ts
from labelport.values import check_text, shown

A, L, U, P, M = schema.assets, schema.labels, schema.users, schema.projects, schema.project_members
AM = schema.asset_metadata

#: Kili filters that only make sense with its hosted workflow engine, and what to use instead.
UNSUPPORTED: dict[str, str] = {
    "step_name_in": "labelport projects use workflow V1 statuses; filter with status_in",
    "step_name_not_in": "labelport projects use workflow V1 statuses; filter with status_in",
    "step_status_in": "labelport projects use workflow V1 statuses; filter with status_in",
    "step_status_not_in": "labelport projects use workflow V1 statuses; filter with status_in",
    "asset_step_name_in": "labelport projects use workflow V1 statuses; filter with asset_status_in",
    "asset_step_status_in": "labelport projects use workflow V1 statuses; filter with asset_status_in",
    "assignee_in": "labelport does not assign assets to labelers",
    "assignee_not_in": "labelport does not assign assets to labelers",
    "issue_type": "labelport has no issues or questions on assets",
    "issue_status": "labelport has no issues or questions on assets",
    "tags_in": "labelport projects have no tags",
    "organization_id": "a labelport store has one organization",
    "deleted": "deleted projects are removed from the store",
    "should_relaunch_kpi_computation": "labelport keeps every mark up to date on each write",
}


# -- value checks -------------------------------------------------------------------------------------


def _number(name: str, value: Any) -> float:
    if not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise FilterError(f"Filter {name} needs a number, got {shown(value)}.")
    _in_range(name, value)
    return float(value)


def _in_range(name: str, value: int | float) -> None:
    problem = number_beyond(value)
    if problem is not None:
        raise FilterError(f"Filter {name}: {shown(value)} is out of range: {problem}.")


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise FilterError(f"Filter {name} needs a string, got {shown(value)}.")
    return check_text(value, f"Filter {name}:", error=FilterError)


def _strings(name: str, value: Any) -> list[str]:
    """The distinct strings of a list filter, in their first order."""
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise FilterError(f"Filter {name} needs a list of strings, e.g. {name}=[{shown(value)}], got {shown(value)}.")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise FilterError(f"Filter {name} needs a list of strings; {shown(item)} is not one.")
    return check_texts(f"Filter {name}:", unique(items), FilterError)  # type: ignore[arg-type]


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FilterError(f"Filter {name} needs True or False, got {shown(value)}.")
    return value


def _choices(name: str, value: Any, allowed: type[AssetStatus] | type[LabelType]) -> list[str]:
    items = _strings(name, value)
    valid = [member.value for member in allowed]
    for item in items:
        if item not in valid:
            raise FilterError(f"Filter {name}: {item!r} is not one of {', '.join(valid)}.")
    return items


def _deprecated(name: str) -> None:
    replacement = {"external_id_contains": "external_id_strictly_in"}.get(name, f"{name}e")  # _gt → _gte
    warn(
        f"Filter {name} is deprecated; use {replacement} (labelport compares {name} strictly).",
        DeprecationWarning,
    )


# -- reusable builders --------------------------------------------------------------------------------

Builder = Callable[[Any, "FilterContext", str], ColumnElement[bool]]


@dataclass(frozen=True)
class FilterContext:
    """What some filters need besides their value: the project's ontology, for category search."""

    ontology_jobs: Mapping[str, Any] | None = None


def _compare(column_name: str, op: str, table: Table) -> Builder:
    def build(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        number = _number(name, value)
        if op in (">", "<"):
            _deprecated(name)
        column = table.c[column_name]
        return {
            ">=": column >= number,
            "<=": column <= number,
            ">": column > number,
            "<": column < number,
        }[op]

    return build


def _marks(prefix: str, column: str, table: Table, legacy: bool = True) -> dict[str, Builder]:
    builders = {
        f"{prefix}_gte": _compare(column, ">=", table),
        f"{prefix}_lte": _compare(column, "<=", table),
    }
    if legacy:
        builders[f"{prefix}_gt"] = _compare(column, ">", table)
        builders[f"{prefix}_lt"] = _compare(column, "<", table)
    return builders


def _dates(prefix: str, table: Table, legacy: bool = False) -> dict[str, Builder]:
    column = table.c.created_at if prefix.endswith("created_at") else table.c.updated_at

    def gte(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        if name.endswith("_gt"):
            _deprecated(name)
            return column > _timestamp(name, value, end_of_day=True)
        return column >= _timestamp(name, value)

    def lte(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        if name.endswith("_lt"):
            _deprecated(name)
            return column < _timestamp(name, value)
        return column <= _timestamp(name, value, end_of_day=True)

    builders: dict[str, Builder] = {f"{prefix}_gte": gte, f"{prefix}_lte": lte}
    if legacy:
        builders[f"{prefix}_gt"] = gte
        builders[f"{prefix}_lt"] = lte
    return builders


def _timestamp(name: str, value: Any, *, end_of_day: bool = False) -> str:
    if not isinstance(value, str | date):  # datetime is a date; a message must not print a huge integer
        raise FilterError(f"Filter {name} must be a date 'YYYY-MM-DD' or an ISO date-time, not {shown(value)}.")
    if isinstance(value, str):
        check_text(value, f"Filter {name}:", error=FilterError)
    try:
        return parse_ts(value, f"Filter {name}", end_of_day=end_of_day)
    except ValidationError as error:
        raise FilterError(str(error)) from None


def _on_day(table: Table) -> Builder:
    def build(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        _timestamp(name, value)
        start, end = day_range(value, name)
        return table.c.created_at.between(start, end)

    return build


def _author_matches(names: list[str]) -> ColumnElement[bool]:
    """Labels whose author's first name, last name, "first last" or email is among ``names``."""
    wanted = unique([name.strip().lower() for name in names])
    full = func.lower(U.c.firstname + " " + U.c.lastname)
    user_match = or_(
        in_values(func.lower(U.c.firstname), wanted),
        in_values(func.lower(U.c.lastname), wanted),
        in_values(full, wanted),
        in_values(U.c.email, wanted),
    )
    return L.c.author_pk.in_(select(U.c.pk).where(user_match))


def _users_by_email_or_id(values: list[str]) -> Any:
    lowered = unique([value.lower() for value in values])
    return select(U.c.pk).where(or_(in_values(U.c.email, lowered), in_values(U.c.id, values)))


def _category_search(value: Any, ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    tree = category_search.parse(_string(name, value), name)
    if ctx.ontology_jobs is not None:
        for condition in category_search.conditions(tree):
            if "*" in condition.job:
                continue
            job = ctx.ontology_jobs.get(condition.job)
            if job is None:
                raise FilterError(
                    f"Invalid category search query: {shown(value)}: job {condition.job!r} is not in the "
                    f"ontology; jobs are: {', '.join(ctx.ontology_jobs)}."
                )
            if "*" not in condition.category and condition.category not in job.categories:
                raise FilterError(
                    f"Invalid category search query: {shown(value)}: job {condition.job!r} has no category "
                    f"{condition.category!r}; categories are: {', '.join(job.categories)}."
                )
    return category_search.to_sql(tree, L)


def _label_type_in(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    return in_values(L.c.label_type, _choices(name, value, LabelType))


def _author_in(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    return _author_matches(_strings(name, value))


def _typed_author_in(label_type: str) -> Builder:
    def build(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        return and_(
            L.c.label_type == label_type,
            L.c.author_pk.in_(_users_by_email_or_id(_strings(name, value))),
        )

    return build


#: Criteria on one label, by their ``labels()`` names.
LABEL_CRITERIA: dict[str, Builder] = {
    "type_in": _label_type_in,
    "author_in": _author_in,
    "created_at": _on_day(L),
    **_dates("created_at", L, legacy=True),
    **_marks("honeypot_mark", "honeypot_mark", L),
    **_marks("consensus_mark", "consensus_mark", L),
    "category_search": _category_search,
}

#: ``assets()`` names of the label criteria.
ASSET_LABEL_CRITERIA: dict[str, Builder] = {
    "label_type_in": LABEL_CRITERIA["type_in"],
    "label_author_in": LABEL_CRITERIA["author_in"],
    "label_created_at": LABEL_CRITERIA["created_at"],
    **{f"label_{key}": LABEL_CRITERIA[key] for key in LABEL_CRITERIA if key.startswith("created_at_")},
    **{f"label_{key}": LABEL_CRITERIA[key] for key in LABEL_CRITERIA if "_mark_" in key},
    "label_category_search": LABEL_CRITERIA["category_search"],
    "label_labeler_in": _typed_author_in(LabelType.DEFAULT),
    "label_reviewer_in": _typed_author_in(LabelType.REVIEW),
}


def _asset_without_label_by(label_type: str) -> Builder:
    def build(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        users = _users_by_email_or_id(_strings(name, value))
        return not_(exists().where(L.c.asset_pk == A.c.pk, L.c.label_type == label_type, L.c.author_pk.in_(users)))

    return build


# -- asset filters -------------------------------------------------------------------------------------


def _eq(table: Table, column: str, check: Callable[[str, Any], Any]) -> Builder:
    def build(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        return table.c[column] == check(name, value)

    return build


def _in(table: Table, column: str, negate: bool = False) -> Builder:
    def build(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        clause = in_values(table.c[column], _strings(name, value))
        return not_(clause) if negate else clause

    return build


def _contains(table: Table, column: str) -> Builder:
    def build(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        return contains_any(table.c[column], _strings(name, value))

    return build


def _external_id_contains(value: Any, ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    _deprecated(name)
    return in_values(A.c.external_id, _strings(name, value))


def _status_in(table: Table) -> Builder:
    def build(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        return in_values(table.c.status, _choices(name, value, AssetStatus))

    return build


def metadata_number(value: Any) -> float | None:
    """The number a metadata value stands for (numbers and numeric strings), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def metadata_text(value: Any) -> str:
    """The text a top-level metadata value is stored and compared as."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


#: Up to this many keys, ``metadata_where`` is one ``EXISTS`` per key; beyond, one count of the keys that match.
_METADATA_EXISTS_KEYS = 8


def _metadata_where(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    if not isinstance(value, Mapping) or not value:
        raise FilterError(
            f"Filter {name} needs a non-empty dict: {{key: value}}, {{key: [v1, v2]}} or {{key: [min, max]}}."
        )
    if len(value) > MAX_METADATA_KEYS:
        raise FilterError(
            f"Filter {name} has {len(value):,} keys; at most {MAX_METADATA_KEYS:,}: filter on fewer keys, "
            "or on a list of values for one key."
        )
    # With many keys, each list of values is one parameter, so that the statement binds 3 per key.
    few = FEW_VALUES if len(value) <= _METADATA_EXISTS_KEYS else 0
    matches: list[tuple[str, ColumnElement[bool]]] = []
    for key, wanted in value.items():
        if not isinstance(key, str):
            raise FilterError(f"Filter {name}: metadata keys are strings, got {shown(key)}.")
        check_text(key, f"Filter {name}: metadata key", error=FilterError)
        matches.append((key, _metadata_match(name, key, wanted, few)))
    if len(matches) <= _METADATA_EXISTS_KEYS:
        return and_(*(exists().where(AM.c.asset_pk == A.c.pk, AM.c.key == key, match) for key, match in matches))
    # Many keys: one sub-query counts the asset's keys whose value matches (a key is stored once
    # per asset), rather than one EXISTS per key, which PostgreSQL's planner cannot join in time.
    matched = (
        select(func.count())
        .where(
            AM.c.asset_pk == A.c.pk,
            in_values(AM.c.key, [key for key, _match in matches]),
            any_of([and_(AM.c.key == key, match) for key, match in matches]),
        )
        .scalar_subquery()
    )
    return matched == len(matches)


def _metadata_match(name: str, key: str, wanted: Any, few: int) -> ColumnElement[bool]:
    """The condition on a stored value of ``key`` that ``metadata_where={key: wanted}`` asks for."""
    if isinstance(wanted, list | tuple) and len(wanted) == 2 and all(is_number(v) for v in wanted):
        for bound in wanted:
            if isinstance(bound, float) and math.isnan(bound):
                raise FilterError(f"Filter {name}: the range for {shown(key)} has a NaN bound; give two numbers.")
            _in_range(name, bound)
        low, high = sorted(float(v) for v in wanted)
        return AM.c.value_num.between(low, high)
    if isinstance(wanted, list | tuple):
        texts: list[str] = []
        numbers: list[float] = []
        for item in wanted:
            text, number = _metadata_value(name, key, item)
            texts.append(text)
            if number is not None:
                numbers.append(number)
        return or_(in_values(AM.c.value_text, texts, few), in_values(AM.c.value_num, numbers, few))
    if wanted is None or isinstance(wanted, dict):
        raise FilterError(f"Filter {name}: value for {shown(key)} must be a string, number, bool or list.")
    text, number = _metadata_value(name, key, wanted)
    text_match = AM.c.value_text == text
    return text_match if number is None else or_(text_match, AM.c.value_num == number)


def _metadata_value(name: str, key: str, wanted: Any) -> tuple[str, float | None]:
    """The text and the number (if any) a stored value equal to ``wanted`` has."""
    if is_number(wanted):
        if isinstance(wanted, float) and not math.isfinite(wanted):
            raise FilterError(
                f"Filter {name}: value for {shown(key)} is {wanted!r}; metadata hold finite numbers only."
            )
        _in_range(name, wanted)
    elif isinstance(wanted, str):
        check_text(wanted, f"Filter {name}: value for {shown(key)}", error=FilterError)
    try:
        text = metadata_text(wanted)
    except TypeError as error:  # orjson: a nested integer beyond 64 bits, a lone surrogate
        raise FilterError(f"Filter {name}: value for {shown(key)} cannot be written as JSON ({error}).") from None
    return text, metadata_number(wanted)


ASSET_FILTERS: dict[str, Builder] = {
    "asset_id": _eq(A, "id", _string),
    "asset_id_in": _in(A, "id"),
    "asset_id_not_in": _in(A, "id", negate=True),
    "external_id_strictly_in": _in(A, "external_id"),
    "external_id_in": _contains(A, "external_id"),
    "external_id_contains": _external_id_contains,
    **_marks("consensus_mark", "consensus_mark", A),
    **_marks("honeypot_mark", "honeypot_mark", A),
    **_marks("inference_mark", "inference_mark", A, legacy=False),
    "status_in": _status_in(A),
    "skipped": _eq(A, "skipped", _boolean),
    "is_honeypot": _eq(A, "is_honeypot", _boolean),
    **_dates("created_at", A),
    **_dates("updated_at", A),
    "metadata_where": _metadata_where,
    "label_labeler_not_in": _asset_without_label_by(LabelType.DEFAULT),
    "label_reviewer_not_in": _asset_without_label_by(LabelType.REVIEW),
}


# -- label filters -------------------------------------------------------------------------------------


def _label_asset(clause_for_asset: Builder) -> Builder:
    def build(value: Any, ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
        return L.c.asset_pk.in_(select(A.c.pk).where(clause_for_asset(value, ctx, name)))

    return build


def _user_id(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    return L.c.author_pk.in_(select(U.c.pk).where(U.c.id == _string(name, value)))


LABEL_FILTERS: dict[str, Builder] = {
    "label_id": _eq(L, "id", _string),
    "id_contains": _in(L, "id"),
    "asset_id": _label_asset(ASSET_FILTERS["asset_id"]),
    "user_id": _user_id,
    "asset_status_in": _label_asset(_status_in(A)),
    "asset_external_id_in": _label_asset(ASSET_FILTERS["external_id_in"]),
    "asset_external_id_strictly_in": _label_asset(ASSET_FILTERS["external_id_strictly_in"]),
    **LABEL_CRITERIA,
}


# -- projects and members ---------------------------------------------------------------------------


def _search_query(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    pattern = _string(name, value)
    if "%" not in pattern and "_" not in pattern:
        pattern = f"%{pattern}%"
    return or_(
        func.lower(P.c.title).like(pattern.lower()),
        func.lower(P.c.description).like(pattern.lower()),
    )


PROJECT_FILTERS: dict[str, Builder] = {
    "project_id": _eq(P, "id", _string),
    "search_query": _search_query,
    "archived": _eq(P, "archived", _boolean),
    "starred": _eq(P, "starred", _boolean),
    **_dates("updated_at", P),
}


def _member_email(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    return M.c.user_pk.in_(select(U.c.pk).where(U.c.email == _string(name, value).lower()))


def _member_status_in(value: Any, _ctx: FilterContext, name: str = "") -> ColumnElement[bool]:
    statuses = _strings(name, value)
    valid = ("ACTIVATED", "ORG_ADMIN", "ORG_SUSPENDED")
    for status in statuses:
        if status not in valid:
            raise FilterError(f"Filter {name}: {status!r} is not one of {', '.join(valid)}.")
    wanted = []
    if "ACTIVATED" in statuses or "ORG_ADMIN" in statuses:
        wanted.append(M.c.activated == true())
    if "ORG_SUSPENDED" in statuses:
        wanted.append(M.c.activated == false())
    return or_(false(), *wanted)


PROJECT_USER_FILTERS: dict[str, Builder] = {
    "email": _member_email,
    "id": _eq(M, "id", _string),
    "status_in": _member_status_in,
}


# -- entry points -------------------------------------------------------------------------------------


def build_where(
    registry: Mapping[str, Builder],
    filters: Mapping[str, Any],
    ctx: FilterContext,
    *,
    label_criteria: Mapping[str, Builder] | None = None,
    what: str,
) -> list[ColumnElement[bool]]:
    """Turn filter keyword arguments into WHERE clauses, refusing unknown names and bad values."""
    clauses: list[ColumnElement[bool]] = []
    label_clauses: list[ColumnElement[bool]] = []
    for name, value in filters.items():
        if value is None:
            continue
        if label_criteria is not None and name in label_criteria:
            label_clauses.append(label_criteria[name](value, ctx, name))
        elif name in registry:
            clauses.append(registry[name](value, ctx, name))
        elif name in UNSUPPORTED:
            raise FilterError(f"Filter {name} is not available in labelport: {UNSUPPORTED[name]}.")
        else:
            known = sorted([*registry, *(label_criteria or {})])
            raise FilterError(f"Unknown filter {name!r} for {what}. Valid filters: {', '.join(known)}.")
    if label_clauses:
        clauses.append(exists().where(L.c.asset_pk == A.c.pk, *label_clauses))
    return clauses


def asset_where(filters: Mapping[str, Any], ctx: FilterContext) -> list[ColumnElement[bool]]:
    return build_where(ASSET_FILTERS, filters, ctx, label_criteria=ASSET_LABEL_CRITERIA, what="assets()")


def label_where(filters: Mapping[str, Any], ctx: FilterContext) -> list[ColumnElement[bool]]:
    return build_where(LABEL_FILTERS, filters, ctx, what="labels()")


def project_where(filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    return build_where(PROJECT_FILTERS, filters, FilterContext(), what="projects()")


def project_user_where(filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    return build_where(PROJECT_USER_FILTERS, filters, FilterContext(), what="project_users()")


ASSET_FILTER_NAMES = frozenset(ASSET_FILTERS) | frozenset(ASSET_LABEL_CRITERIA)
LABEL_FILTER_NAMES = frozenset(LABEL_FILTERS)
