"""``dataset_layout="standard"``: COCO, Pascal VOC and YOLO archives in the layouts that datumaro (and so CVAT and
FiftyOne) import unedited, checked by importing them with datumaro: items, subsets, annotations, a box in pixels."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from datumaro.components.annotation import AnnotationType
from datumaro.components.dataset import Dataset
from datumaro.plugins.data_formats.yolo.importer import YoloImporter

from labelport.cli import main
from labelport.errors import IncompatibleFormatError, ValidationError
from labelport.export.split import parse_split
from tests.export.yolo_voc_helpers import shape, vertices
from tests.factories import ImageFactory, rect
from tests.golden import read_archive

INTERFACE: dict[str, Any] = {
    "jobs": {
        "OBJECTS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Objects",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"CAR": {"name": "Car"}, "PERSON": {"name": "Person"}}},
        },
        "AREAS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["polygon"],
            "instruction": "Areas",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"ROAD": {"name": "Road"}}},
        },
    }
}
#: (external id, width, height, label or None); the empty label is a negative, the last asset is not labeled.
ASSETS: list[tuple[str, int, int, dict[str, Any] | None]] = [
    (
        "a.png",
        200,
        100,
        {
            "OBJECTS": {
                "annotations": [
                    shape("rectangle", "CAR", rect(0.1, 0.2, 0.5, 0.6)),
                    shape("rectangle", "PERSON", rect(0.6, 0.1, 0.7, 0.9)),
                ]
            },
            "AREAS": {"annotations": [shape("polygon", "ROAD", vertices((0.0, 1.0), (0.5, 0.7), (1.0, 1.0)))]},
        },
    ),
    ("cam1/b.jpg", 80, 160, {"OBJECTS": {"annotations": [shape("rectangle", "PERSON", rect(0.1, 0.7, 0.5, 0.9))]}}),
    ("night shot.png", 64, 64, {}),
    ("c.png", 40, 30, None),
]
#: Each exported item's boxes in pixels (x, y, width, height), by label, as datumaro gives them.
BOXES = {
    "a": {("CAR", (20, 20, 80, 40)), ("PERSON", (120, 10, 20, 80)), ("ROAD", (0, 70, 200, 30))},
    "cam1/b": {("PERSON", (8, 112, 32, 32))},
    "night_shot": set(),
}
MERGED = {"CAR": "OBJECTS/CAR", "PERSON": "OBJECTS/PERSON", "ROAD": "AREAS/ROAD"}
HALVES = {"train": 0.5, "val": 0.5}


@pytest.fixture
def project(client, tmp_path):
    project_id = client.create_project("Street", "IMAGE", INTERFACE)["id"]
    paths = [
        ImageFactory(tmp_path / "source" / str(i)).make(Path(external_id).name, width, height)
        for i, (external_id, width, height, _) in enumerate(ASSETS)
    ]
    client.append_many_to_dataset(
        project_id, content_array=[str(p) for p in paths], external_id_array=[a[0] for a in ASSETS]
    )
    labeled = [(external_id, response) for external_id, _, _, response in ASSETS if response is not None]
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=[external_id for external_id, _ in labeled],
        json_response_array=[response for _, response in labeled],
    )
    return project_id


def export(client, project_id, path, fmt, **options):
    return client.export_labels(project_id, path, fmt, dataset_layout="standard", disable_tqdm=True, **options)


def extract(archive: Path, folder: Path) -> Path:
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    return folder


def subsets_of(split: dict[str, float] | None) -> dict[str, str]:
    """Each exported item's subset: ``default`` without a split, else the split its hash gives."""
    plan = parse_split(split, 0) if split else None
    ids = {"a": "a.png", "cam1/b": "cam1/b.jpg", "night_shot": "night shot.png"}
    return {item: plan.by_hash(external_id) if plan else "default" for item, external_id in ids.items()}


def read_back(dataset: Dataset, names: dict[str, str], flat: bool = False) -> dict[str, Any]:
    """items by id: (subset, {(label, box)}); ``names``: our label name → the dataset's."""
    labels = dataset.categories()[AnnotationType.label]
    back = {label: ours for ours, label in names.items()}
    found = {}
    for item in dataset:
        boxes = set()
        for annotation in item.annotations:
            x, y, w, h = annotation.get_bbox()
            boxes.add((back[labels[annotation.label].name], tuple(round(v, 2) for v in (x, y, w, h))))
        found[item.id] = (item.subset, boxes)
    return found


def expected(split: dict[str, float] | None, flat: bool = False) -> dict[str, Any]:
    subsets = subsets_of(split)
    return {
        (item.replace("/", "_") if flat else item): (
            subsets[item],
            {(label, tuple(float(v) for v in box)) for label, box in boxes},
        )
        for item, boxes in BOXES.items()
    }


# -- COCO ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("split", [None, HALVES])
def test_coco_imports_in_datumaro_unedited(client, project, tmp_path, split):
    archive = tmp_path / "coco.zip"
    report = export(client, project, archive, "coco", split=split)
    members = read_archive(archive)
    subsets = subsets_of(split)
    names = sorted(set(subsets.values())) if split is None else ["train", "val"]
    assert sorted(members) == sorted(
        [
            "README.kili.txt",
            *(f"annotations/instances_{name}.json" for name in names),
            f"images/{subsets['a']}/a.png",
            f"images/{subsets['cam1/b']}/cam1/b.jpg",
            f"images/{subsets['night_shot']}/night_shot.png",
        ]
    )
    dataset = Dataset.import_from(str(extract(archive, tmp_path / "out")), "coco_instances")
    assert len(dataset) == 3
    assert read_back(dataset, MERGED) == expected(split)
    # each COCO annotation comes as its polygon segmentation and its bbox, grouped
    kinds = Counter(annotation.type.name for item in dataset for annotation in item.annotations)
    assert kinds == {"polygon": 4, "bbox": 4}
    assert report.skipped == []


# -- Pascal VOC ---------------------------------------------------------------------------------------


def test_pascal_voc_imports_in_datumaro_unedited(client, project, tmp_path):
    archive = tmp_path / "voc.zip"
    export(client, project, archive, "pascal_voc")
    members = read_archive(archive)
    assert sorted(members) == [
        "Annotations/a.xml",
        "Annotations/cam1/b.xml",
        "Annotations/night_shot.xml",
        "ImageSets/Main/default.txt",
        "JPEGImages/a.png",
        "JPEGImages/cam1/b.jpg",
        "JPEGImages/night_shot.png",
        "README.kili.txt",
        "labelmap.txt",
    ]
    assert members["ImageSets/Main/default.txt"] == b"a\ncam1/b\nnight_shot\n"
    assert members["labelmap.txt"] == b"# label:color_rgb:parts:actions\nCAR:::\nPERSON:::\nROAD:::\n"
    dataset = Dataset.import_from(str(extract(archive, tmp_path / "out")), "voc")
    assert len(dataset) == 3
    assert read_back(dataset, {name: name for name in MERGED}) == expected(None)
    assert sum(len(item.annotations) for item in dataset) == 4


# -- YOLO ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("split", [None, HALVES])
@pytest.mark.parametrize("fmt", ["yolo_v5", "yolo_v7", "yolo_v8"])
def test_yolo_imports_in_datumaro_unedited(client, project, tmp_path, fmt, split):
    archive = tmp_path / "yolo.zip"
    report = export(client, project, archive, fmt, split=split)
    members = read_archive(archive)
    subsets = subsets_of(split)
    stems = {"a": "a.png", "cam1/b": "cam1_b.jpg", "night_shot": "night_shot.png"}
    assert sorted(members) == sorted(
        [
            "README.kili.txt",
            "data.yaml",
            *(f"images/{subsets[item]}/{name}" for item, name in stems.items()),
            *(f"labels/{subsets[item]}/{name.rsplit('.', 1)[0]}.txt" for item, name in stems.items()),
        ]
    )
    data = yaml.safe_load(members["data.yaml"])
    if split is None:
        assert (data["path"], data["train"], data["val"]) == ("", "images/default", "images/default")
    else:
        assert (data["path"], data["train"], data["val"]) == ("", "images/train", "images/val")
    root = extract(archive, tmp_path / "out")
    assert {source["format"] for source in YoloImporter.find_sources(str(root))} == {"yolo_ultralytics"}
    dataset = Dataset.import_from(str(root), "yolo")
    assert len(dataset) == 3
    assert read_back(dataset, MERGED) == expected(split, flat=True)
    assert sum(len(item.annotations) for item in dataset) == 4
    assert report.renamed == [("cam1/b.jpg", "cam1_b")]
    assert (
        f"{fmt} standard layout, job AREAS: 1 polygon/semantic region written as its bounding box: the standard "
        "YOLO layout (datumaro, CVAT, FiftyOne) reads box rows only (5 values)" in report.notes
    )


# -- refusals and the CLI -----------------------------------------------------------------------------


def test_formats_without_a_standard_layout_refuse_it(client, project, tmp_path):
    for fmt in ("kili", "yolo_v4", "geojson", "simple"):
        with pytest.raises(IncompatibleFormatError) as error:
            export(client, project, tmp_path / "out.zip", fmt)
        assert str(error.value) == (
            f"Option dataset_layout='standard' cannot be used with format {fmt!r}: the format has one layout, its "
            "own. Use a format that writes a standard dataset layout (coco, pascal_voc, yolo_v5, yolo_v7, "
            "yolo_v8), or leave dataset_layout out."
        )
    with pytest.raises(ValidationError) as error:
        client.export_labels(project, tmp_path / "out.zip", "coco", dataset_layout="cvat")
    assert str(error.value) == (
        "dataset_layout must be 'kili' (the default: Kili's archive layout) or 'standard' (the layout datumaro, "
        "CVAT and FiftyOne import: docs/export.md), not 'cvat'."
    )
    assert not (tmp_path / "out.zip").exists()


def test_the_cli_takes_dataset_layout(client, database_url, project, tmp_path):
    out = tmp_path / "cli.zip"
    result = CliRunner().invoke(
        main,
        [
            "project",
            "export",
            "--db",
            database_url,
            "--project-id",
            project,
            "--output-format",
            "coco",
            "--output-file",
            str(out),
            "--dataset-layout",
            "standard",
        ],
        env={"LABELPORT_MEDIA_DIR": str(client.store.media_dir)},
    )
    assert result.exit_code == 0, result.output
    assert "annotations/instances_default.json" in read_archive(out)
