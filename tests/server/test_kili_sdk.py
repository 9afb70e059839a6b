"""The unmodified kili SDK and CLI against ``labelport serve``, on SQLite and PostgreSQL.

The whole export tutorial (tests/server/sdk_tutorial.py) runs through the SDK; every answer is compared
with what labelport's own Client answers on the same store, and every export archive is checked: the
media downloaded through the server byte for byte, the labels those of the store.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.server.conftest import ADMIN, RunningServer, run_kili

HERE = Path(__file__).resolve().parent


def _images(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for index, name in enumerate(["car_1.jpg", "car_2.jpg"]):
        buffer = io.BytesIO()
        Image.new("RGB", (640, 480), (40 + 60 * index, 90, 200)).save(buffer, "JPEG")
        (folder / name).write_bytes(buffer.getvalue())
        written[name] = buffer.getvalue()
    return written


@pytest.fixture
def tutorial(kili_python: Path, server: RunningServer, tmp_path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    originals = _images(tmp_path / "photos")
    out = tmp_path / "exports"
    out.mkdir()
    done = run_kili(
        kili_python,
        server,
        server.admin_key,
        [str(HERE / "sdk_tutorial.py"), str(tmp_path / "photos"), str(out)],
        tmp_path / "home",
    )
    assert done.returncode == 0, done.stderr[-4000:] + server.log.read_text()[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), originals


def _picked(value: Any, fields: list[str]) -> Any:
    """Only the dotted ``fields`` of SDK answers: with ``jsonResponse`` asked for, SDK 26.2 also asks for
    ``content``, ``jsonContent``, ``resolution`` and ``jsonResponseUrl``, and returns them."""
    if isinstance(value, list):
        return [_picked(item, fields) for item in value]
    if not isinstance(value, dict):
        return value
    picked = {}
    for head in dict.fromkeys(field.partition(".")[0] for field in fields):
        if head in value:
            inner = [field.partition(".")[2] for field in fields if field.startswith(head + ".")]
            picked[head] = _picked(value[head], inner) if inner else value[head]
    return picked


def test_the_tutorial_through_the_sdk_answers_as_the_client_does(tutorial, server):
    seen, _originals = tutorial
    project_id = seen["project_id"]
    assert seen["viewer"] == {"email": ADMIN, "organizationRole": "ADMIN"}
    with server.client() as client:
        assert seen["asset_ids"] == [row["id"] for row in client.assets(project_id, fields=["id"])]
        assert seen["parsed_categories"] == ["OBJECT_A", None]
        assert _picked(seen["latest"], ["externalId", "latestLabel.jsonResponse"]) == client.assets(
            project_id, fields=["externalId", "latestLabel.jsonResponse"]
        )
        assert seen["consensus_gt"] == client.assets(
            project_id, fields=["externalId", "id", "consensusMark"], consensus_mark_gte=0.5
        )
        assert [row["externalId"] for row in seen["consensus_gt"]] == ["car_1"]
        assert seen["consensus_gt"][0]["consensusMark"] == pytest.approx(0.875)
        assert seen["honeypot_labels"] == client.labels(
            project_id, fields=["labelOf.externalId", "honeypotMark", "author.email", "id"], honeypot_mark_gte=0.1
        )
        assert [round(row["honeypotMark"], 6) for row in seen["honeypot_labels"]] == [0.5, round(0.07 / 0.155, 6)]
        assert seen["labels_of_doe"] == client.labels(
            project_id, fields=["labelOf.externalId", "author.email", "id"], user_id=seen["doe"]
        )
        assert _picked(
            seen["review_flags"], ["externalId", "labels.jsonResponse", "labels.isLatestReviewLabelForUser"]
        ) == client.assets(
            project_id, fields=["externalId", "labels.jsonResponse", "labels.isLatestReviewLabelForUser"]
        )
        fields = ["externalId", "labels.author.email", "labels.createdAt", "labels.labelType", "labels.jsonResponse"]
        assert _picked(seen["all_labels"], fields) == client.assets(
            project_id,
            fields=["externalId", "labels.author.email", "labels.createdAt", "labels.labelType", "labels.jsonResponse"],
        )
        assert seen["counts"] == {
            "projects": client.count_projects(),
            "assets": 2,
            "labels": client.count_labels(project_id),
            "default_labels": 2,
        }
        assert seen["counts"]["labels"] == 3


def _without_pixels(value: Any) -> Any:
    """A Kili export's jsonResponse without the pixel ``vertices`` the SDK's converter adds."""
    if isinstance(value, list):
        return [_without_pixels(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_pixels(item) for key, item in value.items() if key != "vertices"}
    return value


def _members(path: str) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}


def test_the_sdk_exports_download_the_originals_and_hold_the_store_labels(tutorial, server):
    seen, originals = tutorial
    project_id = seen["project_id"]
    with server.client() as client:
        latest = {
            row["externalId"]: row["latestLabel"]
            for row in client.assets(project_id, fields=["externalId", "latestLabel.jsonResponse"])
        }
    kili = _members(seen["exports"]["kili"])
    images = {name: data for name, data in kili.items() if name.startswith("assets/")}
    assert sorted(images) == ["assets/car_1.jpg"]  # assets without a label are not exported
    assert images["assets/car_1.jpg"] == originals["car_1.jpg"]
    record = json.loads(kili["labels/car_1.json"])
    assert _without_pixels(record["latestLabel"]["jsonResponse"]) == latest["car_1"]["jsonResponse"]
    single = json.loads(_members(seen["exports"]["kili_single_file"])["data.json"])
    assert [asset["externalId"] for asset in single] == ["car_1"]
    assert _without_pixels(single[0]["latestLabel"]["jsonResponse"]) == latest["car_1"]["jsonResponse"]
    yolo = _members(seen["exports"]["yolo_v5"])
    assert yolo["images/car_1.jpg"] == originals["car_1.jpg"]
    # John Smith's box, the latest label: x 0.5–0.8, y 0.45–0.8 → centre (0.65, 0.625), size (0.3, 0.35)
    row = yolo["JOB_0/labels/car_1.txt"].decode().split()
    assert row[0] == "0" and [round(float(value), 9) for value in row[1:]] == [0.65, 0.625, 0.3, 0.35]
    coco = _members(seen["exports"]["coco"])
    assert coco["data/car_1.jpg"] == originals["car_1.jpg"]
    dataset = json.loads(coco["JOB_0/labels.json"])
    assert [image["file_name"] for image in dataset["images"]] == ["data/car_1.jpg"]
    assert [annotation["bbox"] for annotation in dataset["annotations"]] == [[320.0, 216.0, 192.0, 168.0]]
    voc = _members(seen["exports"]["pascal_voc"])
    assert voc["images/car_1.jpg"] == originals["car_1.jpg"]
    box = ET.fromstring(voc["labels/car_1.xml"]).find("object/bndbox")
    assert box is not None
    assert {child.tag: round(float(child.text or 0)) for child in box} == {
        "xmin": 320,
        "ymin": 216,
        "xmax": 512,
        "ymax": 384,
    }


def test_kili_cli_lists_describes_and_exports_against_the_server(kili_python, server, tmp_path):
    with server.client() as client:
        project_id = client.create_project("CLI project", "IMAGE", json.loads(json.dumps(_INTERFACE)))["id"]
        client.append_to_roles(project_id, "member@example.com", "REVIEWER")
    cli = kili_python.parent / "kili"  # Kili's command line, as installed with the SDK
    listed = run_kili(cli, server, server.admin_key, ["project", "list"], tmp_path / "home")
    assert listed.returncode == 0, listed.stderr
    assert "CLI project" in listed.stdout and project_id in listed.stdout
    described = run_kili(cli, server, server.admin_key, ["project", "describe", project_id], tmp_path / "home")
    assert described.returncode == 0, described.stderr
    assert "Title        CLI project" in described.stdout
    members = run_kili(cli, server, server.admin_key, ["project", "member", "list", project_id], tmp_path / "home")
    assert members.returncode == 0, members.stderr
    assert [line.split()[0] for line in members.stdout.splitlines()[1:]] == ["ADMIN", "REVIEWER"]


_INTERFACE = {
    "jobs": {
        "JOB_0": {
            "mlTask": "CLASSIFICATION",
            "required": 1,
            "isChild": False,
            "content": {"input": "radio", "categories": {"A": {"name": "A"}, "B": {"name": "B"}}},
        }
    }
}


def test_a_wrong_or_revoked_key_makes_kili_raise_its_authentication_error(kili_python, server, tmp_path):
    probe = "from kili.client import Kili\ntry:\n    Kili()\nexcept Exception as error:\n    print(type(error).__name__)\nelse:\n    print('accepted')\n"
    wrong = run_kili(kili_python, server, "lp_" + "x" * 43, ["-c", probe], tmp_path / "home")
    assert wrong.stdout.strip() == "AuthenticationFailed"
    key = server.key_for("revoked@example.com")
    assert run_kili(kili_python, server, key, ["-c", probe], tmp_path / "home").stdout.strip() == "accepted"
    with server.client() as admin:
        [record] = admin.api_keys(email="revoked@example.com")
        admin.revoke_api_key(record["id"])
    revoked = run_kili(kili_python, server, key, ["-c", probe], tmp_path / "home")
    assert revoked.stdout.strip() == "AuthenticationFailed"


def test_a_labeler_is_refused_what_its_role_does_not_allow_with_the_role_it_needs(kili_python, server, tmp_path):
    with server.client() as client:
        project_id = client.create_project("Roles", "IMAGE", _INTERFACE)["id"]
        client.append_many_to_dataset(project_id, ["https://example.com/a.png"], external_id_array=["a"])
        client.append_to_roles(project_id, "labeler@example.com", "LABELER")
    key = server.key_for("labeler@example.com")
    script = (
        "import json\nfrom kili.client import Kili\nkili = Kili()\n"
        f"pid = {project_id!r}\n"
        "kili.append_labels(json_response_array=[{'JOB_0': {'categories': [{'name': 'A'}]}}], asset_external_id_array=['a'], project_id=pid)\n"
        "print(json.dumps(kili.count_labels(pid)))\n"
        "try:\n    kili.update_properties_in_project(pid, title='Mine')\nexcept Exception as error:\n    print(json.dumps(str(error)))\n"
    )
    done = run_kili(kili_python, server, key, ["-c", script], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    count, refusal = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert count == 1
    assert refusal == (
        f"GraphQL error: \"User 'labeler@example.com' is a LABELER of project '{project_id}'; changing its settings "
        'needs the ADMIN role (or an organization ADMIN): ask a project ADMIN."'
    )
