"""YOLO exports (yolo_v4, yolo_v5, yolo_v7, yolo_v8): golden trees, independent readers, training rules."""

from __future__ import annotations

import re

import orjson
import pytest
import yaml
from globox import Annotation
from hypothesis import given, settings
from hypothesis import strategies as st

from labelport.errors import IncompatibleFormatError
from labelport.export import formats
from labelport.export.model import Frame
from labelport.export.report import Skipped
from labelport.ontology import Ontology
from tests.export.projects import build_image_project, build_video_project
from tests.export.yolo_voc_helpers import (
    EXPECTED_BOXES,
    JOBS,
    SIZES,
    check_yolo_file,
    export,
    extract,
    label_members,
    make_asset,
    normalizer,
    od_interface,
    run_writer,
    shape,
    vertices,
)
from tests.factories import rect
from tests.golden import assert_matches_golden, read_archive

VERSIONS = ("yolo_v4", "yolo_v5", "yolo_v7", "yolo_v8")
NAMES = {"BOXES": ["CAR", "PERSON"], "REGIONS": ["ROAD", "SKY"], "MIXED": ["TREE", "SIGN"]}
MERGED_NAMES = [f"{job}/{key}" for job in JOBS for key in NAMES[job]]
STEMS = ("img_1", "img_2", "folder/img_3", "remote_4")
MIXING = (
    "rectangles written as 4-point polygons, because rectangles and polygons/semantic regions can meet in one "
    "label file and YOLO training code rejects files that mix box rows and segment rows"
)
UNEXPORTED = (
    "jobs not exported (YOLO takes OBJECT_DETECTION jobs whose tools are all among rectangle, polygon and semantic): "
    "KEYPOINTS (OBJECT_DETECTION, marker/polyline), WEATHER (CLASSIFICATION)"
)
HOLES = "job REGIONS: holes dropped from 1 region; a YOLO segment has one ring, so only the outer ring is written"


def class_names(members: dict[str, bytes], folder: str, fmt: str) -> list[str]:
    """The class names of one output folder, read back from classes.txt or data.yaml."""
    if fmt == "yolo_v4":
        lines = members[f"{folder}classes.txt"].decode().splitlines()
        assert [line.split(" ", 1)[0] for line in lines] == [str(i) for i in range(len(lines))]
        return [line.split(" ", 1)[1] for line in lines]
    data = yaml.safe_load(members[f"{folder}data.yaml"])
    if fmt == "yolo_v5":
        assert list(data) == ["names"] and list(data["names"]) == list(range(len(data["names"])))
        return list(data["names"].values())
    assert list(data) == ["nc", "names"] and data["nc"] == len(data["names"])
    return data["names"]


@pytest.fixture
def image_project(client, tmp_path):
    return build_image_project(client, tmp_path / "source")


# -- golden trees -------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["split", "merged"])
@pytest.mark.parametrize("fmt", VERSIONS)
def test_image_project_matches_golden(client, tmp_path, image_project, fmt, layout):
    path = tmp_path / "out.zip"
    export(client, image_project.project_id, path, fmt, layout=layout, with_assets=False)
    members = assert_matches_golden(path, f"{fmt}/{layout}", normalizer(tmp_path))
    folders = [f"{job}/" for job in JOBS] if layout == "split" else [""]
    for folder in folders:
        assert sorted(n for n in members if n.startswith(f"{folder}labels/")) == sorted(
            f"{folder}labels/{stem}.txt" for stem in STEMS
        )


def test_video_project_matches_golden(client, tmp_path):
    built = build_video_project(client, tmp_path / "source")
    path = tmp_path / "out.zip"
    report = export(client, built.project_id, path, "yolo_v5", layout="split", with_assets=False)
    members = assert_matches_golden(path, "yolo_v5/video_split", normalizer(tmp_path))
    assert members["TRACK/labels/clip_1.txt"] == b"0 0.150000 0.150000 0.100000 0.100000\n"
    assert "TRACK/labels/clip_2.txt" not in members  # frame 2 has no annotation
    assert orjson.loads(members["TRACK/video_meta.json"]) == {"clip": ["clip_1", "clip_3"]}
    assert dict(report.annotations) == {"TRACK": 3}
    assert report.skipped == []


def test_video_with_assets_copies_the_annotated_frames(client, tmp_path):
    built = build_video_project(client, tmp_path / "source")
    path = tmp_path / "out.zip"
    report = export(client, built.project_id, path, "yolo_v8", layout="merged", with_assets=True)
    members = read_archive(path)
    frames = sorted((tmp_path / "source").glob("frame_*.jpg"))
    assert sorted(members) == [
        "README.kili.txt",
        "data.yaml",
        "images/clip_1.jpg",
        "images/clip_3.jpg",
        "labels/clip_1.txt",
        "labels/clip_3.txt",
        "video_meta.json",
    ]
    assert members["images/clip_1.jpg"] == frames[0].read_bytes()
    assert members["images/clip_3.jpg"] == frames[2].read_bytes()
    assert report.files == 7 and report.skipped == []


# -- media --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["split", "merged"])
def test_with_assets_images_are_the_stored_bytes_and_pair_with_labels(client, tmp_path, image_project, layout):
    path = tmp_path / "out.zip"
    report = export(client, image_project.project_id, path, "yolo_v8", layout=layout, with_assets=True)
    members = read_archive(path)
    folders = [f"{job}/" for job in JOBS] if layout == "split" else [""]
    for folder in folders:  # with the media, each output folder holds its images (data.yaml points at them)
        images = {name[len(folder) :]: data for name, data in members.items() if name.startswith(f"{folder}images/")}
        assert sorted(images) == ["images/folder/img_3.png", "images/img_1.png", "images/img_2.jpg"]
        for external_id, source in image_project.images.items():
            stem = external_id.replace(" ", "_").rsplit(".", 1)[0]
            assert images[f"images/{stem}{source.suffix}"] == source.read_bytes()
        labels = sorted(
            n[len(folder) + len("labels/") : -len(".txt")] for n in members if n.startswith(f"{folder}labels/")
        )
        assert labels == sorted(STEMS)
    paired = sorted(name[len("images/") :].rsplit(".", 1)[0] for name in images)
    assert paired == sorted(set(STEMS) - {"remote_4"})  # the URL image cannot be downloaded offline
    assert [s.external_id for s in report.skipped] == ["img_1.png", "remote_4"]
    assert report.skipped[1].reason.startswith("media not included: download of https://images.invalid/remote_4.jpg")
    assert "images/remote_assets.csv" not in members


def test_without_assets_remote_assets_lists_every_label_file(client, tmp_path, image_project):
    path = tmp_path / "out.zip"
    export(client, image_project.project_id, path, "yolo_v4", layout="merged", with_assets=False)
    rows = read_archive(path)["images/remote_assets.csv"].decode().splitlines()
    media = tmp_path / "media"
    assert rows[0] == "external id,url,image file,label file"
    assert [row.split(",")[0] for row in rows[1:]] == ["img_1.png", "img_2.jpg", "folder/img 3.png", "remote_4"]
    assert [row.split(",", 2)[2] for row in rows[1:]] == [
        "images/img_1.png,labels/img_1.txt",
        "images/img_2.jpg,labels/img_2.txt",
        "images/folder/img_3.png,labels/folder/img_3.txt",
        "images/remote_4.jpg,labels/remote_4.txt",
    ]
    assert all(row.split(",")[1].startswith(str(media)) for row in rows[1:4])
    assert rows[4].split(",")[1] == "https://images.invalid/remote_4.jpg"


# -- independent readers and training rules -----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yolo_v5", "yolo_v7"])
def test_globox_reads_the_boxes_back(client, tmp_path, image_project, fmt):
    path = tmp_path / "out.zip"
    export(client, image_project.project_id, path, fmt, layout="split", with_assets=False)
    root = extract(path, tmp_path / "extracted")
    read = Annotation.from_yolo_v5 if fmt == "yolo_v5" else Annotation.from_yolo_v7
    for stem, size in SIZES.items():
        for job in JOBS:
            label_file = root / job / "labels" / f"{stem}.txt"
            if job == "BOXES":
                annotation = read(label_file, image_size=size)
            else:  # rows of these jobs are segments
                annotation = Annotation.from_yolo_seg(label_file, image_size=size)
            expected = EXPECTED_BOXES[stem][job]
            assert annotation.image_size == size
            assert [int(box.label) for box in annotation.boxes] == [NAMES[job].index(c) for c, _ in expected]
            for box, (_, pixels) in zip(annotation.boxes, expected, strict=True):
                assert box.ltrb == pytest.approx(pixels, abs=1.0)


@pytest.mark.parametrize("layout", ["split", "merged"])
@pytest.mark.parametrize("fmt", VERSIONS)
def test_every_file_passes_the_training_rules(client, tmp_path, image_project, fmt, layout):
    path = tmp_path / "out.zip"
    export(client, image_project.project_id, path, fmt, layout=layout, with_assets=False)
    members = read_archive(path)
    folders = {f"{job}/": [job] for job in JOBS} if layout == "split" else {"": list(JOBS)}
    for folder, jobs in folders.items():
        names = class_names(members, folder, fmt)
        expected_names = MERGED_NAMES if layout == "merged" else NAMES[jobs[0]]
        assert names == expected_names
        kinds = set()
        for name, data in members.items():
            if name.startswith(f"{folder}labels/"):
                kinds |= check_yolo_file(data.decode(), len(names))
        assert kinds == ({"box"} if jobs == ["BOXES"] or fmt == "yolo_v4" else {"segment"})


def test_merged_rows_come_job_by_job_in_ontology_order(client, tmp_path, image_project):
    path = tmp_path / "out.zip"
    export(client, image_project.project_id, path, "yolo_v8", layout="merged", with_assets=False)
    lines = read_archive(path)["labels/img_1.txt"].decode().splitlines()
    assert [int(line.split(" ", 1)[0]) for line in lines] == [0, 1, 2, 3, 4, 5]
    assert lines[0] == "0 0.100000 0.200000 0.500000 0.200000 0.500000 0.600000 0.100000 0.600000"
    assert lines[3] == "3 0.000000 0.000000 1.000000 0.000000 1.000000 0.400000 0.000000 0.400000"


# -- rotation -----------------------------------------------------------------------------------------


def test_rotated_label_gives_the_box_of_its_unrotated_equivalent(client, tmp_path, image_project):
    project_id = image_project.project_id
    client.append_many_to_dataset(
        project_id, content_array=[str(image_project.images["img_2.jpg"])], external_id_array=["img_2_plain"]
    )
    box = {"mid": "p", "type": "rectangle", "categories": [{"name": "PERSON"}]}
    plain = {"BOXES": {"annotations": [{**box, "boundingPoly": [{"normalizedVertices": rect(0.1, 0.7, 0.5, 0.9)}]}]}}
    client.append_labels(project_id=project_id, asset_external_id_array=["img_2_plain"], json_response_array=[plain])
    path = tmp_path / "out.zip"
    export(client, project_id, path, "yolo_v5", layout="split", with_assets=False)
    members = read_archive(path)
    assert members["BOXES/labels/img_2.txt"] == b"1 0.300000 0.800000 0.400000 0.200000\n"
    assert members["BOXES/labels/img_2_plain.txt"] == members["BOXES/labels/img_2.txt"]


@pytest.mark.parametrize(
    ("rotation", "view"),
    [(0, (0.1, 0.7, 0.5, 0.9)), (90, (0.1, 0.1, 0.3, 0.5)), (180, (0.5, 0.1, 0.9, 0.3)), (270, (0.7, 0.5, 0.9, 0.9))],
)
def test_every_rotation_is_undone(tmp_path, rotation, view):
    response = {"JOB": {"annotations": [shape("rectangle", "B", rect(*view))]}, "ROTATION_JOB": {"rotation": rotation}}
    _, members = run_writer(tmp_path, "yolo_v8", od_interface(["rectangle"]), [make_asset("a", response)])
    assert members["JOB/labels/a.txt"] == b"1 0.300000 0.800000 0.400000 0.200000\n"


# -- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", VERSIONS)
def test_single_file_is_refused(client, tmp_path, image_project, fmt):
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, image_project.project_id, tmp_path / "out.zip", fmt, single_file=True)
    assert str(error.value) == (
        f"Option single_file=True cannot be used with format {fmt!r}: YOLO writes one label file per image or video "
        "frame. Use single_file=False (the default)."
    )
    assert not (tmp_path / "out.zip").exists()


@pytest.mark.parametrize("fmt", VERSIONS)
def test_pixel_coordinates_are_refused(client, tmp_path, image_project, fmt):
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, image_project.project_id, tmp_path / "out.zip", fmt, normalized_coordinates=False)
    assert str(error.value) == (
        f"Option normalized_coordinates=False cannot be used with format {fmt!r}: YOLO coordinates are always "
        "normalized to [0, 1]. Use normalized_coordinates=None (the default) or True."
    )


def test_normalized_coordinates_true_is_accepted(client, tmp_path, image_project):
    report = export(client, image_project.project_id, tmp_path / "out.zip", "yolo_v8", normalized_coordinates=True)
    assert dict(report.annotations) == {"BOXES": 4, "REGIONS": 2, "MIXED": 2}


def test_project_without_compatible_job_is_refused(client, tmp_path):
    interface = od_interface(["marker"], name="POINTS")
    project_id = client.create_project("Points", "IMAGE", interface)["id"]
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, project_id, tmp_path / "out.zip", "yolo_v5")
    jobs = Ontology.from_json(interface).root_jobs
    able = sorted(
        n for n, spec in formats.all_specs().items() if "IMAGE" in spec.input_types and spec.compatible_jobs(jobs)
    )
    assert str(error.value) == (
        f"Project {project_id!r} has no job that format 'yolo_v5' can export (it needs an OBJECT_DETECTION job "
        "whose tools are all among rectangle, polygon and semantic). Jobs: POINTS (OBJECT_DETECTION, marker). "
        f"Formats that can export this project: {', '.join(able)}."
    )
    assert "kili" in able and not any(name.startswith(("yolo", "pascal")) for name in able)


def test_a_job_with_another_tool_is_not_exported(client, tmp_path):
    interface = od_interface(["rectangle"], name="BOXES")
    interface["jobs"]["POINTS"] = od_interface(["rectangle", "marker"], name="POINTS")["jobs"]["POINTS"]
    project_id = client.create_project("Two jobs", "IMAGE", interface)["id"]
    client.append_many_to_dataset(
        project_id, content_array=["https://images.invalid/a.jpg"], external_id_array=["a.jpg"]
    )
    response = {
        "BOXES": {"annotations": [shape("rectangle", "A", rect(0.1, 0.1, 0.2, 0.2))]},
        "POINTS": {"annotations": [shape("rectangle", "A", rect(0.1, 0.1, 0.2, 0.2))]},
    }
    client.append_labels(project_id=project_id, asset_external_id_array=["a.jpg"], json_response_array=[response])
    path = tmp_path / "out.zip"
    report = export(client, project_id, path, "yolo_v4", layout="split", with_assets=False)
    assert sorted(read_archive(path)) == [
        "BOXES/classes.txt",
        "BOXES/labels/a.txt",
        "README.kili.txt",
        "images/remote_assets.csv",
    ]
    assert dict(report.annotations) == {"BOXES": 1}


# -- report, determinism, names -----------------------------------------------------------------------


def test_report_counts_skips_and_notes_merged(client, tmp_path, image_project):
    report = export(client, image_project.project_id, tmp_path / "out.zip", "yolo_v8", layout="merged")
    assert dict(report.annotations) == {"BOXES": 4, "REGIONS": 2, "MIXED": 2}
    assert report.skipped[0] == Skipped("img_1.png", "REGIONS", "polygon with fewer than 3 vertices")
    assert report.notes == [UNEXPORTED, f"yolo_v8, merged layout (jobs BOXES, REGIONS, MIXED): {MIXING}", HOLES]
    assert (report.assets_exported, report.labels_exported, report.assets_without_labels) == (4, 4, 1)


def test_report_counts_skips_and_notes_split(client, tmp_path, image_project):
    report = export(client, image_project.project_id, tmp_path / "out.zip", "yolo_v4", with_assets=False)
    assert dict(report.annotations) == {"BOXES": 4, "REGIONS": 2, "MIXED": 2}
    assert report.skipped == [Skipped("img_1.png", "REGIONS", "polygon with fewer than 3 vertices")]
    assert report.notes == [UNEXPORTED, boxed("REGIONS", 2), boxed("MIXED", 1)]
    assert report.files == 3 * (4 + 1) + 1 + 1  # per job 4 labels + classes.txt; remote_assets.csv; README


def test_annotation_modifier_is_not_called(client, tmp_path, image_project):
    def modifier(annotation, image, kili_annotation):
        raise AssertionError("YOLO must not call the COCO annotation_modifier")

    report = export(client, image_project.project_id, tmp_path / "out.zip", "yolo_v5", annotation_modifier=modifier)
    assert report.notes[:2] == ["annotation_modifier is a COCO option: yolo_v5 does not call it", UNEXPORTED]


def test_two_exports_are_identical(client, tmp_path, image_project):
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    for path in (first, second):
        export(client, image_project.project_id, path, "yolo_v8", layout="merged", with_assets=False)
    assert label_members(read_archive(first)) == label_members(read_archive(second))


def test_normal_export_writes_one_file_per_label(client, tmp_path, image_project):
    project_id = image_project.project_id
    second = {"BOXES": {"annotations": [shape("rectangle", "CAR", rect(0.0, 0.0, 0.5, 0.5))]}}
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["img_2.jpg"],
        json_response_array=[second],
        created_at_array=["2024-06-01T10:00:00.000Z"],
    )
    path = tmp_path / "out.zip"
    export(client, project_id, path, "yolo_v5", layout="split", with_assets=False, export_type="normal")
    members = read_archive(path)
    assert sorted(n for n in members if n.startswith("BOXES/labels/")) == [
        "BOXES/labels/folder/img_3.txt",
        "BOXES/labels/img_1.txt",
        "BOXES/labels/img_2_label1.txt",
        "BOXES/labels/img_2_label2.txt",
        "BOXES/labels/remote_4.txt",
    ]
    assert members["BOXES/labels/img_2_label1.txt"] == b"1 0.300000 0.800000 0.400000 0.200000\n"
    assert members["BOXES/labels/img_2_label2.txt"] == b"0 0.250000 0.250000 0.500000 0.500000\n"


def test_colliding_names_get_distinct_files(tmp_path):
    box = {"JOB": {"annotations": [shape("rectangle", "A", rect(0.0, 0.0, 0.5, 0.5))]}}
    report, members = run_writer(
        tmp_path, "yolo_v8", od_interface(["rectangle"]), [make_asset("a.png", box), make_asset("a.jpg", {})]
    )
    assert members["JOB/labels/a.txt"] == b"0 0.250000 0.250000 0.500000 0.500000\n"
    assert members["JOB/labels/a__2.txt"] == b""
    assert report.renamed == [("a.jpg", "a__2")]


# -- shapes the API refuses to store (guards) ---------------------------------------------------------


def test_coordinates_outside_the_image_are_clamped_and_reported(tmp_path):
    response = {"JOB": {"annotations": [shape("rectangle", "A", vertices((-0.2, 0.5), (0.4, 1.3)))]}}
    report, members = run_writer(tmp_path, "yolo_v8", od_interface(["rectangle"]), [make_asset("a", response)])
    assert members["JOB/labels/a.txt"] == b"0 0.200000 0.750000 0.400000 0.500000\n"
    assert report.notes == [
        "job JOB: 1 annotation extended outside the image; their coordinates were clamped to [0, 1]"
    ]


def test_float_noise_is_clamped_silently(tmp_path):
    response = {
        "JOB": {"annotations": [shape("polygon", "A", vertices((0.0, -1e-12), (1.0000000001, 0.0), (0.5, 1.0)))]}
    }
    report, members = run_writer(tmp_path, "yolo_v8", od_interface(["polygon"]), [make_asset("a", response)])
    assert members["JOB/labels/a.txt"] == b"0 0.000000 0.000000 1.000000 0.000000 0.500000 1.000000\n"
    assert report.notes == []


def test_degenerate_and_foreign_shapes_are_skipped_with_a_reason(tmp_path):
    annotations = [
        shape("rectangle", "A", vertices((0.2, 0.2), (0.2, 0.6))),
        shape("rectangle", "A", vertices((1.2, 0.2), (1.5, 0.6))),
        shape("polygon", "A", vertices((0.1, 0.1), (0.5, 0.5), (0.9, 0.9))),
        {"mid": "m", "type": "marker", "categories": [{"name": "A"}], "point": {"x": 0.5, "y": 0.5}},
        {"mid": "n", "type": "rectangle", "categories": [{"name": "A"}]},
        shape("rectangle", "Z", rect(0.1, 0.1, 0.2, 0.2)),
        {**shape("rectangle", "A", rect(0.1, 0.1, 0.2, 0.2)), "categories": []},
        shape("polygon", "B", vertices((0.1, 0.1), (0.5, 0.1), (0.3, 0.4))),
    ]
    interface = od_interface(["rectangle", "polygon"])
    report, members = run_writer(
        tmp_path, "yolo_v8", interface, [make_asset("a", {"JOB": {"annotations": annotations}})]
    )
    assert members["JOB/labels/a.txt"] == b"1 0.100000 0.100000 0.500000 0.100000 0.300000 0.400000\n"
    assert [(s.job, s.reason) for s in report.skipped] == [
        ("JOB", "zero-size box (after clamping to the image)"),
        ("JOB", "zero-size box (after clamping to the image)"),
        ("JOB", "polygon with zero area (after clamping to the image)"),
        ("JOB", "'marker' annotations cannot be written in YOLO (rectangle, polygon and semantic only)"),
        ("JOB", "the annotation has no boundingPoly"),
        ("JOB", "category 'Z' is not a category of job 'JOB'"),
        ("JOB", "the annotation has no category"),
    ]
    assert dict(report.annotations) == {"JOB": 1}


def test_video_frames_are_named_after_the_frame_count(tmp_path):
    frames = [Frame(i, None, f"https://images.invalid/f{i}.png") for i in range(12)]
    box = {"JOB": {"annotations": [shape("rectangle", "A", rect(0.1, 0.1, 0.2, 0.2))]}}
    response = {"0": box, "9": {}, "11": box}
    report, members = run_writer(
        tmp_path, "yolo_v4", od_interface(["rectangle"]), [make_asset("clip", response, frames=frames)], "VIDEO"
    )
    assert sorted(n for n in members if "/labels/" in n) == ["JOB/labels/clip_01.txt", "JOB/labels/clip_12.txt"]
    assert orjson.loads(members["JOB/video_meta.json"]) == {"clip": ["clip_01", "clip_12"]}
    rows = members["images/remote_assets.csv"].decode().splitlines()
    assert rows[1:] == [
        "clip,https://images.invalid/f0.png,images/clip_01.png,JOB/labels/clip_01.txt",
        "clip,https://images.invalid/f11.png,images/clip_12.png,JOB/labels/clip_12.txt",
    ]
    assert report.skipped == []


def test_video_without_frame_images_reports_the_media_once(tmp_path):
    box = {"JOB": {"annotations": [shape("rectangle", "A", rect(0.1, 0.1, 0.2, 0.2))]}}
    assets = [make_asset("clip", {"0": box, "1": box, "2": {}}), make_asset("still", {"0": {}})]
    report, members = run_writer(
        tmp_path, "yolo_v7", od_interface(["rectangle"]), assets, "VIDEO", layout="merged", with_assets=True
    )
    assert sorted(members) == ["data.yaml", "labels/clip_1.txt", "labels/clip_2.txt", "video_meta.json"]
    assert orjson.loads(members["video_meta.json"]) == {"clip": ["clip_1", "clip_2"], "still": []}
    assert report.skipped == [
        Skipped(
            "clip",
            None,
            "media not included: 2 frames without a stored image or URL (labelport does not cut video files into "
            "frames; import videos as frame lists)",
        )
    ]


def _reference_values(shape, polygons_only):
    """The row values computed the plain way: clamp every vertex, compare, then take bounds."""
    from labelport.export import geometry

    points = [(geometry.clamp01(x), geometry.clamp01(y)) for x, y in shape.outer]
    tolerance = 0.5e-6
    clamped = any(
        abs(x - cx) > tolerance or abs(y - cy) > tolerance for (x, y), (cx, cy) in zip(shape.outer, points, strict=True)
    )
    if shape.tool == "rectangle":
        x0, y0, x1, y1 = geometry.bounds(points)
        if x1 - x0 < tolerance or y1 - y0 < tolerance:
            return "zero-size box (after clamping to the image)"
        values = [x0, y0, x1, y0, x1, y1, x0, y1] if polygons_only else [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]
        return values, clamped
    if len(points) < 3:
        return "polygon with fewer than 3 vertices"
    if geometry.polygon_area(points) < tolerance**2:
        return "polygon with zero area (after clamping to the image)"
    return [value for point in points for value in point], clamped


_EDGE = st.sampled_from([-0.0, 0.0, 1.0, -5e-7, 1 + 5e-7, -4e-7, 1 + 4e-7, -6e-7, 1 + 6e-7])
_COORD = st.one_of(st.floats(min_value=-0.5, max_value=1.5, allow_nan=False), _EDGE)


@settings(max_examples=500, deadline=None)
@given(
    outer=st.lists(st.tuples(_COORD, _COORD), min_size=1, max_size=6),
    tool=st.sampled_from(["rectangle", "polygon", "semantic"]),
    polygons_only=st.booleans(),
)
def test_row_values_equal_the_plain_computation(outer, tool, polygons_only):
    from labelport.export.detection import Shape
    from labelport.export.formats.yolo import _values

    result = _values(Shape(tool, outer, 0, ["A"]), polygons_only)
    expected = _reference_values(Shape(tool, outer, 0, ["A"]), polygons_only)
    if isinstance(expected, str):
        assert result == expected
    else:
        assert (result.values, result.clamped) == expected


# -- yolo_v4 is Darknet's format: boxes only ----------------------------------------------------------

_SCAN_INT = re.compile(r"\s*([+-]?\d+)")
_SCAN_FLOAT = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def darknet_read_boxes(text: str) -> list[tuple[int, float, float, float, float]]:
    """Darknet's ``read_boxes`` (src/data.c): ``while (fscanf(file, "%d %f %f %f %f", ...) == 5)``, a scanf
    over the file's characters that knows nothing of lines: an 8-value row is read as a box and the first
    values of the next one."""
    boxes = []
    position = 0
    while True:
        values: list[float] = []
        for pattern in (_SCAN_INT, _SCAN_FLOAT, _SCAN_FLOAT, _SCAN_FLOAT, _SCAN_FLOAT):
            match = pattern.match(text, position)
            if match is None:
                return boxes
            values.append(float(match.group(1)))
            position = match.end()
        boxes.append((int(values[0]), *values[1:]))


def test_the_darknet_reader_misreads_a_polygon_row():
    """The reader of the test is Darknet's: 2 rows of 8 values become 3 boxes and a lost value."""
    text = "0 0.1 0.2 0.5 0.2 0.5 0.6 0.1\n1 0.1 0.2 0.5 0.2 0.5 0.6 0.1\n"
    assert len(darknet_read_boxes(text)) == 3
    assert darknet_read_boxes("3 0.5 0.5 0.2 0.1\n0 0.1 0.1 0.1 0.1\n") == [
        (3, 0.5, 0.5, 0.2, 0.1),
        (0, 0.1, 0.1, 0.1, 0.1),
    ]


def boxed(job: str, count: int) -> str:
    return (
        f"yolo_v4, job {job}: {count} polygon{'s' if count > 1 else ''}/semantic region{'s' if count > 1 else ''} "
        f"written as {'their' if count > 1 else 'its'} bounding box{'es' if count > 1 else ''}: yolo_v4 is Darknet's "
        "format, whose label reader takes box rows only (5 values); use yolo_v8 for segments"
    )


@pytest.mark.parametrize("layout", ["split", "merged"])
def test_yolo_v4_writes_boxes_only_that_darknet_reads_as_drawn(client, tmp_path, image_project, layout):
    """Every yolo_v4 row has 5 values; polygons and semantic regions become their bounding boxes, which a
    reader parsing rows as Darknet does gets back as drawn."""
    path = tmp_path / "out.zip"
    report = export(client, image_project.project_id, path, "yolo_v4", layout=layout, with_assets=False)
    members = read_archive(path)
    files = {"": list(JOBS)} if layout == "merged" else {f"{job}/": [job] for job in JOBS}
    for folder, jobs in files.items():
        names = class_names(members, folder, "yolo_v4")
        for stem, (width, height) in SIZES.items():
            text = members[f"{folder}labels/{stem}.txt"].decode()
            assert all(len(line.split()) == 5 for line in text.splitlines()), text
            read = [
                (names[cls], ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height))
                for cls, cx, cy, w, h in darknet_read_boxes(text)
            ]
            expected = [
                (f"{job}/{category}" if layout == "merged" else category, box)
                for job in jobs
                for category, box in EXPECTED_BOXES[stem][job]
            ]
            assert [name for name, _ in read] == [name for name, _ in expected]
            for (_, drawn), (_, box) in zip(read, expected, strict=True):
                assert drawn == pytest.approx(box, abs=0.01)
    assert dict(report.annotations) == {"BOXES": 4, "REGIONS": 2, "MIXED": 2}
    assert report.notes == [UNEXPORTED, boxed("REGIONS", 2), boxed("MIXED", 1)]
