"""Pascal VOC exports: golden trees, globox re-reading, pixel boxes, refusals and the report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from globox import AnnotationSet
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

FILENAMES = {"img_1": "img_1.png", "img_2": "img_2.jpg", "folder/img_3": "folder/img_3.png", "remote_4": "remote_4.jpg"}
NO_RESOLUTION = (
    "no resolution: Pascal VOC needs the image size in pixels; set it with "
    "update_properties_in_assets(resolution_array=...)"
)


@pytest.fixture
def image_project(client, tmp_path):
    return build_image_project(client, tmp_path / "source")


def boxes_of(document: bytes) -> list[tuple[str, str, tuple[int, ...]]]:
    root = ET.fromstring(document)
    return [
        (
            item.findtext("name"),
            item.findtext("job_name"),
            tuple(int(item.findtext(f"bndbox/{tag}")) for tag in ("xmin", "ymin", "xmax", "ymax")),
        )
        for item in root.iter("object")
    ]


# -- golden trees -------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["merged", "split"])
def test_image_project_matches_golden(client, tmp_path, image_project, layout):
    path = tmp_path / "out.zip"
    export(client, image_project.project_id, path, "pascal_voc", layout=layout, with_assets=False)
    members = assert_matches_golden(path, f"pascal_voc/{layout}", normalizer(tmp_path))
    folders = {f"{job}/": [job] for job in JOBS} if layout == "split" else {"": list(JOBS)}
    for folder, jobs in folders.items():
        for stem in SIZES:
            expected = [(name, job, box) for job in jobs for name, box in EXPECTED_BOXES[stem][job]]
            assert boxes_of(members[f"{folder}labels/{stem}.xml"]) == expected


def test_video_project_matches_golden(client, tmp_path):
    built = build_video_project(client, tmp_path / "source")
    path = tmp_path / "out.zip"
    report = export(client, built.project_id, path, "pascal_voc", layout="merged", with_assets=False)
    members = assert_matches_golden(path, "pascal_voc/video_merged", normalizer(tmp_path))
    assert boxes_of(members["labels/clip_1.xml"]) == [("BALL", "TRACK", (12, 9, 24, 18))]
    assert boxes_of(members["labels/clip_2.xml"]) == []
    assert boxes_of(members["labels/clip_3.xml"]) == [
        ("BALL", "TRACK", (36, 27, 48, 36)),
        ("PLAYER", "TRACK", (60, 18, 108, 81)),
    ]
    assert ET.fromstring(members["labels/clip_3.xml"]).findtext("filename") == "clip_3.jpg"
    assert dict(report.annotations) == {"TRACK": 3} and report.skipped == []


def test_video_with_assets_copies_every_frame(client, tmp_path):
    built = build_video_project(client, tmp_path / "source")
    path = tmp_path / "out.zip"
    report = export(client, built.project_id, path, "pascal_voc", layout="split", with_assets=True)
    members = read_archive(path)
    frames = sorted((tmp_path / "source").glob("frame_*.jpg"))
    assert sorted(n for n in members if n.startswith("images/")) == [f"images/clip_{i}.jpg" for i in (1, 2, 3)]
    for index, frame in enumerate(frames, 1):
        assert members[f"images/clip_{index}.jpg"] == frame.read_bytes()
        assert ET.fromstring(members[f"TRACK/labels/clip_{index}.xml"]).findtext("path") == f"images/clip_{index}.jpg"
    assert report.files == 3 + 3 + 1


# -- independent reader -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["merged", "split"])
def test_globox_reads_the_boxes_back(client, tmp_path, image_project, layout):
    path = tmp_path / "out.zip"
    export(client, image_project.project_id, path, "pascal_voc", layout=layout, with_assets=False)
    root = extract(path, tmp_path / "extracted")
    folders = {job: [job] for job in JOBS} if layout == "split" else {"": list(JOBS)}
    for folder, jobs in folders.items():
        annotations = AnnotationSet.from_pascal_voc(root / folder / "labels", recursive=True)
        assert sorted(annotations.image_ids) == sorted(FILENAMES.values())
        for stem, filename in FILENAMES.items():
            annotation = annotations[filename]
            expected = [(name, box) for job in jobs for name, box in EXPECTED_BOXES[stem][job]]
            assert annotation.image_size == SIZES[stem]
            assert [box.label for box in annotation.boxes] == [name for name, _ in expected]
            for box, (_, pixels) in zip(annotation.boxes, expected, strict=True):
                assert box.ltrb == pytest.approx(pixels, abs=1.0)


# -- media --------------------------------------------------------------------------------------------


def test_with_assets_images_are_the_stored_bytes_and_match_filenames(client, tmp_path, image_project):
    path = tmp_path / "out.zip"
    report = export(client, image_project.project_id, path, "pascal_voc", layout="merged", with_assets=True)
    members = read_archive(path)
    for external_id, source in image_project.images.items():
        stem = external_id.replace(" ", "_").rsplit(".", 1)[0]
        document = ET.fromstring(members[f"labels/{stem}.xml"])
        assert document.findtext("folder") == "images"
        assert members[document.findtext("path")] == source.read_bytes()
        assert document.findtext("path") == f"images/{document.findtext('filename')}"
    assert sorted(n for n in members if n.startswith("images/")) == [
        "images/folder/img_3.png",
        "images/img_1.png",
        "images/img_2.jpg",
    ]
    assert [s.external_id for s in report.skipped] == ["img_1.png", "remote_4"]  # degenerate polygon; offline


# -- pixel boxes --------------------------------------------------------------------------------------


def test_rotated_label_gives_the_box_of_its_unrotated_equivalent(client, tmp_path, image_project):
    project_id = image_project.project_id
    client.append_many_to_dataset(
        project_id, content_array=[str(image_project.images["img_2.jpg"])], external_id_array=["img_2_plain"]
    )
    plain = {"BOXES": {"annotations": [shape("rectangle", "PERSON", rect(0.1, 0.7, 0.5, 0.9))]}}
    client.append_labels(project_id=project_id, asset_external_id_array=["img_2_plain"], json_response_array=[plain])
    path = tmp_path / "out.zip"
    export(client, project_id, path, "pascal_voc", layout="merged", with_assets=False)
    members = read_archive(path)
    assert boxes_of(members["labels/img_2.xml"]) == [("PERSON", "BOXES", (8, 112, 40, 144))]
    assert boxes_of(members["labels/img_2_plain.xml"]) == boxes_of(members["labels/img_2.xml"])


@pytest.mark.parametrize(
    ("rotation", "view"),
    [(0, (0.1, 0.7, 0.5, 0.9)), (90, (0.1, 0.1, 0.3, 0.5)), (180, (0.5, 0.1, 0.9, 0.3)), (270, (0.7, 0.5, 0.9, 0.9))],
)
def test_every_rotation_is_undone(tmp_path, rotation, view):
    response = {"JOB": {"annotations": [shape("rectangle", "B", rect(*view))]}, "ROTATION_JOB": {"rotation": rotation}}
    asset = make_asset("a", response, resolution=(80, 160))
    _, members = run_writer(tmp_path, "pascal_voc", od_interface(["rectangle"]), [asset], layout="merged")
    assert boxes_of(members["labels/a.xml"]) == [("B", "JOB", (8, 112, 40, 144))]


def test_boxes_are_rounded_to_the_nearest_pixel(tmp_path):
    # Kili's reference: x 0.0779–0.3389 and y 0.0943–0.4747 on 1920×1080 give 150, 102, 651, 513.
    response = {"JOB": {"annotations": [shape("rectangle", "A", rect(0.0779, 0.0943, 0.3389, 0.4747))]}}
    asset = make_asset("car_1", response, resolution=(1920, 1080))
    _, members = run_writer(tmp_path, "pascal_voc", od_interface(["rectangle"]), [asset], layout="merged")
    assert boxes_of(members["labels/car_1.xml"]) == [("A", "JOB", (150, 102, 651, 513))]


def test_outside_coordinates_are_clamped_and_tiny_boxes_skipped(tmp_path):
    annotations = [
        shape("rectangle", "A", vertices((-0.2, 0.5), (0.4, 1.3))),
        shape("rectangle", "A", vertices((0.101, 0.1), (0.104, 0.5))),
        shape("polygon", "B", vertices((0.1, 0.1), (0.5, 0.5))),
        {"mid": "m", "type": "marker", "categories": [{"name": "A"}], "point": {"x": 0.5, "y": 0.5}},
        shape("rectangle", "Z", rect(0.1, 0.1, 0.2, 0.2)),
    ]
    asset = make_asset("a", {"JOB": {"annotations": annotations}}, resolution=(100, 50))
    report, members = run_writer(
        tmp_path, "pascal_voc", od_interface(["rectangle", "polygon"]), [asset], layout="merged"
    )
    assert boxes_of(members["labels/a.xml"]) == [("A", "JOB", (0, 25, 40, 50))]
    assert [s.reason for s in report.skipped] == [
        "box less than one pixel wide or high (after rounding to whole pixels and clamping to the image)",
        "polygon with fewer than 3 vertices",
        "'marker' annotations cannot be written in Pascal VOC (rectangle, polygon and semantic only)",
        "category 'Z' is not a category of job 'JOB'",
    ]
    assert report.notes == ["job JOB: 1 annotation extended outside the image; their boxes were clamped to it"]


def test_xml_has_the_full_voc_element_set(client, tmp_path, image_project):
    path = tmp_path / "out.zip"
    export(client, image_project.project_id, path, "pascal_voc", layout="merged", with_assets=False)
    data = read_archive(path)["labels/remote_4.xml"]
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<annotation>\n  <folder>images</folder>\n")
    root = ET.fromstring(data)
    assert [child.tag for child in root] == ["folder", "filename", "path", "source", "size", "segmented", "object"]
    assert [child.tag for child in root.find("object")] == [
        "name",
        "job_name",
        "pose",
        "truncated",
        "difficult",
        "occluded",
        "bndbox",
    ]
    assert [child.tag for child in root.find("object/bndbox")] == ["xmin", "ymin", "xmax", "ymax"]
    assert (root.findtext("source/database"), root.findtext("size/depth"), root.findtext("segmented")) == (
        "labelport",
        "3",
        "0",
    )


# -- errors -------------------------------------------------------------------------------------------


def test_single_file_is_refused(client, tmp_path, image_project):
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, image_project.project_id, tmp_path / "out.zip", "pascal_voc", single_file=True)
    assert str(error.value) == (
        "Option single_file=True cannot be used with format 'pascal_voc': Pascal VOC writes one XML file per image "
        "or video frame. Use single_file=False (the default)."
    )


def test_normalized_coordinates_are_refused(client, tmp_path, image_project):
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, image_project.project_id, tmp_path / "out.zip", "pascal_voc", normalized_coordinates=True)
    assert str(error.value) == (
        "Option normalized_coordinates=True cannot be used with format 'pascal_voc': Pascal VOC boxes are in whole "
        "pixels. Use normalized_coordinates=None (the default) or False."
    )


def test_project_without_compatible_job_is_refused(client, tmp_path):
    interface = od_interface(["marker", "polyline"], name="POINTS")
    project_id = client.create_project("Points", "IMAGE", interface)["id"]
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, project_id, tmp_path / "out.zip", "pascal_voc", layout="merged")
    jobs = Ontology.from_json(interface).root_jobs
    able = sorted(
        n for n, spec in formats.all_specs().items() if "IMAGE" in spec.input_types and spec.compatible_jobs(jobs)
    )
    assert str(error.value) == (
        f"Project {project_id!r} has no job that format 'pascal_voc' can export (it needs an OBJECT_DETECTION job "
        "with a rectangle, polygon or semantic tool). Jobs: POINTS (OBJECT_DETECTION, marker/polyline). "
        f"Formats that can export this project: {', '.join(able)}."
    )
    assert "kili" in able and "pascal_voc" not in able


def test_asset_without_resolution_is_skipped(client, tmp_path, image_project):
    project_id = image_project.project_id
    client.append_many_to_dataset(
        project_id, content_array=["https://images.invalid/6.jpg"], external_id_array=["no_size"]
    )
    box = {"BOXES": {"annotations": [shape("rectangle", "CAR", rect(0.1, 0.1, 0.2, 0.2))]}}
    client.append_labels(project_id=project_id, asset_external_id_array=["no_size"], json_response_array=[box])
    path = tmp_path / "out.zip"
    report = export(client, project_id, path, "pascal_voc", layout="split", with_assets=False)
    assert not any("no_size" in name for name in read_archive(path))
    assert report.skipped[-1] == Skipped("no_size", None, NO_RESOLUTION)
    assert dict(report.annotations) == {"BOXES": 4, "REGIONS": 2, "MIXED": 2}


def test_a_job_with_another_tool_skips_those_annotations(client, tmp_path):
    interface = od_interface(["rectangle", "marker"])
    project_id = client.create_project("Boxes and points", "IMAGE", interface)["id"]
    client.append_many_to_dataset(
        project_id,
        content_array=["https://images.invalid/a.jpg"],
        external_id_array=["a.jpg"],
        resolution_array=[{"width": 100, "height": 100}],
    )
    marker = {"mid": "m", "type": "marker", "categories": [{"name": "B"}], "point": {"x": 0.5, "y": 0.5}}
    response = {"JOB": {"annotations": [shape("rectangle", "A", rect(0.1, 0.1, 0.2, 0.2)), marker]}}
    client.append_labels(project_id=project_id, asset_external_id_array=["a.jpg"], json_response_array=[response])
    path = tmp_path / "out.zip"
    report = export(client, project_id, path, "pascal_voc", layout="merged", with_assets=False)
    assert boxes_of(read_archive(path)["labels/a.xml"]) == [("A", "JOB", (10, 10, 20, 20))]
    assert report.skipped == [
        Skipped(
            "a.jpg",
            "JOB",
            "'marker' annotations cannot be written in Pascal VOC (rectangle, polygon and semantic only)",
        )
    ]


# -- report, determinism, names -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["merged", "split"])
def test_report_counts_and_notes(client, tmp_path, image_project, layout):
    report = export(client, image_project.project_id, tmp_path / "out.zip", "pascal_voc", layout=layout)
    assert dict(report.annotations) == {"BOXES": 4, "REGIONS": 2, "MIXED": 2}
    assert report.skipped[0] == Skipped("img_1.png", "REGIONS", "polygon with fewer than 3 vertices")
    assert report.notes == [
        "jobs not exported (Pascal VOC takes OBJECT_DETECTION jobs with a rectangle, polygon or semantic tool): "
        "KEYPOINTS (OBJECT_DETECTION, marker/polyline), WEATHER (CLASSIFICATION)",
        "job REGIONS: 2 polygons written as bounding boxes (Pascal VOC has boxes only)",
        "job MIXED: 1 polygon written as bounding boxes (Pascal VOC has boxes only)",
    ]
    documents = 4 * (3 if layout == "split" else 1)
    assert report.files == documents + 3 + 1  # 3 stored images (the URL one fails offline) and the README


def test_annotation_modifier_is_not_called(client, tmp_path, image_project):
    def modifier(annotation, image, kili_annotation):
        raise AssertionError("Pascal VOC must not call the COCO annotation_modifier")

    path = tmp_path / "out.zip"
    report = export(client, image_project.project_id, path, "pascal_voc", annotation_modifier=modifier)
    assert report.notes[0] == "annotation_modifier is a COCO option: pascal_voc does not call it"
    assert report.notes[1].startswith("jobs not exported (Pascal VOC takes OBJECT_DETECTION jobs")


def test_two_exports_are_identical(client, tmp_path, image_project):
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    for path in (first, second):
        export(client, image_project.project_id, path, "pascal_voc", layout="split", with_assets=False)
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
    export(client, project_id, path, "pascal_voc", layout="merged", with_assets=False, export_type="normal")
    members = read_archive(path)
    assert sorted(n for n in members if n.startswith("labels/")) == [
        "labels/folder/img_3.xml",
        "labels/img_1.xml",
        "labels/img_2_label1.xml",
        "labels/img_2_label2.xml",
        "labels/remote_4.xml",
    ]
    assert boxes_of(members["labels/img_2_label1.xml"]) == [("PERSON", "BOXES", (8, 112, 40, 144))]
    assert boxes_of(members["labels/img_2_label2.xml"]) == [("CAR", "BOXES", (0, 0, 40, 80))]


def test_video_without_frame_images_names_jpg_frames_and_reports_media(tmp_path):
    box = {"JOB": {"annotations": [shape("rectangle", "A", rect(0.1, 0.1, 0.2, 0.2))]}}
    asset = make_asset("clip", {"0": box, "10": {}}, resolution=(100, 100))
    report, members = run_writer(
        tmp_path, "pascal_voc", od_interface(["rectangle"]), [asset], "VIDEO", layout="merged", with_assets=True
    )
    assert sorted(members) == [f"labels/clip_{i:02d}.xml" for i in range(1, 12)]
    assert ET.fromstring(members["labels/clip_01.xml"]).findtext("filename") == "clip_01.jpg"
    assert report.skipped == [
        Skipped(
            "clip",
            None,
            "media not included: 11 frames without a stored image or URL (labelport does not cut video files into "
            "frames; import videos as frame lists)",
        )
    ]


def test_video_frames_use_the_frame_suffix(tmp_path):
    frames = [Frame(i, None, f"https://images.invalid/f{i}.png") for i in range(2)]
    asset = make_asset("clip", {"1": {}}, resolution=(100, 100), frames=frames)
    report, members = run_writer(tmp_path, "pascal_voc", od_interface(["rectangle"]), [asset], "VIDEO", layout="split")
    assert sorted(members) == ["JOB/labels/clip_1.xml", "JOB/labels/clip_2.xml"]
    assert ET.fromstring(members["JOB/labels/clip_2.xml"]).findtext("filename") == "clip_2.png"
    assert report.skipped == [] and report.files == 2


def _element_tree_document(folder: str, filename: str, size: tuple[int, int], objects: list) -> bytes:
    """The same document built and serialized by ElementTree: the independent reference."""

    def text(parent: ET.Element, tag: str, value: str) -> None:
        ET.SubElement(parent, tag).text = value

    root = ET.Element("annotation")
    text(root, "folder", folder)
    text(root, "filename", filename)
    text(root, "path", f"{folder}/{filename}")
    text(ET.SubElement(root, "source"), "database", "labelport")
    dimensions = ET.SubElement(root, "size")
    for tag, value in (("width", size[0]), ("height", size[1]), ("depth", 3)):
        text(dimensions, tag, str(value))
    text(root, "segmented", "0")
    for item in objects:
        element = ET.SubElement(root, "object")
        for tag, value in (("name", item.name), ("job_name", item.job), ("pose", "Unspecified")):
            text(element, tag, value)
        for tag in ("truncated", "difficult", "occluded"):
            text(element, tag, "0")
        box = ET.SubElement(element, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), item.box, strict=True):
            text(box, tag, str(value))
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    folder=_XML_TEXT,
    filename=_XML_TEXT,
    size=st.tuples(st.integers(1, 10**5), st.integers(1, 10**5)),
    objects=st.lists(st.tuples(_XML_TEXT, _XML_TEXT, st.tuples(*[st.integers(0, 10**5)] * 4)), max_size=4),
)
def test_documents_are_the_bytes_element_tree_writes(folder, filename, size, objects):
    from labelport.export.formats.pascal_voc import _document, _Object, _objects_text

    items = [_Object(name, job, box) for name, job, box in objects]
    written = _document(folder, filename, size, _objects_text(items))
    assert written == _element_tree_document(folder, filename, size, items)
