"""YOLO import: hand-written and globox-written datasets, Ultralytics data.yaml, round trips, errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml
from globox import Annotation, AnnotationSet, BoundingBox

from labelport.importers import DatasetError
from tests.export import projects
from tests.factories import ImageFactory
from tests.golden import read_archive
from tests.importers import datasets


def _annotations(client, project_id, external_id):
    rows = client.assets(project_id, fields=["latestLabel.jsonResponse"], external_id_strictly_in=[external_id])
    label = rows[0]["latestLabel"]
    return None if label is None else label["jsonResponse"].get("OBJECT_DETECTION_JOB", {}).get("annotations", [])


def _points(annotation):
    return [(v["x"], v["y"]) for v in annotation["boundingPoly"][0]["normalizedVertices"]]


def _flat(points):
    return [value for point in points for value in point]


def test_hand_written_folder(client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")  # classes.txt with one name a line (Darknet)
    report = client.import_dataset(folder)
    assert report.fmt == "yolo_v4" and report.notes == ["format detected: yolo_v4 (from classes.txt, labels/a.txt)"]
    job = client.projects(project_id=report.project_id, fields=["jsonInterface"])[0]["jsonInterface"]["jobs"]
    assert list(job) == ["OBJECT_DETECTION_JOB"]
    assert job["OBJECT_DETECTION_JOB"]["tools"] == ["rectangle", "polygon"]
    assert list(job["OBJECT_DETECTION_JOB"]["content"]["categories"]) == ["car", "person"]

    a = _annotations(client, report.project_id, "a.png")
    assert [(x["type"], x["categories"][0]["name"]) for x in a] == [("rectangle", "car"), ("rectangle", "person")]
    assert _flat(_points(a[0])) == pytest.approx(_flat([(0.1, 0.6), (0.1, 0.1), (0.6, 0.1), (0.6, 0.6)]), abs=1e-12)
    assert _flat(_points(a[1])) == pytest.approx(_flat([(0.7, 0.7), (0.7, 0.3), (0.9, 0.3), (0.9, 0.7)]), abs=1e-12)
    b = _annotations(client, report.project_id, "b.jpg")
    assert [(x["type"], x["categories"][0]["name"]) for x in b] == [("polygon", "person"), ("rectangle", "car")]
    assert _points(b[0]) == [(0.1, 0.1), (0.5, 0.1), (0.3, 0.6)]
    # a segment row that is an axis-aligned box becomes a rectangle
    assert _points(b[1]) == [(0.2, 0.7), (0.2, 0.2), (0.6, 0.2), (0.6, 0.7)]
    # an empty label file is a negative example (an empty label); no label file, no label
    assert _annotations(client, report.project_id, "sub/c.png") == []
    assert _annotations(client, report.project_id, "unlabeled.png") is None
    statuses = {r["externalId"]: r["status"] for r in client.assets(report.project_id, fields=["externalId", "status"])}
    assert statuses == {"a.png": "LABELED", "b.jpg": "LABELED", "sub/c.png": "LABELED", "unlabeled.png": "TODO"}
    assert (report.images_read, report.labels_read, report.assets_imported, report.labels_imported) == (4, 3, 4, 3)
    assert dict(report.annotations_read) == {"OBJECT_DETECTION_JOB": 4}


@pytest.mark.parametrize(
    ("class_file", "text", "version"),
    [
        ("classes.txt", "0 car\n1 person\n", "yolo_v4"),
        ("data.yaml", "names:\n  0: car\n  1: person\n", "yolo_v5"),
        ("data.yaml", "nc: 2\nnames: [car, person]\n", "yolo_v8"),
    ],
)
def test_class_files(client, tmp_path, class_file, text, version):
    folder = datasets.write_yolo_folder(tmp_path / "yolo", class_file, text)
    report = client.import_dataset(datasets.zip_folder(folder, tmp_path / "yolo.zip"))
    assert report.fmt == version
    assert report.categories == {"OBJECT_DETECTION_JOB": ["car", "person"]}


def _globox_dataset(folder: Path) -> AnnotationSet:
    """Boxes only, written by globox in YOLO v5 (normalized cx cy w h) next to real images."""
    factory = ImageFactory(folder / "images")
    annotations = [
        Annotation(
            "cars.png",
            (200, 100),
            [
                BoundingBox(label="car", xmin=20, ymin=10, xmax=120, ymax=60),
                BoundingBox(label="truck", xmin=150.5, ymin=20, xmax=180, ymax=90),
            ],
        ),
        Annotation("street.png", (320, 240), [BoundingBox(label="person", xmin=3, ymin=4, xmax=50, ymax=200)]),
        Annotation("empty.png", (16, 16), []),
    ]
    for annotation in annotations:
        factory.make(annotation.image_id, *annotation.image_size)
    dataset = AnnotationSet(annotations)
    (folder / "labels").mkdir()
    dataset.save_yolo_v5(folder / "labels", label_to_id={"car": 0, "person": 1, "truck": 2})
    (folder / "data.yaml").write_text("names:\n- car\n- person\n- truck\n")
    return dataset


def _rows(text: str) -> list[tuple[int, list[float]]]:
    return [(int(line.split()[0]), [float(v) for v in line.split()[1:]]) for line in text.splitlines() if line.strip()]


def test_round_trip_of_a_globox_dataset(client, tmp_path):
    _globox_dataset(tmp_path / "yolo")
    report = client.import_dataset(tmp_path / "yolo", "yolo_v5")
    assert report.categories == {"OBJECT_DETECTION_JOB": ["car", "person", "truck"]}
    client.export_labels(report.project_id, tmp_path / "out.zip", "yolo_v8", layout="split")
    members = read_archive(tmp_path / "out.zip")
    assert yaml.safe_load(members["OBJECT_DETECTION_JOB/data.yaml"]) == {
        "path": "",
        "train": "images",
        "val": "images",
        "nc": 3,
        "names": ["car", "person", "truck"],
    }
    for name in ("cars", "street", "empty"):
        source = _rows((tmp_path / "yolo" / "labels" / f"{name}.txt").read_text())
        exported = _rows(members[f"OBJECT_DETECTION_JOB/labels/{name}.txt"].decode())
        assert [cls for cls, _ in exported] == [cls for cls, _ in source]
        for (_, values), (_, expected) in zip(exported, source, strict=True):
            assert values == pytest.approx(expected, abs=1e-6)
    # globox reads the export back with the same boxes (1 px)
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        archive.extractall(tmp_path / "out")
    again = AnnotationSet.from_yolo_v5(
        tmp_path / "out" / "OBJECT_DETECTION_JOB" / "labels",
        image_folder=tmp_path / "out" / "OBJECT_DETECTION_JOB" / "images",
        image_extension=".png",
    )
    original = AnnotationSet.from_yolo_v5(
        tmp_path / "yolo" / "labels", image_folder=tmp_path / "yolo" / "images", image_extension=".png"
    )
    for annotation in original:
        boxes = sorted((b.label, b.ltrb) for b in annotation.boxes)
        back = sorted((b.label, b.ltrb) for b in again[annotation.image_id].boxes)
        assert [label for label, _ in back] == [label for label, _ in boxes]
        for (_, got), (_, want) in zip(back, boxes, strict=True):
            assert got == pytest.approx(want, abs=1.0)


def test_round_trip_of_segments(client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    (folder / "labels" / "a.txt").write_text("1 0.1 0.2 0.3 0.25 0.2 0.5 0.05 0.4\n0 0.5 0.5 0.9 0.5 0.7 0.95\n")
    (folder / "labels" / "b.txt").write_text("0 0.123456 0.2 0.5 0.234567 0.3 0.6\n")
    report = client.import_dataset(folder)
    # yolo_v8: yolo_v4 (Darknet) writes regions as their boxes
    client.export_labels(report.project_id, tmp_path / "out.zip", "yolo_v8", layout="merged", with_assets=False)
    members = read_archive(tmp_path / "out.zip")
    assert members["data.yaml"] == b"nc: 2\nnames:\n- OBJECT_DETECTION_JOB/car\n- OBJECT_DETECTION_JOB/person\n"
    for name in ("a", "b"):
        exported = _rows(members[f"labels/{name}.txt"].decode())
        source = _rows((folder / "labels" / f"{name}.txt").read_text())
        assert [c for c, _ in exported] == [c for c, _ in source]
        for (_, values), (_, expected) in zip(exported, source, strict=True):
            assert values == pytest.approx(expected, abs=1e-6)


def test_labelport_yolo_export_without_media_round_trips_byte_for_byte(client, tmp_path):
    """``images/remote_assets.csv`` gives the external ids and where each image is."""
    built = projects.build_image_project(client, tmp_path / "images")
    for fmt, layout in (("yolo_v5", "merged"), ("yolo_v8", "split")):
        first = tmp_path / f"{fmt}.zip"
        client.export_labels(built.project_id, first, fmt, layout=layout, with_assets=False)
        report = client.import_dataset(first)
        assert report.fmt == fmt
        assert list(report.categories) == ["BOXES", "REGIONS", "MIXED"]
        second = tmp_path / f"{fmt}-again.zip"
        client.export_labels(report.project_id, second, fmt, layout=layout, with_assets=False)
        before, after = read_archive(first), read_archive(second)
        assert sorted(after) == sorted(before)
        assert {n: d for n, d in after.items() if n != "README.kili.txt"} == {
            n: d for n, d in before.items() if n != "README.kili.txt"
        }
        assert client.assets(report.project_id, fields=["externalId", "content"])[-1] == {
            "externalId": "remote_4",
            "content": "https://images.invalid/remote_4.jpg",
        }


def test_ultralytics_data_yaml_with_splits(client, tmp_path):
    root = tmp_path / "coco8"
    for split, names in (("train", ["t1.jpg", "t2.jpg"]), ("val", ["v1.jpg"])):
        ImageFactory(root / "images" / split).make(names[0], 40, 20)
        for name in names[1:]:
            ImageFactory(root / "images" / split).make(name, 40, 20)
        (root / "labels" / split).mkdir(parents=True)
    (root / "labels" / "train" / "t1.txt").write_text("0 0.5 0.5 0.5 0.5 0.4 0.4 2 0.6 0.6 2\n")
    (root / "labels" / "val" / "v1.txt").write_text("1 0.25 0.25 0.5 0.5 0 0 0 0 0 0\n")
    (root / "labels" / "val" / "orphan.txt").write_text("1 0.25 0.25 0.5 0.5 0 0 0 0 0 0\n")
    (root / "data.yaml").write_text(
        "path: ../elsewhere/coco8  # as Ultralytics writes it\ntrain: images/train\nval: images/val\ntest:\n"
        "kpt_shape: [2, 3]\nnames:\n  0: person\n  1: dog\n"
    )
    report = client.import_dataset(root / "data.yaml")
    assert report.fmt == "yolo_v5"
    rows = client.assets(report.project_id, fields=["externalId", "latestLabel.jsonResponse"])
    assert [row["externalId"] for row in rows] == ["train/t1.jpg", "train/t2.jpg", "val/v1.jpg"]
    assert rows[1]["latestLabel"] is None
    annotation = rows[2]["latestLabel"]["jsonResponse"]["OBJECT_DETECTION_JOB"]["annotations"][0]
    assert annotation["categories"] == [{"name": "dog"}]
    assert _points(annotation) == [(0.0, 0.5), (0.0, 0.0), (0.5, 0.0), (0.5, 0.5)]
    assert report.notes == [
        "format detected: yolo_v5 (from data.yaml)",
        f"{root / 'data.yaml'}: path '../elsewhere/coco8' is not a folder here; train/val/test were read from "
        "the YAML's folder",
        "keypoints not imported on 2 row(s); their boxes are",
    ]
    assert [(s.origin, s.external_id, s.reason) for s in report.skipped] == [
        (f"{root}/labels/val/orphan.txt", "orphan", "label file of no image of train/val/test: not imported")
    ]


@pytest.mark.parametrize("val", ["images", "./images/", "absolute", "list"])
def test_train_and_val_on_the_same_images_import_each_file_once(client, tmp_path, val):
    """A tiny dataset whose val is its train folder (by another spelling, or a list of the same files): each image
    and label file is read once, so no annotation is doubled."""
    root = tmp_path / "tiny"
    ImageFactory(root / "images").make("a.png", 40, 20)
    ImageFactory(root / "images" / "sub").make("b.jpg", 30, 30)
    (root / "labels" / "sub").mkdir(parents=True)
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n1 0.25 0.25 0.1 0.1\n")
    (root / "labels" / "sub" / "b.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    if val == "absolute":
        val = str(root / "images")
    elif val == "list":
        (root / "val.txt").write_text("images/sub/b.jpg\n./images/a.png\n")
        val = "val.txt"
    (root / "data.yaml").write_text(f"path: ''\ntrain: images\nval: {val}\nnames: [car, person]\n")
    report = client.import_dataset(root / "data.yaml")
    rows = client.assets(report.project_id, fields=["externalId", "latestLabel.jsonResponse"])
    assert [row["externalId"] for row in rows] == ["a.png", "sub/b.jpg"]
    found = [
        [a["categories"][0]["name"] for a in row["latestLabel"]["jsonResponse"]["OBJECT_DETECTION_JOB"]["annotations"]]
        for row in rows
    ]
    assert found == [["car", "person"], ["person"]]
    assert (report.images_read, report.labels_read, report.assets_imported, report.labels_imported) == (2, 2, 2, 2)
    assert dict(report.annotations_read) == {"OBJECT_DETECTION_JOB": 3}
    assert report.notes[1:] == [
        f"{root / 'data.yaml'}: 2 images are listed in more than one of train, val and test; each image and its "
        "label file were imported once"
    ]


def test_labelport_yolo_export_with_media_and_no_split_round_trips(client, tmp_path):
    """Its data.yaml points train and val at the one image set (docs/export/yolo.md): imported once."""
    built = projects.build_image_project(client, tmp_path / "images")
    first = tmp_path / "first.zip"
    client.export_labels(built.project_id, first, "yolo_v8", layout="merged", disable_tqdm=True)
    report = client.import_dataset(first)
    second = tmp_path / "second.zip"
    client.export_labels(report.project_id, second, "yolo_v8", layout="merged", disable_tqdm=True)
    before, after = read_archive(first), read_archive(second)
    labels = ["labels/folder/img_3.txt", "labels/img_1.txt", "labels/img_2.txt"]  # the images in the archive
    assert {name: after[name] for name in labels} == {name: before[name] for name in labels}


def test_merged_names_give_one_job_each(client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo", "classes.txt", "0 BOXES/CAR\n1 SHAPES/BLOB\n")
    report = client.import_dataset(folder)
    interface = client.projects(project_id=report.project_id, fields=["jsonInterface"])[0]["jsonInterface"]
    assert {name: list(job["content"]["categories"]) for name, job in interface["jobs"].items()} == {
        "BOXES": ["CAR"],
        "SHAPES": ["BLOB"],
    }
    response = client.assets(report.project_id, fields=["latestLabel.jsonResponse"], external_id_strictly_in=["b.jpg"])
    assert list(response[0]["latestLabel"]["jsonResponse"]) == ["SHAPES", "BOXES"]


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "labels/a.txt",
            "0 0.5 0.5 0.2\n",
            "labels/a.txt, line 1: a row holds a class and 4 values (a box) or an even number of at least 6 (a polygon); got 3 values.",
        ),
        (
            "labels/a.txt",
            "\n0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n",
            "labels/a.txt, line 3: the class '7' is not a class id of {root}/classes.txt (0 … 1).",
        ),
        (
            "labels/a.txt",
            "1 0.5 x 0.2 0.2\n",
            "labels/a.txt, line 1: the values must be numbers, got '1 0.5 x 0.2 0.2'.",
        ),
        (
            "labels/a.txt",
            "1 0.5 0.5 -0.2 0.2\n",
            "labels/a.txt, line 1: a box's width and height cannot be negative, got '1 0.5 0.5 -0.2 0.2'.",
        ),
    ],
)
def test_broken_rows_name_file_and_line(client, tmp_path, file, text, message):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    (folder / file).write_text(text)
    with pytest.raises(DatasetError) as error:
        client.import_dataset(folder)
    assert str(error.value) == f"{folder}/" + message.format(root=folder)
    assert client.count_projects() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nc: 3\nnames: [a, b]\n", "data.yaml, line 1: nc is 3 but 'names' has 2 names."),
        ("train: x\nnames:\n  0: a\n  2: b\n", "data.yaml, line 2: 'names' ids must be 0, 1, … n-1, got [0, 2]."),
        ("names: [a, b\n", "data.yaml, line 2: not valid YAML (expected ',' or ']', but got '<stream end>')."),
        (
            "names: [a, b]\ntrain: images/nowhere\n",
            "data.yaml, line 2: 'images/nowhere' is neither a folder of images nor a .txt list of images (from {root}).",
        ),
    ],
)
def test_broken_data_yaml_names_the_line(client, tmp_path, text, message):
    folder = datasets.write_yolo_folder(tmp_path / "yolo", "data.yaml", text)
    with pytest.raises(DatasetError) as error:
        client.import_dataset(folder, "yolo_v8")
    assert str(error.value) == f"{folder}/" + message.format(root=folder)


def test_zero_size_box_is_reported_and_missing_image_is_an_error(client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    (folder / "labels" / "a.txt").write_text("0 0.5 0.5 0 0.2\n1 0.5 0.5 0.2 0.2\n")
    report = client.import_dataset(folder)
    assert [(s.origin, s.external_id, s.reason) for s in report.skipped] == [
        (f"{folder}/labels/a.txt, line 1", "a.png", "box of zero width or height not imported")
    ]
    assert [s.job for s in report.skipped] == ["OBJECT_DETECTION_JOB"]
    (folder / "labels" / "ghost.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(DatasetError) as error:
        client.import_dataset(folder)
    assert str(error.value) == (
        f"{folder}/labels/ghost.txt: image 'ghost' not found next to the file, in the input; put the media in the "
        "input, give media_root=<folder with the media>, or missing_media='skip' to import the rest without these assets."
    )
    ImageFactory(tmp_path / "elsewhere").make("ghost.webp", 8, 8)
    found = client.import_dataset(folder, media_root=tmp_path / "elsewhere")
    assert "ghost.webp" in [row["externalId"] for row in client.assets(found.project_id, fields=["externalId"])]


def test_no_class_file_is_an_error(client, tmp_path):
    folder = datasets.write_yolo_folder(tmp_path / "yolo")
    (folder / "classes.txt").unlink()
    with pytest.raises(DatasetError) as error:
        client.import_dataset(folder, "yolo_v8")
    assert str(error.value) == (
        f"{folder}: no YOLO class file (classes.txt, or a YAML file with 'names') found; YOLO rows hold class ids, "
        "so the class names are needed."
    )
