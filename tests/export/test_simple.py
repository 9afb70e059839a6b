"""Kili's legacy simple format (``simple``): golden trees on classification, detection, text and PDF projects
with one job, the answer's shape per job type, one file or a single file, the refusal of several jobs, the CLI."""

from __future__ import annotations

import orjson
import pytest
from click.testing import CliRunner

from labelport.cli import main
from labelport.errors import IncompatibleFormatError
from labelport.export import formats
from tests.export import projects
from tests.export.test_kili import normalizer
from tests.export.yolo_voc_helpers import od_interface, shape, vertices
from tests.factories import ImageFactory, rect
from tests.golden import assert_matches_golden, read_archive

WEATHER = {"jobs": {"WEATHER": projects.IMAGE_INTERFACE["jobs"]["WEATHER"]}}


def export(client, project_id, path, **options):
    options.setdefault("with_assets", False)
    return client.export_labels(project_id, path, "simple", disable_tqdm=True, **options)


@pytest.fixture
def weather(client):
    """One classification job: two answers, an empty label and an asset without a label."""
    project_id = client.create_project("Weather", "IMAGE", WEATHER)["id"]
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.invalid/{name}.jpg" for name in ("sky", "sun", "fog", "night")],
        external_id_array=["sky.jpg", "sun.jpg", "fog.jpg", "night.jpg"],
    )
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["sky.jpg", "sun.jpg", "fog.jpg"],
        json_response_array=[
            {"WEATHER": {"categories": [{"name": "RAINY"}]}},
            {"WEATHER": {"categories": [{"name": "SUNNY"}]}},
            {},
        ],
        created_at_array=["2024-05-01T10:00:00.000Z"] * 3,
    )
    return project_id


@pytest.fixture
def detection(client, tmp_path):
    """One OBJECT_DETECTION job with a box, a polygon and a point; one label drawn on a view turned by 90°."""
    project_id = client.create_project("Street", "IMAGE", od_interface(["rectangle", "polygon", "marker"]))["id"]
    image = ImageFactory(tmp_path / "source").make("street.png", 40, 20)
    client.append_many_to_dataset(
        project_id,
        content_array=[str(image), "https://images.invalid/turned.jpg"],
        external_id_array=["street.png", "turned"],
    )
    point = {"mid": "p", "type": "marker", "categories": [{"name": "B"}], "point": {"x": 0.5, "y": 0.5}}
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["street.png", "turned"],
        json_response_array=[
            {
                "JOB": {
                    "annotations": [
                        shape("rectangle", "A", rect(0.1, 0.2, 0.5, 0.6)),
                        shape("polygon", "B", vertices((0.1, 0.1), (0.5, 0.1), (0.3, 0.4))),
                        point,
                    ]
                }
            },
            # drawn at x 0.1–0.3, y 0.1–0.5 on the view turned by 90°: x 0.1–0.5, y 0.7–0.9 on the image
            {
                "JOB": {"annotations": [shape("rectangle", "A", rect(0.1, 0.1, 0.3, 0.5))]},
                "ROTATION_JOB": {"rotation": 90},
            },
        ],
        created_at_array=["2024-05-01T10:00:00.000Z"] * 2,
    )
    return project_id, image


# -- golden trees and the answer of each job type -----------------------------------------------------


def test_classification_gives_the_category_name(client, weather, tmp_path):
    report = export(client, weather, tmp_path / "out.zip")
    members = assert_matches_golden(tmp_path / "out.zip", "simple/classification", normalizer(client))
    assert sorted(members) == ["README.kili.txt", "labels/fog.jpg.json", "labels/sky.jpg.json", "labels/sun.jpg.json"]
    record = orjson.loads(members["labels/sky.jpg.json"])
    assert record == {
        "content": "https://images.invalid/sky.jpg",
        "externalId": "sky.jpg",
        "id": record["id"],
        "latestLabel": "RAINY",
    }
    assert orjson.loads(members["labels/fog.jpg.json"])["latestLabel"] is None
    assert (report.assets_matched, report.assets_exported, report.assets_without_labels) == (4, 3, 1)
    assert dict(report.annotations) == {"WEATHER": 2}
    assert report.files == 4 and report.skipped == [] and report.notes == []


def test_single_file_holds_the_same_records(client, weather, tmp_path):
    export(client, weather, tmp_path / "one.zip", single_file=True)
    members = assert_matches_golden(tmp_path / "one.zip", "simple/classification_single_file", normalizer(client))
    assert sorted(members) == ["README.kili.txt", "data.json"]
    export(client, weather, tmp_path / "many.zip")
    many = read_archive(tmp_path / "many.zip")
    assert orjson.loads(members["data.json"]) == [
        orjson.loads(many[f"labels/{name}.json"]) for name in ("sky.jpg", "sun.jpg", "fog.jpg")
    ]


def test_annotations_give_category_and_vertices_or_the_category_alone(client, detection, tmp_path):
    project_id, image = detection
    report = export(client, project_id, tmp_path / "out.zip", with_assets=True)
    members = assert_matches_golden(tmp_path / "out.zip", "simple/detection", normalizer(client))
    street = orjson.loads(members["labels/street.png.json"])
    assert street["content"] == "assets/street.png" and members["assets/street.png"] == image.read_bytes()
    assert street["latestLabel"] == [
        ["A", rect(0.1, 0.2, 0.5, 0.6)],
        ["B", vertices((0.1, 0.1), (0.5, 0.1), (0.3, 0.4))],
        "B",
    ]
    (category, turned), *rest = orjson.loads(members["labels/turned.json"])["latestLabel"]
    assert category == "A" and rest == []
    assert sorted({v["x"] for v in turned}) == pytest.approx([0.1, 0.5])
    assert sorted({v["y"] for v in turned}) == pytest.approx([0.7, 0.9])
    assert dict(report.annotations) == {"JOB": 4}
    assert [item.external_id for item in report.skipped] == ["turned"]  # a URL cannot be downloaded offline
    assert report.skipped[0].reason.startswith("media not included: download of https://images.invalid/turned.jpg")


def test_named_entities_give_category_offsets_and_content(client, tmp_path):
    interface = {"jobs": {"NER": projects.TEXT_INTERFACE["jobs"]["NER"]}}
    project_id = client.create_project("Mails", "TEXT", interface)["id"]
    client.append_many_to_dataset(project_id, content_array=["Alice works at Kili."], external_id_array=["mail_1"])
    entities = [
        {"mid": "e1", "categories": [{"name": "PERSON"}], "beginOffset": 0, "endOffset": 5, "content": "Alice"},
        {"mid": "e2", "categories": [{"name": "ORG"}], "beginOffset": 15, "endOffset": 19, "content": "Kili"},
    ]
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["mail_1"],
        json_response_array=[{"NER": {"annotations": entities}}],
        created_at_array=["2024-05-01T10:00:00.000Z"],
    )
    export(client, project_id, tmp_path / "out.zip")
    members = assert_matches_golden(tmp_path / "out.zip", "simple/text", normalizer(client))
    assert orjson.loads(members["labels/mail_1.json"])["latestLabel"] == [
        ["PERSON", {"beginOffset": 0, "content": "Alice", "endOffset": 5}],
        ["ORG", {"beginOffset": 15, "content": "Kili", "endOffset": 19}],
    ]
    assert members["labels/mail_1.json"].decode().startswith('{\n  "content": "Alice works at Kili.",\n')


def test_pdf_entities_give_their_content(client, tmp_path):
    built = projects.build_pdf_project(client, tmp_path / "pdf")
    export(client, built.project_id, tmp_path / "out.zip")
    members = assert_matches_golden(tmp_path / "out.zip", "simple/pdf", normalizer(client))
    assert orjson.loads(members["labels/invoice.pdf.json"])["latestLabel"] == [["AMOUNT", {"content": "42.00"}]]


def test_normal_export_lists_every_label(client, weather, tmp_path):
    client.append_labels(
        project_id=weather,
        asset_external_id_array=["sky.jpg"],
        json_response_array=[{"WEATHER": {"categories": [{"name": "SUNNY"}]}}],
        created_at_array=["2024-06-01T10:00:00.000Z"],
    )
    export(client, weather, tmp_path / "out.zip", export_type="normal")
    record = orjson.loads(read_archive(tmp_path / "out.zip")["labels/sky.jpg.json"])
    assert "latestLabel" not in record and record["labels"] == ["RAINY", "SUNNY"]


# -- refusals -----------------------------------------------------------------------------------------


def test_a_project_with_several_jobs_is_refused_saying_so(client, tmp_path):
    built = projects.build_text_project(client)
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, built.project_id, tmp_path / "out.zip")
    assert str(error.value) == (
        f"Project {built.project_id!r} has 2 jobs (NER (NAMED_ENTITIES_RECOGNITION), TOPIC (CLASSIFICATION)): "
        "format 'simple' holds the answer of a single job in each label, so it exports only projects with one job. "
        "Formats that can export this project: kili, raw."
    )
    assert not (tmp_path / "out.zip").exists()


def test_video_and_pixel_coordinates_are_refused(client, tmp_path):
    built = projects.build_video_project(client, tmp_path / "video")
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, built.project_id, tmp_path / "out.zip")
    able = sorted(name for name, spec in formats.all_specs().items() if "VIDEO" in spec.input_types)
    assert str(error.value) == (
        f"Project {built.project_id!r} has input type VIDEO, which format 'simple' cannot export; formats for VIDEO "
        f"projects: {', '.join(able)}."
    )
    project_id = client.create_project("Weather", "IMAGE", WEATHER)["id"]
    with pytest.raises(IncompatibleFormatError) as error:
        export(client, project_id, tmp_path / "out.zip", normalized_coordinates=False)
    assert str(error.value) == (
        "Option normalized_coordinates=False cannot be used with format 'simple': the simple format holds normalized "
        "vertices only. Use normalized_coordinates=None (the default) or True, or the kili format for pixel "
        "coordinates."
    )


# -- registry and CLI ---------------------------------------------------------------------------------


def test_the_cli_exports_it_from_the_registry(client, database_url, weather, tmp_path):
    assert "simple" in formats.names()
    out = tmp_path / "cli.zip"
    result = CliRunner().invoke(
        main,
        [
            "project",
            "export",
            "--db",
            database_url,
            "--project-id",
            weather,
            "--output-format",
            "simple",
            "--output-file",
            str(out),
            "--without-assets",
            "--single-file",
        ],
    )
    assert result.exit_code == 0, result.output
    assert [record["latestLabel"] for record in orjson.loads(read_archive(out)["data.json"])] == [
        "RAINY",
        "SUNNY",
        None,
    ]
