"""Hostile values given to writes: each is refused with a LabelportError that names the object and the
path or limit, and the refusal leaves every table and the media folder as they were (SQLite and
PostgreSQL alike: both refuse the same values, docs/concepts.md "Values the store refuses")."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest

from labelport.errors import OntologyError, ValidationError
from tests import factories
from tests.integrity.state import store_state

INTERFACE = factories.image_interface()
BOX = factories.boxes(factories.box("OBJECT_B", 0.1, 0.1, 0.5, 0.5))


def _annotation(**extra: Any) -> dict[str, Any]:
    response = factories.boxes(factories.box("OBJECT_B", 0.1, 0.1, 0.5, 0.5))
    response["JOB_0"]["annotations"][0].update(extra)
    return response


def _deep(levels: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(levels):
        node.append([])
        node = node[0]
    return root


ANNOTATION = "Asset 'a': jsonResponse['JOB_0']['annotations'][0]"
SURROGATE = "holds a lone surrogate (U+D800) at position {}, which is not text (UTF-8 cannot encode it): fix how it was decoded."

CASES = [
    # item 3: control characters in external ids
    (
        "append",
        {"external_id_array": ["a\x00b"]},
        ValidationError,
        "External id 'a\\x00b' holds a NUL character (U+0000) at position 1, which PostgreSQL cannot store: remove it.",
    ),
    (
        "append",
        {"external_id_array": ["a\tb"]},
        ValidationError,
        "External id 'a\\tb' holds a control character (U+0009) at position 1: remove it.",
    ),
    (
        "append",
        {"external_id_array": ["line\n"]},
        ValidationError,
        "External id 'line\\n' holds a control character (U+000A) at position 4: remove it.",
    ),
    (
        "append",
        {"external_id_array": ["del\x7f"]},
        ValidationError,
        "External id 'del\\x7f' holds a control character (U+007F) at position 3: remove it.",
    ),
    (
        "append",
        {"external_id_array": ["nel\x85"]},
        ValidationError,
        "External id 'nel\\x85' holds a control character (U+0085) at position 3: remove it.",
    ),
    ("append", {"external_id_array": ["a\ud800"]}, ValidationError, "External id 'a\\ud800' " + SURROGATE.format(1)),
    (
        "append",
        {"external_id_array": ["x" * 1001]},
        ValidationError,
        "External id is 1001 characters long; the store keeps at most 1000.",
    ),
    (
        "rename",
        {"new_external_ids": ["b\x00"]},
        ValidationError,
        "Asset 'a': the new external id 'b\\x00' holds a NUL character (U+0000) at position 1, which PostgreSQL cannot store: remove it.",
    ),
    # item 4: NaN and what JSON cannot hold in a jsonResponse, named by its path
    (
        "label",
        {"json_response_array": [_annotation(categories=[{"name": "OBJECT_B", "confidence": float("nan")}])]},
        ValidationError,
        f"{ANNOTATION}['categories'][0]['confidence'] is nan, which JSON cannot hold; use null or a number.",
    ),
    (
        "label",
        {"json_response_array": [_annotation(extra=float("-inf"))]},
        ValidationError,
        f"{ANNOTATION}['extra'] is -inf, which JSON cannot hold; use null or a number.",
    ),
    (
        "label",
        {"json_response_array": [_annotation(extra=2**64)]},
        ValidationError,
        f"{ANNOTATION}['extra'] is 18446744073709551616, outside the 64-bit integers JSON readers take.",
    ),
    (
        "label",
        {"json_response_array": [_annotation(extra=b"x")]},
        ValidationError,
        f"{ANNOTATION}['extra'] is a builtins.bytes, which is not a JSON value.",
    ),
    (
        "label",
        {"json_response_array": [_annotation(**{"1": {2: "x"}})]},
        ValidationError,
        f"{ANNOTATION}['1'] has the key 2, which is not a string (JSON keys are strings).",
    ),
    (
        "label",
        {"json_response_array": [_annotation(extra=datetime.date(2026, 12, 6))]},
        ValidationError,
        f"{ANNOTATION}['extra'] is a datetime.date, which is not a JSON value.",
    ),
    (
        "label",
        {"json_response_array": [_annotation(extra="\ud800")]},
        ValidationError,
        f"{ANNOTATION}['extra'] " + SURROGATE.format(0),
    ),
    (
        "label",
        {"json_response_array": [_annotation(extra=_deep(300))]},
        ValidationError,
        f"{ANNOTATION}['extra'][0][…{'[0]' * 20} nests deeper than 200 levels.",
    ),
    (
        "label",
        {
            "json_response_array": [
                {
                    "JOB_0": {
                        "annotations": [
                            {
                                **BOX["JOB_0"]["annotations"][0],
                                "boundingPoly": [{"normalizedVertices": [{"x": 10**400, "y": 0.1}] * 4}],
                            }
                        ]
                    }
                }
            ]
        },
        ValidationError,
        f"{ANNOTATION}['boundingPoly'][0]['normalizedVertices'][0]['x'] is an integer of 1329 bits, outside the 64-bit integers JSON readers take.",
    ),
    (
        "label",
        {"seconds_to_label_array": [10**400]},
        ValidationError,
        "Asset 'a': seconds_to_label must be a number ≥ 0, got an integer of 1329 bits.",
    ),
    (
        "label",
        {"seconds_to_label_array": [float("nan")]},
        ValidationError,
        "Asset 'a': seconds_to_label must be a number ≥ 0, got nan.",
    ),
    (
        "label",
        {"author_id_array": [(1, 2)]},
        ValidationError,
        "User ids must be strings (author_id_array), got (1, 2).",
    ),
    (
        "label",
        {"label_type": "PREDICTION", "model_name": "m" * 501},
        ValidationError,
        "model_name is 501 characters long; the store keeps at most 500.",
    ),
    # item 8, the write side
    (
        "priority",
        {"priorities": [2**63]},
        ValidationError,
        "Asset 'a': priority must be a whole number from -2147483648 to 2147483647, got 9223372036854775808.",
    ),
    (
        "priority",
        {"priorities": [2**31]},
        ValidationError,
        "Asset 'a': priority must be a whole number from -2147483648 to 2147483647, got 2147483648.",
    ),
    (
        "metadata",
        {"json_metadata": [{"k": decimal.Decimal(1)}]},
        ValidationError,
        "Asset 'a': json_metadata['k'] is a decimal.Decimal, which is not a JSON value.",
    ),
    (
        "metadata",
        {"json_metadata": [{"k": frozenset()}]},
        ValidationError,
        "Asset 'a': json_metadata['k'] is a builtins.frozenset, which is not a JSON value.",
    ),
    (
        "metadata",
        {"json_metadata": [{"k": 10**400}]},
        ValidationError,
        "Asset 'a': json_metadata['k'] is an integer of 1329 bits, outside the 64-bit integers JSON readers take.",
    ),
    (
        "metadata",
        {"json_metadata": [{"k": "nul\x00"}]},
        ValidationError,
        "Asset 'a': json_metadata['k'] holds a NUL character (U+0000) at position 3, which PostgreSQL cannot store: remove it.",
    ),
    (
        "metadata",
        {"json_metadata": [{"k" * 201: 1}]},
        ValidationError,
        "Asset 'a': json_metadata key is 201 characters long; the store keeps at most 200.",
    ),
    (
        "metadata",
        {"json_metadata": [{"k": 1}, {"k": 2}]},
        ValidationError,
        "json_metadata has 2 items but 1 assets are named; give one per asset.",
    ),
    (
        "set_metadata",
        {"json_metadata": [{"k": 1}, {"k": 2}]},
        ValidationError,
        "json_metadatas has 2 items but the asset list has 1; give one per asset.",
    ),
    (
        "project",
        {"json_interface": {"jobs": {"J": {"mlTask": [], "content": {}}}}},
        OntologyError,
        "Job 'J' has mlTask []; labelport supports: ",
    ),
    (
        "project",
        {
            "json_interface": {
                "jobs": {
                    "J": {
                        "mlTask": "CLASSIFICATION",
                        "content": {"input": "radio", "categories": {"A": {"name": "A", "w": float("nan")}}},
                    }
                }
            }
        },
        OntologyError,
        "The jsonInterface['jobs']['J']['content']['categories']['A']['w'] is nan, which JSON cannot hold; use null or a number.",
    ),
    (
        "project",
        {"json_interface": {"jobs": {"J" * 201: {"mlTask": "TRANSCRIPTION", "content": {}}}}},
        OntologyError,
        "Job name is 201 characters long; the store keeps at most 200.",
    ),
    (
        "project",
        {"title": "T\x00"},
        ValidationError,
        "title 'T\\x00' holds a NUL character (U+0000) at position 1, which PostgreSQL cannot store: remove it.",
    ),
    ("project", {"title": "T" * 501}, ValidationError, "title is 501 characters long; the store keeps at most 500."),
    ("user", {"email": "a\ud800@example.com"}, ValidationError, "Email 'a\\ud800@example.com' " + SURROGATE.format(1)),
    (
        "user",
        {"email": "a@example.com", "firstname": "f" * 201},
        ValidationError,
        "firstname is 201 characters long; the store keeps at most 200.",
    ),
    (
        "asset_content",
        {"content_array": ["https://example.com/\ud800.png"]},
        ValidationError,
        "Asset 'c': content 'https://example.com/\\ud800.png' " + SURROGATE.format(20),
    ),
    (
        "asset_content",
        {"resolution_array": [{"width": 2**31, "height": 1}]},
        ValidationError,
        "Asset 'c': resolution width must be a positive integer up to 2147483647, got 2147483648.",
    ),
]


def _call(client, project_id: str, operation: str, arguments: dict[str, Any]) -> None:
    if operation == "append":
        client.append_many_to_dataset(project_id, ["https://example.com/x.png"], **arguments)
    elif operation == "rename":
        client.change_asset_external_ids(arguments["new_external_ids"], external_ids=["a"], project_id=project_id)
    elif operation == "label":
        given = {"json_response_array": [BOX], **arguments}
        client.append_labels(asset_external_id_array=["a"], project_id=project_id, **given)
    elif operation == "priority":
        client.update_properties_in_assets(external_ids=["a"], project_id=project_id, **arguments)
    elif operation == "metadata":
        client.add_metadata(arguments["json_metadata"], project_id, external_ids=["a"])
    elif operation == "set_metadata":
        client.set_metadata(arguments["json_metadata"], project_id, external_ids=["a"])
    elif operation == "project":
        given = {"title": "P", "json_interface": INTERFACE, **arguments}
        client.create_project(given["title"], "IMAGE", given["json_interface"])
    elif operation == "user":
        client.create_user(**arguments)
    elif operation == "asset_content":
        given = {"content_array": ["https://example.com/c.png"], **arguments}
        client.append_many_to_dataset(project_id, external_id_array=["c"], **given)
    else:  # pragma: no cover
        raise AssertionError(operation)


@pytest.fixture
def project(client, images) -> str:
    project_id = client.create_project("P", "IMAGE", INTERFACE)["id"]
    client.append_many_to_dataset(project_id, [str(images.make("a.png"))], external_id_array=["a"])
    client.append_labels(json_response_array=[BOX], asset_external_id_array=["a"], project_id=project_id)
    return project_id


@pytest.mark.parametrize(("operation", "arguments", "error", "message"), CASES, ids=lambda value: None)
def test_a_hostile_value_is_refused_by_name_and_changes_nothing(client, project, operation, arguments, error, message):
    before = store_state(client)
    with pytest.raises(error) as raised:
        _call(client, project, operation, arguments)
    assert str(raised.value).startswith(message)
    assert store_state(client) == before


def test_assets_with_odd_but_valid_external_ids_can_be_labeled_and_deleted(client, project):
    """What is refused is control characters only: every other text works through every lookup."""
    odd = ["café", "cafe\u0301", "a b", "😀/x", "COM1", "..", "%_\\"]
    client.append_many_to_dataset(
        project, [f"https://example.com/{i}.png" for i in range(len(odd))], external_id_array=odd
    )
    client.append_labels(json_response_array=[BOX] * len(odd), asset_external_id_array=odd, project_id=project)
    assert client.count_assets(project, external_id_strictly_in=odd, status_in=["LABELED"]) == len(odd)
    client.delete_many_from_dataset(external_ids=odd, project_id=project)
    assert client.count_assets(project) == 1
