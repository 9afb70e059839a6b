"""Marks computed and stored by labelport, on SQLite and PostgreSQL."""

from __future__ import annotations

import types

import pytest

from tests.factories import box, boxes

GT = boxes(box("OBJECT_A", 0.6, 0.4, 0.9, 0.8))  # area 0.12


@pytest.fixture
def team(client, image_project):
    client.append_many_to_dataset(
        image_project,
        content_array=["https://h/a", "https://h/b", "https://h/c"],
        external_id_array=["a", "b", "c"],
        is_honeypot_array=[True, False, False],
    )
    ids = {}
    for name in ("ann", "ben", "cid"):
        ids[name] = client.create_user(f"{name}@x.io", firstname=name.title())["id"]
        client.append_to_roles(image_project, f"{name}@x.io", "LABELER")
    return types.SimpleNamespace(project=image_project, **ids)


def put(client, project, external_id, author, response, label_type="DEFAULT"):
    return client.append_labels(
        project_id=project,
        asset_external_id_array=[external_id],
        json_response_array=[response],
        author_id_array=[author],
        label_type=label_type,
    )[0]["id"]


MARK_FIELDS = [
    "consensusMark",
    "honeypotMark",
    "inferenceMark",
    "labels.id",
    "labels.consensusMark",
    "labels.honeypotMark",
]


def marks(client, project, external_id):
    [asset] = client.assets(project, external_id_strictly_in=[external_id], fields=MARK_FIELDS)
    return asset


def test_consensus_of_two_then_three_labelers(client, team):
    p = team.project
    first = put(client, p, "b", team.ann, boxes(box("OBJECT_A", 0.5, 0.4, 0.8, 0.8)))  # area 0.12
    assert marks(client, p, "b")["consensusMark"] is None  # one labeler
    second = put(client, p, "b", team.ben, boxes(box("OBJECT_A", 0.5, 0.45, 0.8, 0.8)))  # inside the first, area 0.105
    asset = marks(client, p, "b")
    assert asset["consensusMark"] == pytest.approx(0.105 / 0.12)
    assert {lab["id"]: lab["consensusMark"] for lab in asset["labels"]} == {
        first: pytest.approx(0.875),
        second: pytest.approx(0.875),
    }
    third = put(client, p, "b", team.cid, boxes(box("OBJECT_B", 0.5, 0.4, 0.8, 0.8)))  # wrong category: 0 with both
    asset = marks(client, p, "b")
    assert asset["consensusMark"] == pytest.approx(0.875 / 3)  # mean of the pairs 0.875, 0, 0
    assert {lab["id"]: lab["consensusMark"] for lab in asset["labels"]} == {
        first: pytest.approx(0.875 / 2),
        second: pytest.approx(0.875 / 2),
        third: 0.0,
    }
    # ann corrects her label: her old one leaves the consensus set and loses its mark
    fourth = put(client, p, "b", team.ann, boxes(box("OBJECT_A", 0.5, 0.45, 0.8, 0.8)))
    asset = marks(client, p, "b")
    assert asset["consensusMark"] == pytest.approx(1 / 3)
    assert {lab["id"]: lab["consensusMark"] for lab in asset["labels"]} == {
        first: None,
        second: pytest.approx(0.5),
        third: 0.0,
        fourth: pytest.approx(0.5),
    }


def test_honeypot_marks(client, team):
    p = team.project
    ann = put(client, p, "a", team.ann, boxes(box("OBJECT_A", 0.5, 0.4, 0.8, 0.8)))  # IoU with GT: 0.08 / 0.16
    assert marks(client, p, "a")["honeypotMark"] is None  # no ground truth yet
    client.create_honeypot(GT, asset_external_id="a", project_id=p)
    ben = put(client, p, "a", team.ben, boxes(box("OBJECT_A", 0.5, 0.45, 0.8, 0.8)))  # 0.07 / 0.155
    asset = marks(client, p, "a")
    hp = {lab["id"]: lab["honeypotMark"] for lab in asset["labels"]}
    assert hp[ann] == pytest.approx(0.5) and hp[ben] == pytest.approx(0.07 / 0.155)
    assert asset["honeypotMark"] == pytest.approx((0.5 + 0.07 / 0.155) / 2)
    # a new ground truth re-scores every label of the asset
    client.create_honeypot(boxes(box("OBJECT_A", 0.5, 0.4, 0.8, 0.8)), asset_external_id="a", project_id=p)
    hp = {lab["id"]: lab["honeypotMark"] for lab in marks(client, p, "a")["labels"]}
    assert hp[ann] == pytest.approx(1.0) and hp[ben] == pytest.approx(0.875)
    # not a honeypot any more: marks go
    client.update_properties_in_assets(external_ids=["a"], project_id=p, is_honeypot_array=[False])
    asset = marks(client, p, "a")
    assert asset["honeypotMark"] is None and all(lab["honeypotMark"] is None for lab in asset["labels"])


def test_inference_mark(client, team):
    p = team.project
    put(client, p, "c", team.ann, boxes(box("OBJECT_A", 0.2, 0.2, 0.6, 0.4)))
    client.append_labels(
        project_id=p,
        asset_external_id_array=["c"],
        json_response_array=[boxes(box("OBJECT_A", 0.2, 0.2, 0.6, 0.6))],
        label_type="INFERENCE",
        model_name="m",
    )
    assert marks(client, p, "c")["inferenceMark"] == pytest.approx(0.5)
    assert client.count_assets(p, inference_mark_gte=0.5) == 1


def test_mark_filters_and_aggregates(client, team):
    p = team.project
    client.create_honeypot(GT, asset_external_id="a", project_id=p)
    put(client, p, "a", team.ann, boxes(box("OBJECT_A", 0.5, 0.4, 0.8, 0.8)))  # honeypot 0.5
    put(client, p, "a", team.ben, boxes(box("OBJECT_A", 0.5, 0.45, 0.8, 0.8)))  # honeypot 0.4516; consensus 0.875
    put(client, p, "b", team.ann, boxes(box("OBJECT_A", 0.0, 0.0, 0.2, 0.2)))
    put(client, p, "b", team.cid, boxes(box("OBJECT_A", 0.0, 0.0, 0.2, 0.1)))  # consensus 0.5
    names = lambda **f: [a["externalId"] for a in client.assets(p, fields=["externalId"], **f)]  # noqa: E731
    assert names(consensus_mark_gte=0.5) == ["a", "b"]
    assert names(consensus_mark_gte=0.6) == ["a"]
    assert names(consensus_mark_lte=0.5) == ["b"]
    with pytest.warns(DeprecationWarning):
        assert names(consensus_mark_gt=0.5) == ["a"]  # strictly greater
    assert names(honeypot_mark_gte=0.47) == ["a"]
    assert names(honeypot_mark_lte=0.4) == []
    assert names(label_honeypot_mark_lte=0.46) == ["a"]
    assert names(label_consensus_mark_gte=0.8, label_author_in=["Ben"]) == ["a"]
    labels = client.labels(p, fields=["author.email", "honeypotMark"], honeypot_mark_gte=0.46)
    assert labels == [{"author": {"email": "ann@x.io"}, "honeypotMark": pytest.approx(0.5)}]
    assert client.count_labels(p, consensus_mark_lte=0.5) == 2
    members = {
        m["user"]["email"]: m
        for m in client.project_users(
            p, fields=["user.email", "consensusMark", "honeypotMark", "numberOfLabeledAssets"]
        )
    }
    assert members["ann@x.io"]["consensusMark"] == pytest.approx((0.875 + 0.5) / 2)
    assert members["ann@x.io"]["honeypotMark"] == pytest.approx(0.5)
    assert members["ann@x.io"]["numberOfLabeledAssets"] == 2
    assert members["ben@x.io"]["consensusMark"] == pytest.approx(0.875)
    assert members["ben@x.io"]["honeypotMark"] == pytest.approx(0.07 / 0.155)
    assert members["cid@x.io"]["consensusMark"] == pytest.approx(0.5) and members["cid@x.io"]["honeypotMark"] is None
    assert members["admin@example.com"]["numberOfLabeledAssets"] == 0
    [project] = client.projects(project_id=p, fields=["consensusMark", "honeypotMark"])
    assert project["consensusMark"] == pytest.approx((0.875 + 0.5) / 2)
    assert project["honeypotMark"] == pytest.approx((0.5 + 0.07 / 0.155) / 2)


# -- marks kept on each write equal a full recomputation ------------------------------------------

_SHAPES = [
    box("OBJECT_A", 0.1, 0.1, 0.4, 0.4),
    box("OBJECT_A", 0.15, 0.1, 0.45, 0.4),
    box("OBJECT_B", 0.5, 0.5, 0.9, 0.9),
    box("OBJECT_A", 0.6, 0.6, 0.7, 0.7),
]
_REGION = {
    "mid": "r",
    "type": "polygon",
    "categories": [{"name": "ROAD"}],
    "boundingPoly": [{"normalizedVertices": [{"x": 0.1, "y": 0.6}, {"x": 0.4, "y": 0.6}, {"x": 0.25, "y": 0.95}]}],
}


def _random_response(rng):
    response = boxes(*rng.sample(_SHAPES, rng.randint(0, 3)))
    if rng.random() < 0.4:
        response["POLY"] = {"annotations": [_REGION]}  # often drawn alike by several labelers
    if rng.random() < 0.5:
        response["TAGS"] = {"categories": [{"name": rng.choice(["DAY", "NIGHT"])}]}
    return response


def _all_marks(client, project):
    return [
        (
            asset["externalId"],
            asset["consensusMark"],
            asset["honeypotMark"],
            asset["inferenceMark"],
            sorted((label["id"], label["consensusMark"], label["honeypotMark"]) for label in asset["labels"]),
        )
        for asset in client.assets(project, fields=["externalId", *MARK_FIELDS])
    ]


@pytest.mark.parametrize("seed", range(4))
def test_marks_kept_on_each_write_equal_a_recomputation(client, team, seed):
    """Random interleavings of every write that can change a mark; after each, the stored marks must
    equal, to the last bit, what ``recompute_marks`` rebuilds from the labels."""
    import random

    rng = random.Random(seed)
    project = team.project
    client.update_properties_in_project(project, consensus_tot_coverage=100, min_consensus_size=2)
    authors = [team.ann, team.ben, team.cid]
    external_ids = ["a", "b", "c"]
    seen: set[str] = set()  # the kinds of mark that were set at some step
    for _step in range(40):
        operation = rng.choice(
            ["default", "default", "default", "review", "inference", "predict", "honeypot", "flag", "back"]
        )
        chosen = rng.sample(external_ids, rng.randint(1, 3))
        if operation in ("default", "review"):
            client.append_labels(
                project_id=project,
                asset_external_id_array=chosen,
                json_response_array=[_random_response(rng) for _ in chosen],
                author_id_array=[rng.choice(authors) for _ in chosen],
                label_type=operation.upper(),
            )
        elif operation == "inference":
            client.append_labels(
                project_id=project,
                asset_external_id_array=chosen,
                json_response_array=[_random_response(rng) for _ in chosen],
                label_type="INFERENCE",
                model_name="model",
            )
        elif operation == "predict":
            client.create_predictions(
                project,
                external_id_array=chosen,
                json_response_array=[_random_response(rng) for _ in chosen],
                model_name="model",
                overwrite=rng.random() < 0.5,
            )
        elif operation == "honeypot":
            client.create_honeypot(_random_response(rng), asset_external_id=chosen[0], project_id=project)
        elif operation == "flag":
            client.update_properties_in_assets(
                external_ids=chosen, project_id=project, is_honeypot_array=[rng.random() < 0.5 for _ in chosen]
            )
        else:
            client.send_back_to_queue(external_ids=chosen, project_id=project)
        kept = _all_marks(client, project)
        client.recompute_marks(project)
        assert _all_marks(client, project) == kept, f"seed {seed}, after {operation} on {chosen}"
        for _id, consensus, honeypot, inference, _labels in kept:
            seen |= {
                name
                for name, value in zip(
                    ("consensus", "honeypot", "inference"), (consensus, honeypot, inference), strict=True
                )
                if value is not None
            }
    assert seen == {"consensus", "honeypot", "inference"}


@pytest.mark.parametrize(("minimum", "remembered"), [(2, ["ann"]), (3, ["ann", "ben"])])
def test_prepared_labels_are_remembered_while_their_asset_waits_for_labelers(client, team, minimum, remembered):
    from labelport.services.marks import caches_for

    p = team.project
    client.update_properties_in_project(p, consensus_tot_coverage=100, min_consensus_size=minimum)
    labels = {
        "ann": put(client, p, "b", team.ann, boxes(box("OBJECT_A", 0.1, 0.1, 0.4, 0.4))),
        "ben": put(client, p, "b", team.ben, boxes(box("OBJECT_A", 0.1, 0.1, 0.4, 0.5))),
    }
    assert marks(client, p, "b")["consensusMark"] == pytest.approx(0.75)
    # ann's label waits for a second labeler; with the two, the consensus of a minimum of 2 is complete
    with client.store.read() as conn:
        cached = {label_id for _, label_id in caches_for(conn).prepared._items}
    assert sorted(name for name, label_id in labels.items() if label_id in cached) == remembered
