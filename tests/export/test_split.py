"""Train/val/test split exports (``split=…``): parsing, assignment (hash and stratified), YOLO datasets that pass
the checks Ultralytics applies before training, COCO files per split, refusals, the CLI and the report."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pycocotools.coco import COCO

from labelport.cli import main
from labelport.errors import IncompatibleFormatError, ValidationError
from labelport.export.split import SplitPlan, StratumMember, parse_split, split_sizes, stratified, unit
from tests.export.projects import build_image_project
from tests.export.yolo_voc_helpers import shape, vertices
from tests.factories import ImageFactory, rect
from tests.golden import read_archive

#: pycocotools 2.0 decodes through an ``__array__`` that numpy 2 warns about; not our code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

SPLIT = {"train": 0.6, "val": 0.2, "test": 0.2}
#: On the 4 exported assets of the image project (seed 0): img_1 and remote_4 train, img_2 val, img 3 test.
QUARTERS = {"train": 0.5, "val": 0.25, "test": 0.25}
#: Ultralytics' image suffixes (ultralytics.data.utils.IMG_FORMATS).
IMG_FORMATS = {"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm", "heic"}

# -- a project to train on: real images, three box categories (BIKE is rare), one polygon job -----------

TRAIN_INTERFACE: dict[str, Any] = {
    "jobs": {
        "OBJECTS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Objects",
            "required": 0,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {"CAR": {"name": "Car"}, "PERSON": {"name": "Person"}, "BIKE": {"name": "Bike"}},
            },
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
BIKES = (4, 11, 19)
NEGATIVES = (7, 13)
LABELED = 30


def train_external_id(index: int) -> str:
    """Flat names, sub-folders, a folder named ``images`` (Ultralytics pairs on the last ``/images/``), a space."""
    if index in (24, 25):
        return f"cam1/scene_{index:02d}.png"
    if index == 26:
        return "images/cam2/scene_26.png"
    if index == 27:
        return "night shot 27.png"
    return f"scene_{index:02d}.{'jpg' if index % 4 == 1 else 'png'}"


def train_response(index: int) -> dict[str, Any]:
    if index in NEGATIVES:
        return {}
    boxes = []
    if index % 2 == 0:
        boxes.append(shape("rectangle", "CAR", rect(0.1, 0.2, 0.5, 0.6)))
    if index % 3 == 0:
        boxes.append(shape("rectangle", "PERSON", rect(0.6, 0.1, 0.7, 0.9)))
    if index in BIKES or not boxes:
        boxes.append(shape("rectangle", "BIKE" if index in BIKES else "CAR", rect(0.2, 0.3, 0.4, 0.8)))
    response: dict[str, Any] = {"OBJECTS": {"annotations": boxes}}
    if index % 5 == 0:
        road = shape("polygon", "ROAD", vertices((0.0, 1.0), (0.5, 0.7), (1.0, 1.0)))
        response["AREAS"] = {"annotations": [road]}
    return response


def build_train_project(client: Any, folder: Path) -> tuple[str, dict[str, Path]]:
    """30 labeled images (2 of them empty negatives) and 1 unlabeled image."""
    project_id = client.create_project("Training set", "IMAGE", TRAIN_INTERFACE, "split fixtures")["id"]
    factory = ImageFactory(folder)
    files = {}
    for index in range(LABELED + 1):
        external_id = train_external_id(index) if index < LABELED else "unlabeled_30.png"
        suffix = external_id.rsplit(".", 1)[1]
        files[external_id] = factory.make(f"source_{index}.{suffix}", 40 + index, 30 + index % 7, (index * 8, 90, 40))
    client.append_many_to_dataset(
        project_id, content_array=[str(path) for path in files.values()], external_id_array=list(files)
    )
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=[train_external_id(index) for index in range(LABELED)],
        json_response_array=[train_response(index) for index in range(LABELED)],
    )
    return project_id, files


@pytest.fixture
def train_project(client, tmp_path):
    return build_train_project(client, tmp_path / "source")


@pytest.fixture
def image_project(client, tmp_path):
    return build_image_project(client, tmp_path / "source")


def extract(archive: Path, folder: Path) -> Path:
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    return folder


def label_splits(members: dict[str, bytes], folder: str = "") -> dict[str, str]:
    """``{label stem: split}`` from a YOLO split archive's ``<folder>labels/<split>/<stem>.txt`` members."""
    found = {}
    for name in members:
        if name.startswith(f"{folder}labels/") and name.endswith(".txt"):
            split, stem = name[len(folder) + len("labels/") : -len(".txt")].split("/", 1)
            found[stem] = split
    return found


# -- the checks Ultralytics applies before training (check_det_dataset + verify_image_label) ---------------


def img2label(image: str) -> str:
    """Ultralytics' pairing: the last ``/images/`` becomes ``/labels/``, the extension ``.txt``."""
    images, labels = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return labels.join(image.rsplit(images, 1)).rsplit(".", 1)[0] + ".txt"


def check_label_file(path: Path, classes: int) -> str:
    """verify_image_label's rules for one label file; returns ``box``, ``segment`` or ``empty``."""
    text = path.read_text(encoding="utf-8")
    rows = [line.split() for line in text.strip().splitlines() if line]
    if not rows:
        return "empty"
    assert text.endswith("\n"), path
    segment = any(len(row) > 6 for row in rows)
    for row in rows:
        assert row[0].isdigit() and int(row[0]) < classes, f"{path}: class {row[0]} not below nc={classes}"
        values = [float(value) for value in row[1:]]
        assert all(0.0 <= value <= 1.0 for value in values), f"{path}: {row}"
        if segment:
            assert len(values) >= 6 and len(values) % 2 == 0, f"{path}: box and segment rows mixed: {row}"
        else:
            assert len(values) == 4 and values[2] > 0 and values[3] > 0, f"{path}: {row}"
    assert len({tuple(row) for row in rows}) == len(rows), f"{path}: duplicate rows"
    return "segment" if segment else "box"


def check_ultralytics_dataset(data_yaml: str) -> dict[str, set[str]]:
    """What ``yolo train data=<data_yaml>`` checks before training, from the current directory: the keys, the
    dataset root (``path``, else the folder of data.yaml; a relative one must exist from here), each split
    folder, and every image with its label file. Returns the images of each split (relative to the root)."""
    data = yaml.safe_load(Path(data_yaml).read_text(encoding="utf-8"))
    assert "train" in data and "val" in data, "'train' and 'val' are required in all data YAMLs"
    assert "names" in data or "nc" in data
    names = data["names"]
    if isinstance(names, dict):
        assert sorted(names) == list(range(len(names))), "names keys must be the class ids 0..n-1"
    if "nc" in data:
        assert data["nc"] == len(names)
    root = Path(data.get("path") or Path(data_yaml).parent)
    assert root.exists() or root.is_absolute(), f"{root} would be read from Ultralytics' datasets folder"
    found: dict[str, set[str]] = {}
    for split in ("train", "val", "test"):
        if not data.get(split):
            continue
        folder = (root / data[split]).resolve()
        assert folder.is_dir(), f"{split}: missing path {folder}"
        images = sorted(p for p in folder.rglob("*.*") if p.suffix[1:].lower() in IMG_FORMATS)
        assert images, f"{split}: no images found in {folder}"
        kinds = set()
        for image in images:
            with Image.open(image) as opened:
                opened.verify()
                assert opened.format.lower() in IMG_FORMATS
                assert min(opened.size) > 9, f"{image}: image size {opened.size} < 10 pixels"
            label = Path(img2label(str(image)))
            assert label.is_file(), f"{image} has no label file {label}"
            kinds.add(check_label_file(label, len(names)))
        assert len(kinds - {"empty"}) <= 1, f"{split}: box and segment label files mixed"
        found[split] = {str(image.relative_to(root.resolve())) for image in images}
    return found


@pytest.mark.parametrize("layout", ["merged", "split"])
def test_yolo_v8_split_is_a_dataset_ultralytics_reads_without_edits(client, tmp_path, train_project, layout):
    project_id, files = train_project
    archive = tmp_path / "out.zip"
    report = client.export_labels(project_id, archive, "yolo_v8", layout=layout, split=SPLIT, split_seed=0)
    dataset = extract(archive, tmp_path / "unzipped" / "dataset")
    folders = [""] if layout == "merged" else ["OBJECTS/", "AREAS/"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plan = parse_split(SPLIT, 0)
    assert plan is not None
    for folder in folders:
        root = dataset / folder
        data = yaml.safe_load((root / "data.yaml").read_text())
        assert list(data)[:4] == ["path", "train", "val", "test"] and data["path"] == ""
        # data.yaml given with an absolute path from another directory, then relative from its parent.
        cwd = Path.cwd()
        try:
            os.chdir(elsewhere)
            found = check_ultralytics_dataset(str(root / "data.yaml"))
            os.chdir(dataset.parent)
            assert check_ultralytics_dataset(f"dataset/{folder}data.yaml") == found
        finally:
            os.chdir(cwd)
        # every exported image is in exactly one split, the one its hash gives, with its stored bytes
        placed = {image: split for split, images in found.items() for image in images}
        assert sum(len(images) for images in found.values()) == len(placed) == LABELED
        for index in range(LABELED):
            external_id = train_external_id(index)
            name = external_id.replace(" ", "_").replace("images/", "images_/", 1)
            image = f"images/{plan.by_hash(external_id)}/{name}"
            assert placed[image] == plan.by_hash(external_id)
            assert (root / image).read_bytes() == files[external_id].read_bytes()
    assert report.split_assets == dict(Counter(plan.by_hash(train_external_id(i)) for i in range(LABELED)))
    assert ("images/cam2/scene_26.png", "images_/cam2/scene_26") in report.renamed
    assert report.skipped == []


@pytest.mark.parametrize("layout", ["merged", "split"])
@pytest.mark.parametrize("fmt", ["yolo_v5", "yolo_v7", "yolo_v8"])
def test_without_a_split_the_export_with_media_is_a_dataset_ultralytics_reads(
    client, tmp_path, train_project, fmt, layout
):
    """No split asked for: data.yaml's train and val are the one image set, which Ultralytics' checks accept as it
    is unzipped, from another working directory, every image paired with its label file."""
    project_id, files = train_project
    archive = tmp_path / "out.zip"
    report = client.export_labels(project_id, archive, fmt, layout=layout, disable_tqdm=True)
    dataset = extract(archive, tmp_path / "unzipped" / "dataset")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folders = [""] if layout == "merged" else ["OBJECTS/", "AREAS/"]
    expected = {
        "images/" + train_external_id(index).replace(" ", "_").replace("images/", "images_/", 1)
        for index in range(LABELED)
    }
    for folder in folders:
        data = yaml.safe_load((dataset / folder / "data.yaml").read_text())
        assert (data["path"], data["train"], data["val"]) == ("", "images", "images")
        assert "test" not in data
        cwd = Path.cwd()
        try:
            os.chdir(elsewhere)
            found = check_ultralytics_dataset(str(dataset / folder / "data.yaml"))
        finally:
            os.chdir(cwd)
        assert found == {"train": expected, "val": expected}
        for index in range(LABELED):
            external_id = train_external_id(index)
            name = external_id.replace(" ", "_").replace("images/", "images_/", 1)
            assert (dataset / folder / "images" / name).read_bytes() == files[external_id].read_bytes()
    assert report.skipped == []
    if layout == "split":
        assert report.notes == [
            f"{fmt} export with media, layout split: the media are copied into each of the 2 job folders (OBJECTS, "
            "AREAS), so that each folder is a complete dataset; use layout='merged' to store them once"
        ]
        assert not any(name.startswith("images/") for name in read_archive(archive))


def test_split_layout_copies_the_media_into_each_job_folder(client, tmp_path, train_project):
    project_id, _ = train_project
    report = client.export_labels(project_id, tmp_path / "out.zip", "yolo_v8", split=SPLIT)
    members = read_archive(tmp_path / "out.zip")
    objects = sorted(n[len("OBJECTS/") :] for n in members if n.startswith("OBJECTS/images/"))
    areas = sorted(n[len("AREAS/") :] for n in members if n.startswith("AREAS/images/"))
    assert objects == areas and len(objects) == LABELED
    assert not any(name.startswith("images/") for name in members)
    assert report.notes == [
        "yolo_v8 split export, layout split: the media are copied into each of the 2 job folders (OBJECTS, AREAS), "
        "so that each folder is a complete dataset; use layout='merged' to store them once"
    ]
    assert report.files == 2 * (LABELED + LABELED + 1) + 1


def test_without_media_remote_assets_says_where_each_image_goes(client, tmp_path, image_project):
    path = tmp_path / "out.zip"
    client.export_labels(image_project.project_id, path, "yolo_v8", layout="merged", with_assets=False, split=QUARTERS)
    members = read_archive(path)
    rows = members["images/remote_assets.csv"].decode().splitlines()
    assert [row.split(",", 2)[2] for row in rows[1:]] == [
        "images/train/img_1.png,labels/train/img_1.txt",
        "images/val/img_2.jpg,labels/val/img_2.txt",
        "images/test/folder/img_3.png,labels/test/folder/img_3.txt",
        "images/train/remote_4.jpg,labels/train/remote_4.txt",
    ]
    for row in rows[1:]:
        image, label = row.split(",")[2:]
        assert img2label(f"/data/{image}".replace("/", os.sep)) == f"/data/{label}".replace("/", os.sep)
        assert label in members


# -- data.yaml ---------------------------------------------------------------------------------------------

DEFAULT_COMMENT = (
    "# path '' (empty) is the folder of this data.yaml, wherever the archive was unzipped: Ultralytics\n"
    "# reads train, val and test relative to it. YOLOv5 and YOLOv7 do not: see dataset_root in\n"
    "# docs/export/yolo.md.\n"
)


def test_yolo_v8_data_yaml(client, tmp_path, image_project):
    path = tmp_path / "out.zip"
    client.export_labels(image_project.project_id, path, "yolo_v8", with_assets=False, split=SPLIT)
    assert read_archive(path)["BOXES/data.yaml"].decode() == DEFAULT_COMMENT + (
        "path: ''\ntrain: images/train\nval: images/val\ntest: images/test\nnc: 2\nnames:\n- CAR\n- PERSON\n"
    )


def test_yolo_v5_names_stay_a_map_and_test_is_left_out_without_a_test_split(client, tmp_path, image_project):
    path = tmp_path / "out.zip"
    report = client.export_labels(
        image_project.project_id, path, "yolo_v5", layout="merged", with_assets=False, split="train=0.75,val=0.25"
    )
    text = read_archive(path)["data.yaml"].decode()
    assert text == DEFAULT_COMMENT + (
        "path: ''\ntrain: images/train\nval: images/val\nnames:\n  0: BOXES/CAR\n  1: BOXES/PERSON\n  2: REGIONS/ROAD\n"
        "  3: REGIONS/SKY\n  4: MIXED/TREE\n  5: MIXED/SIGN\n"
    )
    data = yaml.safe_load(text)
    assert data["names"] == dict(
        enumerate(["BOXES/CAR", "BOXES/PERSON", "REGIONS/ROAD", "REGIONS/SKY", "MIXED/TREE", "MIXED/SIGN"])
    )
    assert (
        "yolo_v5: YOLOv5's train.py reads an empty data.yaml path as its own repository folder; export with "
        "dataset_root='<the folder where you unzip the archive>' (or set path in data.yaml)"
    ) in report.notes


def test_yolo_v5_with_dataset_root_resolves_as_yolov5_does(client, tmp_path, train_project):
    project_id, _ = train_project
    root = tmp_path / "datasets" / "street"
    path = tmp_path / "out.zip"
    report = client.export_labels(project_id, path, "yolo_v5", layout="merged", split=SPLIT, dataset_root=str(root))
    extract(path, root)
    data = yaml.safe_load((root / "data.yaml").read_text())
    assert data["path"] == str(root) and data["train"] == "images/train"
    # YOLOv5's check_dataset: a relative path is read from its repository folder; this one is absolute.
    base = Path(data["path"])
    assert base.is_absolute()
    for split in ("train", "val", "test"):
        assert any((base / data[split]).resolve().iterdir())
    assert not any(note.startswith("yolo_v5:") for note in report.notes)


def test_yolo_v7_with_dataset_root_writes_absolute_split_folders(client, tmp_path, train_project):
    project_id, _ = train_project
    root = tmp_path / "datasets" / "street"
    path = tmp_path / "out.zip"
    client.export_labels(project_id, path, "yolo_v7", split=SPLIT, dataset_root=f"{root}/")
    assert read_archive(path)["OBJECTS/data.yaml"].decode() == (
        "# path is this folder once the archive is unzipped into dataset_root; train, val and test are\n"
        "# absolute, as YOLOv7 reads them as they are.\n"
        f"path: {root}/OBJECTS\ntrain: {root}/OBJECTS/images/train\nval: {root}/OBJECTS/images/val\n"
        f"test: {root}/OBJECTS/images/test\nnc: 3\nnames:\n- CAR\n- PERSON\n- BIKE\n"
    )
    extract(path, root)
    data = yaml.safe_load((root / "OBJECTS" / "data.yaml").read_text())
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)  # YOLOv7's train.py opens data["train"] as it is, from wherever it runs
        for split in ("train", "val", "test"):
            images = list(Path(data[split]).rglob("*.png"))
            assert images and all(Path(img2label(str(image))).is_file() for image in images)
    finally:
        os.chdir(cwd)


def test_yolo_v7_without_dataset_root_notes_the_working_directory(client, tmp_path, image_project):
    report = client.export_labels(
        image_project.project_id, tmp_path / "o.zip", "yolo_v7", with_assets=False, split=SPLIT
    )
    assert (
        "yolo_v7: YOLOv7's train.py reads train, val and test relative to the working directory; run it from the "
        "unzipped folder, or export with dataset_root='<the folder where you unzip the archive>'"
    ) in report.notes


# -- videos ------------------------------------------------------------------------------------------------

VIDEO_INTERFACE = {"jobs": {"TRACK": TRAIN_INTERFACE["jobs"]["OBJECTS"]}}


def build_videos(client: Any, folder: Path, count: int = 6) -> str:
    """``count`` videos of 3 stored frames; frames 0 and 2 annotated."""
    project_id = client.create_project("Clips", "VIDEO", VIDEO_INTERFACE)["id"]
    factory = ImageFactory(folder)
    frames = [
        [str(factory.make(f"v{v}_f{f}.jpg", 32, 24, (v * 30, f * 60, 20))) for f in range(3)] for v in range(count)
    ]
    external_ids = [f"clips/clip_{v}" for v in range(count)]
    client.append_many_to_dataset(project_id, json_content_array=frames, external_id_array=external_ids)
    response = {
        "0": {"TRACK": {"annotations": [shape("rectangle", "CAR", rect(0.1, 0.1, 0.4, 0.4))]}},
        "1": {},
        "2": {"TRACK": {"annotations": [shape("rectangle", "BIKE", rect(0.3, 0.3, 0.6, 0.9))]}},
    }
    client.append_labels(
        project_id=project_id, asset_external_id_array=external_ids, json_response_array=[response] * count
    )
    return project_id


def test_every_frame_of_a_video_goes_to_the_video_split(client, tmp_path):
    project_id = build_videos(client, tmp_path / "frames")
    path = tmp_path / "out.zip"
    split = {"train": 0.5, "val": 0.5}
    report = client.export_labels(project_id, path, "yolo_v8", layout="merged", split=split, split_seed=3)
    members = read_archive(path)
    plan = parse_split(split, 3)
    assert plan is not None
    expected = {f"clips/clip_{v}": plan.by_hash(f"clips/clip_{v}") for v in range(6)}
    assert sorted(n for n in members if n.startswith(("images/", "labels/"))) == sorted(
        f"{kind}/{s}/{clip}_{frame}.{ext}"
        for clip, s in expected.items()
        for frame in (1, 3)
        for kind, ext in (("images", "jpg"), ("labels", "txt"))
    )
    assert orjson.loads(members["video_meta.json"]) == {
        clip: [f"{s}/{clip}_1", f"{s}/{clip}_3"] for clip, s in expected.items()
    }
    assert report.split_assets == dict(Counter(expected.values()))
    coco = tmp_path / "coco.zip"
    client.export_labels(project_id, coco, "coco", layout="merged", split=split, split_seed=3, with_assets=False)
    for name in ("train", "val"):
        doc = orjson.loads(read_archive(coco)[f"labels_{name}.json"])
        clips = Counter(image["file_name"].rsplit("_", 1)[0][len("data/") :] for image in doc["images"])
        assert clips == {clip: 3 for clip, s in expected.items() if s == name}  # all 3 frames, none elsewhere


# -- COCO --------------------------------------------------------------------------------------------------


def coco_files(members: dict[str, bytes], suffix: str) -> dict[str, dict[str, Any]]:
    return {name: orjson.loads(data) for name, data in members.items() if name.endswith(suffix)}


def annotations_by_image(doc: dict[str, Any]) -> Counter[tuple[str, int, str]]:
    names = {image["id"]: image["file_name"] for image in doc["images"]}
    return Counter(
        (names[a["image_id"]], a["category_id"], orjson.dumps(a["segmentation"]).decode()) for a in doc["annotations"]
    )


@pytest.mark.parametrize("layout", ["merged", "split"])
def test_coco_writes_one_file_per_split_that_adds_up_to_the_unsplit_export(client, tmp_path, image_project, layout):
    plain, split = tmp_path / "plain.zip", tmp_path / "split.zip"
    client.export_labels(image_project.project_id, plain, "coco", layout=layout, with_assets=False)
    report = client.export_labels(
        image_project.project_id, split, "coco", layout=layout, with_assets=False, split=QUARTERS
    )
    unsplit = coco_files(read_archive(plain), "labels.json")
    members = read_archive(split)
    folders = [""] if layout == "merged" else ["BOXES/", "REGIONS/", "MIXED/"]
    assert sorted(n for n in members if n.endswith(".json")) == sorted(
        f"{folder}labels_{name}.json" for folder in folders for name in ("train", "val", "test")
    )
    for folder in folders:
        whole = unsplit[f"{folder}labels.json"]
        parts = {name: orjson.loads(members[f"{folder}labels_{name}.json"]) for name in ("train", "val", "test")}
        images: list[str] = []
        annotations: Counter[tuple[str, int, str]] = Counter()
        for name, doc in parts.items():
            extracted = tmp_path / "coco" / folder / f"labels_{name}.json"
            extracted.parent.mkdir(parents=True, exist_ok=True)
            extracted.write_bytes(members[f"{folder}labels_{name}.json"])
            reader = COCO(str(extracted))
            assert sorted(reader.getImgIds()) == [image["id"] for image in doc["images"]]
            assert [image["id"] for image in doc["images"]] == list(range(1, len(doc["images"]) + 1))
            assert [a["id"] for a in doc["annotations"]] == list(range(1, len(doc["annotations"]) + 1))
            for annotation in doc["annotations"]:
                assert reader.annToMask(reader.anns[annotation["id"]]).sum() > 0
            assert doc["categories"] == whole["categories"]
            images += [image["file_name"] for image in doc["images"]]
            annotations += annotations_by_image(doc)
        assert sorted(images) == sorted(image["file_name"] for image in whole["images"])
        assert annotations == annotations_by_image(whole)
        assert sum(len(doc["annotations"]) for doc in parts.values()) == len(whole["annotations"])
    assert report.split_assets == {"train": 2, "val": 1, "test": 1}


def test_coco_writes_every_split_file_even_empty(client, tmp_path):
    project_id = build_videos(client, tmp_path / "frames", count=1)
    path = tmp_path / "out.zip"
    report = client.export_labels(project_id, path, "coco", split=SPLIT, with_assets=False)
    members = read_archive(path)
    docs = {name: orjson.loads(members[f"TRACK/labels_{name}.json"]) for name in ("train", "val", "test")}
    assert {name: len(doc["images"]) for name, doc in docs.items()} == {"train": 3, "val": 0, "test": 0}
    assert docs["val"]["images"] == [] and docs["val"]["annotations"] == []
    assert docs["train"]["categories"] == docs["val"]["categories"] == docs["test"]["categories"]
    assert report.split_assets == {"train": 1, "val": 0, "test": 0}
    assert report.notes[-2:] == [
        "split val is empty: no exported asset went to it; add assets or change the fractions (training code fails "
        "on an empty split: Ultralytics stops when a split folder is missing)",
        "split test is empty: no exported asset went to it; add assets or change the fractions (training code fails "
        "on an empty split: Ultralytics stops when a split folder is missing)",
    ]


def test_coco_media_stay_under_data(client, tmp_path, train_project):
    project_id, _ = train_project
    path = tmp_path / "out.zip"
    client.export_labels(project_id, path, "coco", layout="merged", split=SPLIT)
    root = extract(path, tmp_path / "coco")
    for name in ("train", "val", "test"):
        reader = COCO(str(root / f"labels_{name}.json"))
        for image in reader.dataset["images"]:  # image_root is the unzipped folder
            with Image.open(root / image["file_name"]) as opened:
                assert opened.size == (image["width"], image["height"])


# -- assignment --------------------------------------------------------------------------------------------


def test_unit_is_blake2b_of_the_seed_and_the_external_id():
    digest = hashlib.blake2b(b"7\x00a/b.jpg", digest_size=8).digest()
    assert unit(7, "a/b.jpg") == int.from_bytes(digest, "big") / 2**64
    assert unit(0, "img_0.jpg") == 0.053212140552004725


def test_hash_assignment_golden():
    ids = [f"img_{i}.jpg" for i in range(12)]
    plan = parse_split(SPLIT, 0)
    assert plan is not None
    assert [plan.by_hash(i) for i in ids] == [
        "train", "test", "train", "test", "val", "val", "test", "val", "train", "train", "val", "train",
    ]  # fmt: skip
    reseeded = parse_split(SPLIT, 1)
    assert reseeded is not None
    assert [reseeded.by_hash(i) for i in ids] == [
        "train", "test", "train", "train", "val", "train", "test", "test", "train", "train", "train", "train",
    ]  # fmt: skip


def test_hash_assignment_of_a_small_project(client, tmp_path, image_project):
    path = tmp_path / "out.zip"
    client.export_labels(image_project.project_id, path, "yolo_v8", layout="merged", with_assets=False, split=QUARTERS)
    assert label_splits(read_archive(path)) == {
        "img_1": "train",
        "img_2": "val",
        "folder/img_3": "test",
        "remote_4": "train",
    }


def test_hash_counts_follow_the_fractions():
    plan = parse_split(SPLIT, 0)
    assert plan is not None
    counts = Counter(plan.by_hash(f"asset-{i}") for i in range(20_000))
    for name, fraction in SPLIT.items():  # within 4 standard deviations (deterministic: the ids are fixed)
        assert abs(counts[name] - fraction * 20_000) < 4 * (20_000 * fraction * (1 - fraction)) ** 0.5


ids = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=24)


@st.composite
def plans(draw: Any) -> SplitPlan:
    train = draw(st.floats(0.05, 0.9))
    if draw(st.booleans()):
        val = draw(st.floats(0.01, 0.99 - train))
        fractions = (("train", train), ("val", val), ("test", 1.0 - train - val))
    else:
        fractions = (("train", train), ("val", 1.0 - train))
    return SplitPlan(fractions, draw(st.integers(-(2**63), 2**63)), False)


@settings(max_examples=300, deadline=None)
@given(plan=plans(), existing=st.lists(ids, unique=True, max_size=40), added=st.lists(ids, max_size=40))
def test_adding_or_removing_assets_never_moves_an_asset(plan, existing, added):
    before = {external_id: plan.by_hash(external_id) for external_id in existing}
    grown = {external_id: plan.by_hash(external_id) for external_id in [*added, *existing]}
    shrunk = {external_id: plan.by_hash(external_id) for external_id in existing[::2]}
    assert all(grown[external_id] == split for external_id, split in before.items())
    assert all(before[external_id] == split for external_id, split in shrunk.items())
    assert set(before.values()) <= set(plan.names)


def test_an_exported_asset_keeps_its_split_when_assets_are_added(client, tmp_path, image_project):
    project_id = image_project.project_id
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    options = {"layout": "merged", "with_assets": False, "split": SPLIT, "split_seed": 5}
    client.export_labels(project_id, first, "yolo_v8", **options)
    new = [f"new_{i}" for i in range(40)]
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.invalid/{name}.jpg" for name in new],
        external_id_array=new,
        resolution_array=[{"width": 100, "height": 100}] * len(new),
    )
    client.append_labels(project_id=project_id, asset_external_id_array=new, json_response_array=[{}] * len(new))
    client.export_labels(project_id, second, "yolo_v8", **options)
    before, after = label_splits(read_archive(first)), label_splits(read_archive(second))
    assert len(after) == len(before) + 40 and {stem: after[stem] for stem in before} == before
    assert set(after.values()) == {"train", "val", "test"}


def test_label_copies_stay_in_their_asset_split(client, tmp_path, image_project):
    project_id = image_project.project_id
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["img_2.jpg"],
        json_response_array=[{"BOXES": {"annotations": [shape("rectangle", "CAR", rect(0.0, 0.0, 0.5, 0.5))]}}],
        created_at_array=["2024-06-01T10:00:00.000Z"],
    )
    path = tmp_path / "out.zip"
    report = client.export_labels(
        project_id, path, "yolo_v8", layout="merged", with_assets=False, export_type="normal", split=QUARTERS
    )
    splits = label_splits(read_archive(path))
    assert splits["img_2_label1"] == splits["img_2_label2"] == "val"
    assert report.split_assets == {"train": 2, "val": 2, "test": 1}
    assert (report.assets_exported, report.labels_exported) == (5, 5)


# -- stratified --------------------------------------------------------------------------------------------


def test_stratified_split_counts_and_a_rare_category_in_every_split(client, tmp_path, train_project):
    project_id, _ = train_project
    path = tmp_path / "out.zip"
    split = {"train": 0.7, "val": 0.15, "test": 0.15}
    report = client.export_labels(
        project_id, path, "yolo_v8", layout="split", with_assets=False, split=split, split_stratify=True
    )
    members = read_archive(path)
    placed = label_splits(members, "OBJECTS/")
    counts = Counter(placed.values())
    assert len(placed) == LABELED
    for name, fraction in split.items():
        assert abs(counts[name] - fraction * LABELED) <= 1
    assert report.split_assets == dict(counts) == {"train": 21, "val": 5, "test": 4}
    with_bike = [
        stem for stem, name in placed.items() if b"\n2 " in b"\n" + members[f"OBJECTS/labels/{name}/{stem}.txt"]
    ]
    bikes = {placed[stem] for stem in with_bike}
    assert len(with_bike) == len(BIKES)
    assert bikes == {"train", "val", "test"}  # BIKE (class 2) is on 3 assets: one in each split
    assert report.split_line() == "split (seed 0, stratified): train 21, val 5, test 4 assets"
    again = tmp_path / "again.zip"
    client.export_labels(project_id, again, "yolo_v8", with_assets=False, split=split, split_stratify=True)
    assert label_splits(read_archive(again), "OBJECTS/") == placed  # deterministic


def test_stratified_assignment_golden():
    members = [StratumMember(f"a{i}", f"img_{i}", {("J", "RARE")} if i < 3 else {("J", "COMMON")}) for i in range(10)]
    members.append(StratumMember("n", "negative", set()))
    plan = parse_split({"train": 0.6, "val": 0.2, "test": 0.2}, 0, True)
    assert plan is not None
    result = stratified(plan, members)
    assert Counter(result.values()) == {"train": 7, "val": 2, "test": 2}
    assert {result[f"a{i}"] for i in range(3)} == {"train", "val", "test"}
    assert result == {
        "n": "train",  # the stratum without category has 1 asset: dealt first
        "a0": "val", "a1": "test", "a2": "train",  # RARE (3 assets) reaches every split
        "a3": "train", "a4": "train", "a5": "val", "a6": "test", "a7": "train", "a8": "train", "a9": "train",
    }  # fmt: skip


CATEGORIES = [("A", "X"), ("A", "Y"), ("B", "X"), ("B", "Z")]


@settings(max_examples=300, deadline=None)
@given(
    plan=plans(),
    categories=st.lists(st.sets(st.sampled_from(CATEGORIES), max_size=3), max_size=60),
    order=st.randoms(use_true_random=False),
)
def test_stratified_totals_are_within_one_and_strata_reach_every_split(plan, categories, order):
    members = [StratumMember(f"id{i}", f"asset {i}", found) for i, found in enumerate(categories)]
    result = stratified(plan, members)
    counts = Counter(result.values())
    for (name, fraction), size in zip(
        plan.fractions, split_sizes([f for _, f in plan.fractions], len(members)), strict=True
    ):
        assert counts[name] == size and abs(size - fraction * len(members)) < 1
    shuffled = list(members)
    order.shuffle(shuffled)
    assert stratified(plan, shuffled) == result  # the input order does not matter
    # the rarest stratum is dealt first: with room in every split, it reaches each of them
    seen = Counter(key for found in categories for key in found)
    without = sum(1 for found in categories if not found)
    strata = [min((seen[key], key) for key in found) if found else (without, ("", "")) for found in categories]
    if strata and min(split_sizes([f for _, f in plan.fractions], len(members))) >= 1:
        rarest = min(strata)
        group = [f"id{i}" for i, stratum in enumerate(strata) if stratum == rarest]
        if len(group) >= len(plan.names):
            assert {result[asset] for asset in group} == set(plan.names)


# -- parsing -----------------------------------------------------------------------------------------------


def test_parse_split_accepts_a_dict_or_text():
    expected = SplitPlan((("train", 0.8), ("val", 0.1), ("test", 0.1)), 0, False)
    assert parse_split({"test": 0.1, "val": 0.1, "train": 0.8}) == expected
    assert parse_split(" val=0.1, train = 0.8 ,test=0.1,") == expected
    assert parse_split({"train": 0.75, "val": 0.25, "test": 0}, 3, True) == SplitPlan(
        (("train", 0.75), ("val", 0.25)), 3, True
    )
    assert parse_split(None) is None
    assert expected.names == ("train", "val", "test") and expected.text() == "train=0.8,val=0.1,test=0.1"


EXAMPLE = "train=0.8,val=0.1,test=0.1"


@pytest.mark.parametrize(
    ("split", "seed", "stratify", "message"),
    [
        (
            {"train": 0.8, "valid": 0.2},
            0,
            False,
            f"split: unknown split name 'valid'; the splits are train, val and test, e.g. {EXAMPLE}.",
        ),
        (
            {"train": 1.0},
            0,
            False,
            f"split: 'val' is missing; train and val are both required (trainers need a validation set), e.g. {EXAMPLE}.",
        ),
        (
            {"val": 0.5, "test": 0.5},
            0,
            False,
            f"split: 'train' is missing; train and val are both required (trainers need a validation set), e.g. {EXAMPLE}.",
        ),
        (
            {"train": 0.9, "val": 0, "test": 0.1},
            0,
            False,
            "split: the fraction of 'val' must be greater than 0, not 0; train and val both need assets.",
        ),
        (
            {"train": 0.8, "val": 0.3, "test": -0.1},
            0,
            False,
            "split: the fraction of 'test' must be 0 or more, not -0.1 (0 leaves the test split out).",
        ),
        ({"train": "0.8", "val": 0.2}, 0, False, "split: the fraction of 'train' must be a number, not '0.8'."),
        ({"train": True, "val": 0.2}, 0, False, "split: the fraction of 'train' must be a number, not True."),
        (
            {"train": float("nan"), "val": 0.2},
            0,
            False,
            "split: the fraction of 'train' must be a finite number, not nan.",
        ),
        (
            {"train": 0.8, "val": 0.1},
            0,
            False,
            f"split: the fractions sum to 0.9, not 1; make them add up to 1, e.g. {EXAMPLE}.",
        ),
        (
            "train=80,val=10,test=10",
            0,
            False,
            f"split: the fractions sum to 100, not 1; make them add up to 1 (fractions, not percentages), e.g. {EXAMPLE}.",
        ),
        ("train:0.8,val=0.2", 0, False, f"split: 'train:0.8' is not NAME=FRACTION; write e.g. {EXAMPLE}."),
        (
            "train=0.5,train=0.3,val=0.2",
            0,
            False,
            f"split: 'train' is given twice; give each split once, e.g. {EXAMPLE}.",
        ),
        ("train=0.8,val=ten", 0, False, "split: the fraction of 'val' must be a number, not 'ten'."),
        (
            ["train", "val"],
            0,
            False,
            f"split must be a dict such as {{'train': 0.8, 'val': 0.1, 'test': 0.1}} or text such as '{EXAMPLE}', not a list.",
        ),
        (SPLIT, "0", False, "split_seed must be an integer, not '0'."),
        (SPLIT, 1.5, False, "split_seed must be an integer, not 1.5."),
        (SPLIT, 0, "yes", "split_stratify must be True or False, not 'yes'."),
        (
            None,
            0,
            True,
            f"split_stratify=True needs a split: pass split too (e.g. split='{EXAMPLE}'), or leave split_stratify out.",
        ),
        (
            None,
            4,
            False,
            f"split_seed=4 needs a split: pass split too (e.g. split='{EXAMPLE}'), or leave split_seed out.",
        ),
    ],
)
def test_parse_split_errors(split, seed, stratify, message):
    with pytest.raises(ValidationError) as error:
        parse_split(split, seed, stratify)
    assert str(error.value) == message


def test_a_bad_split_is_refused_before_anything_is_written(client, tmp_path, image_project):
    with pytest.raises(ValidationError, match=r"^split: the fractions sum to 1\.1, not 1"):
        client.export_labels(image_project.project_id, tmp_path / "out.zip", "coco", split="train=0.9,val=0.2")
    assert list(tmp_path.glob("*.zip")) == []


# -- refusals ----------------------------------------------------------------------------------------------

SPLIT_DICT = "{'train': 0.6, 'val': 0.2, 'test': 0.2}"


@pytest.mark.parametrize(
    ("fmt", "options", "message"),
    [
        (
            "kili",
            {"split": SPLIT},
            f"Option split={SPLIT_DICT} cannot be used with format 'kili': the format has no train/val/test layout. "
            "Use a format that writes splits (coco, yolo_v5, yolo_v7, yolo_v8), or leave split out.",
        ),
        (
            "pascal_voc",
            {"split": SPLIT, "layout": "merged"},
            f"Option split={SPLIT_DICT} cannot be used with format 'pascal_voc': the format has no train/val/test "
            "layout. Use a format that writes splits (coco, yolo_v5, yolo_v7, yolo_v8), or leave split out.",
        ),
        (
            "geojson",
            {"split": SPLIT, "layout": "merged"},
            f"Option split={SPLIT_DICT} cannot be used with format 'geojson': the format has no train/val/test "
            "layout. Use a format that writes splits (coco, yolo_v5, yolo_v7, yolo_v8), or leave split out.",
        ),
        (
            "yolo_v4",
            {"split": SPLIT},
            f"Option split={SPLIT_DICT} cannot be used with format 'yolo_v4': Darknet (YOLOv4) lists the images of "
            "each split in train.txt and valid.txt files, which this export does not write. Use yolo_v5, yolo_v7 or "
            "yolo_v8: they write the same label files, in images/<split> and labels/<split> folders with a data.yaml.",
        ),
        (
            "kili",
            {"dataset_root": "/data/street"},
            "Option dataset_root='/data/street' cannot be used with format 'kili': only YOLO split exports write a "
            "data.yaml, whose path it sets. Use it with yolo_v5, yolo_v7 or yolo_v8 and split=..., or leave "
            "dataset_root out.",
        ),
        (
            "yolo_v4",
            {"dataset_root": "/data/street"},
            "Option dataset_root='/data/street' cannot be used with format 'yolo_v4': only YOLO split exports write a "
            "data.yaml, whose path it sets. Use it with yolo_v5, yolo_v7 or yolo_v8 and split=..., or leave "
            "dataset_root out.",
        ),
        (
            "coco",
            {"dataset_root": "/data/street", "split": SPLIT},
            "Option dataset_root='/data/street' cannot be used with format 'coco': COCO files name their images "
            "relative to the archive root (data/<name>) and hold no dataset path. Leave dataset_root out, and give "
            "the unzipped folder as the image root to the training code.",
        ),
    ],
)
def test_formats_that_cannot_honour_split_options_refuse_them(client, tmp_path, image_project, fmt, options, message):
    with pytest.raises(IncompatibleFormatError) as error:
        client.export_labels(image_project.project_id, tmp_path / "out.zip", fmt, **options)
    assert str(error.value) == message
    assert list(tmp_path.glob("*.zip")) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"dataset_root": "/data/street"},
            "dataset_root is written as data.yaml's path, next to its train, val and test folders, so it needs a "
            f"split: pass split too (e.g. split='{EXAMPLE}'), or leave dataset_root out.",
        ),
        (
            {"dataset_root": "data/street", "split": SPLIT},
            "dataset_root must be an absolute path, the folder where the archive will be unzipped (e.g. "
            "'/data/street'), not 'data/street'.",
        ),
    ],
)
def test_dataset_root_misuse_is_refused(client, tmp_path, image_project, options, message):
    with pytest.raises(ValidationError) as error:
        client.export_labels(image_project.project_id, tmp_path / "out.zip", "yolo_v8", **options)
    assert str(error.value) == message
    assert list(tmp_path.glob("*.zip")) == []


# -- report and CLI ----------------------------------------------------------------------------------------


def test_report_lines(client, tmp_path, image_project):
    report = client.export_labels(
        image_project.project_id, tmp_path / "out.zip", "coco", layout="merged", with_assets=False, split=QUARTERS
    )
    lines = str(report).splitlines()
    assert lines[3] == "  split (seed 0): train 2, val 1, test 1 assets"
    assert report.as_dict()["split"] == {"seed": 0, "stratified": False, "assets": {"train": 2, "val": 1, "test": 1}}
    plain = client.export_labels(image_project.project_id, tmp_path / "plain.zip", "coco", with_assets=False)
    assert plain.as_dict()["split"] is None and "split" not in str(plain)


def test_cli_split_round_trip(client, database_url, tmp_path, image_project):
    out = tmp_path / "out.zip"
    base = ["project", "export", "--project-id", image_project.project_id, "--db", database_url]
    result = CliRunner().invoke(
        main,
        [
            *base,
            "--output-format",
            "yolo_v8",
            "--output-file",
            str(out),
            "--without-assets",
            "--split",
            "train=0.5,val=0.25,test=0.25",
            "--split-seed",
            "0",
            "--dataset-root",
            "/data/street",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[3] == "  split (seed 0): train 2, val 1, test 1 assets"
    members = read_archive(out)
    assert label_splits(members) == {"img_1": "train", "img_2": "val", "folder/img_3": "test", "remote_4": "train"}
    assert yaml.safe_load(members["data.yaml"])["path"] == "/data/street"
    stratified_out = tmp_path / "stratified.zip"
    result = CliRunner().invoke(
        main,
        [
            *base,
            *("--output-format", "coco", "--output-file", str(stratified_out), "--without-assets"),
            *("--split", "train=0.5,val=0.5", "--split-stratify"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[3] == "  split (seed 0, stratified): train 2, val 2 assets"
    bad = CliRunner().invoke(
        main, [*base, "--output-format", "yolo_v8", "--output-file", str(tmp_path / "bad.zip"), "--split", "train=1"]
    )
    assert bad.exit_code == 1
    assert bad.output == (
        f"Error: split: 'val' is missing; train and val are both required (trainers need a validation set), e.g. {EXAMPLE}.\n"
    )
    assert not (tmp_path / "bad.zip").exists()


def test_split_sizes_are_the_largest_remainders():
    assert split_sizes([0.8, 0.1, 0.1], 30) == [24, 3, 3]
    assert split_sizes([0.7, 0.15, 0.15], 30) == [21, 5, 4]
    assert split_sizes([0.5, 0.5], 3) == [2, 1]
    assert split_sizes([0.6, 0.2, 0.2], 0) == [0, 0, 0]
    assert sum(split_sizes([0.33, 0.33, 0.34], 1001)) == 1001
