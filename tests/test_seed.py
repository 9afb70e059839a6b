"""The seed tutorial ("How to export a Kili project"), its query examples run against labelport.

Same calls, same result shapes; the boxes are chosen so that the marks are known exactly:
ground truth 0.3 × 0.4, John Doe's box overlaps it by 0.5 (IoU), John Smith's box lies inside John
Doe's (IoU 0.875) and overlaps the ground truth by 0.07 / 0.155.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from tests.factories import rect

INTERFACE = {
    "jobs": {
        "JOB_0": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Categories",
            "required": 1,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {
                    "OBJECT_A": {"name": "Object A", "children": []},
                    "OBJECT_B": {"name": "Object B", "children": []},
                },
            },
        }
    }
}


def response(x0, y0, x1, y1, mid):
    return {
        "JOB_0": {
            "annotations": [
                {
                    "categories": [{"name": "OBJECT_A"}],
                    "mid": mid,
                    "type": "rectangle",
                    "boundingPoly": [{"normalizedVertices": rect(x0, y0, x1, y1)}],
                    "polyline": [],
                    "children": {},
                }
            ]
        }
    }


@pytest.fixture
def tutorial(client):
    kili = client  # the tutorial's variable name
    project_id = kili.create_project(title="Export tutorial", input_type="IMAGE", json_interface=INTERFACE)["id"]
    kili.update_properties_in_project(project_id, use_honeypot=True, consensus_tot_coverage=100, min_consensus_size=2)
    kili.append_many_to_dataset(
        project_id,
        content_array=["https://h/car_1.jpg", "https://h/car_2.jpg"],
        external_id_array=["car_1", "car_2"],
        is_honeypot_array=[True, False],
    )
    kili.update_properties_in_assets(
        external_ids=["car_1", "car_2"], project_id=project_id, is_used_for_consensus_array=[True, True]
    )
    kili.append_to_roles(project_id, "john.doe@kili-technology.com", "LABELER")
    kili.append_to_roles(project_id, "john.smith@kili-technology.com", "LABELER")
    doe = kili.users(email="john.doe@kili-technology.com")[0]["id"]
    smith = kili.users(email="john.smith@kili-technology.com")[0]["id"]
    kili.create_honeypot(response(0.6, 0.4, 0.9, 0.8, "gt"), asset_external_id="car_1", project_id=project_id)
    kili.append_labels(
        project_id=project_id,
        asset_external_id_array=["car_1", "car_1"],
        author_id_array=[doe, smith],
        json_response_array=[response(0.5, 0.4, 0.8, 0.8, "doe"), response(0.5, 0.45, 0.8, 0.8, "smith")],
    )
    return kili, project_id, doe


def test_exporting_the_latest_labels_per_asset(tutorial, tmp_path, monkeypatch):
    kili, your_project_id, _ = tutorial
    assets = kili.assets(
        your_project_id, fields=["externalId", "latestLabel.jsonResponse"], label_output_format="parsed_label"
    )
    assert [a["externalId"] for a in assets] == ["car_1", "car_2"]
    assert list(assets[0]) == ["latestLabel", "externalId"]  # objects first, as Kili prints it
    monkeypatch.chdir(tmp_path)
    for asset in assets:
        if asset["latestLabel"]:  # check if asset has annotations
            class_ = asset["latestLabel"].jobs["JOB_0"].annotations[0].category.name
            with Path(asset["externalId"] + ".txt").open("w", encoding="utf-8") as f:
                f.write(class_)
    assert (tmp_path / "car_1.txt").read_text() == "OBJECT_A"
    assert not (tmp_path / "car_2.txt").exists()
    # labelport's latestLabel is the most recent DEFAULT or REVIEW label: John Smith's
    assert assets[0]["latestLabel"].jobs["JOB_0"].annotations[0].mid == "smith"


def test_assets_with_a_consensus_mark_above_one_half(tutorial):
    kili, your_project_id, _ = tutorial
    with pytest.warns(DeprecationWarning, match="consensus_mark_gt is deprecated; use consensus_mark_gte"):
        assets = kili.assets(your_project_id, fields=["externalId", "id", "consensusMark"], consensus_mark_gt=0.5)
    assert assets == [{"externalId": "car_1", "id": assets[0]["id"], "consensusMark": pytest.approx(0.875)}]


def test_labels_with_a_honeypot_mark_above_one_tenth(tutorial):
    kili, your_project_id, _ = tutorial
    labels = kili.labels(
        your_project_id, fields=["labelOf.externalId", "honeypotMark", "author.email", "id"], honeypot_mark_gte=0.1
    )
    assert labels == [
        {
            "labelOf": {"externalId": "car_1"},
            "author": {"email": "john.doe@kili-technology.com"},
            "honeypotMark": pytest.approx(0.5),
            "id": labels[0]["id"],
        },
        {
            "labelOf": {"externalId": "car_1"},
            "author": {"email": "john.smith@kili-technology.com"},
            "honeypotMark": pytest.approx(0.07 / 0.155),
            "id": labels[1]["id"],
        },
    ]


def test_labels_of_one_project_member(tutorial):
    kili, your_project_id, john_doe_id = tutorial
    labels = kili.labels(your_project_id, fields=["labelOf.externalId", "author.email", "id"], user_id=john_doe_id)
    assert labels == [
        {"labelOf": {"externalId": "car_1"}, "author": {"email": "john.doe@kili-technology.com"}, "id": labels[0]["id"]}
    ]
    assert kili.labels(your_project_id, fields=["id"], author_in=["john.doe@kili-technology.com"]) == [
        {"id": labels[0]["id"]}
    ]


def test_latest_review_label_per_user(tutorial, tmp_path, monkeypatch):
    kili, your_project_id, _ = tutorial
    monkeypatch.chdir(tmp_path)
    assets = kili.assets(
        your_project_id, fields=["externalId", "labels.jsonResponse", "labels.isLatestReviewLabelForUser"]
    )
    for asset in assets:
        if asset["labels"]:  # check if asset has annotations
            for label in asset["labels"]:
                if label["isLatestReviewLabelForUser"] and "JOB_0" in label["jsonResponse"]:
                    annotation = label["jsonResponse"]["JOB_0"]
                    with Path(asset["externalId"] + ".json").open("w", encoding="utf-8") as f:
                        f.write(json.dumps(annotation))
                    break
    assert json.loads((tmp_path / "car_1.json").read_text())["annotations"][0]["mid"] == "gt"


def test_latest_label_per_annotator(tutorial, tmp_path):
    kili, your_project_id, _ = tutorial
    assets = kili.assets(
        your_project_id,
        fields=["externalId", "labels.author.email", "labels.createdAt", "labels.labelType", "labels.jsonResponse"],
    )
    for asset in assets:
        if asset["labels"]:
            latest_label_by_user = defaultdict(list)
            for label in asset["labels"]:
                if label["labelType"] == "DEFAULT":
                    latest_label_by_user[label["author"]["email"]].append(label)
            latest_label_per_user = {
                email: max(labels, key=lambda x: x["createdAt"]) for email, labels in latest_label_by_user.items()
            }
            with (tmp_path / (asset["externalId"] + ".json")).open("w", encoding="utf-8") as f:
                f.write(json.dumps(latest_label_per_user))
    written = json.loads((tmp_path / "car_1.json").read_text())
    assert sorted(written) == ["john.doe@kili-technology.com", "john.smith@kili-technology.com"]
    assert written["john.smith@kili-technology.com"]["jsonResponse"]["JOB_0"]["annotations"][0]["mid"] == "smith"
    # the same answer from labelport's derived flag
    flagged = kili.labels(your_project_id, fields=["author.email"], type_in=["DEFAULT"])
    assert sorted(label["author"]["email"] for label in flagged) == sorted(written)


def test_cleanup(tutorial):
    kili, your_project_id, _ = tutorial
    kili.delete_project(your_project_id)
    assert kili.count_projects() == 0
