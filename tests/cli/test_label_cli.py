from __future__ import annotations

import json

import pytest

from tests.factories import box, boxes

USAGE_LABEL = "Usage: labelport project label [OPTIONS] [FILES]...\nTry 'labelport project label --help' for help.\n\n"


@pytest.fixture
def labeled(client, image_project, tmp_path):
    """A project with assets a and b, and a folder of label files for them."""
    client.append_many_to_dataset(
        image_project,
        content_array=["https://h/a.jpg", "https://h/b.jpg"],
        external_id_array=["a", "b"],
        resolution_array=[{"width": 100, "height": 100}] * 2,
    )
    folder = tmp_path / "labels"
    folder.mkdir()
    responses = {"a": boxes(box("OBJECT_A", 0.1, 0.1, 0.5, 0.5)), "b": boxes(box("OBJECT_B", 0.2, 0.2, 0.4, 0.4))}
    for external_id, response in responses.items():
        (folder / f"{external_id}.json").write_text(json.dumps(response))
    (folder / "README.txt").write_text("not a label")
    return folder, responses


LABEL_FIELDS = ["labelOf.externalId", "labelType", "author.email", "modelName", "jsonResponse"]


def test_label_a_folder_by_an_author(cli, client, image_project, labeled):
    folder, responses = labeled
    client.create_user("alice@example.com")
    result = cli("project", "label", folder, "--project-id", image_project, "--author", "alice@example.com")
    assert result.exit_code == 0, result.output
    assert result.output == f"Imported 2 DEFAULT label(s) by alice@example.com into project {image_project}.\n"
    assert client.labels(image_project, fields=LABEL_FIELDS) == [
        {
            "labelOf": {"externalId": external_id},
            "author": {"email": "alice@example.com"},
            "labelType": "DEFAULT",
            "modelName": None,
            "jsonResponse": response,
        }
        for external_id, response in responses.items()
    ]
    assert [row["status"] for row in client.assets(image_project, fields=["status"])] == ["LABELED", "LABELED"]


def test_label_types_predictions_and_csv(cli, client, image_project, labeled, tmp_path):
    folder, _responses = labeled
    result = cli("project", "label", folder / "a.json", "--project-id", image_project, "--label-type", "REVIEW")
    assert result.output == f"Imported 1 REVIEW label(s) into project {image_project}.\n"
    result = cli("project", "label", folder, "--project-id", image_project, "--prediction")
    assert result.exit_code == 1 and result.output == "Error: PREDICTION labels need a model_name.\n"
    result = cli("project", "label", folder, "--project-id", image_project, "--prediction", "--model-name", "yolo")
    assert result.output == f"Imported 2 PREDICTION label(s) into project {image_project}.\n"
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("external_id,json_response_path\nb,labels/a.json\n")
    result = cli("project", "label", "--from-csv", csv_path, "--project-id", image_project)
    assert result.output == f"Imported 1 DEFAULT label(s) into project {image_project}.\n"
    rows = client.labels(image_project, fields=["labelOf.externalId", "labelType", "author.email", "modelName"])
    assert rows == [
        {
            "labelOf": {"externalId": "a"},
            "author": {"email": "admin@example.com"},
            "labelType": "REVIEW",
            "modelName": None,
        },
        {
            "labelOf": {"externalId": "a"},
            "author": {"email": "admin@example.com"},
            "labelType": "PREDICTION",
            "modelName": "yolo",
        },
        {
            "labelOf": {"externalId": "b"},
            "author": {"email": "admin@example.com"},
            "labelType": "PREDICTION",
            "modelName": "yolo",
        },
        {
            "labelOf": {"externalId": "b"},
            "author": {"email": "admin@example.com"},
            "labelType": "DEFAULT",
            "modelName": None,
        },
    ]
    result = cli("project", "label", folder, "--project-id", image_project, "--prediction", "--label-type", "REVIEW")
    assert result.exit_code == 2
    assert (
        result.output
        == USAGE_LABEL + "Error: --prediction imports PREDICTION labels; it cannot go with --label-type REVIEW.\n"
    )


def test_label_errors_store_nothing(cli, client, image_project, labeled, tmp_path):
    folder, _responses = labeled
    broken = folder / "b.json"
    broken.write_text('{"JOB_0": {"annotations": [}\n')
    result = cli("project", "label", folder, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == f"Error: The label file {broken} is not valid JSON: line 1, column 28: Expecting value.\n"

    broken.write_text("[1, 2]")
    result = cli("project", "label", folder, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: The label file {broken} holds a JSON list; a jsonResponse is an object keyed by job, "
        'e.g. {"JOB_0": {"annotations": [...]}}.\n'
    )

    broken.write_text(json.dumps(boxes(box("NOPE", 0, 0, 1, 1))))
    result = cli("project", "label", folder, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        "Error: Asset 'b', job 'JOB_0', category 'NOPE': this category is not in the job; "
        "categories are: OBJECT_A, OBJECT_B.\n"
    )

    broken.unlink()
    (folder / "c.json").write_text("{}")
    result = cli("project", "label", folder, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: No asset with external id 'c' in project '{image_project}'; "
        f"check the external ids with `labelport asset list --project-id {image_project} --fields externalId`.\n"
    )

    result = cli("project", "label", folder / "a.json", "--project-id", image_project, "--author", "who@example.com")
    assert result.exit_code == 1
    assert result.output == (
        "Error: User 'who@example.com' does not exist in this store; add them to the project first: "
        f"labelport project member add who@example.com --project-id {image_project}\n"
    )

    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("external_id,json_response_path\na,labels/missing.json\n")
    result = cli("project", "label", "--from-csv", csv_path, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == f"Error: {csv_path}, line 2: the label file {folder / 'missing.json'} does not exist.\n"

    result = cli("project", "label", folder, "--project-id", "nope")
    assert result.exit_code == 1 and result.output.startswith("Error: Project 'nope' does not exist in this store")
    result = cli("project", "label", tmp_path / "nothing", "--project-id", image_project)
    assert result.exit_code == 2 and "is neither a file, a folder nor a pattern matching files." in result.output
    assert client.count_labels(image_project) == 0


def test_two_files_for_one_asset_are_an_error(cli, image_project, labeled, tmp_path):
    folder, _responses = labeled
    other = tmp_path / "more"
    other.mkdir()
    (other / "a.json").write_text("{}")
    result = cli("project", "label", folder, other, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: Two label files name the asset 'a': {folder / 'a.json'} and {other / 'a.json'}; keep one, "
        "or list them in a CSV with --from-csv.\n"
    )
