"""The Kili format: golden trees on image, video, text and PDF projects built through the API."""

from __future__ import annotations

import orjson
import pytest

from tests.export import projects
from tests.golden import assert_matches_golden, read_archive


def normalizer(client):
    media = str(client.store.media_dir).encode()

    def normalize(name: str, data: bytes) -> bytes:
        return projects.normalize_ids(name, data.replace(media, b"<media>"))

    return normalize


@pytest.fixture
def image(client, tmp_path):
    return projects.build_image_project(client, tmp_path / "images")


def test_one_file_per_asset_normalized(client, image, tmp_path):
    report = client.export_labels(image.project_id, tmp_path / "out.zip", "kili", with_assets=False)
    members = assert_matches_golden(tmp_path / "out.zip", "kili/image_per_asset", normalizer(client))
    assert sorted(members) == [
        "README.kili.txt",
        "labels/folder/img_3.png.json",
        "labels/img_1.png.json",
        "labels/img_2.jpg.json",
        "labels/remote_4.json",
    ]
    assert (report.assets_matched, report.assets_exported, report.assets_without_labels, report.labels_exported) == (
        5,
        4,
        1,
        4,
    )
    assert report.skipped == [] and report.files == 5
    assert dict(report.annotations) == {"BOXES": 4, "REGIONS": 3, "MIXED": 2, "KEYPOINTS": 2, "WEATHER": 1}
    # the ROTATION_JOB of img_2 is undone and removed: the box drawn on the turned view comes back
    label = orjson.loads(members["labels/img_2.jpg.json"])["latestLabel"]["jsonResponse"]
    assert "ROTATION_JOB" not in label
    xs = sorted({v["x"] for v in label["BOXES"]["annotations"][0]["boundingPoly"][0]["normalizedVertices"]})
    ys = sorted({v["y"] for v in label["BOXES"]["annotations"][0]["boundingPoly"][0]["normalizedVertices"]})
    assert xs == pytest.approx([0.1, 0.5]) and ys == pytest.approx([0.7, 0.9])


def test_pixel_coordinates(client, image, tmp_path):
    report = client.export_labels(
        image.project_id, tmp_path / "out.zip", "kili", with_assets=False, normalized_coordinates=False
    )
    members = assert_matches_golden(tmp_path / "out.zip", "kili/image_pixels", normalizer(client))
    car = orjson.loads(members["labels/img_1.png.json"])["latestLabel"]["jsonResponse"]["BOXES"]["annotations"][0]
    assert car["boundingPoly"][0]["vertices"] == [
        {"x": 20.0, "y": 60.0},
        {"x": 20.0, "y": 20.0},
        {"x": 100.0, "y": 20.0},
        {"x": 100.0, "y": 60.0},
    ]
    key = orjson.loads(members["labels/img_1.png.json"])["latestLabel"]["jsonResponse"]["KEYPOINTS"]["annotations"]
    assert key[0]["pointPixels"] == {"x": 50.0, "y": 75.0}
    assert key[1]["polylinePixels"] == [{"x": 20.0, "y": 10.0}, {"x": 40.0, "y": 30.0}, {"x": 80.0, "y": 20.0}]
    assert report.skipped == []


def test_single_file(client, image, tmp_path):
    client.export_labels(image.project_id, tmp_path / "out.zip", "kili", single_file=True, with_assets=False)
    members = assert_matches_golden(tmp_path / "out.zip", "kili/image_single_file", normalizer(client))
    assets = orjson.loads(members["data.json"])
    assert [a["externalId"] for a in assets] == ["img_1.png", "img_2.jpg", "folder/img 3.png", "remote_4"]
    separate = read_archive_of(client, image.project_id, tmp_path)
    assert assets == [
        orjson.loads(separate[f"labels/{name}.json"])
        for name in ("img_1.png", "img_2.jpg", "folder/img_3.png", "remote_4")
    ]


def read_archive_of(client, project_id, tmp_path):
    client.export_labels(project_id, tmp_path / "separate.zip", "kili", with_assets=False)
    return read_archive(tmp_path / "separate.zip")


def test_with_assets_copies_the_stored_bytes(client, image, tmp_path):
    report = client.export_labels(image.project_id, tmp_path / "out.zip", "raw")
    members = read_archive(tmp_path / "out.zip")
    assert members["assets/img_1.png"] == image.images["img_1.png"].read_bytes()
    assert members["assets/img_2.jpg"] == image.images["img_2.jpg"].read_bytes()
    assert members["assets/folder/img_3.png"] == image.images["folder/img 3.png"].read_bytes()
    assert orjson.loads(members["labels/img_1.png.json"])["content"] == "assets/img_1.png"
    # the URL asset cannot be downloaded offline: reported, its label still exported with the URL
    assert [(s.external_id, s.reason.split(" (")[0]) for s in report.skipped] == [
        ("remote_4", "media not included: download of https://images.invalid/remote_4.jpg failed")
    ]
    assert orjson.loads(members["labels/remote_4.json"])["content"] == "https://images.invalid/remote_4.jpg"


def test_all_labels_with_normal_export(client, image, tmp_path):
    bob = client.create_user("bob@example.com", firstname="Bob")["id"]
    client.append_labels(
        project_id=image.project_id,
        asset_external_id_array=["img_2.jpg"],
        json_response_array=[{}],
        author_id_array=[bob],
        label_type="REVIEW",
        created_at_array=["2024-06-01T00:00:00.000Z"],
    )
    client.export_labels(image.project_id, tmp_path / "out.zip", "kili", with_assets=False, export_type="normal")
    members = read_archive(tmp_path / "out.zip")
    record = orjson.loads(members["labels/img_2.jpg.json"])
    assert "latestLabel" not in record
    assert [(lab["labelType"], lab["author"]["name"], lab["createdAt"]) for lab in record["labels"]] == [
        ("DEFAULT", "Ann Lee", "2024-05-02T10:00:00.000Z"),
        ("REVIEW", "Bob", "2024-06-01T00:00:00.000Z"),
    ]
    latest = orjson.loads(read_archive_of(client, image.project_id, tmp_path)["labels/img_2.jpg.json"])
    assert latest["latestLabel"]["labelType"] == "REVIEW"


def test_video_frames_with_assets(client, tmp_path):
    video = projects.build_video_project(client, tmp_path / "frames")
    client.export_labels(video.project_id, tmp_path / "out.zip", "kili", normalized_coordinates=False)
    members = assert_matches_golden(tmp_path / "out.zip", "kili/video", normalizer(client))
    record = orjson.loads(members["labels/clip.json"])
    assert orjson.loads(record["jsonContent"]) == ["assets/clip_1.jpg", "assets/clip_2.jpg", "assets/clip_3.jpg"]
    frame = record["latestLabel"]["jsonResponse"]["2"]["TRACK"]["annotations"][1]
    assert frame["boundingPoly"][0]["vertices"][1] == {"x": 60.0, "y": pytest.approx(18.0)}
    assert members["assets/clip_1.jpg"] == video.images["clip"].read_bytes()


def test_text_project(client, tmp_path):
    text = projects.build_text_project(client)
    client.export_labels(text.project_id, tmp_path / "out.zip", "kili")
    members = assert_matches_golden(tmp_path / "out.zip", "kili/text", normalizer(client))
    assert orjson.loads(members["labels/mail_1.json"])["content"] == "Alice works at Kili."


def test_pdf_pixels_come_from_page_resolutions(client, tmp_path):
    pdf = projects.build_pdf_project(client, tmp_path / "pdf")
    client.export_labels(pdf.project_id, tmp_path / "out.zip", "kili", normalized_coordinates=False)
    members = assert_matches_golden(
        tmp_path / "out.zip", "kili/pdf_pixels", normalizer(client), binary_suffixes=(".pdf",)
    )
    position = orjson.loads(members["labels/invoice.pdf.json"])["latestLabel"]["jsonResponse"]["NER"]["annotations"][0][
        "annotations"
    ][0]
    # page 2 is 800 × 600
    assert position["boundingPoly"][0]["vertices"] == [
        [{"x": 80.0, "y": 300.0}, {"x": 80.0, "y": 240.0}, {"x": 240.0, "y": 240.0}, {"x": 240.0, "y": 300.0}]
    ]
    assert members["assets/invoice.pdf"] == pdf.images["invoice.pdf"].read_bytes()


def test_annotation_modifier_is_not_called_and_says_so(client, image, tmp_path):
    def modifier(annotation, image, kili_annotation):
        raise AssertionError("the Kili format must not call the COCO annotation_modifier")

    report = client.export_labels(
        image.project_id, tmp_path / "out.zip", "raw", with_assets=False, annotation_modifier=modifier
    )
    assert report.notes == ["annotation_modifier is a COCO option: raw does not call it"]
    plain = client.export_labels(image.project_id, tmp_path / "plain.zip", "kili", with_assets=False, layout="merged")
    assert plain.notes == []  # the layout means nothing to this format, and is not worth a note
