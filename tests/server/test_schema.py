"""labelport's GraphQL schema (src/labelport/server/schema.graphql) accepts every operation the pinned
``kili`` SDK builds: its documents validate, the variables it sends coerce, and the SDK's own client,
built from the schema's introspection as at start-up, sends them. The documents come from
tests/server/kili_operations.py run in the SDK's environment (the ``kili_python`` fixture)."""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import graphql
import pytest
from graphql.execution.values import get_variable_values

import labelport
from tests.server.conftest import KILI_VERSION

SCHEMA_PATH = Path(labelport.__file__).resolve().parent / "server" / "schema.graphql"
EXTRACTOR = Path(__file__).resolve().parent / "kili_operations.py"

#: Counted by hand in kili 26.2.4's source: the operation definitions, i.e. the lines matching
#: ``^\s*(query|mutation|subscription)\b.*[({]$`` in kili/**/*.py.
HAND_COUNTED_OPERATIONS = 117
#: Distinct (operation type, root field) pairs of those operations, counted by hand in the same source
#: (the first field after each operation's opening brace, two false matches of the pattern removed).
HAND_COUNTED_ROOT_FIELDS = 113
#: The API key check Kili() sends at start-up outside gql, as a raw request body.
KEY_CHECK = "{\n  viewer {\n    id\n    email\n  }\n}"

SERVED_QUERIES = {
    "viewer", "apiKeys", "countApiKeys", "projects", "countProjects", "assets", "countAssets", "labels",
    "countLabels", "filterExistingAssets", "createUploadBucketSignedUrls", "organizations", "countOrganizations",
    "projectUsers", "countProjectUsers", "users", "countUsers",
}  # fmt: skip
SERVED_MUTATIONS = {
    "createProject", "updatePropertiesInProject", "deleteProjectAsynchronously", "appendManyAssets",
    "updatePropertiesInAssets", "appendManyLabels", "createHoneypot", "appendToRoles", "updatePropertiesInRole",
    "deleteFromRoles", "addAssetsToReview", "sendAssetsBackToQueue", "deleteAssets",
    # the same three as SDK versions up to 26.1 call them
    "addAllLabeledAssetsToReview", "sendBackAssetsToQueue", "deleteManyFromDataset",
}  # fmt: skip
NOT_SUPPORTED = "Not supported by labelport"


@cache
def schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def kili_operations(kili_python: Path) -> dict[str, Any]:
    """What the extractor printed: the SDK's operations, its export fields, its introspection query."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KILI_")}
    completed = subprocess.run(
        [str(kili_python), str(EXTRACTOR)], capture_output=True, text=True, env=env, timeout=900, check=False
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    return json.loads(completed.stdout)


def _root_fields(document: graphql.DocumentNode) -> set[tuple[str, str]]:
    return {
        (definition.operation.value, selection.name.value)
        for definition in document.definitions
        if isinstance(definition, graphql.OperationDefinitionNode)
        for selection in definition.selection_set.selections
        if isinstance(selection, graphql.FieldNode)
    }


def test_the_extractor_finds_every_operation_of_the_pinned_sdk(kili_operations):
    operations = kili_operations["operations"]
    assert kili_operations["kili_version"] == KILI_VERSION
    assert kili_operations["unparsed_templates"] == []
    from_source = {o["document"] for o in operations if o["kind"] in ("static", "template")}
    assert len(from_source) >= HAND_COUNTED_OPERATIONS
    roots = set().union(*(_root_fields(graphql.parse(o["document"])) for o in operations))
    assert len(roots) >= HAND_COUNTED_ROOT_FIELDS
    # the recorded SDK calls reach every field labelport serves
    called = set().union(*(_root_fields(graphql.parse(o["document"])) for o in operations if o["kind"] == "call"))
    served = {("query", name) for name in SERVED_QUERIES} | {("mutation", name) for name in SERVED_MUTATIONS}
    older_sdk = {("mutation", name) for name in ("addAllLabeledAssetsToReview", "sendBackAssetsToQueue",
                                                 "deleteManyFromDataset")}  # fmt: skip
    assert served - older_sdk - called == set()
    assert KEY_CHECK in {o["document"] for o in operations if o["kind"] == "call"}
    assert {o["kind"] for o in operations} == {"static", "template", "fields", "call"}


def test_every_operation_of_the_sdk_validates_against_the_schema(kili_operations):
    failures = [
        (o["origin"], o["document"], [error.message for error in errors])
        for o in kili_operations["operations"]
        if (errors := graphql.validate(schema(), graphql.parse(o["document"])))
    ]
    assert failures == []


def test_the_variables_the_sdk_sends_are_accepted(kili_operations):
    """Coerced as the server will: explicit nulls in labelsData[] and LabelWhere.user, enums, nesting."""
    calls = [o for o in kili_operations["operations"] if o["kind"] == "call"]
    assert any(
        label.get("authorID", "absent") is None
        for o in calls
        for label in (o["variables"].get("data") or {}).get("labelsData") or []
    )
    assert any(((o["variables"].get("where") or {}).get("user") or {}).get("email", "absent") is None for o in calls)
    failures = []
    for call in calls:
        operation = graphql.parse(call["document"]).definitions[0]
        assert isinstance(operation, graphql.OperationDefinitionNode)
        coerced = get_variable_values(schema(), operation.variable_definitions or (), call["variables"])
        if isinstance(coerced, list):
            failures.append((call["origin"], [error.message for error in coerced]))
    assert failures == []


def test_the_sdk_client_built_from_the_schema_introspection_sends_every_operation(kili_operations, kili_python):
    """As at the SDK's start-up: its introspection query answered by the schema, its gql client built from
    the answer, then gql's validation of each document before sending it."""
    answer = graphql.graphql_sync(schema(), kili_operations["introspection_query"])
    assert answer.errors is None
    documents = sorted({o["document"] for o in kili_operations["operations"]})
    env = {key: value for key, value in os.environ.items() if not key.startswith("KILI_")}
    completed = subprocess.run(
        [str(kili_python), str(EXTRACTOR), "--validate"],
        input=json.dumps({"introspection": answer.data, "documents": documents}),
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-5000:]
    assert [(documents[f["index"]], f["error"]) for f in json.loads(completed.stdout)] == []


def test_a_schema_missing_a_field_the_sdk_selects_is_refused(kili_operations):
    """The validation bites: without Label.isSentBackToQueue, the export's asset queries are invalid."""
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    assert text.count("  isSentBackToQueue: Boolean\n") == 1
    crippled = graphql.build_schema(text.replace("  isSentBackToQueue: Boolean\n", ""))
    refused = [
        o["origin"] for o in kili_operations["operations"] if graphql.validate(crippled, graphql.parse(o["document"]))
    ]
    assert "export_labels(kili, latest) [IMAGE]" in refused


#: The asset fields export_labels requests, by export type (kili 26.2.4; the same for IMAGE, VIDEO, TEXT
#: and PDF projects; GEOSPATIAL ones add geospatialExportMetadata).
COMMON_EXPORT_FIELDS = [
    "content", "externalId", "id", "jsonContent", "jsonMetadata", "pageResolutions.height",
    "pageResolutions.pageNumber", "pageResolutions.rotation", "pageResolutions.width", "resolution.height",
    "resolution.width", "status",
]  # fmt: skip
LABEL_EXPORT_FIELDS = [
    "author.email", "author.firstname", "author.id", "author.lastname", "createdAt", "isLatestLabelForUser",
    "isSentBackToQueue", "jsonResponse", "jsonResponseUrl", "labelType", "modelName",
]  # fmt: skip
EXPORT_FIELDS = {
    "latest": COMMON_EXPORT_FIELDS + [f"latestLabel.{f}" for f in LABEL_EXPORT_FIELDS],
    "normal": COMMON_EXPORT_FIELDS + [f"labels.{f}" for f in [*LABEL_EXPORT_FIELDS, "isLastForStep"]],
    "latest_from_last_step": COMMON_EXPORT_FIELDS
    + [f"latestLabels.{f}" for f in [*LABEL_EXPORT_FIELDS, "isLastForStep"]],
    "latest_from_all_steps": COMMON_EXPORT_FIELDS + [f"labels.{f}" for f in [*LABEL_EXPORT_FIELDS, "isLastForStep"]],
}


@pytest.mark.parametrize("input_type", ["IMAGE", "VIDEO", "TEXT", "PDF", "GEOSPATIAL"])
@pytest.mark.parametrize("export_type", sorted(EXPORT_FIELDS))
def test_the_export_fields_of_the_pinned_sdk(kili_operations, export_type, input_type):
    expected = EXPORT_FIELDS[export_type] + (["geospatialExportMetadata"] if input_type == "GEOSPATIAL" else [])
    assert sorted(kili_operations["export_fields"][f"{export_type} [{input_type}]"]) == sorted(expected)


#: The type names the SDK's operations declare their variables with (§6.3 of the protocol reference,
#: as kili 26.2.4 spells them), and their kind.
WIRE_NAMES = {
    "PageSize": graphql.GraphQLScalarType,
    "JSON": graphql.GraphQLScalarType,
    "DateTime": graphql.GraphQLScalarType,
    "ProjectRole": graphql.GraphQLEnumType,
    "PluginHandlerType": graphql.GraphQLEnumType,
    "Order": graphql.GraphQLEnumType,
    **dict.fromkeys(
        [
            "AssetWhere", "LabelWhere", "ProjectWhere", "ApiKeyWhere", "OrganizationWhere", "ProjectUserWhere",
            "UserWhere", "CreateProjectData", "ProjectData", "AppendManyAssetsData", "AssetData",
            "AppendManyLabelsData", "CreateHoneypotData", "AppendToRolesData", "RoleData", "CopyProjectData",
            "AppendToLabelsData", "AppendManyAssetsAsynchronouslyData",
        ],
        graphql.GraphQLInputObjectType,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(WIRE_NAMES))
def test_the_type_names_of_the_wire_protocol_exist_with_their_kind(name):
    assert isinstance(schema().get_type(name), WIRE_NAMES[name])


def test_the_list_fields_take_first_as_page_size_and_skip_as_int():
    for root in (schema().query_type, schema().mutation_type):
        assert root is not None
        for name, field in root.fields.items():
            if "first" in field.args:
                assert graphql.get_named_type(field.args["first"].type).name == "PageSize", name
                assert graphql.get_named_type(field.args["skip"].type).name == "Int", name


def test_the_input_fields_all_accept_null():
    """The SDK sends explicit nulls inside lists and nested objects, where it does not remove them."""
    required = [
        f"{type_.name}.{name}"
        for type_ in schema().type_map.values()
        if isinstance(type_, graphql.GraphQLInputObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if graphql.is_non_null_type(field.type)
    ]
    assert required == []


def test_served_and_declared_root_fields_are_told_apart_by_their_description():
    def split(root: graphql.GraphQLObjectType | None) -> tuple[set[str], set[str]]:
        assert root is not None
        assert all(field.description for field in root.fields.values())
        declared = {name for name, field in root.fields.items() if (field.description or "").startswith(NOT_SUPPORTED)}
        return set(root.fields) - declared, declared

    served_queries, declared_queries = split(schema().query_type)
    served_mutations, declared_mutations = split(schema().mutation_type)
    served_subscriptions, _ = split(schema().subscription_type)
    assert served_queries == SERVED_QUERIES
    assert served_mutations == SERVED_MUTATIONS
    assert served_subscriptions == set()
    assert len(declared_queries) == 25
    assert len(declared_mutations) == 61
