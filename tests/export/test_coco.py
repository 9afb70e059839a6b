"""The COCO export: golden archives, pycocotools as an independent reader, ids, media, errors and
the RLE rasterizer (checked against a per-pixel even-odd test written here)."""

from __future__ import annotations

import importlib
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_api
from pycocotools.coco import COCO

from labelport.errors import ExportError, IncompatibleFormatError
from labelport.export import formats, rle
from labelport.export.report import Skipped
from tests.export.projects import build_image_project, build_video_project, normalize_ids
from tests.factories import ImageFactory, rect
from tests.golden import assert_matches_golden, read_archive

# Load the whole registry before touching the COCO module: importing one format module directly
# would register it alone and stop the registry's lazy import of the others.
formats.all_specs()
coco = importlib.import_module("labelport.export.formats.coco")

#: pycocotools 2.0 decodes through an ``__array__`` that numpy 2 warns about; not our code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

_DATE = re.compile(rb'"date_created":"[^"]*"')
SPLIT_MEMBERS = ["BOXES/labels.json", "MIXED/labels.json", "README.kili.txt", "REGIONS/labels.json"]
IMAGE_COUNTS = Counter({"BOXES": 4, "REGIONS": 2, "MIXED": 2})
IMAGE_SKIPPED = [Skipped("img_1.png", "REGIONS", coco.FEW_VERTICES)]
IMAGE_NOTES = [
    "jobs not exported (COCO takes OBJECT_DETECTION jobs with rectangle, polygon or semantic tools): "
    "KEYPOINTS (OBJECT_DETECTION, marker/polyline), WEATHER (CLASSIFICATION)",
    "job REGIONS: regions with holes are written as uncompressed RLE masks (iscrowd 0), since a COCO polygon "
    "cannot hold a hole",
]


def normalize(name: str, data: bytes) -> bytes:
    return _DATE.sub(b'"date_created":"<date>"', normalize_ids(name, data))


def export(client: Any, project_id: str, path: Path, **options: Any) -> tuple[Any, dict[str, bytes]]:
    options.setdefault("with_assets", False)
    report = client.export_labels(project_id, path, "coco", **options)
    return report, read_archive(path)


def validate(folder: Path, name: str, data: bytes) -> dict[str, Any]:
    """Load a labels.json with pycocotools, decode every segmentation, and check ids and boxes."""
    doc = orjson.loads(data)
    path = folder / "validated" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    reader = COCO(str(path))
    images = {image["id"]: image for image in doc["images"]}
    categories = {category["id"] for category in doc["categories"]}
    assert [image["id"] for image in doc["images"]] == list(range(1, len(images) + 1))
    assert [category["id"] for category in doc["categories"]] == list(range(1, len(categories) + 1))
    assert [a["id"] for a in doc["annotations"]] == list(range(1, len(doc["annotations"]) + 1))
    for annotation in doc["annotations"]:
        image = images[annotation["image_id"]]
        assert annotation["category_id"] in categories
        assert annotation["iscrowd"] == 0
        x, y, w, h = annotation["bbox"]
        assert x >= 0 and y >= 0 and w > 0 and h > 0
        assert x + w <= image["width"] and y + h <= image["height"]
        decoded = reader.annToMask(reader.anns[annotation["id"]])
        assert decoded.shape == (image["height"], image["width"])
        assert decoded.sum() > 0
        if isinstance(annotation["segmentation"], dict):
            assert decoded.sum() == annotation["area"]
    return doc


def labels_of(members: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in members.items() if name.endswith("labels.json")}


@pytest.fixture
def image_project(client: Any, tmp_path: Path) -> Any:
    return build_image_project(client, tmp_path / "images")


@pytest.fixture
def video_project(client: Any, tmp_path: Path) -> Any:
    return build_video_project(client, tmp_path / "frames")


# -- golden archives -----------------------------------------------------------------------------------


def test_image_split_matches_golden_and_pycocotools(client, image_project, tmp_path):
    report, _ = export(client, image_project.project_id, tmp_path / "out.zip")

    members = assert_matches_golden(tmp_path / "out.zip", "coco/image_split", normalize)
    assert sorted(members) == SPLIT_MEMBERS
    docs = {name: validate(tmp_path, name, data) for name, data in labels_of(members).items()}
    assert [len(doc["annotations"]) for doc in docs.values()] == [4, 2, 2]
    assert report.annotations == IMAGE_COUNTS
    assert report.skipped == IMAGE_SKIPPED
    assert report.notes == IMAGE_NOTES
    assert (report.assets_exported, report.assets_without_labels, report.files) == (4, 1, 4)


def test_image_merged_matches_golden_and_the_sky_hole_is_empty(client, image_project, tmp_path):
    report, _ = export(client, image_project.project_id, tmp_path / "out.zip", layout="merged")

    members = assert_matches_golden(tmp_path / "out.zip", "coco/image_merged", normalize)
    assert sorted(members) == ["README.kili.txt", "labels.json"]
    doc = validate(tmp_path, "labels.json", members["labels.json"])
    assert report.annotations == IMAGE_COUNTS
    assert report.skipped == IMAGE_SKIPPED
    sky = next(a for a in doc["annotations"] if a["category_id"] == 4)
    reader = COCO(str(tmp_path / "validated" / "labels.json"))
    sky_mask = reader.annToMask(reader.anns[sky["id"]])
    # img_1 is 200×100: the sky is rows 0..39, the hole columns 80..119 × rows 10..29.
    assert sky["area"] == sky_mask.sum() == 200 * 40 - 40 * 20
    assert sky_mask[10:30, 80:120].sum() == 0
    assert sky_mask[:40, :].sum() + sky_mask[10:30, 80:120].size == 200 * 40
    assert sky_mask[40:, :].sum() == 0


def test_video_split_matches_golden(client, video_project, tmp_path):
    report, _ = export(client, video_project.project_id, tmp_path / "out.zip")

    members = assert_matches_golden(tmp_path / "out.zip", "coco/video_split", normalize)
    doc = validate(tmp_path, "TRACK/labels.json", members["TRACK/labels.json"])
    assert [image["file_name"] for image in doc["images"]] == ["data/clip_1.jpg", "data/clip_2.jpg", "data/clip_3.jpg"]
    assert [a["image_id"] for a in doc["annotations"]] == [1, 3, 3]
    assert report.annotations == Counter({"TRACK": 3})
    assert report.skipped == []


def test_video_merged_has_the_annotations_of_every_frame(client, video_project, tmp_path):
    report, _ = export(client, video_project.project_id, tmp_path / "out.zip", layout="merged")

    members = assert_matches_golden(tmp_path / "out.zip", "coco/video_merged", normalize)
    doc = validate(tmp_path, "labels.json", members["labels.json"])
    assert [(a["image_id"], a["category_id"]) for a in doc["annotations"]] == [(1, 1), (3, 1), (3, 2)]
    assert report.annotations == Counter({"TRACK": 3})


def test_single_file_is_the_merged_layout(client, image_project, tmp_path):
    _, merged = export(client, image_project.project_id, tmp_path / "merged.zip", layout="merged")
    _, single = export(client, image_project.project_id, tmp_path / "single.zip", single_file=True)

    assert sorted(single) == ["README.kili.txt", "labels.json"]
    assert normalize("labels.json", single["labels.json"]) == normalize("labels.json", merged["labels.json"])


# -- media ---------------------------------------------------------------------------------------------


def test_with_assets_copies_the_stored_images_byte_for_byte(client, image_project, tmp_path):
    report, members = export(client, image_project.project_id, tmp_path / "out.zip", with_assets=True)

    assert sorted(name for name in members if name.startswith("data/")) == [
        "data/folder/img_3.png",
        "data/img_1.png",
        "data/img_2.jpg",
    ]
    assert members["data/img_1.png"] == image_project.images["img_1.png"].read_bytes()
    assert members["data/img_2.jpg"] == image_project.images["img_2.jpg"].read_bytes()
    assert members["data/folder/img_3.png"] == image_project.images["folder/img 3.png"].read_bytes()
    # the URL asset cannot be downloaded offline: reported, and still listed under the name it would have
    download = [item for item in report.skipped if item.job is None]
    assert [item.external_id for item in download] == ["remote_4"]
    assert download[0].reason.startswith("media not included: download of https://images.invalid/remote_4.jpg")
    doc = orjson.loads(members["BOXES/labels.json"])
    assert [image["file_name"] for image in doc["images"]] == [
        "data/img_1.png",
        "data/img_2.jpg",
        "data/folder/img_3.png",
        "data/remote_4.jpg",
    ]
    assert report.files == 4 + 3


def test_with_assets_copies_the_video_frames(client, video_project, tmp_path):
    _, members = export(client, video_project.project_id, tmp_path / "out.zip", with_assets=True)

    frames = [tmp_path / "frames" / f"frame_{index}.jpg" for index in range(3)]
    assert [members[f"data/clip_{index + 1}.jpg"] for index in range(3)] == [f.read_bytes() for f in frames]


def test_frame_numbers_are_padded_to_the_frame_count(client, tmp_path):
    project_id = client.create_project("Long", "VIDEO", {"jobs": {"TRACK": _job(["rectangle"], ["BALL"])}})["id"]
    frames = [ImageFactory(tmp_path / "long").make(f"f{i}.jpg", 20, 10) for i in range(10)]
    client.append_many_to_dataset(project_id, json_content_array=[[str(f) for f in frames]], external_id_array=["v"])
    response = {"9": {"TRACK": {"annotations": [_rectangle("BALL", 0.5, 0.5, 1.0, 1.0)]}}}
    client.append_labels(project_id=project_id, asset_external_id_array=["v"], json_response_array=[response])

    _, members = export(client, project_id, tmp_path / "out.zip")

    doc = orjson.loads(members["TRACK/labels.json"])
    assert [image["file_name"] for image in doc["images"]] == [f"data/v_{n:02d}.jpg" for n in range(1, 11)]
    assert [(a["image_id"], a["bbox"]) for a in doc["annotations"]] == [(10, [10.0, 5.0, 10.0, 5.0])]


def test_annotations_of_a_frame_beyond_the_video_are_reported(client, video_project, tmp_path):
    beyond = {"7": {"TRACK": {"annotations": [_rectangle("BALL", 0.1, 0.1, 0.2, 0.2)]}}}
    client.append_labels(
        project_id=video_project.project_id, asset_external_id_array=["clip"], json_response_array=[beyond]
    )

    report, members = export(client, video_project.project_id, tmp_path / "out.zip")

    doc = orjson.loads(members["TRACK/labels.json"])
    assert (len(doc["images"]), doc["annotations"]) == (3, [])
    assert report.skipped == [Skipped("clip", "TRACK", coco.frame_beyond(3))]
    assert report.annotations == Counter()


def test_colliding_and_unsafe_names_keep_their_extension_and_are_reported(client, tmp_path):
    project_id = client.create_project("Names", "IMAGE", {"jobs": {"PINS": _job(["rectangle"], ["POLE"])}})["id"]
    factory = ImageFactory(tmp_path / "names")
    external_ids = ["a b.png", "a_b.png", "A_B.PNG", "x:y.png"]
    files = [factory.make(f"{index}.png", 8, 8) for index in range(len(external_ids))]
    client.append_many_to_dataset(project_id, content_array=[str(f) for f in files], external_id_array=external_ids)
    client.append_labels(
        project_id=project_id, asset_external_id_array=external_ids, json_response_array=[{}] * len(external_ids)
    )

    report, members = export(client, project_id, tmp_path / "out.zip", with_assets=True)

    doc = orjson.loads(members["PINS/labels.json"])
    names = ["data/a_b.png", "data/a_b__2.png", "data/A_B__3.PNG", "data/x_y.png"]
    assert [image["file_name"] for image in doc["images"]] == names
    assert [members[name] for name in names] == [f.read_bytes() for f in files]
    assert report.renamed == [
        ("a_b.png", "data/a_b__2.png"),
        ("A_B.PNG", "data/A_B__3.PNG"),
        ("x:y.png", "data/x_y.png"),
    ]


# -- ids -----------------------------------------------------------------------------------------------


def test_category_ids_come_from_the_ontology_not_from_the_labels(client, image_project, tmp_path):
    _, before = export(client, image_project.project_id, tmp_path / "before.zip", layout="merged")
    sky_only = {"REGIONS": {"annotations": [_polygon("SKY", [(0.0, 0.0), (1.0, 0.0), (0.5, 0.5)])]}}
    client.append_labels(
        project_id=image_project.project_id, asset_external_id_array=["img_1.png"], json_response_array=[sky_only]
    )

    _, after = export(client, image_project.project_id, tmp_path / "after.zip", layout="merged")
    _, subset = export(client, image_project.project_id, tmp_path / "subset.zip", external_ids=["img_2.jpg"])

    first, second = orjson.loads(before["labels.json"]), orjson.loads(after["labels.json"])
    assert second["categories"] == first["categories"]
    assert [(a["image_id"], a["category_id"]) for a in second["annotations"] if a["image_id"] == 1] == [(1, 4)]
    boxes = orjson.loads(subset["BOXES/labels.json"])
    assert boxes["categories"] == [
        {"id": 1, "name": "CAR", "supercategory": "BOXES"},
        {"id": 2, "name": "PERSON", "supercategory": "BOXES"},
    ]
    assert [a["category_id"] for a in boxes["annotations"]] == [2]


def test_two_exports_are_identical_but_for_the_date(client, image_project, tmp_path):
    for layout in ("split", "merged"):
        _, first = export(client, image_project.project_id, tmp_path / f"{layout}1.zip", layout=layout)
        _, second = export(client, image_project.project_id, tmp_path / f"{layout}2.zip", layout=layout)
        assert labels_of(first).keys() == labels_of(second).keys()
        for name, data in labels_of(first).items():
            assert _DATE.sub(b"", data) == _DATE.sub(b"", second[name])
            assert len(_DATE.findall(data)) == 1


def test_export_type_normal_writes_one_image_per_label(client, image_project, tmp_path):
    second = {"BOXES": {"annotations": [_rectangle("CAR", 0.0, 0.0, 0.5, 0.25)]}}
    client.append_labels(
        project_id=image_project.project_id,
        asset_external_id_array=["img_2.jpg"],
        json_response_array=[second],
        created_at_array=["2024-06-01T10:00:00.000Z"],
    )

    report, members = export(
        client, image_project.project_id, tmp_path / "out.zip", export_type="normal", external_ids=["img_2.jpg"]
    )

    doc = validate(tmp_path, "BOXES/labels.json", members["BOXES/labels.json"])
    assert doc["images"] == [
        {"id": 1, "file_name": "data/img_2_label1.jpg", "width": 80, "height": 160},
        {"id": 2, "file_name": "data/img_2_label2.jpg", "width": 80, "height": 160},
    ]
    assert [(a["id"], a["image_id"], a["category_id"], a["bbox"]) for a in doc["annotations"]] == [
        (1, 1, 2, [8.0, 112.0, 32.0, 32.0]),
        (2, 2, 1, [0.0, 0.0, 40.0, 40.0]),
    ]
    assert doc["info"]["year"] == 2024
    assert (report.assets_exported, report.labels_exported, report.renamed) == (2, 2, [])


# -- shapes, skips and errors --------------------------------------------------------------------------


def _job(tools: list[str], categories: list[str]) -> dict[str, Any]:
    return {
        "mlTask": "OBJECT_DETECTION",
        "tools": tools,
        "instruction": "",
        "required": 0,
        "isChild": False,
        "content": {"input": "radio", "categories": {key: {"name": key.title()} for key in categories}},
    }


def _rectangle(category: str, x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {
        "type": "rectangle",
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": rect(x0, y0, x1, y1)}],
    }


def _polygon(category: str, points: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "type": "polygon",
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": [{"x": x, "y": y} for x, y in points]}],
    }


SHAPES_INTERFACE = {
    "jobs": {"OUTLINES": _job(["polygon"], ["LAKE", "FIELD"]), "PINS": _job(["rectangle", "marker"], ["POLE"])}
}
SHAPES_LABEL = {
    "OUTLINES": {
        "annotations": [
            _polygon("FIELD", [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]),
            _polygon("LAKE", [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0)]),
        ]
    },
    "PINS": {
        "annotations": [
            {"type": "marker", "categories": [{"name": "POLE"}], "point": {"x": 0.5, "y": 0.5}},
            _rectangle("POLE", 0.3, 0.2, 0.3, 0.6),
            _rectangle("POLE", 0.1, 0.2, 0.3, 0.6),
        ]
    },
    "ROTATION_JOB": {"rotation": 270},
}


def _shapes_project(client: Any, folder: Path) -> str:
    """A polygon-only job and a rectangle+marker job; a 100×50 image and a URL without resolution."""
    project_id = client.create_project("Shapes", "IMAGE", SHAPES_INTERFACE)["id"]
    image = ImageFactory(folder).make("shapes.png", 100, 50)
    client.append_many_to_dataset(
        project_id, content_array=[str(image), "https://images.invalid/n.jpg"], external_id_array=["shapes", "no_size"]
    )
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["shapes", "no_size"],
        json_response_array=[SHAPES_LABEL, {"PINS": {"annotations": [_rectangle("POLE", 0.1, 0.1, 0.2, 0.2)]}}],
        created_at_array=["2023-01-01T00:00:00.000Z", "2023-01-02T00:00:00.000Z"],
    )
    return project_id


def test_polygon_only_jobs_markers_degenerate_shapes_and_missing_resolution(client, tmp_path):
    project_id = _shapes_project(client, tmp_path / "shapes")

    report, members = export(client, project_id, tmp_path / "out.zip", normalized_coordinates=False)

    assert sorted(labels_of(members)) == ["OUTLINES/labels.json", "PINS/labels.json"]
    outlines = validate(tmp_path, "OUTLINES/labels.json", members["OUTLINES/labels.json"])
    pins = validate(tmp_path, "PINS/labels.json", members["PINS/labels.json"])
    assert outlines["images"] == [{"id": 1, "file_name": "data/shapes.png", "width": 100, "height": 50}]
    # rotation 270 undone: (x, y) → (1 − y, x)
    assert [(a["category_id"], a["segmentation"], a["area"], a["bbox"]) for a in outlines["annotations"]] == [
        (1, [[100.0, 0.0, 100.0, 25.0, 0.0, 25.0]], 1250.0, [0.0, 0.0, 100.0, 25.0])
    ]
    assert [(a["segmentation"], a["area"], a["bbox"]) for a in pins["annotations"]] == [
        ([[40.0, 5.0, 80.0, 5.0, 80.0, 15.0, 40.0, 15.0]], 400.0, [40.0, 5.0, 40.0, 10.0])
    ]
    assert report.annotations == Counter({"OUTLINES": 1, "PINS": 1})
    assert report.skipped == [
        Skipped("shapes", "OUTLINES", coco.ZERO_POLYGON),
        Skipped("shapes", "PINS", coco.unsupported("marker")),
        Skipped("shapes", "PINS", coco.ZERO_BOX),
        Skipped("no_size", None, coco.NO_RESOLUTION),
    ]
    assert outlines["info"]["year"] == 2023


def test_strict_export_names_the_asset_without_resolution(client, tmp_path):
    project_id = _shapes_project(client, tmp_path / "shapes")

    with pytest.raises(ExportError) as raised:
        export(client, project_id, tmp_path / "out.zip", external_ids=["no_size"], strict=True)

    assert str(raised.value) == f"Asset 'no_size': {coco.NO_RESOLUTION} (strict export: nothing was written)."
    assert not (tmp_path / "out.zip").exists()


def test_normalized_coordinates_are_refused(client, image_project, tmp_path):
    with pytest.raises(IncompatibleFormatError) as raised:
        export(client, image_project.project_id, tmp_path / "out.zip", normalized_coordinates=True)

    assert str(raised.value) == (
        "Option normalized_coordinates=True cannot be used with format 'coco': COCO coordinates are in pixels. "
        "Use normalized_coordinates=None (the default) or False."
    )
    assert not (tmp_path / "out.zip").exists()


def test_a_project_without_a_compatible_job_is_refused(client, tmp_path):
    interface = {"jobs": {"PINS": _job(["marker"], ["POLE"])}}
    project_id = client.create_project("Pins", "IMAGE", interface)["id"]

    with pytest.raises(IncompatibleFormatError) as raised:
        export(client, project_id, tmp_path / "out.zip")

    assert str(raised.value).startswith(
        f"Project {project_id!r} has no job that format 'coco' can export (it needs an OBJECT_DETECTION job with "
        "rectangle, polygon or semantic tools). Jobs: PINS (OBJECT_DETECTION, marker). Formats that can export"
    )


def test_annotation_modifier_replaces_annotations_but_not_their_ids(client, image_project, tmp_path):
    def modifier(annotation: dict[str, Any], image: dict[str, Any], kili: dict[str, Any]) -> dict[str, Any] | None:
        if kili["categories"][0]["name"] == "PERSON":
            return None
        return {**annotation, "id": 99, "image_id": 99, "attributes": {"mid": kili["mid"], "file": image["file_name"]}}

    report, members = export(client, image_project.project_id, tmp_path / "out.zip", annotation_modifier=modifier)

    doc = validate(tmp_path, "BOXES/labels.json", members["BOXES/labels.json"])
    assert [(a["id"], a["image_id"], a["attributes"]) for a in doc["annotations"]] == [
        (1, 1, {"mid": "car-1", "file": "data/img_1.png"}),
        (2, 4, {"mid": "car-4", "file": "data/remote_4.jpg"}),
    ]
    assert report.annotations == Counter({"BOXES": 2, "REGIONS": 2, "MIXED": 2})
    assert [item for item in report.skipped if item.reason == coco.DROPPED] == [
        Skipped("img_1.png", "BOXES", coco.DROPPED),
        Skipped("img_2.jpg", "BOXES", coco.DROPPED),
    ]


def test_an_annotation_modifier_that_returns_no_dict_is_an_error(client, image_project, tmp_path):
    with pytest.raises(ExportError) as raised:
        export(client, image_project.project_id, tmp_path / "out.zip", annotation_modifier=lambda a, i, k: [a])

    assert str(raised.value) == (
        "Asset 'img_1.png', job 'BOXES': annotation_modifier returned a list; it must return the COCO "
        "annotation as a dict (or None to drop it)."
    )


def test_streamed_members_are_valid_zip_entries(client, image_project, tmp_path):
    export(client, image_project.project_id, tmp_path / "out.zip")

    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert archive.testzip() is None
        assert [info.filename for info in archive.infolist()] == [
            "BOXES/labels.json",
            "REGIONS/labels.json",
            "MIXED/labels.json",
            "README.kili.txt",
        ]


# -- the rasterizer ------------------------------------------------------------------------------------


def even_odd_mask(rings: list[list[tuple[float, float]]], width: int, height: int) -> np.ndarray:
    """Pixel by pixel: the centre is inside when an odd number of edges cross its column strictly above it."""
    mask = np.zeros((height, width), dtype=np.uint8)
    for y in range(height):
        for x in range(width):
            cx, cy = x + 0.5, y + 0.5
            inside = False
            for ring in rings:
                for index in range(len(ring)):
                    (xa, ya), (xb, yb) = ring[index], ring[(index + 1) % len(ring)]
                    if (xa <= cx) != (xb <= cx) and ya + (cx - xa) * ((yb - ya) / (xb - xa)) < cy:
                        inside = not inside
            mask[y, x] = inside
    return mask


def decode(counts: list[int], width: int, height: int) -> np.ndarray:
    return mask_api.decode(mask_api.frPyObjects({"size": [height, width], "counts": counts}, height, width))


@st.composite
def regions(draw: st.DrawFn) -> tuple[int, int, list[list[tuple[float, float]]]]:
    width, height = draw(st.integers(1, 20)), draw(st.integers(1, 20))

    def coordinate(limit: int) -> float:
        on_grid = st.integers(-4, 4 * limit + 4).map(lambda value: value / 4)  # edges through pixel centres
        anywhere = st.floats(-1.0, limit + 1.0, allow_nan=False, allow_infinity=False)
        return draw(st.one_of(on_grid, anywhere))

    rings = [
        [(coordinate(width), coordinate(height)) for _ in range(draw(st.integers(3, 7)))]
        for _ in range(draw(st.integers(1, 3)))
    ]
    return width, height, rings


@settings(max_examples=300, deadline=None)
@given(regions())
def test_rasterizer_equals_the_per_pixel_even_odd_rule(region):
    width, height, rings = region

    counts, area = rle.rle_counts(rings, width, height)

    expected = even_odd_mask(rings, width, height)
    assert sum(counts) == width * height
    assert all(count > 0 for count in counts[1:])  # canonical RLE: only the first run may be empty
    assert np.array_equal(decode(counts, width, height), expected)
    assert area == int(expected.sum())


def test_rasterizer_on_known_shapes():
    square_with_hole = [
        [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)],
        [(1.0, 1.0), (3.0, 1.0), (3.0, 3.0), (1.0, 3.0)],
    ]
    assert rle.rle_counts(square_with_hole, 4, 4) == ([0, 5, 2, 2, 2, 5], 12)
    assert rle.rle_counts([[(0.0, 0.0), (3.0, 0.0), (3.0, 2.0)]], 3, 2) == ([2, 1, 1, 2], 3)
    assert rle.rle_counts([[(0.6, 0.6), (0.9, 0.6), (0.9, 0.9)]], 2, 2) == ([4], 0)


_COORDINATE = st.floats(min_value=-0.5, max_value=1.5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    vertices=st.lists(st.fixed_dictionaries({"x": _COORDINATE, "y": _COORDINATE}), min_size=1, max_size=6),
    rotation=st.sampled_from([0, 90, 180, 270]),
    size=st.tuples(st.integers(1, 5000), st.integers(1, 5000)),
)
def test_rectangles_from_their_extremes_equal_the_rounded_ring(vertices, rotation, size):
    """The rectangle fast path rounds 4 extremes; the general path rounds every vertex, then takes bounds."""
    coco = importlib.import_module("labelport.export.formats.coco")
    fast = coco._rectangle(vertices, rotation, size)
    ring = coco._pixel_ring(vertices, rotation, size)
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    if x1 <= x0 or y1 <= y0:
        assert fast.reason == coco.ZERO_BOX
        return
    width, height = coco._pixel(x1 - x0), coco._pixel(y1 - y0)
    assert fast.segmentation == [[x0, y0, x1, y0, x1, y1, x0, y1]]
    assert fast.bbox == [x0, y0, width, height]
    assert fast.area == coco._pixel(width * height)


_HALF_STEPS = st.integers(-(10**8), 10**8).map(lambda k: k / 200)  # exact ties and their neighbours in decimal
_NEAR_TIES = st.tuples(_HALF_STEPS, st.integers(-3, 3)).map(
    lambda pair: pair[0] + pair[1] * 5e-17 * max(1, abs(pair[0]))
)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.floats(min_value=-1e7, max_value=1e7, allow_nan=False), _HALF_STEPS, _NEAR_TIES, st.floats()))
def test_pixel_rounding_is_round_to_two_decimals_bit_for_bit(value):
    coco = importlib.import_module("labelport.export.formats.coco")
    if value != value or value in (float("inf"), float("-inf")):
        return
    expected = round(value, 2) + 0.0
    assert coco._pixel(value) == expected and str(coco._pixel(value)) == str(expected)
