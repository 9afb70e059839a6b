"""Schema-driven fuzzing of Kili's GraphQL as labelport serves it (hypothesis).

Operations are built from the SDL (src/labelport/server/schema.graphql): every root query and mutation
field, its arguments as variables of their declared types, a selection of the returned type's fields; the
variables' values come from the input types (strings with control characters, NUL, unicode, SQL and LIKE
metacharacters, dates and not-dates, JSON strings that are not JSON; huge and negative numbers; enums and
not-enums; nested ``where`` objects), and now and then an arbitrary JSON value where the type expects
something else, or an operation text with a few characters changed. They run in-process against the ASGI
application over a store with a small seed-like project, as an organization ADMIN and as a project LABELER.

No answer may be an HTTP 500, an ``INTERNAL_SERVER_ERROR`` (an unexpected exception inside a resolver), an
error without ``extensions.code``, or hold a traceback. Regressions for what the fuzzing found are plain
tests at the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
    is_required_input_field,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelport.server.app import build_schema
from labelport.server.resolvers import UNSUPPORTED
from tests import factories
from tests.server.inprocess import Seeded, running

SCHEMA = build_schema(500)
QUERY_FIELDS = sorted(SCHEMA.query_type.fields)  # type: ignore[union-attr]
MUTATION_FIELDS = sorted(SCHEMA.mutation_type.fields)  # type: ignore[union-attr]
#: Mutations that remove what the seed holds: fuzzed in a test of their own, on a store of their own.
DESTRUCTIVE = {
    "deleteProjectAsynchronously",
    "deleteAssets",
    "deleteManyFromDataset",
    "deleteFromRoles",
    "deleteProject",
    "updatePropertiesInRole",
}
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
TRACEBACK_MARKS = ("Traceback", 'File "', '.py"')

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "\n\r\t",
    "\u202eevil",
    "😀",
    "ünïcødé ✓",
    "\ufeff",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1e309",
    "-0",
    "0x10",
    "null",
    "true",
    "{",
    '{"a":',
    "[1,",
    "{}",
    "[]",
    '"x"',
    '{"k": NaN}',
    "2024-13-45",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "2024-01-31T12:00:00.000Z",
    "0000-00-00",
    "9999-12-31T23:59:59.999Z",
    "-1",
    "'; DROP TABLE assets; --",
    "%",
    "_",
    "\\",
    "%_\\%",
    "JOB_0.OBJECT_A.count > 0",
    "JOB_0.OBJECT_A.count >",
    "(((",
    "a" * 5_000,
]
NUMBERS = [0, -1, 1, 2**31 - 1, -(2**31), 2**31, 2**53 + 1, 10**30, -(10**30)]
FLOATS = [0.0, -0.0, 1e308, -1e308, 1e-320, 0.5, -2.5]

#: JSON texts the seed's project takes: a label, its ontology, metadata.
JSON_TEXTS = [
    orjson.dumps(factories.boxes(factories.box("OBJECT_A", 0.1, 0.1, 0.5, 0.5))).decode(),
    orjson.dumps(factories.boxes(factories.box("NOT_A_CATEGORY", 0.1, 0.1, 0.5, 0.5))).decode(),
    orjson.dumps(factories.image_interface()).decode(),
    '{"JOB_0": {"annotations": []}}',
    '{"key": "value", "n": 3}',
    '{"key": ["a", "b"]}',
    '{"n": [2, 10]}',
]
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(NASTY_TEXT)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


class Values:
    """Strategies for the values of input types, with the seed's ids and emails among the strings. Valid
    ones fit the types (GraphQL lets them through to the resolvers); otherwise, one value in twenty is any
    JSON value (null included), enums get non-values, integers leave their range, input objects get an
    unknown field now and then."""

    def __init__(self, known: list[str], valid: bool) -> None:
        self.text = st.one_of(st.sampled_from(known), st.sampled_from(NASTY_TEXT), st.text(max_size=20))
        self.project_id = st.just(known[0])  # the seed's project
        self.project = st.fixed_dictionaries({"id": self.project_id})
        self.valid = valid
        self.cache: dict[tuple[str, int], st.SearchStrategy[Any]] = {}

    def of(self, kind: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
        if self.valid:
            return self.typed(kind, depth)
        return st.integers(0, 19).flatmap(lambda n: ANY_JSON if n == 0 else self.typed(kind, depth))

    def typed(self, kind: GraphQLInputType, depth: int) -> st.SearchStrategy[Any]:
        if isinstance(kind, GraphQLNonNull):
            return self.typed(kind.of_type, depth)
        if isinstance(kind, GraphQLList):
            return st.lists(self.of(kind.of_type, depth), max_size=3)
        key = (kind.name, depth)
        if key not in self.cache:
            self.cache[key] = self.named(kind, depth)
        return self.cache[key]

    def named(self, kind: Any, depth: int) -> st.SearchStrategy[Any]:
        if isinstance(kind, GraphQLEnumType):
            return st.sampled_from(list(kind.values) if self.valid else [*kind.values, "NOT_A_VALUE", ""])
        if isinstance(kind, GraphQLScalarType):
            return self.scalar(kind.name)
        assert isinstance(kind, GraphQLInputObjectType)
        if depth >= 3:
            return st.just({})
        required = {name: self.of(f.type, depth + 1) for name, f in kind.fields.items() if _required(f)}
        optional = {name: self.of(f.type, depth + 1) for name, f in kind.fields.items() if not _required(f)}
        if "project" in optional and self.valid:  # most often the seed's project, to reach the services
            project = optional.pop("project")
            required["project"] = st.integers(0, 3).flatmap(lambda n: project if n == 0 else self.project)
        if kind.name == "ProjectWhere" and self.valid:  # the same for a project named at the root
            named_id = optional.pop("id")
            required["id"] = st.integers(0, 3).flatmap(lambda n: named_id if n == 0 else self.project_id)
        objects = st.fixed_dictionaries(required, optional=optional)
        if self.valid:
            return objects
        unknown = st.fixed_dictionaries({**required, "notAField": ANY_JSON})
        return st.integers(0, 29).flatmap(lambda n: unknown if n == 0 else objects)

    def scalar(self, name: str) -> st.SearchStrategy[Any]:
        if name in ("String", "ID", "DateTime"):
            return self.text
        if name == "PageSize" and self.valid:
            return st.integers(min_value=0, max_value=500)
        if name in ("Int", "PageSize"):
            numbers = [number for number in NUMBERS if not self.valid or -(2**31) <= number < 2**31]
            return st.sampled_from(numbers) | st.integers(min_value=-5, max_value=600)
        if name == "Float":
            return st.sampled_from(FLOATS) | st.floats(allow_nan=False, allow_infinity=False)
        if name == "Boolean":
            return st.booleans()
        if name == "JSON":
            return st.one_of(
                st.sampled_from(JSON_TEXTS),
                ANY_JSON.map(json.dumps),  # stdlib json: integers beyond 64 bits too
                self.text,
                ANY_JSON,
            )
        raise AssertionError(f"a scalar the fuzzing does not know: {name}")


def _required(field: Any) -> bool:
    return is_required_input_field(field)


@cache
def _fields_of(type_name: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(leaf fields, object fields) of an object type that need no argument."""
    kind = SCHEMA.get_type(type_name)
    assert isinstance(kind, GraphQLObjectType)
    leaves, objects = [], []
    for name, field in kind.fields.items():
        if any(is_required_argument(argument) for argument in field.args.values()):
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            leaves.append(name)
        elif isinstance(named, GraphQLObjectType):
            objects.append((name, named.name))
    return sorted(leaves), sorted(objects)


@st.composite
def selections(draw: st.DrawFn, field: GraphQLField, depth: int = 0) -> str:
    named = get_named_type(field.type)
    if is_leaf_type(named):
        return ""
    if not isinstance(named, GraphQLObjectType):
        return "{ __typename }"
    leaves, objects = _fields_of(named.name)
    chosen = draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=5, unique=True)) if leaves else []
    if objects and depth < 2 and draw(st.booleans()):
        name, _type = draw(st.sampled_from(objects))
        inner = named.fields[name]
        chosen.append(f"{name} {draw(selections(inner, depth + 1))}")
    return "{ " + " ".join(chosen or ["__typename"]) + " }"


def _served(root: GraphQLObjectType | None, names: list[str]) -> list[str]:
    assert root is not None
    return [name for name in names if not (root.fields[name].description or "").startswith(UNSUPPORTED)]


@st.composite
def operations(draw: st.DrawFn, kind: str, names: list[str], known: list[str]) -> tuple[str, dict[str, Any]]:
    """An operation on one root field (four times in five a served one), as text, and its variables: valid
    ones two times in three, else slightly invalid."""
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root is not None
    served = _served(root, names)
    name = draw(st.sampled_from(served if served and draw(st.integers(0, 4)) else names))
    valid = draw(st.integers(0, 2)) > 0
    values = Values(known, valid)
    field = root.fields[name]
    declarations = ", ".join(f"${argument}: {field.args[argument].type}" for argument in field.args)
    arguments = ", ".join(f"{argument}: ${argument}" for argument in field.args)
    text = f"{kind} fuzz{'(' + declarations + ')' if declarations else ''} {{ data: {name}"
    text += f"{'(' + arguments + ')' if arguments else ''} {draw(selections(field))} }}"
    variables = {}
    for argument, definition in field.args.items():
        if not valid and draw(st.integers(0, 9)) == 0:
            continue  # left out: a required one is missing
        variables[argument] = draw(values.of(definition.type))
    if not valid and draw(st.integers(0, 4)) == 0:  # an operation text slightly broken
        position = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 5))
        inserted = draw(st.sampled_from(["", "{", "}", "$", "(", "...", "#", '"', "\x00"]))
        text = text[:position] + inserted + text[position + cut :]
    return text, variables


def check(served: Seeded, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Send one operation; the answer must be a clean one (see the module's documentation)."""
    body = json.dumps({"query": query, "variables": variables}).encode()  # any size of integer
    answer = served.post(body, key=key)
    context = f"\n{query}\n{body[:3000]!r}\n{answer.status_code} {answer.text[:3000]}"
    assert answer.status_code in (200, 400, 413), context
    for mark in TRACEBACK_MARKS:
        assert mark not in answer.text, context
    payload = answer.json()
    for error in payload.get("errors") or []:
        code = error["extensions"]["code"]
        assert isinstance(code, str) and code, context
        assert code != "INTERNAL_SERVER_ERROR", context
    return payload


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Seeded]:
    with running(database_url, tmp_path) as seeded:
        yield seeded


def _known(served: Seeded) -> list[str]:
    """Strings the store knows: ids, emails, external ids, a role, a job."""
    return [
        served.project_id,
        *served.asset_ids,
        served.label_id,
        "admin@example.com",
        "labeler@example.com",
        "car_1",
        "ünïcødé ✓",
        "LABELER",
        "JOB_0",
    ]


@SETTINGS
@given(data=st.data())
def test_queries_never_fail_unexpectedly(served, data):
    known = _known(served)
    query, variables = data.draw(operations("query", QUERY_FIELDS, known))
    key = data.draw(st.sampled_from([served.admin_key, served.labeler_key]))
    check(served, key, query, variables)


@SETTINGS
@given(data=st.data())
def test_mutations_never_fail_unexpectedly(served, data):
    known = _known(served)
    names = [name for name in MUTATION_FIELDS if name not in DESTRUCTIVE]
    query, variables = data.draw(operations("mutation", names, known))
    key = data.draw(st.sampled_from([served.admin_key, served.labeler_key]))
    check(served, key, query, variables)


@settings(SETTINGS, max_examples=80)
@given(data=st.data())
def test_destructive_mutations_never_fail_unexpectedly(served, data):
    known = _known(served)
    query, variables = data.draw(operations("mutation", sorted(DESTRUCTIVE), known))
    key = data.draw(st.sampled_from([served.labeler_key, served.admin_key]))
    check(served, key, query, variables)


# -- regressions: what the fuzzing found ------------------------------------------------------------------


def test_root_fields_declared_only_are_refused_by_name(served):
    for query, message in [
        (
            "{ data: countIssues(where: {}) }",
            "Query.countIssues is not supported by labelport (issues and questions).",
        ),
        (
            "{ data: listPlugins { __typename } }",
            "Query.listPlugins is not supported by labelport (plugins).",
        ),
        (
            'mutation { data: deleteLabels(ids: ["x"]) }',
            "Mutation.deleteLabels is not supported by labelport (label deletion).",
        ),
    ]:
        payload = check(served, served.admin_key, query, {})
        assert payload["data"] is None
        assert [(error["message"], error["extensions"]["code"]) for error in payload["errors"]] == [
            (message, "ValidationError")
        ]


def test_every_root_field_has_a_resolver():
    for root in (SCHEMA.query_type, SCHEMA.mutation_type):
        assert root is not None
        assert [name for name, field in root.fields.items() if field.resolve is None] == []


def test_a_null_skip_is_taken_as_zero(served):
    query = "query q($skip: Int) { data: organizations(where: {}, skip: $skip) { id } }"
    assert check(served, served.labeler_key, query, {"skip": None}) == {"data": {"data": [{"id": "labelport"}]}}
    query = "query q($skip: Int, $where: AssetWhere!) { data: assets(where: $where, skip: $skip) { externalId } }"
    variables = {"skip": None, "where": {"project": {"id": served.project_id}}}
    answer = check(served, served.admin_key, query, variables)
    assert [row["externalId"] for row in answer["data"]["data"]] == ["car_1", "car_2", "ünïcødé ✓"]
