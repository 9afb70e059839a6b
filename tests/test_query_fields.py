from __future__ import annotations

import re
import types

import pytest

from labelport.errors import UnknownFieldError, ValidationError
from labelport.store import query
from labelport.store.fields import ENTITIES, Computed, Link
from tests.factories import box, boxes


@pytest.fixture
def filled(client, image_project):
    client.append_many_to_dataset(
        image_project,
        content_array=["https://h/a.jpg", "https://h/b.jpg"],
        external_id_array=["car_1", "car_2"],
        json_metadata_array=[{"k": "v"}, {}],
        resolution_array=[{"width": 100, "height": 50}, None],
    )
    alice = client.create_user("alice@x.io", firstname="Alice", lastname="Martin")["id"]
    client.append_to_roles(image_project, "alice@x.io", "LABELER")
    response = boxes(box("OBJECT_A", 0.1, 0.1, 0.5, 0.5))
    [label] = client.append_labels(
        project_id=image_project,
        asset_external_id_array=["car_1"],
        json_response_array=[response],
        author_id_array=[alice],
        seconds_to_label_array=[3],
    )
    return types.SimpleNamespace(project=image_project, alice=alice, label=label["id"], response=response)


def every_path(entity_name: str, depth: int = 1) -> list[str]:
    """Every field path of an entity, following links ``depth`` levels deep."""
    paths = []
    for name, spec in ENTITIES[entity_name].fields.items():
        if isinstance(spec, Link):
            if depth > 0:
                paths.extend(f"{name}.{sub}" for sub in every_path(spec.target, depth - 1))
        elif isinstance(spec, Computed) and spec.subfields:
            paths.extend(f"{name}.{sub}" for sub in spec.subfields)
        else:
            paths.append(name)
    return paths


def test_every_asset_field_path(client, filled):
    rows = client.assets(filled.project, fields=every_path("Asset", depth=2))
    assert [r["externalId"] for r in rows] == ["car_1", "car_2"]
    first = rows[0]
    assert set(first) == set(ENTITIES["Asset"].fields)
    assert first["resolution"] == {"width": 100, "height": 50}
    assert first["latestLabel"]["id"] == filled.label
    assert first["latestLabel"]["jsonResponse"] == filled.response
    assert first["latestLabel"]["author"]["id"] == filled.alice
    assert first["latestLabel"]["labelOf"]["id"] == first["id"]
    assert first["labels"] == [first["latestLabel"]]
    assert first["latestLabels"] == [first["latestLabel"]]
    assert first["project"]["id"] == filled.project and {r["id"] for r in first["project"]["roles"]} == {
        r["id"] for r in client.project_users(filled.project, fields=["id"])
    }
    assert first["jsonMetadata"] == {"k": "v"} and first["status"] == "LABELED"
    assert rows[1]["latestLabel"] is None and rows[1]["labels"] == [] and rows[1]["resolution"] is None


def test_every_label_field_path(client, filled):
    [label] = client.labels(filled.project, fields=every_path("Label"))
    assert set(label) == set(ENTITIES["Label"].fields)
    assert {
        k: label[k]
        for k in (
            "id",
            "labelType",
            "secondsToLabel",
            "modelName",
            "numberOfAnnotations",
            "isLatestLabelForUser",
            "isLatestDefaultLabelForUser",
            "isLatestReviewLabelForUser",
            "isSentBackToQueue",
            "consensusMark",
            "honeypotMark",
            "inferenceMark",
            "jsonResponse",
        )
    } == {
        "id": filled.label,
        "labelType": "DEFAULT",
        "secondsToLabel": 3,
        "modelName": None,
        "numberOfAnnotations": 1,
        "isLatestLabelForUser": True,
        "isLatestDefaultLabelForUser": True,
        "isLatestReviewLabelForUser": False,
        "isSentBackToQueue": False,
        "consensusMark": None,
        "honeypotMark": None,
        "inferenceMark": None,
        "jsonResponse": filled.response,
    }
    assert label["author"]["email"] == "alice@x.io" and label["author"]["firstname"] == "Alice"
    assert label["labelOf"]["externalId"] == "car_1" and label["assetId"] == label["labelOf"]["id"]


def test_every_project_and_member_field_path(client, filled):
    [project] = client.projects(project_id=filled.project, fields=every_path("Project"))
    assert set(project) == set(ENTITIES["Project"].fields)
    assert sorted(r["role"] for r in project["roles"]) == ["ADMIN", "LABELER"]
    members = client.project_users(filled.project, fields=every_path("ProjectUser"))
    assert sorted(m["user"]["email"] for m in members) == ["admin@example.com", "alice@x.io"]
    assert all(m["project"]["id"] == filled.project for m in members)
    users = client.users(fields=every_path("User"))
    assert sorted(u["email"] for u in users) == ["admin@example.com", "alice@x.io"]


def test_default_fields_match_kili(client, filled):
    [asset, _] = client.assets(filled.project)
    assert list(asset) == [
        "labels",
        "content",
        "createdAt",
        "externalId",
        "id",
        "isHoneypot",
        "jsonMetadata",
        "skipped",
        "status",
    ]
    assert list(asset["labels"][0]) == ["author", "createdAt", "id", "jsonResponse"]
    assert list(asset["labels"][0]["author"]) == ["id", "email"]
    [label] = client.labels(filled.project)
    assert list(label) == [
        "author",
        "id",
        "jsonResponse",
        "labelType",
        "secondsToLabel",
        "isLatestLabelForUser",
        "assetId",
    ]


def test_objects_come_first_then_plain_fields_in_the_order_given(client, filled):
    [row] = client.assets(filled.project, fields=["status", "latestLabel.jsonResponse", "externalId"], first=1)
    assert list(row) == ["latestLabel", "status", "externalId"]
    assert client.labels(filled.project, fields=["labelOf.externalId", "author.email", "id"])[0] == {
        "labelOf": {"externalId": "car_1"},
        "author": {"email": "alice@x.io"},
        "id": filled.label,
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            ["colour"],
            "Unknown field 'colour': Asset has no field 'colour'. Valid fields: consensusMark, content, createdAt,",
        ),
        (
            ["labels.colour"],
            "Unknown field 'labels.colour': Label has no field 'colour'. Valid fields: assetId, author,",
        ),
        (
            ["labels"],
            "Field 'labels' is an object: select its sub-fields, e.g. 'labels.assetId'. Sub-fields: assetId,",
        ),
        (
            ["resolution"],
            "Field 'resolution' is an object: select its sub-fields, e.g. 'resolution.width'. Sub-fields: width, height.",
        ),
        (
            ["resolution.depth"],
            "Unknown field 'resolution.depth': Asset.resolution has sub-fields width, height.",
        ),
        (["externalId.value"], "Field 'externalId.value': Asset.externalId has no sub-fields."),
        ([""], "Every field must be a non-empty dotted path, got ''."),
        ("externalId", "fields must be a list of field paths, e.g. ['externalId'], not a string."),
        ([], "Select at least one field of Asset."),
    ],
)
def test_unknown_fields_list_the_valid_ones(client, filled, fields, message):
    with pytest.raises(UnknownFieldError) as error:
        client.assets(filled.project, fields=fields)
    assert str(error.value).startswith(message)


def test_paging_first_skip_and_generators(client, image_project, monkeypatch):
    client.append_many_to_dataset(
        image_project,
        content_array=[f"https://h/{i}" for i in range(23)],
        external_id_array=[f"e{i:02d}" for i in range(23)],
    )
    monkeypatch.setattr(query, "PAGE_SIZE", 5)
    names = [a["externalId"] for a in client.assets(image_project, fields=["externalId"])]
    assert names == [f"e{i:02d}" for i in range(23)]
    assert [a["externalId"] for a in client.assets(image_project, fields=["externalId"], skip=4, first=7)] == names[
        4:11
    ]
    assert client.assets(image_project, fields=["externalId"], skip=30) == []
    assert client.assets(image_project, fields=["externalId"], first=0) == []
    generator = client.assets(image_project, fields=["externalId"], as_generator=True, skip=20)
    assert isinstance(generator, types.GeneratorType)
    assert [a["externalId"] for a in generator] == names[20:]
    with pytest.raises(ValidationError, match=re.escape("first must be a whole number ≥ 0 or None, got -1.")):
        client.assets(image_project, first=-1)
    with pytest.raises(ValidationError, match=re.escape("skip must be a whole number ≥ 0, got 'x'.")):
        client.labels(image_project, skip="x")


def test_generator_errors_surface_at_the_call(client, image_project):
    with pytest.raises(UnknownFieldError):
        client.assets(image_project, fields=["nope"], as_generator=True)


def test_streaming_holds_one_page(client, image_project, monkeypatch):
    """Pages are fetched lazily: after reading one row, only the first page has been queried."""
    client.append_many_to_dataset(
        image_project,
        content_array=[f"https://h/{i}" for i in range(12)],
        external_id_array=[f"e{i:02d}" for i in range(12)],
    )
    monkeypatch.setattr(query, "PAGE_SIZE", 4)
    seen = []
    original = query.materialize

    def spy(conn, plan, rows, ctx):
        seen.append(len(rows))
        return original(conn, plan, rows, ctx)

    monkeypatch.setattr(query, "materialize", spy)
    generator = client.assets(image_project, fields=["externalId"], as_generator=True)
    next(generator)
    assert seen == [4]
    assert len(list(generator)) == 11 and seen == [4, 4, 4, 0]


def test_progress_bar_counts_rows(client, image_project, capsys):
    client.append_many_to_dataset(
        image_project, content_array=["https://h/1", "https://h/2"], external_id_array=["1", "2"]
    )
    client.assets(image_project, fields=["id"], disable_tqdm=False)
    assert "assets:   0%|          | 0/2" in capsys.readouterr().err
    client.assets(image_project, fields=["id"], disable_tqdm=True)
    assert capsys.readouterr().err == ""


def test_parsed_label_output(client, filled):
    [asset] = client.assets(
        filled.project,
        fields=["externalId", "latestLabel.jsonResponse", "labels.jsonResponse"],
        label_output_format="parsed_label",
        first=1,
    )
    assert asset["latestLabel"].jobs["JOB_0"].annotations[0].category.name == "OBJECT_A"
    assert asset["labels"][0].jobs["JOB_0"].annotations[0].category.display_name == "Object A"
    [label] = client.labels(filled.project, fields=["id", "jsonResponse"], output_format="parsed_label")
    assert label["id"] == filled.label and label.to_dict()["jsonResponse"] == filled.response
    with pytest.raises(
        ValidationError, match=re.escape("output_format='parsed_label' needs 'jsonResponse' in fields.")
    ):
        client.labels(filled.project, fields=["id"], output_format="parsed_label")


def test_fields_that_are_not_a_list_are_refused_by_name(client, image_project):
    from labelport.errors import UnknownFieldError

    with pytest.raises(
        UnknownFieldError, match=r"^fields must be a list of field paths, e\.g\. \['id'\], got <object object at"
    ):
        client.assets(image_project, fields=object())
    with pytest.raises(UnknownFieldError, match=r"^fields must be a list of field paths, e\.g\. \['id'\], got 3\.$"):
        client.labels(image_project, fields=3)
