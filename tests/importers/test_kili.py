"""Kili import: round trips through labelport's Kili export, Kili's own asset files, ontology inference."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from labelport.annotations import validate
from labelport.importers import DatasetError
from labelport.services import labels as label_service
from tests.export import projects
from tests.factories import ImageFactory, rect
from tests.golden import read_archive


def _normalized(client, path: Path) -> dict[str, bytes]:
    """An archive's members with ids, the export date and the store's media folder made neutral."""
    media = str(client.store.media_dir).encode()
    return {
        name: projects.normalize_ids(name, data.replace(media, b"<media>")) for name, data in read_archive(path).items()
    }


def _labels(client, project_id, *, responses=True):
    """The labels with every field an import keeps or derives, in a stable order."""
    fields = [
        "labelOf.externalId",
        "jsonResponse",
        "labelType",
        "author.email",
        "author.firstname",
        "createdAt",
        "secondsToLabel",
        "modelName",
        "isLatestLabelForUser",
        "isLatestDefaultLabelForUser",
        "isLatestReviewLabelForUser",
        "isSentBackToQueue",
        "numberOfAnnotations",
    ]
    rows = client.labels(project_id, fields=fields if responses else [f for f in fields if f != "jsonResponse"])
    return sorted(
        rows, key=lambda r: (r["labelOf"]["externalId"], r["createdAt"], r["labelType"], r["author"]["email"])
    )


@pytest.mark.parametrize(("with_assets", "single_file"), [(False, False), (True, False), (False, True), (True, True)])
def test_kili_round_trip_gives_the_same_archive(client, tmp_path, with_assets, single_file):
    built = projects.build_image_project(client, tmp_path / "images")
    first = tmp_path / "first.zip"
    client.export_labels(built.project_id, first, "kili", with_assets=with_assets, single_file=single_file)
    report = client.import_dataset(first, interface=projects.IMAGE_INTERFACE)
    second = tmp_path / "second.zip"
    client.export_labels(report.project_id, second, "kili", with_assets=with_assets, single_file=single_file)

    assert _normalized(client, second) == _normalized(client, first)
    # the same labels (the jsonResponses are those of the export: ROTATION_JOB undone, as the archive shows)
    assert _labels(client, report.project_id, responses=False) == _labels(client, built.project_id, responses=False)
    project = client.projects(project_id=report.project_id, fields=["title", "description", "jsonInterface"])[0]
    assert project == {
        "title": "Street scenes",
        "description": "export fixtures",
        "jsonInterface": projects.IMAGE_INTERFACE,
    }
    assert (report.images_read, report.labels_read, report.assets_imported, report.labels_imported) == (4, 4, 4, 4)
    assert report.users_created == []  # ann.lee@example.com is in the store already
    if with_assets:  # the media came from the archive, byte for byte
        stored = client.assets(
            report.project_id, fields=["externalId", "content"], external_id_strictly_in=["img_1.png"]
        )
        assert Path(stored[0]["content"]).read_bytes() == built.images["img_1.png"].read_bytes()


def _history_project(client, folder):
    """Several labels per asset: two labelers, a review, a prediction, an inference, a send-back, statuses."""
    project_id = client.create_project("History", "IMAGE", projects.IMAGE_INTERFACE, "all labels")["id"]
    factory = ImageFactory(folder)
    paths = [factory.make(f"h_{i}.png", 100, 50) for i in range(3)]
    client.append_many_to_dataset(project_id, content_array=[str(p) for p in paths], external_id_array=["a", "b", "c"])
    ann = client.create_user("ann@example.com", firstname="Ann", lastname="Lee")["id"]
    bob = client.create_user("bob@example.com", firstname="Bob", lastname="")["id"]
    rita = client.create_user("rita@example.com", firstname="Rita", lastname="Ray")["id"]

    def boxes(x):
        return {"BOXES": {"annotations": [projects._box("CAR", x, 0.1, x + 0.2, 0.5, f"car-{x}")]}}

    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["a", "a", "b", "c"],
        json_response_array=[boxes(0.1), boxes(0.2), boxes(0.3), boxes(0.4)],
        author_id_array=[ann, bob, ann, bob],
        created_at_array=["2024-01-01T10:00:00.000Z", "2024-01-01T11:00:00.000Z", "2024-01-02T10:00:00.000Z", None],
        seconds_to_label_array=[12, 30.5, None, 4],
    )
    client.send_back_to_queue(external_ids=["b"], project_id=project_id)
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["b"],
        json_response_array=[boxes(0.35)],
        author_id_array=[ann],
        created_at_array=["2024-01-03T10:00:00.000Z"],
    )
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["a"],
        json_response_array=[boxes(0.15)],
        author_id_array=[rita],
        label_type="REVIEW",
        created_at_array=["2024-01-04T10:00:00.000Z"],
    )
    client.create_predictions(
        project_id, external_id_array=["c"], json_response_array=[boxes(0.5)], model_name="yolo-x"
    )
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["c"],
        json_response_array=[boxes(0.45)],
        label_type="INFERENCE",
        model_name="judge",
        created_at_array=["2024-01-05T10:00:00.000Z"],
    )
    client.add_to_review(external_ids=["c"], project_id=project_id)
    return project_id


def test_kili_round_trip_of_all_labels_keeps_history(client, tmp_path):
    source = _history_project(client, tmp_path / "images")
    options = {"export_type": "normal", "label_type_in": ["DEFAULT", "REVIEW", "PREDICTION", "INFERENCE"]}
    client.export_labels(source, tmp_path / "first.zip", "kili", with_assets=False, **options)
    report = client.import_dataset(tmp_path / "first.zip", interface=projects.IMAGE_INTERFACE)
    client.export_labels(report.project_id, tmp_path / "second.zip", "kili", with_assets=False, **options)

    assert _normalized(client, tmp_path / "second.zip") == _normalized(client, tmp_path / "first.zip")
    assert _labels(client, report.project_id) == _labels(client, source)
    statuses = client.assets(report.project_id, fields=["externalId", "status", "latestLabel.author.email"])
    assert statuses == client.assets(source, fields=["externalId", "status", "latestLabel.author.email"])
    assert [row["status"] for row in statuses] == ["REVIEWED", "LABELED", "TO_REVIEW"]
    sent_back = [(row["labelOf"]["externalId"], row["isSentBackToQueue"]) for row in _labels(client, report.project_id)]
    assert sent_back.count(("b", True)) == 1 and ("b", False) in sent_back
    assert report.labels_read == report.labels_imported == 8


def test_kili_round_trip_infers_the_ontology(client, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    client.export_labels(built.project_id, tmp_path / "first.zip", "kili", with_assets=False)
    report = client.import_dataset(tmp_path / "first.zip", "kili")
    client.export_labels(report.project_id, tmp_path / "second.zip", "kili", with_assets=False)
    assert _normalized(client, tmp_path / "second.zip") == _normalized(client, tmp_path / "first.zip")

    def job(task, categories, tools=None, child=False, kind="radio"):
        spec = {"mlTask": task, "instruction": None, "required": 0, "isChild": child}
        if tools:
            spec["tools"] = tools
        spec["content"] = {"input": kind, "categories": {k: {"name": k, "children": c} for k, c in categories.items()}}
        return spec

    expected = {
        # jobs in order of first appearance: the Kili export writes each jsonResponse with sorted keys
        "BOXES": job("OBJECT_DETECTION", {"CAR": ["COLOR"], "PERSON": []}, ["rectangle"]),
        "COLOR": job("CLASSIFICATION", {"RED": []}, child=True),
        "KEYPOINTS": job("OBJECT_DETECTION", {"KEY": []}, ["marker", "polyline"]),
        "MIXED": job("OBJECT_DETECTION", {"TREE": [], "SIGN": []}, ["rectangle", "polygon"]),
        "REGIONS": job("OBJECT_DETECTION", {"ROAD": [], "SKY": []}, ["polygon", "semantic"]),
        "WEATHER": job("CLASSIFICATION", {"SUNNY": []}),
    }
    for name, spec in expected.items():
        spec["instruction"] = name
    interface = client.projects(project_id=report.project_id, fields=["jsonInterface"])[0]["jsonInterface"]
    assert interface == {"jobs": expected}
    assert report.notes == [
        "input type inferred: IMAGE (pass input_type= to choose)",
        "ontology inferred from the labels (pass interface= to give it)",
    ]


@pytest.mark.parametrize("kind", ["video", "text", "pdf"])
def test_kili_round_trip_of_other_input_types(client, tmp_path, kind):
    built = {
        "video": lambda: projects.build_video_project(client, tmp_path / "frames"),
        "text": lambda: projects.build_text_project(client),
        "pdf": lambda: projects.build_pdf_project(client, tmp_path / "pdf"),
    }[kind]()
    for with_assets in (False, True):
        first, second = tmp_path / f"first{with_assets}.zip", tmp_path / f"second{with_assets}.zip"
        client.export_labels(built.project_id, first, "kili", with_assets=with_assets)
        report = client.import_dataset(first)
        client.export_labels(report.project_id, second, "kili", with_assets=with_assets)
        assert _normalized(client, second) == _normalized(client, first)
        kinds = client.projects(project_id=report.project_id, fields=["inputType"])[0]["inputType"]
        assert kinds == {"video": "VIDEO", "text": "TEXT", "pdf": "PDF"}[kind]
        assert f"input type inferred: {kinds} (pass input_type= to choose)" in report.notes


def test_pixel_coordinates_of_an_export_are_dropped(client, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    client.export_labels(
        built.project_id, tmp_path / "pixels.zip", "kili", with_assets=False, normalized_coordinates=False
    )
    report = client.import_dataset(tmp_path / "pixels.zip", interface=projects.IMAGE_INTERFACE)
    stored = client.labels(report.project_id, fields=["jsonResponse"])
    assert b'vertices"' not in orjson.dumps(stored).replace(b"normalizedVertices", b"")
    assert b"Pixels" not in orjson.dumps(stored)
    client.export_labels(
        report.project_id, tmp_path / "again.zip", "kili", with_assets=False, normalized_coordinates=False
    )
    assert _normalized(client, tmp_path / "again.zip") == _normalized(client, tmp_path / "pixels.zip")
    assert (
        "pixel coordinates dropped from 12 place(s) (vertices, pointPixels, polylinePixels): "
        "labelport computes them at export from the normalized ones"
    ) in report.notes


def test_kili_sdk_assets_with_their_project_file(client, kili_fixture, tmp_path):
    project, assets = kili_fixture("image_pose_kili")
    (tmp_path / "assets.json").write_text(json.dumps(assets))
    (tmp_path / "project.json").write_text(json.dumps(project))
    report = client.import_dataset(tmp_path / "assets.json", interface=tmp_path / "project.json", title="Pose")
    assert report.fmt == "kili" and report.detected
    stored = client.projects(project_id=report.project_id, fields=["inputType", "jsonInterface"])[0]
    assert stored == {"inputType": "IMAGE", "jsonInterface": project["jsonInterface"]}
    label = client.labels(
        report.project_id,
        fields=["jsonResponse", "author.email", "author.firstname", "author.lastname", "createdAt", "labelType"],
    )[0]
    assert label == {
        "jsonResponse": assets[0]["latestLabel"]["jsonResponse"],
        "author": {"email": "jonas.maison@kili-technology.com", "firstname": "Jonas", "lastname": "Maison"},
        "createdAt": "2023-07-18T15:24:11.433Z",
        "labelType": "DEFAULT",
    }
    asset = client.assets(report.project_id, fields=["externalId", "content", "resolution.width", "resolution.height"])
    assert asset == [
        {
            "externalId": "42015077eed072c50d59232dcc0ad0b1.jpg",
            "content": assets[0]["content"],
            "resolution": {"width": 474, "height": 842},
        }
    ]
    assert report.users_created == ["jonas.maison@kili-technology.com"]
    assert dict(report.annotations_read) == {
        "OBJECT_DETECTION_JOB": 1,
        "OBJECT_DETECTION_JOB_0": 1,
        "OBJECT_DETECTION_JOB_1": 1,
        "OBJECT_DETECTION_JOB_2": 1,
        "OBJECT_DETECTION_JOB_3": 1,
        "POSE_ESTIMATION_JOB": 1,
    }


def test_kili_sdk_geotiff_asset_against_its_ontology_and_inferred(client, kili_fixture, tmp_path):
    project, assets = kili_fixture("image_geotiff_geojson")
    (tmp_path / "assets.json").write_text(json.dumps(assets))
    with pytest.raises(DatasetError) as error:  # as the Kili test used it: a job without categories
        client.import_dataset(tmp_path / "assets.json", interface=project["jsonInterface"], input_type="IMAGE")
    assert str(error.value) == "interface: Job 'JOB' (OBJECT_DETECTION) needs content.categories."
    interface = {
        "jobs": {
            "JOB": {**project["jsonInterface"]["jobs"]["JOB"], "content": {"input": "radio", "categories": {"A": {}}}}
        }
    }
    with pytest.raises(DatasetError) as error:  # a valid ontology that lacks the labels' jobs
        client.import_dataset(tmp_path / "assets.json", interface=interface, input_type="IMAGE")
    assert str(error.value) == (
        f"{tmp_path / 'assets.json'}, [0] (externalId 'sample'): Asset 'sample', job 'LINE_DETECTION_JOB': "
        "this job is not in the ontology; jobs are: JOB."
    )
    assert client.count_projects() == 0
    report = client.import_dataset(tmp_path / "assets.json")
    interface = client.projects(project_id=report.project_id, fields=["jsonInterface"])[0]["jsonInterface"]
    assert {name: job["tools"] for name, job in interface["jobs"].items()} == {
        "LINE_DETECTION_JOB": ["polyline"],
        "POINT_DETECTION_JOB": ["marker"],
        "POLYGON_DETECTION_JOB": ["polygon"],
    }
    # longitudes and latitudes, accepted because the asset is georeferenced
    stored = client.labels(report.project_id, fields=["jsonResponse"])[0]["jsonResponse"]
    assert stored == assets[0]["latestLabel"]["jsonResponse"]


def test_kili_sdk_assets_whose_media_is_elsewhere(client, kili_fixture, tmp_path):
    project, assets = kili_fixture("image_semantic_coco")
    (tmp_path / "assets.json").write_text(json.dumps(assets))
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "assets.json", interface=project["jsonInterface"])
    assert str(error.value) == (
        f"{tmp_path / 'assets.json'}, [0] (externalId '54365766246_0d424339bd_o.jpg'): content "
        f"{assets[0]['content']!r} not found next to the file, in the input; put the media in the input, "
        "give media_root=<folder with the media>, or missing_media='skip' to import the rest without these assets."
    )
    media = ImageFactory(tmp_path / "downloads")
    for asset in assets:
        media.make(Path(asset["content"]).name, 80, 55)
    report = client.import_dataset(
        tmp_path / "assets.json", interface=project["jsonInterface"], media_root=tmp_path / "downloads"
    )
    rows = client.assets(
        report.project_id, fields=["externalId", "status", "resolution.width", "latestLabel.jsonResponse"]
    )
    # the resolution the labels were drawn on is kept (the local copy is smaller)
    assert [(r["externalId"], r["status"], r["resolution"]["width"]) for r in rows] == [
        (a["externalId"], "LABELED", a["resolution"]["width"]) for a in assets
    ]
    assert [r["latestLabel"]["jsonResponse"] for r in rows] == [a["latestLabel"]["jsonResponse"] for a in assets]
    assert report.categories == {"OBJECT_DETECTION_JOB": ["OBJECT_A"], "OBJECT_DETECTION_JOB_0": ["OBJECT_B"]}


def test_into_an_existing_project_adds_new_assets_only(client, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    client.export_labels(built.project_id, tmp_path / "all.zip", "kili", with_assets=False)
    target = client.create_project("Target", "IMAGE", projects.IMAGE_INTERFACE)["id"]
    client.append_many_to_dataset(target, content_array=["https://x.invalid/1.png"], external_id_array=["img_1.png"])
    report = client.import_dataset(tmp_path / "all.zip", project_id=target)
    assert sorted(row["externalId"] for row in client.assets(target, fields=["externalId"])) == [
        "folder/img 3.png",
        "img_1.png",
        "img_2.jpg",
        "remote_4",
    ]
    assert client.count_labels(target) == 3
    assert [(s.external_id, s.reason) for s in report.skipped] == [
        ("img_1.png", "an asset with this external id is already in the project")
    ]
    assert report.assets_imported == 3 and report.labels_imported == 3


def test_into_an_existing_project_names_the_missing_category(client, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    client.export_labels(built.project_id, tmp_path / "all.zip", "kili", with_assets=False)
    interface = json.loads(json.dumps(projects.IMAGE_INTERFACE))
    del interface["jobs"]["REGIONS"]["content"]["categories"]["SKY"]
    target = client.create_project("No sky", "IMAGE", interface)["id"]
    label_id = orjson.loads(read_archive(tmp_path / "all.zip")["labels/img_1.png.json"])["latestLabel"]["id"]
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "all.zip", project_id=target)
    assert str(error.value) == (
        f"{tmp_path / 'all.zip'}:labels/img_1.png.json, label {label_id!r}: Asset 'img_1.png', job 'REGIONS', category 'SKY': "
        "this category is not in the job; categories are: ROAD."
    )
    assert client.count_assets(target) == 0


def test_a_bad_label_stores_nothing(client, tmp_path):
    folder = tmp_path / "export"
    (folder / "labels").mkdir(parents=True)
    (folder / "assets").mkdir()
    ImageFactory(folder / "assets").make("good.png", 10, 10)
    ImageFactory(folder / "assets").make("bad.png", 12, 12)
    box = {
        "categories": [{"name": "A"}],
        "type": "rectangle",
        "boundingPoly": [{"normalizedVertices": rect(0.1, 0.1, 0.5, 0.5)}],
    }
    far = {**box, "boundingPoly": [{"normalizedVertices": rect(0.1, 0.1, 1.5, 0.5)}]}
    for name, annotation in (("good", box), ("bad", far)):
        record = {
            "externalId": f"{name}.png",
            "content": f"assets/{name}.png",
            "latestLabel": {
                "jsonResponse": {"JOB": {"annotations": [annotation]}},
                "author": {"email": f"{name}@x.io"},
            },
        }
        (folder / "labels" / f"{name}.png.json").write_text(json.dumps(record))
    with pytest.raises(DatasetError) as error:
        client.import_dataset(folder, "kili")
    assert str(error.value) == (
        f"{folder / 'labels/bad.png.json'}: Asset 'bad.png', job 'JOB', category 'A': rectangle "
        "boundingPoly.normalizedVertices: x=1.5 is outside 0..1; coordinates are normalized by the image width "
        "and height (divide pixel values by them)."
    )
    assert client.count_projects() == 0 and client.count_users() == 0
    assert not client.store.media_dir.exists() or not any(client.store.media_dir.rglob("*.png"))


def test_a_failure_inside_the_transaction_stores_nothing(client, tmp_path, monkeypatch):
    """Fault injection: the label service fails after the project, users, assets and media were written."""
    built = projects.build_image_project(client, tmp_path / "images")
    client.export_labels(built.project_id, tmp_path / "all.zip", "kili", with_assets=True)
    client.delete_project(built.project_id)
    assert not any(path.is_file() for path in client.store.media_dir.rglob("*"))
    projects_before, users_before = client.count_projects(), client.count_users()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(label_service, "insert_labels", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        client.import_dataset(tmp_path / "all.zip", interface=projects.IMAGE_INTERFACE)
    assert client.count_projects() == projects_before and client.count_users() == users_before
    assert not any(path.is_file() for path in client.store.media_dir.rglob("*"))  # the copies it made are removed


def test_a_failed_import_keeps_the_files_committed_assets_use(client, tmp_path, monkeypatch):
    """The files a failed write copied are removed only where no committed asset uses them: here the
    project exported is still in the store, and the file the import copied again is its asset's."""
    built = projects.build_image_project(client, tmp_path / "images")
    client.export_labels(built.project_id, tmp_path / "all.zip", "kili", with_assets=True)
    media_before = sorted(client.store.media_dir.rglob("*"))
    [first] = (client.store.media_dir / "13").iterdir()
    first.unlink()  # img_1.png's copy is missing: the import copies it again

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(label_service, "insert_labels", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        client.import_dataset(tmp_path / "all.zip", interface=projects.IMAGE_INTERFACE)
    assert sorted(client.store.media_dir.rglob("*")) == media_before


def test_duplicate_external_ids_are_an_error(client, tmp_path):
    assets = [
        {"externalId": "x", "content": "https://a.invalid/1.png", "latestLabel": None},
        {"externalId": "x", "content": "https://a.invalid/2.png"},
    ]
    (tmp_path / "data.json").write_text(json.dumps(assets))
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "data.json", interface=projects.IMAGE_INTERFACE)
    assert str(error.value) == (
        f"{tmp_path / 'data.json'}, [1] (externalId 'x'): external id 'x' is also the external id of "
        f"{tmp_path / 'data.json'}, [0] (externalId 'x'); external ids must be unique in a project."
    )


def test_labels_without_author_email_are_the_acting_users(client, tmp_path):
    response = {"TAGS": {"categories": [{"name": "DAY"}]}}
    assets = [
        {
            "externalId": "a",
            "content": "https://a.invalid/1.png",
            "latestLabel": {"jsonResponse": response, "author": {"id": "u1"}},
        },
        {
            "externalId": "b",
            "content": "https://a.invalid/2.png",
            "latestLabel": {"jsonResponse": json.dumps(response)},
        },
    ]
    (tmp_path / "data.json").write_text(json.dumps(assets))
    report = client.import_dataset(tmp_path / "data.json", input_type="IMAGE")
    assert (
        client.labels(report.project_id, fields=["author.email", "jsonResponse"])
        == [{"author": {"email": "admin@example.com"}, "jsonResponse": response}] * 2
    )
    assert report.notes == [
        "format detected: kili (from data.json)",
        "2 label(s) have no author email: they are stored as the acting user's",
        "ontology inferred from the labels (pass interface= to give it)",
    ]


def test_inference_refuses_what_it_cannot_tell(client, tmp_path):
    assets = [
        {
            "externalId": "x",
            "content": "https://a.invalid/1.png",
            "latestLabel": {"jsonResponse": {"JOB": {"categories": []}}},
        }
    ]
    (tmp_path / "data.json").write_text(json.dumps(assets))
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "data.json")
    assert str(error.value) == (
        f"{tmp_path / 'data.json'}, [0] (externalId 'x'): job 'JOB' has no answer in any label to infer its task "
        "and categories from; give the ontology with interface=<jsonInterface or file>."
    )
    both = [
        {
            "externalId": "a",
            "content": "https://a.invalid/1.png",
            "latestLabel": {"jsonResponse": {"JOB": {"categories": [{"name": "A"}]}}},
        },
        {
            "externalId": "b",
            "content": "https://a.invalid/2.png",
            "latestLabel": {"jsonResponse": {"JOB": {"text": "hello"}}},
        },
    ]
    (tmp_path / "data.json").write_text(json.dumps(both))
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path / "data.json")
    assert str(error.value) == (
        f"{tmp_path / 'data.json'}, [1] (externalId 'b'): job 'JOB' is answered as a TRANSCRIPTION here but as a "
        f"CLASSIFICATION in {tmp_path / 'data.json'}, [0] (externalId 'a'); give the ontology with "
        "interface=<jsonInterface or file>."
    )


def test_each_label_is_validated_once_and_stored_as_if_validated_again(client, tmp_path, monkeypatch):
    source = _history_project(client, tmp_path / "images")
    options = {"export_type": "normal", "label_type_in": ["DEFAULT", "REVIEW", "PREDICTION", "INFERENCE"]}
    client.export_labels(source, tmp_path / "labels.zip", "kili", with_assets=False, **options)
    validated = []
    response = validate._Validator.response

    def counted(self, value):
        validated.append(self.asset)
        return response(self, value)

    with monkeypatch.context() as patch:
        patch.setattr(validate._Validator, "response", counted)
        once = client.import_dataset(tmp_path / "labels.zip", interface=projects.IMAGE_INTERFACE, title="once")
    # by the import's checks only: the label service takes their findings
    assert sorted(validated) == ["a", "a", "a", "b", "b", "c", "c", "c"]

    append = label_service.append_labels

    def validating_again(*args, **kwargs):
        return append(*args, **{**kwargs, "checked": None})

    with monkeypatch.context() as patch:
        patch.setattr(label_service, "append_labels", validating_again)
        twice = client.import_dataset(tmp_path / "labels.zip", interface=projects.IMAGE_INTERFACE, title="twice")
    marks = ["consensusMark", "honeypotMark", "inferenceMark", "numberOfAnnotations", "labelOf.externalId"]
    assert _labels(client, once.project_id) == _labels(client, twice.project_id)
    assert client.labels(once.project_id, fields=marks) == client.labels(twice.project_id, fields=marks)
    for count in (0, 1, 2):  # the category counts
        found = [
            client.count_assets(project, label_category_search=f"BOXES.CAR.count == {count}")
            for project in (once.project_id, twice.project_id)
        ]
        assert found[0] == found[1]
