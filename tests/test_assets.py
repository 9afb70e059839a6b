from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import pytest

from labelport.errors import MediaError, NotFound, ValidationError
from tests.factories import box, boxes

TEXT_INTERFACE = {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "content": {"input": "textField"}}}}


def test_local_images_are_copied_content_addressed_with_their_displayed_size(client, image_project, images):
    plain = images.make("plain.png", 64, 48)
    rotated = images.make("rotated.jpg", 64, 48, orientation=6)  # stored landscape, displayed portrait
    twin = images.make("twin.png", 64, 48)  # same bytes as plain.png
    result = client.append_many_to_dataset(
        image_project,
        content_array=[str(plain), rotated, str(twin)],
        external_id_array=["plain", "rotated", "twin"],
    )
    assert result["id"] == image_project and len(result["asset_ids"]) == 3
    rows = client.assets(image_project, fields=["externalId", "content", "resolution.width", "resolution.height"])
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    media = client.store.media_dir
    assert rows[0] == {
        "resolution": {"width": 64, "height": 48},
        "externalId": "plain",
        "content": f"{media}/{digest[:2]}/{digest}.png",
    }
    assert rows[1]["resolution"] == {"width": 48, "height": 64}
    assert rows[2]["content"] == rows[0]["content"]  # one file for identical bytes
    assert sorted(p.name for p in media.rglob("*") if p.is_file()) == sorted(
        [f"{digest}.png", f"{hashlib.sha256(rotated.read_bytes()).hexdigest()}.jpg"]
    )
    plain.unlink()  # the store owns its copy
    assert Path(rows[0]["content"]).read_bytes()[:4] == b"\x89PNG"


def test_urls_are_references_and_resolution_can_be_given(client, image_project):
    client.append_many_to_dataset(
        image_project,
        content_array=["https://example.com/a.jpg", "http://example.com/b.jpg"],
        external_id_array=["a", "b"],
        resolution_array=[{"width": 640, "height": 480}, None],
        json_metadata_array=[{"camera": "front"}, {}],
        is_honeypot_array=[True, False],
        priority_array=[2, 0],
    )
    assert client.assets(
        image_project,
        fields=[
            "externalId",
            "content",
            "resolution.width",
            "jsonMetadata",
            "isHoneypot",
            "priority",
            "status",
            "pageResolutions.width",
        ],
    ) == [
        {
            "resolution": {"width": 640},
            "pageResolutions": [],
            "externalId": "a",
            "content": "https://example.com/a.jpg",
            "jsonMetadata": {"camera": "front"},
            "isHoneypot": True,
            "priority": 2,
            "status": "TODO",
        },
        {
            "resolution": None,
            "pageResolutions": [],
            "externalId": "b",
            "content": "http://example.com/b.jpg",
            "jsonMetadata": {},
            "isHoneypot": False,
            "priority": 0,
            "status": "TODO",
        },
    ]


def test_text_projects_store_the_text(client, tmp_path):
    project = client.create_project("T", "TEXT", TEXT_INTERFACE)["id"]
    doc = tmp_path / "doc.txt"
    doc.write_text("from a file", encoding="utf-8")
    client.append_many_to_dataset(
        project,
        content_array=["raw text", str(doc)],
        external_id_array=["t1", "t2"],
        json_content_array=[None, {"rich": True}],
    )
    assert client.assets(project, fields=["content", "jsonContent"]) == [
        {"content": "raw text", "jsonContent": ""},
        {"content": "from a file", "jsonContent": '{"rich":true}'},
    ]


def test_video_frames_are_copied_and_listed_in_json_content(client, images):
    project = client.create_project("V", "VIDEO", {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "content": {}}}})["id"]
    frames = [images.make(f"f{i}.png", 32, 16, color=(i, i, i)) for i in range(3)]
    client.append_many_to_dataset(
        project,
        json_content_array=[[str(f) for f in frames] + ["https://h/f3.png"]],
        external_id_array=["clip"],
    )
    [asset] = client.assets(project, fields=["jsonContent", "resolution.width", "resolution.height"])
    import orjson

    listed = orjson.loads(asset["jsonContent"])
    assert len(listed) == 4 and listed[3] == "https://h/f3.png"
    assert all(path.startswith(str(client.store.media_dir)) for path in listed[:3])
    assert [Path(p).read_bytes() for p in listed[:3]] == [f.read_bytes() for f in frames]
    assert asset["resolution"] == {"width": 32, "height": 16}


def test_pdf_files_are_checked(client, tmp_path):
    project = client.create_project("P", "PDF", TEXT_INTERFACE)["id"]
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"hello")
    with pytest.raises(ValidationError, match=f"Asset 'doc': {fake} is not a PDF file"):
        client.append_many_to_dataset(project, content_array=[str(fake)], external_id_array=["doc"])
    real = tmp_path / "real.pdf"
    real.write_bytes(b"%PDF-1.4\n%%EOF\n")
    client.append_many_to_dataset(project, content_array=[str(real)], external_id_array=["doc"])
    client.update_properties_in_assets(
        external_ids=["doc"],
        project_id=project,
        page_resolutions_array=[
            [
                {"pageNumber": 2, "width": 600, "height": 800},
                {"pageNumber": 1, "width": 600, "height": 800, "rotation": 90},
            ]
        ],
    )
    assert client.assets(project, fields=["pageResolutions.pageNumber", "pageResolutions.rotation"]) == [
        {"pageResolutions": [{"pageNumber": 1, "rotation": 90}, {"pageNumber": 2, "rotation": 0}]}
    ]


def test_a_bad_item_stores_nothing_not_even_media(client, image_project, images, tmp_path):
    good = images.make("good.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(MediaError) as error:
        client.append_many_to_dataset(
            image_project,
            content_array=[str(good), str(broken)],
            external_id_array=["good", "broken"],
        )
    assert str(error.value).startswith(f"Asset 'broken': {broken} is not an image Pillow can read")
    assert client.count_assets(image_project) == 0
    assert not any(p.is_file() for p in client.store.media_dir.rglob("*"))
    with pytest.raises(ValidationError) as error:
        client.append_many_to_dataset(
            image_project, content_array=[str(good), "missing.png"], external_id_array=["a", "b"]
        )
    assert str(error.value) == (
        "Asset 'b': content 'missing.png' is neither an http(s) URL nor an existing file; check the path."
    )
    with pytest.raises(ValidationError, match=r"Asset 'a': json_metadata\['x'\] is nan, which JSON cannot hold"):
        client.append_many_to_dataset(
            image_project,
            content_array=["https://h/a"],
            external_id_array=["a"],
            json_metadata_array=[{"x": float("nan")}],
        )
    with pytest.raises(
        ValidationError,
        match=re.escape("external_id_array has 1 items but content_array has 2; give one per asset."),
    ):
        client.append_many_to_dataset(
            image_project, content_array=["https://h/a", "https://h/b"], external_id_array=["a"]
        )
    assert client.count_assets(image_project) == 0


def test_duplicate_external_ids_are_skipped_with_a_warning(client, image_project):
    client.append_many_to_dataset(image_project, content_array=["https://h/a"], external_id_array=["a"])
    with pytest.warns(UserWarning, match="External ids given more than once were imported once: \\['b'\\]"):
        result = client.append_many_to_dataset(
            image_project,
            content_array=["https://h/b", "https://h/b2"],
            external_id_array=["b", "b"],
        )
    assert len(result["asset_ids"]) == 1
    with pytest.warns(
        UserWarning,
        match=f"1 asset\\(s\\) already in project '{image_project}' were skipped: \\['a'\\]",
    ):
        client.append_many_to_dataset(
            image_project,
            content_array=["https://h/a", "https://h/c"],
            external_id_array=["a", "c"],
        )
    assert [a["externalId"] for a in client.assets(image_project, fields=["externalId"])] == [
        "a",
        "b",
        "c",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one error, no warning besides
        with pytest.raises(ValidationError) as raised:
            client.append_many_to_dataset(image_project, content_array=["https://h/a"], external_id_array=["a"])
    assert str(raised.value) == (
        f"Every asset given is already in project {image_project!r} (same external id): 'a'; nothing was "
        "imported. Give new external ids, or change these assets with update_properties_in_assets."
    )
    with pytest.warns(UserWarning, match="An empty list was given: nothing to import."):
        assert client.append_many_to_dataset(image_project, content_array=[]) == {
            "id": image_project,
            "asset_ids": [],
        }


def test_default_external_ids_are_unique_hex(client, image_project):
    client.append_many_to_dataset(image_project, content_array=["https://h/a", "https://h/b"])
    ids = [a["externalId"] for a in client.assets(image_project, fields=["externalId"])]
    assert len(set(ids)) == 2 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_update_properties_in_assets(client, image_project, images):
    client.append_many_to_dataset(
        image_project,
        content_array=["https://h/a", "https://h/b"],
        external_id_array=["a", "b"],
        json_metadata_array=[{"k": 1}, {"k": 2}],
    )
    new_image = images.make("new.png", 10, 20)
    updated = client.update_properties_in_assets(
        external_ids=["a", "b"],
        project_id=image_project,
        priorities=[5, None],
        json_metadatas=[{"k": 10}, None],
        status_array=["ONGOING", "LABELED"],
        resolution_array=[{"width": 1, "height": 2}, None],
        contents=[None, str(new_image)],
        is_honeypot_array=[True, False],
    )
    assert [u["id"] for u in updated] == [a["id"] for a in client.assets(image_project, fields=["id"])]
    assert client.assets(
        image_project,
        fields=[
            "externalId",
            "priority",
            "jsonMetadata",
            "status",
            "resolution.width",
            "resolution.height",
            "isHoneypot",
        ],
    ) == [
        {
            "resolution": {"width": 1, "height": 2},
            "externalId": "a",
            "priority": 5,
            "jsonMetadata": {"k": 10},
            "status": "ONGOING",
            "isHoneypot": True,
        },
        {
            "resolution": {"width": 10, "height": 20},
            "externalId": "b",
            "priority": 0,
            "jsonMetadata": {"k": 2},
            "status": "LABELED",
            "isHoneypot": False,
        },
    ]
    assert client.count_assets(image_project, metadata_where={"k": 10}) == 1
    assert client.count_assets(image_project, metadata_where={"k": 1}) == 0
    client.change_asset_external_ids(["a2"], external_ids=["a"], project_id=image_project)
    assert [a["externalId"] for a in client.assets(image_project, fields=["externalId"])] == [
        "a2",
        "b",
    ]
    with pytest.raises(
        ValidationError,
        match=f"External id 'b' is already used by another asset of project '{image_project}'.",
    ):
        client.change_asset_external_ids(["b"], external_ids=["a2"], project_id=image_project)
    client.add_metadata([{"extra": "x"}], image_project, external_ids=["b"])
    client.set_metadata([{"only": 1}], image_project, external_ids=["a2"])
    assert [a["jsonMetadata"] for a in client.assets(image_project, fields=["jsonMetadata"])] == [
        {"only": 1},
        {"k": 2, "extra": "x"},
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"asset_ids": ["nope"]},
            NotFound,
            "No asset with id 'nope'; check the ids with client.assets().",
        ),
        (
            {"external_ids": ["a"]},
            ValidationError,
            "External ids are unique within a project only: give the project_id too.",
        ),
        (
            {"asset_ids": ["x"], "external_ids": ["a"]},
            ValidationError,
            "Give either asset ids or external ids",
        ),
        (
            {"consensus_marks": [0.5]},
            ValidationError,
            "consensus_marks and honeypot_marks are computed by labelport",
        ),
        (
            {"status_array": ["DONE"]},
            ValidationError,
            "Asset 'a': status 'DONE' is not valid; use one of: TODO, ONGOING, LABELED, TO_REVIEW, REVIEWED.",
        ),
        (
            {"priorities": [1, 2]},
            ValidationError,
            "priorities has 2 items but the asset list has 1; give one per asset.",
        ),
        (
            {"resolution_array": [{"width": 0, "height": 3}]},
            ValidationError,
            "Asset 'a': resolution width must be a positive integer up to 2147483647, got 0.",
        ),
    ],
)
def test_update_errors(client, image_project, kwargs, error, message):
    client.append_many_to_dataset(image_project, content_array=["https://h/a"], external_id_array=["a"])
    if "asset_ids" not in kwargs and "external_ids" not in kwargs:
        kwargs = {"external_ids": ["a"], "project_id": image_project, **kwargs}
    with pytest.raises(error) as raised:
        client.update_properties_in_assets(**kwargs)
    assert str(raised.value).startswith(message)


def test_delete_many_from_dataset_removes_labels_and_unused_media(client, image_project, images):
    shared = images.make("shared.png")
    other = images.make("other.png", 10, 10)
    client.append_many_to_dataset(
        image_project,
        content_array=[str(shared), str(shared), str(other)],
        external_id_array=["a", "b", "c"],
    )
    client.append_labels(project_id=image_project, asset_external_id_array=["a", "c"], json_response_array=[{}, {}])
    files = {p.suffix: p for p in client.store.media_dir.rglob("*.png")}
    assert len(list(client.store.media_dir.rglob("*.png"))) == 2
    result = client.delete_many_from_dataset(external_ids=["a", "c"], project_id=image_project)
    assert result["id"] == image_project and len(result["asset_ids"]) == 2
    assert [a["externalId"] for a in client.assets(image_project, fields=["externalId"])] == ["b"]
    assert client.count_labels(image_project) == 0
    remaining = list(client.store.media_dir.rglob("*.png"))
    assert len(remaining) == 1 and remaining[0].read_bytes() == shared.read_bytes()
    assert files


def test_add_to_review_and_send_back_to_queue(client, image_project):
    client.append_many_to_dataset(
        image_project, content_array=["https://h/a", "https://h/b"], external_id_array=["a", "b"]
    )
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a"],
        json_response_array=[boxes(box("OBJECT_A", 0, 0, 1, 1))],
    )
    result = client.add_to_review(external_ids=["a", "b"], project_id=image_project)
    [a_id] = result["asset_ids"]
    assert client.assets(image_project, fields=["externalId", "status"]) == [
        {"externalId": "a", "status": "TO_REVIEW"},
        {"externalId": "b", "status": "TODO"},
    ]
    assert client.count_assets(image_project, status_in=["TO_REVIEW"]) == 1
    assert client.send_back_to_queue(asset_ids=[a_id]) == {"id": image_project, "asset_ids": [a_id]}
    assert client.assets(
        image_project, fields=["status", "labels.isSentBackToQueue"], external_id_strictly_in=["a"]
    ) == [{"labels": [{"isSentBackToQueue": True}], "status": "ONGOING"}]
    assert client.add_to_review(external_ids=["b"], project_id=image_project) is None
    # the labeler submits again: LABELED, and the new label is not sent back
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a"],
        json_response_array=[boxes(box("OBJECT_B", 0, 0, 1, 1))],
    )
    assert client.assets(
        image_project, fields=["status", "labels.isSentBackToQueue"], external_id_strictly_in=["a"]
    ) == [{"labels": [{"isSentBackToQueue": True}, {"isSentBackToQueue": False}], "status": "LABELED"}]


def test_appending_only_existing_assets_names_the_first_few(client, image_project):
    names = [f"car_{index:02d}" for index in range(8)]
    client.append_many_to_dataset(
        image_project, content_array=[f"https://h/{n}" for n in names], external_id_array=names
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError) as raised:
            client.append_many_to_dataset(
                image_project, content_array=[f"https://h/{n}" for n in names], external_id_array=names
            )
    assert str(raised.value) == (
        f"Every asset given is already in project {image_project!r} (same external id): 'car_00', 'car_01', "
        "'car_02', 'car_03', 'car_04' and 3 more (8 in all); nothing was imported. Give new external ids, or "
        "change these assets with update_properties_in_assets."
    )
