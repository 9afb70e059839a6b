from __future__ import annotations

import re

import pytest

from labelport.errors import JsonResponseError, NotFound, ValidationError
from tests.factories import box, boxes

FLAGS = [
    "author.email",
    "labelType",
    "isLatestLabelForUser",
    "isLatestDefaultLabelForUser",
    "isLatestReviewLabelForUser",
]


@pytest.fixture
def team(client, image_project):
    client.append_many_to_dataset(
        image_project, content_array=["https://h/a", "https://h/b"], external_id_array=["a", "b"]
    )
    ids = {}
    for email, first, last in (("alice@x.io", "Alice", "Martin"), ("bob@x.io", "Bob", "Stone")):
        ids[email] = client.create_user(email, firstname=first, lastname=last)["id"]
        client.append_to_roles(image_project, email, "LABELER")
    return ids


def label(client, project, external_id, author_id, response=None, label_type="DEFAULT"):
    return client.append_labels(
        project_id=project,
        asset_external_id_array=[external_id],
        json_response_array=[response if response is not None else boxes(box("OBJECT_A", 0, 0, 0.5, 0.5))],
        author_id_array=[author_id],
        label_type=label_type,
    )[0]["id"]


def flags(client, project, external_id):
    [asset] = client.assets(
        project,
        fields=[*(f"labels.{f}" for f in FLAGS), "labels.id", "latestLabel.id", "status"],
        external_id_strictly_in=[external_id],
    )
    return asset


def test_derived_flags_after_interleaved_labels_by_several_authors(client, image_project, team):
    alice, bob = team["alice@x.io"], team["bob@x.io"]
    a1 = label(client, image_project, "a", alice)
    b1 = label(client, image_project, "a", bob)
    a2 = label(client, image_project, "a", alice)
    r1 = label(client, image_project, "a", bob, label_type="REVIEW")
    p1 = client.create_predictions(image_project, external_id_array=["a"], json_response_array=[{}], model_name="m1")
    assert p1 == {"id": image_project}
    a3 = label(client, image_project, "a", alice, label_type="AUTOSAVE")
    asset = flags(client, image_project, "a")
    got = [
        (
            lab["id"],
            lab["author"]["email"],
            lab["labelType"],
            lab["isLatestLabelForUser"],
            lab["isLatestDefaultLabelForUser"],
            lab["isLatestReviewLabelForUser"],
        )
        for lab in asset["labels"]
    ]
    prediction_id = got[4][0]
    assert got == [
        (a1, "alice@x.io", "DEFAULT", False, False, False),
        (b1, "bob@x.io", "DEFAULT", False, True, False),
        (a2, "alice@x.io", "DEFAULT", True, True, False),
        (r1, "bob@x.io", "REVIEW", True, False, True),
        (prediction_id, "admin@example.com", "PREDICTION", False, False, False),
        (a3, "alice@x.io", "AUTOSAVE", False, False, False),
    ]
    assert asset["latestLabel"] == {"id": r1}
    assert asset["status"] == "REVIEWED"
    # another DEFAULT label by bob: his latest label overall, but the review keeps the asset REVIEWED
    b2 = label(client, image_project, "a", bob)
    asset = flags(client, image_project, "a")
    by_id = {lab["id"]: lab for lab in asset["labels"]}
    assert (by_id[b1]["isLatestDefaultLabelForUser"], by_id[b2]["isLatestDefaultLabelForUser"]) == (
        False,
        True,
    )
    assert (by_id[r1]["isLatestLabelForUser"], by_id[r1]["isLatestReviewLabelForUser"]) == (
        False,
        True,
    )
    assert asset["latestLabel"] == {"id": b2} and asset["status"] == "REVIEWED"
    # the other asset is untouched
    assert flags(client, image_project, "b") == {
        "labels": [],
        "latestLabel": None,
        "status": "TODO",
    }
    assert client.count_labels(image_project, type_in=["DEFAULT"]) == 4


def test_labels_in_one_call_on_one_asset_keep_their_order(client, image_project, team):
    ids = client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a", "a", "b"],
        json_response_array=[{}, {}, {}],
        author_id_array=[team["alice@x.io"]] * 3,
    )
    asset = flags(client, image_project, "a")
    assert [(lab["id"], lab["isLatestLabelForUser"]) for lab in asset["labels"]] == [
        (ids[0]["id"], False),
        (ids[1]["id"], True),
    ]
    assert asset["latestLabel"] == {"id": ids[1]["id"]}


def test_created_at_orders_imported_history(client, image_project, team):
    alice = team["alice@x.io"]
    newer, older = client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a", "a"],
        json_response_array=[{}, {}],
        author_id_array=[alice, alice],
        created_at_array=["2024-05-02T10:00:00Z", "2024-05-01T10:00:00.000Z"],
    )
    asset = client.assets(
        image_project,
        fields=["labels.id", "labels.createdAt", "labels.isLatestLabelForUser", "latestLabel.id"],
        external_id_strictly_in=["a"],
    )[0]
    assert asset["labels"] == [
        {"id": older["id"], "createdAt": "2024-05-01T10:00:00.000Z", "isLatestLabelForUser": False},
        {"id": newer["id"], "createdAt": "2024-05-02T10:00:00.000Z", "isLatestLabelForUser": True},
    ]
    assert asset["latestLabel"] == {"id": newer["id"]}


def test_status_follows_the_consensus_size(client, image_project, team):
    client.update_properties_in_project(image_project, consensus_tot_coverage=100, min_consensus_size=2)
    label(client, image_project, "a", team["alice@x.io"])
    assert flags(client, image_project, "a")["status"] == "ONGOING"
    label(client, image_project, "a", team["alice@x.io"])  # same labeler again: still one labeler
    assert flags(client, image_project, "a")["status"] == "ONGOING"
    label(client, image_project, "a", team["bob@x.io"])
    assert flags(client, image_project, "a")["status"] == "LABELED"
    client.update_properties_in_project(image_project, min_consensus_size=3)
    assert flags(client, image_project, "a")["status"] == "ONGOING"
    client.update_properties_in_project(image_project, min_consensus_size=2)
    assert flags(client, image_project, "a")["status"] == "LABELED"
    client.update_properties_in_assets(
        external_ids=["a"], project_id=image_project, is_used_for_consensus_array=[False]
    )
    client.update_properties_in_project(image_project, min_consensus_size=3)
    assert flags(client, image_project, "a")["status"] == "LABELED"  # not a consensus asset any more
    client.update_properties_in_project(image_project, consensus_tot_coverage=0)
    assert client.assets(image_project, fields=["isUsedForConsensus"], external_id_strictly_in=["b"]) == [
        {"isUsedForConsensus": False}
    ]


def test_consensus_coverage_draws_assets_stably(client, image_project):
    client.update_properties_in_project(image_project, consensus_tot_coverage=50)
    client.append_many_to_dataset(
        image_project,
        content_array=[f"https://h/{i}" for i in range(200)],
        external_id_array=[f"asset-{i}" for i in range(200)],
    )
    drawn = client.count_assets(
        image_project,
        asset_id_in=[
            a["id"]
            for a in client.assets(image_project, fields=["id", "isUsedForConsensus"])
            if a["isUsedForConsensus"]
        ],
    )
    assert 70 <= drawn <= 130  # about half, decided by a hash of the external id
    again = [a["isUsedForConsensus"] for a in client.assets(image_project, fields=["isUsedForConsensus"])]
    client.update_properties_in_project(image_project, consensus_tot_coverage=50)
    assert [a["isUsedForConsensus"] for a in client.assets(image_project, fields=["isUsedForConsensus"])] == again


def test_autosave_moves_todo_to_ongoing_and_predictions_change_nothing(client, image_project, team):
    client.create_predictions(image_project, external_id_array=["a"], json_response_array=[{}], model_name="m")
    assert flags(client, image_project, "a")["status"] == "TODO"
    label(client, image_project, "a", team["alice@x.io"], {}, "AUTOSAVE")
    assert flags(client, image_project, "a")["status"] == "ONGOING"
    assert flags(client, image_project, "a")["latestLabel"] is None


def test_prediction_overwrite_replaces_the_models_labels(client, image_project, team):
    for _ in range(2):
        client.create_predictions(
            image_project,
            external_id_array=["a", "b"],
            json_response_array=[{}, {}],
            model_name="v1",
        )
    client.create_predictions(image_project, external_id_array=["a"], json_response_array=[{}], model_name="v2")
    assert client.count_labels(image_project, type_in=["PREDICTION"]) == 5
    client.create_predictions(
        image_project,
        external_id_array=["a"],
        json_response_array=[{}],
        model_name="v1",
        overwrite=True,
    )
    rows = client.predictions(image_project, fields=["modelName", "labelOf.externalId"])
    assert sorted((r["labelOf"]["externalId"], r["modelName"]) for r in rows) == [
        ("a", "v1"),
        ("a", "v2"),
        ("b", "v1"),
        ("b", "v1"),
    ]
    with pytest.raises(ValidationError, match=re.escape("PREDICTION labels need a model_name.")):
        client.create_predictions(image_project, external_id_array=["a"], json_response_array=[{}])


def test_honeypot_ground_truth(client, image_project, team):
    result = client.create_honeypot(boxes(box("OBJECT_A", 0, 0, 1, 1)), asset_external_id="b", project_id=image_project)
    [asset] = client.assets(
        image_project,
        fields=["isHoneypot", "status", "labels.labelType", "labels.id", "labels.author.email"],
        external_id_strictly_in=["b"],
    )
    assert asset == {
        "labels": [{"labelType": "REVIEW", "id": result["id"], "author": {"email": "admin@example.com"}}],
        "isHoneypot": True,
        "status": "TODO",
    }


def test_one_bad_label_stores_nothing(client, image_project, team):
    good = boxes(box("OBJECT_A", 0, 0, 1, 1))
    bad = boxes(box("OBJECT_Z", 0, 0, 1, 1))
    with pytest.raises(JsonResponseError) as error:
        client.append_labels(
            project_id=image_project,
            asset_external_id_array=["a", "b"],
            json_response_array=[good, bad],
        )
    assert str(error.value) == (
        "Asset 'b', job 'JOB_0', category 'OBJECT_Z': this category is not in the job; "
        "categories are: OBJECT_A, OBJECT_B."
    )
    assert client.count_labels(image_project) == 0
    assert client.assets(image_project, fields=["status"]) == [
        {"status": "TODO"},
        {"status": "TODO"},
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"json_response_array": []}, ValidationError, "json_response_array must not be empty."),
        (
            {"asset_external_id_array": ["zz"]},
            NotFound,
            "No asset with external id 'zz' in project",
        ),
        (
            {"author_id_array": ["ghost"]},
            NotFound,
            "User 'ghost' does not exist; create it with client.create_user(email)",
        ),
        (
            {"label_type": "FINAL"},
            ValidationError,
            "label_type 'FINAL' is not valid; use one of: AUTOSAVE, DEFAULT",
        ),
        (
            {"seconds_to_label_array": [-1]},
            ValidationError,
            "Asset 'a': seconds_to_label must be a number ≥ 0, got -1.",
        ),
        (
            {"asset_id_array": ["x"]},
            ValidationError,
            "Give asset_id_array or asset_external_id_array, not both.",
        ),
        (
            {"author_id_array": [None, None]},
            ValidationError,
            "author_id_array has 2 items but json_response_array has 1.",
        ),
        (
            {"json_response_array": ["{not json"]},
            ValidationError,
            "Asset 'a': the jsonResponse is not valid JSON.",
        ),
        ({"step_name": "Review"}, ValidationError, "step_name: labelport projects use workflow V1"),
    ],
)
def test_append_labels_errors(client, image_project, team, kwargs, error, message):
    arguments = {
        "project_id": image_project,
        "asset_external_id_array": ["a"],
        "json_response_array": [{}],
        **kwargs,
    }
    with pytest.raises(error) as raised:
        client.append_labels(**arguments)
    assert str(raised.value).startswith(message)
    assert client.count_labels(image_project) == 0


def test_json_response_given_as_a_string_is_stored_as_json(client, image_project, team):
    [created] = client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a"],
        json_response_array=['{"CAPTION": {"text": "hi"}}'],
        seconds_to_label_array=[12.5],
    )
    assert client.labels(image_project, fields=["id", "jsonResponse", "secondsToLabel", "numberOfAnnotations"]) == [
        {
            "id": created["id"],
            "jsonResponse": {"CAPTION": {"text": "hi"}},
            "secondsToLabel": 12.5,
            "numberOfAnnotations": 1,
        }
    ]
