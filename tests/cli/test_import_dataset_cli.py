"""``labelport project import-dataset``: the command maps onto Client.import_dataset and prints its report."""

from __future__ import annotations

from tests.importers import datasets

USAGE = "Usage: labelport project import-dataset [OPTIONS]\nTry 'labelport project import-dataset --help' for help.\n\n"


def test_yolo_folder_into_a_new_project(cli, client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    result = cli("project", "import-dataset", "--input", folder, "--title", "Cars", "--job-name", "DETECTION")
    assert result.exit_code == 0, result.output
    projects = client.projects(fields=["id", "title", "jsonInterface"])
    assert [p["title"] for p in projects] == ["Cars"]
    project_id = projects[0]["id"]
    assert list(projects[0]["jsonInterface"]["jobs"]["DETECTION"]["content"]["categories"]) == ["car", "person"]
    assert result.output == (
        f"Imported {folder} (yolo_v4, format detected) into a new project {project_id}\n"
        "  images read: 4, labels read: 3\n"
        "  assets imported: 4, labels imported: 3\n"
        "  annotations read, DETECTION: 4\n"
        "  categories, DETECTION: car, person\n"
        "  note: format detected: yolo_v4 (from classes.txt, labels/a.txt)\n"
    )
    rows = client.assets(project_id, fields=["externalId", "status"])
    assert [(row["externalId"], row["status"]) for row in rows] == [
        ("a.png", "LABELED"),
        ("b.jpg", "LABELED"),
        ("sub/c.png", "LABELED"),
        ("unlabeled.png", "TODO"),
    ]


def test_into_an_existing_project_with_a_given_format_and_label_type(cli, client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    categories = {"car": {"name": "Car", "children": []}, "person": {"name": "Person", "children": []}}
    job = {"mlTask": "OBJECT_DETECTION", "tools": ["rectangle", "polygon"], "content": {"categories": categories}}
    project_id = client.create_project("Existing", "IMAGE", {"jobs": {"BOXES": job}})["id"]
    result = cli(
        "project", "import-dataset", "--input", folder, "--format", "yolo_v5", "--project-id", project_id,
        "--job-name", "BOXES", "--label-type", "PREDICTION", "--model-name", "yolo-n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"Imported {folder} (yolo_v5, format given) into project {project_id}"
    labels = client.labels(project_id, fields=["labelType", "modelName"])
    assert labels == [{"labelType": "PREDICTION", "modelName": "yolo-n"}] * 3


def test_errors_name_the_problem_and_store_nothing(cli, client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    both = cli("project", "import-dataset", "--input", folder, "--title", "T", "--project-id", "x")
    assert both.exit_code == 2
    assert both.output == USAGE + (
        "Error: --title names a new project: give --project-id ID or --title TITLE, not both.\n"
    )
    (folder / "labels" / "a.txt").write_text("0 0.35 0.35 0.5\n")
    broken = cli("project", "import-dataset", "--input", folder, "--title", "Broken")
    assert broken.exit_code == 1
    assert broken.output.startswith("Error: ")
    assert "a.txt" in broken.output and "line 1" in broken.output
    assert client.projects(fields=["id"]) == []


def test_a_kili_export_round_trips_through_the_cli(cli, client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    assert cli("project", "import-dataset", "--input", folder, "--title", "Cars").exit_code == 0
    project_id = client.projects(fields=["id"])[0]["id"]
    archive = tmp_path / "kili.zip"
    exported = cli("project", "export", "--project-id", project_id, "--output-format", "kili", "--output-file", archive)
    assert exported.exit_code == 0, exported.output
    result = cli("project", "import-dataset", "--input", archive)  # format, title and ontology from the archive
    assert result.exit_code == 0, result.output
    assert "(kili, format detected) into a new project" in result.output.splitlines()[0]
    projects = client.projects(fields=["id", "title"])
    assert [p["title"] for p in projects] == ["Cars", "Cars"]
    fields = ["externalId", "status", "latestLabel.jsonResponse"]
    original, copied = (client.assets(p["id"], fields=fields) for p in projects)
    assert copied == [row for row in original if row["latestLabel"] is not None]  # exports hold labeled assets
    assert [row["externalId"] for row in copied] == ["a.png", "b.jpg", "sub/c.png"]


def test_an_empty_folder_says_which_option_to_pass(cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("project", "import-dataset", "--input", empty, "--title", "Nothing")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {empty}: no known dataset format found (looked for Kili labels/*.json or data.json, a COCO JSON "
        "file, YOLO labels/*.txt with classes.txt or data.yaml, Pascal VOC *.xml); pass --format <one of coco, "
        "kili, pascal_voc, raw, yolo_v4, yolo_v5, yolo_v7, yolo_v8>.\n"
    )


def test_the_format_is_read_in_any_case(cli, client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    result = cli("project", "import-dataset", "--input", folder, "--title", "Cars", "--format", "YOLO_V4")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Imported {folder} (yolo_v4, format given) into a new project ")
