"""Every filter of assets() and labels(), on a small project whose answers are known."""

from __future__ import annotations

import types

import pytest

from labelport.errors import FilterError
from tests.factories import box, boxes


@pytest.fixture
def data(client, image_project):
    client.append_many_to_dataset(
        image_project,
        content_array=[f"https://h/{name}.jpg" for name in ("car_1", "car_2", "bike_1", "truck_9")],
        external_id_array=["car_1", "car_2", "bike_1", "truck_9"],
        json_metadata_array=[
            {"city": "Paris", "n": 5, "tag": "x"},
            {"city": "Lyon", "n": "12"},
            {"n": 20.5, "ok": True},
            {},
        ],
        is_honeypot_array=[True, False, False, False],
    )
    users = {}
    for email, first, last in (
        ("alice@x.io", "Alice", "Martin"),
        ("bob@x.io", "Bob", "Stone"),
        ("rita@x.io", "Rita", "Ray"),
    ):
        users[first.lower()] = client.create_user(email, firstname=first, lastname=last)["id"]

    def add(external_id, author, response, label_type="DEFAULT", created_at=None):
        return client.append_labels(
            project_id=image_project,
            asset_external_id_array=[external_id],
            json_response_array=[response],
            author_id_array=[users[author]],
            label_type=label_type,
            created_at_array=None if created_at is None else [created_at],
        )[0]["id"]

    labels = {
        "a1": add(
            "car_1",
            "alice",
            {
                **boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, "1"), box("OBJECT_A", 0.5, 0.5, 0.7, 0.7, "2")),
                "TAGS": {"categories": [{"name": "DAY"}]},
            },
            created_at="2024-03-01T08:00:00Z",
        ),
        "b1": add(
            "car_1",
            "bob",
            boxes(box("OBJECT_B", 0, 0, 0.2, 0.2)),
            created_at="2024-03-02T09:30:00Z",
        ),
        "a2": add(
            "car_2",
            "alice",
            boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, child="RED")),
            created_at="2024-03-03T10:00:00Z",
        ),
        "r2": add("car_2", "rita", {}, "REVIEW", created_at="2024-03-04T10:00:00Z"),
        "b3": add(
            "bike_1",
            "bob",
            {"TAGS": {"categories": [{"name": "NIGHT"}, {"name": "RAIN"}]}},
            created_at="2024-01-15T12:00:00Z",
        ),
    }
    ids = {a["externalId"]: a["id"] for a in client.assets(image_project, fields=["externalId", "id"])}
    return types.SimpleNamespace(project=image_project, users=users, labels=labels, ids=ids)


def names(client, data, **filters):
    return [a["externalId"] for a in client.assets(data.project, fields=["externalId"], **filters)]


def label_ids(client, data, **filters):
    inverse = {v: k for k, v in data.labels.items()}
    return [inverse[lab["id"]] for lab in client.labels(data.project, fields=["id"], **filters)]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["car_1", "car_2", "bike_1", "truck_9"]),
        ({"external_id_strictly_in": ["car_1", "bike_1", "nope"]}, ["car_1", "bike_1"]),
        ({"external_id_in": ["car", "9"]}, ["car_1", "car_2", "truck_9"]),
        ({"external_id_in": ["%"]}, []),
        ({"status_in": ["LABELED"]}, ["car_1", "bike_1"]),
        ({"status_in": ["REVIEWED", "TODO"]}, ["car_2", "truck_9"]),
        ({"skipped": False}, ["car_1", "car_2", "bike_1", "truck_9"]),
        ({"is_honeypot": True}, ["car_1"]),
        ({"metadata_where": {"city": "Paris"}}, ["car_1"]),
        ({"metadata_where": {"city": ["Lyon", "Rome"]}}, ["car_2"]),
        (
            {"metadata_where": {"n": [5, 15]}},
            ["car_1", "car_2"],
        ),  # numeric range; "12" counts as 12
        ({"metadata_where": {"n": [20, 30]}}, ["bike_1"]),
        ({"metadata_where": {"n": 12}}, ["car_2"]),
        ({"metadata_where": {"n": "5"}}, ["car_1"]),
        ({"metadata_where": {"ok": True}}, ["bike_1"]),
        ({"metadata_where": {"city": "Paris", "tag": "x"}}, ["car_1"]),
        ({"metadata_where": {"city": "Paris", "tag": "y"}}, []),
        ({"label_type_in": ["REVIEW"]}, ["car_2"]),
        ({"label_author_in": ["Alice"]}, ["car_1", "car_2"]),
        ({"label_author_in": ["stone"]}, ["car_1", "bike_1"]),
        ({"label_author_in": ["Rita Ray"]}, ["car_2"]),
        ({"label_author_in": ["rita@x.io"]}, ["car_2"]),
        ({"label_labeler_in": ["bob@x.io"]}, ["car_1", "bike_1"]),
        ({"label_labeler_not_in": ["bob@x.io"]}, ["car_2", "truck_9"]),
        ({"label_reviewer_in": ["rita@x.io"]}, ["car_2"]),
        ({"label_reviewer_not_in": ["rita@x.io"]}, ["car_1", "bike_1", "truck_9"]),
        ({"label_created_at": "2024-03-02"}, ["car_1"]),
        ({"label_created_at_gte": "2024-03-03"}, ["car_2"]),
        ({"label_created_at_lte": "2024-03-01"}, ["car_1", "bike_1"]),
        ({"label_category_search": "JOB_0.OBJECT_A.count > 1"}, ["car_1"]),
        (
            {"label_category_search": "JOB_0.OBJECT_A.count == 1 OR TAGS.RAIN.count >= 1"},
            ["car_2", "bike_1"],
        ),
        (
            {"label_category_search": "(JOB_0.OBJECT_A.count > 0 OR JOB_0.OBJECT_B.count > 0) AND TAGS.DAY.count == 0"},
            ["car_1", "car_2"],
        ),
        ({"label_category_search": "CLASSIF_CHILD.RED.count == 1"}, ["car_2"]),
        ({"label_category_search": "JOB_0.OBJECT_*.count >= 2"}, ["car_1"]),
        # one label must match every label criterion: bob labeled car_1, but not with OBJECT_A
        ({"label_author_in": ["Bob"], "label_category_search": "JOB_0.OBJECT_A.count > 0"}, []),
        (
            {
                "label_author_in": ["Alice"],
                "label_category_search": "JOB_0.OBJECT_A.count > 0",
                "status_in": ["REVIEWED"],
            },
            ["car_2"],
        ),
    ],
)
def test_asset_filters(client, data, filters, expected):
    assert names(client, data, **filters) == expected
    assert client.count_assets(data.project, **filters) == len(expected)


def test_asset_id_filters(client, data):
    assert names(client, data, asset_id=data.ids["car_2"]) == ["car_2"]
    assert names(client, data, asset_id_in=[data.ids["car_2"], data.ids["bike_1"]]) == [
        "car_2",
        "bike_1",
    ]
    assert names(client, data, asset_id_not_in=[data.ids["car_2"], data.ids["bike_1"]]) == [
        "car_1",
        "truck_9",
    ]


def test_asset_date_filters(client, data):
    created = client.assets(data.project, fields=["createdAt"], first=1)[0]["createdAt"]
    day = created[:10]
    assert names(client, data, created_at_gte=day, created_at_lte=day) == [
        "car_1",
        "car_2",
        "bike_1",
        "truck_9",
    ]
    assert names(client, data, created_at_lte="2000-01-01") == []
    assert names(client, data, updated_at_gte=created) == ["car_1", "car_2", "bike_1", "truck_9"]


def test_deprecated_gt_and_lt_aliases_warn_and_compare_strictly(client, data):
    with pytest.warns(
        DeprecationWarning,
        match="Filter label_created_at_gt is deprecated; use label_created_at_gte",
    ):
        assert names(client, data, label_created_at_gt="2024-03-03") == [
            "car_2"
        ]  # after the whole day of 3 March: the review
    with pytest.warns(
        DeprecationWarning,
        match="Filter external_id_contains is deprecated; use external_id_strictly_in",
    ):
        assert names(client, data, external_id_contains=["car_1"]) == ["car_1"]
    with pytest.warns(DeprecationWarning, match="Filter consensus_mark_gt is deprecated; use consensus_mark_gte"):
        names(client, data, consensus_mark_gt=0.5)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["a1", "b1", "a2", "r2", "b3"]),
        ({"type_in": ["REVIEW"]}, ["r2"]),
        ({"author_in": ["Bob Stone"]}, ["b1", "b3"]),
        ({"asset_status_in": ["LABELED"]}, ["a1", "b1", "b3"]),
        ({"asset_external_id_in": ["car"]}, ["a1", "b1", "a2", "r2"]),
        ({"asset_external_id_strictly_in": ["car_2"]}, ["a2", "r2"]),
        ({"created_at": "2024-03-03"}, ["a2"]),
        ({"created_at": "2024-03-03T10:00:00.000Z"}, ["a2"]),
        ({"created_at_gte": "2024-03-02", "created_at_lte": "2024-03-03"}, ["b1", "a2"]),
        ({"category_search": "TAGS.NIGHT.count == 1 AND TAGS.RAIN.count == 1"}, ["b3"]),
        ({"category_search": "JOB_0.OBJECT_A.count < 1"}, ["b1", "r2", "b3"]),
    ],
)
def test_label_filters(client, data, filters, expected):
    assert label_ids(client, data, **filters) == expected
    assert client.count_labels(data.project, **filters) == len(expected)


def test_label_identity_filters(client, data):
    assert label_ids(client, data, label_id=data.labels["b1"]) == ["b1"]
    assert label_ids(client, data, id_contains=[data.labels["b1"], data.labels["r2"]]) == [
        "b1",
        "r2",
    ]
    assert label_ids(client, data, asset_id=data.ids["car_2"]) == ["a2", "r2"]
    assert label_ids(client, data, user_id=data.users["bob"]) == ["b1", "b3"]


@pytest.mark.parametrize(
    ("method", "filters", "message"),
    [
        (
            "assets",
            {"colour": "red"},
            "Unknown filter 'colour' for assets(). Valid filters: asset_id, asset_id_in,",
        ),
        (
            "labels",
            {"label_type_in": ["DEFAULT"]},
            "Unknown filter 'label_type_in' for labels(). Valid filters: ",
        ),
        (
            "assets",
            {"status_in": ["DONE"]},
            "Filter status_in: 'DONE' is not one of TODO, ONGOING, LABELED, TO_REVIEW, REVIEWED.",
        ),
        (
            "assets",
            {"status_in": "TODO"},
            "Filter status_in needs a list of strings, e.g. status_in=['TODO'], got 'TODO'.",
        ),
        (
            "assets",
            {"consensus_mark_gte": "high"},
            "Filter consensus_mark_gte needs a number, got 'high'.",
        ),
        ("assets", {"skipped": "no"}, "Filter skipped needs True or False, got 'no'."),
        (
            "assets",
            {"created_at_gte": "yesterday"},
            "Filter created_at_gte must be a date 'YYYY-MM-DD' or an ISO date-time, not 'yesterday'.",
        ),
        ("assets", {"metadata_where": {}}, "Filter metadata_where needs a non-empty dict"),
        (
            "assets",
            {"metadata_where": {"k": {"a": 1}}},
            "Filter metadata_where: value for 'k' must be a string, number, bool or list.",
        ),
        (
            "assets",
            {"step_name_in": ["Review"]},
            "Filter step_name_in is not available in labelport: labelport projects use workflow V1 statuses; filter with status_in.",
        ),
        (
            "assets",
            {"issue_type": "QUESTION"},
            "Filter issue_type is not available in labelport: labelport has no issues or questions on assets.",
        ),
        (
            "assets",
            {"label_category_search": "JOB_0.OBJECT_A > 1"},
            "Invalid category search query: 'JOB_0.OBJECT_A > 1' (cannot read from",
        ),
        (
            "assets",
            {"label_category_search": "JOB_0.OBJECT_A.count >"},
            "Invalid category search query: 'JOB_0.OBJECT_A.count >' (it ends too early).",
        ),
        (
            "assets",
            {"label_category_search": "(JOB_0.OBJECT_A.count > 1"},
            "Invalid category search query: '(JOB_0.OBJECT_A.count > 1' (it ends too early).",
        ),
        (
            "labels",
            {"category_search": "NOPE.A.count > 1"},
            "Invalid category search query: 'NOPE.A.count > 1': job 'NOPE' is not in the ontology; jobs are: JOB_0,",
        ),
        (
            "labels",
            {"category_search": "JOB_0.CAR.count > 1"},
            "Invalid category search query: 'JOB_0.CAR.count > 1': job 'JOB_0' has no category 'CAR'; categories are: OBJECT_A, OBJECT_B.",
        ),
        (
            "labels",
            {"type_in": ["FINAL"]},
            "Filter type_in: 'FINAL' is not one of AUTOSAVE, DEFAULT, INFERENCE, PREDICTION, REVIEW.",
        ),
    ],
)
def test_bad_filters_are_named(client, data, method, filters, message):
    with pytest.raises(FilterError) as error:
        getattr(client, method)(data.project, **filters)
    assert str(error.value).startswith(message)
    with pytest.raises(FilterError):
        getattr(client, f"count_{method}")(data.project, **filters)
