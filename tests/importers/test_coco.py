"""COCO import: a hand-written file (with pycocotools RLE masks), round trips, errors, existing projects."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import orjson
import pytest
from pycocotools import mask as coco_mask

from labelport import ValidationError
from labelport.importers import DatasetError
from tests.export import projects
from tests.factories import ImageFactory
from tests.importers import datasets

#: pycocotools 2.0 decodes through an ``__array__`` that numpy 2 warns about; not our code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def _response(client, project_id, external_id):
    rows = client.assets(
        project_id, fields=["latestLabel.jsonResponse"], external_id_strictly_in=[external_id], disable_tqdm=True
    )
    return rows[0]["latestLabel"]["jsonResponse"]["OBJECT_DETECTION_JOB"]["annotations"]


def _box(annotation):
    vertices = annotation["boundingPoly"][0]["normalizedVertices"]
    return [(v["x"], v["y"]) for v in vertices]


def test_hand_written_coco_file(client, tmp_path):
    path = datasets.write_coco(tmp_path / "coco")
    report = client.import_dataset(path, title="Streets")

    project = client.projects(project_id=report.project_id, fields=["title", "inputType", "jsonInterface"])[0]
    assert project["title"] == "Streets" and project["inputType"] == "IMAGE"
    job = project["jsonInterface"]["jobs"]["OBJECT_DETECTION_JOB"]
    assert job["mlTask"] == "OBJECT_DETECTION"
    assert job["tools"] == ["rectangle", "polygon", "semantic"]
    # categories in id order (car 1, person 3, road 7), not in the file's list order
    assert list(job["content"]["categories"]) == ["car", "person", "road"]
    assert job["content"]["categories"]["car"] == {"name": "car", "children": []}

    img_a = _response(client, report.project_id, "img_a.png")
    assert [(a["type"], a["categories"][0]["name"], a["mid"]) for a in img_a] == [
        ("rectangle", "car", "1"),
        ("polygon", "person", "2"),
        ("polygon", "road", "3"),
        ("rectangle", "car", "4"),
        ("semantic", "person", "5"),
        ("semantic", "person", "5"),
    ]
    # bbox [20, 10, 100, 50] on 200×100: Kili's corners, bottom-left first
    assert _box(img_a[0]) == [(0.1, 0.6), (0.1, 0.1), (0.6, 0.1), (0.6, 0.6)]
    assert _box(img_a[1]) == [(0.75, 0.2), (0.9, 0.2), (0.85, 0.9)]
    # the second polygon lies inside the first: a hole
    assert [[(v["x"], v["y"]) for v in ring["normalizedVertices"]] for ring in img_a[2]["boundingPoly"]] == [
        [(0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (0.0, 1.0)],
        [(0.1, 0.6), (0.2, 0.6), (0.2, 0.8), (0.1, 0.8)],
    ]
    # 4 corners of an axis-aligned box: a rectangle
    assert _box(img_a[3]) == [(0.6, 0.9), (0.6, 0.6), (0.8, 0.6), (0.8, 0.9)]
    # two disjoint polygons: two semantic parts of one object
    assert _box(img_a[4]) == [(0.0, 0.0), (0.05, 0.0), (0.05, 0.1)]
    assert _box(img_a[5]) == [(0.25, 0.2), (0.3, 0.2), (0.3, 0.3)]

    img_b = _response(client, report.project_id, "img_b.png")
    assert [(a["type"], a["categories"][0]["name"], a["mid"]) for a in img_b] == [
        ("semantic", "car", "6"),
        ("semantic", "person", "7"),
        ("semantic", "person", "7"),
    ]
    # the compressed ring mask: its outline and its hole, on pixel corners
    ring = [[(v["x"] * 64, v["y"] * 48) for v in poly["normalizedVertices"]] for poly in img_b[0]["boundingPoly"]]
    assert [[(round(x, 9), round(y, 9)) for x, y in r] for r in ring] == [
        [(2.0, 1.0), (10.0, 1.0), (10.0, 9.0), (2.0, 9.0)],
        [(4.0, 3.0), (4.0, 6.0), (7.0, 6.0), (7.0, 3.0)],
    ]
    negative = client.assets(
        report.project_id, fields=["latestLabel.jsonResponse", "status"], external_id_strictly_in=["neg.png"]
    )[0]
    assert negative == {"latestLabel": {"jsonResponse": {}}, "status": "LABELED"}

    assert (report.images_read, report.labels_read, report.assets_imported, report.labels_imported) == (3, 3, 3, 3)
    assert dict(report.annotations_read) == {"OBJECT_DETECTION_JOB": 7}
    assert report.categories == {"OBJECT_DETECTION_JOB": ["car", "person", "road"]}
    assert [(s.origin, s.external_id, s.job, s.reason) for s in report.skipped] == [
        (
            f"{path}, annotations[7] (id 8)",
            "img_b.png",
            "OBJECT_DETECTION_JOB",
            "box of zero width or height not imported",
        )
    ]
    assert report.notes == [
        "format detected: coco (from instances.json)",
        "2 annotation(s) made of several polygons became semantic parts sharing one mid "
        "(a labelport COCO export writes one annotation per part)",
        "2 RLE mask(s) became semantic regions tracing the mask's pixel edges exactly "
        "(holes kept, one part per connected region)",
        "iscrowd=1 not kept on 2 annotation(s) (labelport has no crowd flag)",
        "image fields not imported: license",
    ]
    assert report.created_project and report.detected and report.fmt == "coco"
    # the images were copied into the store, with their measured size
    stored = client.assets(report.project_id, fields=["externalId", "content", "resolution.width"])
    assert all(Path(row["content"]).is_relative_to(client.store.media_dir) for row in stored)
    assert [row["resolution"]["width"] for row in stored] == [200, 64, 32]


def _mask(annotation, height, width):
    segmentation = annotation["segmentation"]
    if isinstance(segmentation, list):
        rles = coco_mask.frPyObjects(segmentation, height, width)
        return coco_mask.decode(coco_mask.merge(rles))
    if isinstance(segmentation["counts"], str):  # compressed: pycocotools takes the bytes as they are
        return coco_mask.decode({"size": segmentation["size"], "counts": segmentation["counts"].encode()})
    return coco_mask.decode(coco_mask.frPyObjects(segmentation, height, width))


def test_round_trip_keeps_boxes_polygons_masks_and_category_order(client, tmp_path):
    path = datasets.write_coco(tmp_path / "coco")
    source = json.loads(path.read_text())
    report = client.import_dataset(path)
    client.export_labels(report.project_id, tmp_path / "out.zip", "coco", layout="merged", with_assets=True)
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        exported = json.loads(archive.read("labels.json"))
        assert archive.read("data/img_a.png") == (tmp_path / "coco" / "images" / "img_a.png").read_bytes()

    names = {c["id"]: c["name"] for c in exported["categories"]}
    assert [c["name"] for c in exported["categories"]] == [
        "OBJECT_DETECTION_JOB/car",
        "OBJECT_DETECTION_JOB/person",
        "OBJECT_DETECTION_JOB/road",
    ]
    sizes = {image["file_name"]: (image["width"], image["height"]) for image in exported["images"]}
    assert sizes == {"data/img_a.png": (200, 100), "data/img_b.png": (64, 48), "data/neg.png": (32, 32)}

    source_images = {image["id"]: image for image in source["images"]}
    source_names = {c["id"]: c["name"] for c in source["categories"]}
    exported_images = {image["id"]: image["file_name"] for image in exported["images"]}
    by_image: dict[str, list] = {}
    for annotation in exported["annotations"]:
        by_image.setdefault(exported_images[annotation["image_id"]], []).append(annotation)
    for original in source["annotations"]:
        if original["id"] in (5, 7, 8):  # several parts, or degenerate: checked below
            continue
        image = source_images[original["image_id"]]
        name = f"data/{image['file_name']}"
        match = by_image[name].pop(0)
        assert names[match["category_id"]] == f"OBJECT_DETECTION_JOB/{source_names[original['category_id']]}"
        assert match["bbox"] == pytest.approx(original["bbox"], abs=0.01)
        if isinstance(original["segmentation"], list) and len(original["segmentation"]) == 1:
            assert match["segmentation"][0] == pytest.approx(original["segmentation"][0], abs=0.01)
        if original["segmentation"]:
            height, width = image["height"], image["width"]
            expected = _mask(original, height, width)
            if original["id"] == 3:  # the inner polygon is a hole (Kili's convention), not more of the object
                outer, hole = ({"segmentation": [ring]} for ring in original["segmentation"])
                expected = _mask(outer, height, width) & (1 - _mask(hole, height, width))
            assert (_mask(match, height, width) == expected).all()
    # the two-part polygon and the two-region mask come back as one annotation per part, covering the same pixels
    parts = by_image["data/img_a.png"]
    assert [p["segmentation"] for p in parts] == [
        [[0.0, 0.0, 10.0, 0.0, 10.0, 10.0]],
        [[50.0, 20.0, 60.0, 20.0, 60.0, 30.0]],
    ]
    blobs = by_image["data/img_b.png"]
    union = np.maximum.reduce([_mask(p, 48, 64) for p in blobs])
    assert (union == datasets.two_blobs(48, 64)).all()
    assert [names[p["category_id"]] for p in blobs] == ["OBJECT_DETECTION_JOB/person"] * 2
    assert by_image.get("data/neg.png") is None


def test_labelport_coco_export_round_trips_with_its_jobs(client, tmp_path):
    """A labelport export (merged: ``JOB/KEY`` names; split: ``<JOB>/labels.json``) comes back with its jobs."""
    built = projects.build_image_project(client, tmp_path / "images")
    client.delete_many_from_dataset(external_ids=["remote_4"], project_id=built.project_id)  # a URL: not downloadable
    for layout, member in (("merged", "labels.json"), ("split", "REGIONS/labels.json")):
        first = tmp_path / f"{layout}.zip"
        client.export_labels(built.project_id, first, "coco", layout=layout)
        report = client.import_dataset(first)
        assert list(report.categories) == ["BOXES", "REGIONS", "MIXED"]
        assert report.categories["BOXES"] == ["CAR", "PERSON"]
        second = tmp_path / f"{layout}-again.zip"
        client.export_labels(report.project_id, second, "coco", layout=layout)
        with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
            before, after = orjson.loads(a.read(member)), orjson.loads(b.read(member))
        for key in ("categories", "images", "annotations"):
            assert after[key] == before[key], (layout, key)


def test_rle_masks_round_trip_exactly_through_pycocotools(client, tmp_path):
    """Random masks (with holes and several regions) encoded by pycocotools come back pixel for pixel."""
    rng = np.random.default_rng(7)
    ImageFactory(tmp_path).make("m.png", 40, 30)
    masks = [(rng.random((30, 40)) < p).astype(np.uint8) for p in (0.2, 0.5, 0.8)]
    annotations = []
    for index, mask in enumerate(masks, 1):
        encoded = coco_mask.encode(np.asfortranarray(mask))
        segmentation = {"size": encoded["size"], "counts": encoded["counts"].decode()}
        annotations.append(
            {"id": index, "image_id": 1, "category_id": 1, "segmentation": segmentation, "bbox": [0, 0, 1, 1]}
        )
    data = {
        "images": [{"id": 1, "file_name": "m.png", "width": 40, "height": 30}],
        "categories": [{"id": 1, "name": "blob"}],
        "annotations": annotations,
    }
    (tmp_path / "masks.json").write_text(json.dumps(data))
    report = client.import_dataset(tmp_path / "masks.json", "coco")
    client.export_labels(report.project_id, tmp_path / "out.zip", "coco", layout="merged", with_assets=False)
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        exported = json.loads(archive.read("labels.json"))["annotations"]
    mids = {}
    response = client.assets(report.project_id, fields=["latestLabel.jsonResponse"])[0]["latestLabel"]["jsonResponse"]
    for annotation in response["OBJECT_DETECTION_JOB"]["annotations"]:
        mids.setdefault(annotation["mid"], 0)
        mids[annotation["mid"]] += 1
    # each exported annotation is one part; the parts of one mask cover exactly its pixels
    start = 0
    for index, mask in enumerate(masks, 1):
        count = mids[str(index)]
        union = np.maximum.reduce([_mask(a, 30, 40) for a in exported[start : start + count]])
        assert (union == mask).all(), index
        start += count
    assert start == len(exported)


def test_images_found_by_url_when_not_in_the_input(client, tmp_path):
    data = {
        "images": [
            {"id": 1, "file_name": "x.jpg", "width": 640, "height": 480, "coco_url": "https://img.invalid/x.jpg"}
        ],
        "categories": [{"id": 1, "name": "dog"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [64, 48, 320, 240]}],
    }
    (tmp_path / "c.json").write_text(json.dumps(data))
    report = client.import_dataset(tmp_path / "c.json", job_name="ANIMALS")
    row = client.assets(report.project_id, fields=["externalId", "content", "resolution.width", "resolution.height"])
    assert row == [
        {"externalId": "x.jpg", "content": "https://img.invalid/x.jpg", "resolution": {"width": 640, "height": 480}}
    ]
    assert list(
        client.projects(project_id=report.project_id, fields=["jsonInterface"])[0]["jsonInterface"]["jobs"]
    ) == ["ANIMALS"]
    assert report.notes[-1] == "image fields not imported: coco_url"


def test_missing_image_is_an_error_or_skipped(client, tmp_path):
    ImageFactory(tmp_path).make("here.png", 10, 10)
    data = {
        "images": [{"id": 1, "file_name": "here.png"}, {"id": 2, "file_name": "gone.png", "width": 5, "height": 5}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}],
    }
    (tmp_path / "c.json").write_text(json.dumps(data))
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "c.json")
    assert str(error.value) == (
        f"{tmp_path / 'c.json'}, images[1]: image 'gone.png' not found next to the file, in the input; "
        "put the media in the input, give media_root=<folder with the media>, or missing_media='skip' "
        "to import the rest without these assets."
    )
    assert client.count_projects() == 0
    report = client.import_dataset(tmp_path / "c.json", missing_media="skip")
    assert [row["externalId"] for row in client.assets(report.project_id, fields=["externalId"])] == ["here.png"]
    assert [(s.external_id, s.reason) for s in report.skipped] == [
        ("gone.png", "image 'gone.png' not found (missing_media='skip')")
    ]
    # here.png had no width and height: they were measured
    assert client.assets(report.project_id, fields=["resolution.width"])[0] == {"resolution": {"width": 10}}


def test_media_root_and_files_found_by_name_in_a_zip(client, tmp_path):
    folder = tmp_path / "dataset"
    ImageFactory(folder / "val2017").make("000001.jpg", 20, 10)
    (folder / "annotations").mkdir()
    data = {
        "images": [{"id": 1, "file_name": "000001.jpg", "width": 20, "height": 10}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 1, 10, 5]}],
    }
    (folder / "annotations" / "instances_val2017.json").write_text(json.dumps(data))
    archive = datasets.zip_folder(folder, tmp_path / "coco.zip")
    report = client.import_dataset(archive)  # found by name in val2017/
    assert client.count_assets(report.project_id) == 1
    other = client.import_dataset(folder / "annotations" / "instances_val2017.json", media_root=folder / "val2017")
    assert client.assets(other.project_id, fields=["resolution.width"]) == [{"resolution": {"width": 20}}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["annotations"].append({"id": 9, "image_id": 1, "category_id": 5, "bbox": [0, 0, 1, 1]}),
            "annotations[1] (id 9): category_id 5 is not the id of a category of the file.",
        ),
        (
            lambda d: d["annotations"].append({"id": 9, "image_id": 4, "category_id": 1, "bbox": [0, 0, 1, 1]}),
            "annotations[1] (id 9): image_id 4 is not the id of an image of the file.",
        ),
        (
            lambda d: d["annotations"].append({"id": 9, "image_id": 1, "category_id": 1, "segmentation": [[1, 2, 3]]}),
            "annotations[1] (id 9), segmentation[0]: a polygon must be a flat list of x, y pixel coordinates "
            "(an even count of numbers), got [1, 2, 3].",
        ),
        (
            lambda d: d["annotations"].append(
                {"id": 9, "image_id": 1, "category_id": 1, "segmentation": {"size": [10, 20], "counts": [5, 5]}}
            ),
            "annotations[1] (id 9), segmentation: the RLE runs cover 10 pixels but the mask is 10×20 = 200.",
        ),
        (
            lambda d: d["annotations"].append(
                {"id": 9, "image_id": 1, "category_id": 1, "segmentation": {"size": [10, 20], "counts": "0~"}}
            ),
            "annotations[1] (id 9), segmentation: the compressed RLE 'counts' holds '~', which is not an RLE character.",
        ),
        (
            lambda d: d["images"][0].update(width=0),
            "images[0]: width and height must be positive whole numbers of pixels, got 0, 10.",
        ),
        (
            lambda d: d["categories"].append({"id": 1, "name": "b"}),
            "categories[1]: category ids must be present and unique, got 1.",
        ),
    ],
)
def test_broken_files_name_the_record(client, tmp_path, change, message):
    ImageFactory(tmp_path).make("a.png", 20, 10)
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": 20, "height": 10}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5]}],
    }
    change(data)
    (tmp_path / "c.json").write_text(json.dumps(data))
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "c.json", "coco")
    assert str(error.value) == f"{tmp_path / 'c.json'}, {message}"
    assert client.count_projects() == 0


def test_invalid_json_names_line_and_column(client, tmp_path):
    (tmp_path / "c.json").write_text('{"images": [\n  {"id": 1,\n   "file_name": "a.png" "width": 3}\n]}')
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "c.json", "coco")
    assert str(error.value) == (
        f"{tmp_path / 'c.json'}, line 3, column 25: not valid JSON (unexpected character, expected ',' or '}}')."
    )


def test_into_an_existing_project_maps_categories_by_key_or_name(client, tmp_path):
    interface = {
        "jobs": {
            "VEHICLES": {
                "mlTask": "OBJECT_DETECTION",
                "tools": ["rectangle", "polygon", "semantic"],
                "content": {
                    "input": "radio",
                    "categories": {"CAR": {"name": "car"}, "person": {"name": "Person"}, "road": {"name": "Road"}},
                },
            },
            "TAGS": {"mlTask": "CLASSIFICATION", "content": {"input": "radio", "categories": {"A": {"name": "A"}}}},
        }
    }
    project_id = client.create_project("Existing", "IMAGE", interface)["id"]
    path = datasets.write_coco(tmp_path / "coco")
    report = client.import_dataset(path, project_id=project_id)
    assert not report.created_project and report.project_id == project_id
    annotations = client.assets(project_id, fields=["latestLabel.jsonResponse"])[0]["latestLabel"]["jsonResponse"]
    assert [a["categories"][0]["name"] for a in annotations["VEHICLES"]["annotations"]] == [
        "CAR",
        "person",
        "road",
        "CAR",
        "person",
        "person",
    ]
    assert report.categories == {"OBJECT_DETECTION_JOB": ["car", "person", "road"]}
    # again: every image is already there
    with pytest.raises(DatasetError) as error:
        client.import_dataset(path, project_id=project_id)
    assert (
        str(error.value)
        == f"{path}: nothing to import: no asset in the dataset beyond the assets already in the project."
    )


def test_into_an_existing_project_names_what_is_missing(client, tmp_path):
    path = datasets.write_coco(tmp_path / "coco")
    interface = {
        "jobs": {
            "BOXES": {
                "mlTask": "OBJECT_DETECTION",
                "tools": ["rectangle", "polygon", "semantic"],
                "content": {"input": "radio", "categories": {"car": {"name": "car"}, "person": {"name": "person"}}},
            }
        }
    }
    project_id = client.create_project("Existing", "IMAGE", interface)["id"]
    with pytest.raises(DatasetError) as error:
        client.import_dataset(path, project_id=project_id)
    assert str(error.value) == (
        f"Category 'road' of the dataset is not in job 'BOXES' of project {project_id!r} "
        "(categories: car (car), person (person)); add it to the job or rename it in the dataset."
    )
    interface["jobs"]["BOXES"]["tools"] = ["rectangle"]
    interface["jobs"]["BOXES"]["content"]["categories"]["road"] = {"name": "road"}
    second = client.create_project("Boxes only", "IMAGE", interface)["id"]
    with pytest.raises(DatasetError) as error:
        client.import_dataset(path, project_id=second)
    assert str(error.value) == (
        f"Job 'BOXES' of project {second!r} has no 'polygon' tool, which the dataset's annotations need "
        "(its tools: rectangle); add the tool to the job."
    )
    text = client.create_project("Texts", "TEXT", projects.TEXT_INTERFACE)["id"]
    with pytest.raises(DatasetError) as error:
        client.import_dataset(path, project_id=text)
    assert str(error.value) == "coco holds images: the project's input type must be IMAGE, not TEXT."
    assert client.count_assets(project_id) == client.count_assets(second) == 0


def test_interface_for_a_new_project(client, tmp_path):
    path = datasets.write_coco(tmp_path / "coco")
    interface = {
        "jobs": {
            "JOB_0": {
                "mlTask": "OBJECT_DETECTION",
                "tools": ["semantic", "polygon", "rectangle"],
                "content": {
                    "input": "radio",
                    "categories": {"ROAD": {"name": "road"}, "CAR": {"name": "car"}, "PERSON": {"name": "person"}},
                },
            }
        }
    }
    report = client.import_dataset(path, interface=interface)
    stored = client.projects(project_id=report.project_id, fields=["jsonInterface"])[0]["jsonInterface"]
    assert stored == interface
    with pytest.raises(ValidationError) as error:
        client.import_dataset(path, project_id=report.project_id, interface=interface)
    assert str(error.value) == (
        f"interface is for a new project; project {report.project_id!r} has its own ontology "
        "(change it with update_properties_in_project(json_interface=...))."
    )
