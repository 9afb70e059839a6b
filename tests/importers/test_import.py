"""What every import shares: format detection, arguments, the input (zip, folder, file), the report."""

from __future__ import annotations

import json
import zipfile

import pytest

from labelport import NotFound, ValidationError
from labelport.importers import DatasetError, detect_format, formats
from tests.export import projects
from tests.factories import ImageFactory
from tests.importers import datasets


def test_formats():
    assert formats.names() == ["coco", "kili", "pascal_voc", "raw", "yolo_v4", "yolo_v5", "yolo_v7", "yolo_v8"]
    with pytest.raises(DatasetError) as error:
        formats.get("csv")
    assert str(error.value) == (
        "Unknown import format 'csv'; formats: coco, kili, pascal_voc, raw, yolo_v4, yolo_v5, yolo_v7, yolo_v8."
    )


def test_detection(tmp_path):
    coco = datasets.write_coco(tmp_path / "coco")
    assert detect_format(coco) == "coco"
    assert detect_format(tmp_path / "coco") == "coco"
    yolo = datasets.write_yolo_folder(tmp_path / "yolo", "data.yaml", "names: [a, b]\n")
    assert detect_format(yolo) == "yolo_v8"
    assert detect_format(yolo / "data.yaml") == "yolo_v8"
    (tmp_path / "voc").mkdir()
    (tmp_path / "voc" / "x.xml").write_text(datasets.voc_xml("x.png", (4, 4), []))
    assert detect_format(tmp_path / "voc") == "pascal_voc"
    (tmp_path / "kili" / "labels").mkdir(parents=True)
    (tmp_path / "kili" / "labels" / "a.json").write_text('{"externalId": "a", "content": ""}')
    assert detect_format(tmp_path / "kili") == "kili"
    (tmp_path / "assets.json").write_text('[{"externalId": "a"}]')
    assert detect_format(tmp_path / "assets.json") == "kili"


def test_ambiguous_and_unknown_inputs(tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "both")
    (folder / "labels" / "extra.json").write_text('{"externalId": "a", "content": ""}')
    with pytest.raises(DatasetError) as error:
        detect_format(folder)
    assert str(error.value) == (
        f"{folder}: ambiguous input, it looks like kili (labels/extra.json); yolo_v4 (classes.txt, labels/a.txt); "
        "pass fmt=<the right one>."
    )
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("nothing")
    with pytest.raises(DatasetError) as error:
        detect_format(tmp_path / "empty")
    assert str(error.value) == (
        f"{tmp_path / 'empty'}: no known dataset format found (looked for Kili labels/*.json or data.json, a COCO "
        "JSON file, YOLO labels/*.txt with classes.txt or data.yaml, Pascal VOC *.xml); pass fmt=<one of coco, kili, "
        "pascal_voc, raw, yolo_v4, yolo_v5, yolo_v7, yolo_v8>."
    )
    with pytest.raises(DatasetError) as error:
        detect_format(tmp_path / "nowhere")
    assert str(error.value) == (
        f"{tmp_path / 'nowhere'}: no such file or folder; give the export archive, its folder or the file."
    )


def test_the_readme_of_an_export_says_the_format(client, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    client.export_labels(built.project_id, tmp_path / "k.zip", "kili", with_assets=False)
    assert detect_format(tmp_path / "k.zip") == "kili"
    report = client.import_dataset(tmp_path / "k.zip", interface=projects.IMAGE_INTERFACE)
    assert report.notes[0] == "format detected: kili (from README.kili.txt says 'kili')"


def test_argument_errors(client, tmp_path):
    path = datasets.write_coco(tmp_path / "coco")
    cases = [
        (
            dict(project_id="p", title="t"),
            "Give project_id (to add the dataset to that project) or title and description (for a new project), not both.",
        ),
        (dict(missing_media="ignore"), "missing_media must be 'error' or 'skip', not 'ignore'."),
        (dict(label_type="PREDICTION"), "label_type='PREDICTION' needs a model_name."),
        (
            dict(label_type="GUESS"),
            "label_type 'GUESS' is not valid; use one of: AUTOSAVE, DEFAULT, INFERENCE, PREDICTION, REVIEW.",
        ),
        (dict(job_name=" "), "job_name must be a non-empty job name, not ' '."),
        (dict(input_type="AUDIO"), "input_type 'AUDIO' is not valid; use one of: IMAGE, GEOSPATIAL, PDF, TEXT, VIDEO."),
        (
            dict(interface={"tasks": {}}),
            "interface: no 'jobs' (a jsonInterface) nor 'jsonInterface' (a project) in the ontology.",
        ),
        (dict(input_type="TEXT"), "coco holds images: the project's input type must be IMAGE, not TEXT."),
    ]
    for arguments, message in cases:
        with pytest.raises(ValidationError) as error:
            client.import_dataset(path, **arguments)
        assert str(error.value) == message, arguments
    with pytest.raises(NotFound) as error:
        client.import_dataset(path, project_id="0" * 32)
    assert str(error.value).startswith(f"Project {'0' * 32!r} does not exist in this store")
    (tmp_path / "bad.json").write_text("{\n  jobs: 1}")
    with pytest.raises(DatasetError) as error:
        client.import_dataset(path, interface=tmp_path / "bad.json")
    assert (
        str(error.value)
        == f"{tmp_path / 'bad.json'}, line 2: not valid JSON (unexpected character, expected a string key)."
    )
    assert client.count_projects() == 0


def test_predictions_with_a_model_name(client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    report = client.import_dataset(folder, label_type="PREDICTION", model_name="yolov8n")
    rows = client.labels(report.project_id, fields=["labelType", "modelName", "author.email"])
    assert rows == [{"labelType": "PREDICTION", "modelName": "yolov8n", "author": {"email": "admin@example.com"}}] * 3
    statuses = {row["status"] for row in client.assets(report.project_id, fields=["status"])}
    assert statuses == {"TODO"}


def test_a_zip_member_leaving_the_archive_is_refused(client, tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("labels/a.json", "{}")
        archive.writestr("../../escape.txt", "x")
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "evil.zip", "kili")
    assert str(error.value) == (
        f"{tmp_path / 'evil.zip'}:../../escape.txt: the member's path leaves the archive; refusing to extract it."
    )
    assert not (tmp_path.parent / "escape.txt").exists()


def test_report_text_and_dict(client, tmp_path):
    ImageFactory(tmp_path).make("a.png", 20, 10)
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 10}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 0, 4]},
        ],
    }
    (tmp_path / "c.json").write_text(json.dumps(data))
    report = client.import_dataset(tmp_path / "c.json", title="Small")
    assert str(report) == "\n".join(
        [
            f"Imported {tmp_path / 'c.json'} (coco, format detected) into a new project {report.project_id}",
            "  images read: 1, labels read: 1",
            "  assets imported: 1, labels imported: 1",
            "  annotations read, OBJECT_DETECTION_JOB: 1",
            "  categories, OBJECT_DETECTION_JOB: a",
            "  not imported: 1",
            "    1 × box of zero width or height not imported",
            f"      {tmp_path / 'c.json'}, annotations[1] (id 2) (asset 'a.png', job OBJECT_DETECTION_JOB): "
            "box of zero width or height not imported",
            "  note: format detected: coco (from c.json)",
        ]
    )
    assert report.as_dict() == {
        "format": "coco",
        "path": str(tmp_path / "c.json"),
        "detected": True,
        "project_id": report.project_id,
        "created_project": True,
        "images_read": 1,
        "labels_read": 1,
        "annotations_read": {"OBJECT_DETECTION_JOB": 1},
        "categories": {"OBJECT_DETECTION_JOB": ["a"]},
        "assets_imported": 1,
        "labels_imported": 1,
        "users_created": [],
        "skipped": [
            {
                "origin": f"{tmp_path / 'c.json'}, annotations[1] (id 2)",
                "external_id": "a.png",
                "job": "OBJECT_DETECTION_JOB",
                "reason": "box of zero width or height not imported",
            }
        ],
        "notes": ["format detected: coco (from c.json)"],
    }
