"""The server's ASGI application run in the test's process (Starlette's TestClient: no port, no child
process), over a store with a small seed-like project: an organization ADMIN and a project LABELER, each
with an API key, one IMAGE project with three assets and a label."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

import labelport
from labelport.server.app import GRAPHQL_PATH, ServerConfig, create_app
from tests import factories

ADMIN = "admin@example.com"
LABELER = "labeler@example.com"
#: What no answer may contain: the marks of a Python traceback.
TRACEBACK_MARKS = ("Traceback", 'File "', '.py"')


@dataclass
class Seeded:
    http: TestClient
    admin_key: str
    labeler_key: str
    project_id: str
    asset_ids: list[str]
    label_id: str
    database_url: str
    media_dir: Path

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"X-API-Key: {key or self.admin_key}", "Content-Type": "application/json", **extra}

    def post(self, body: bytes | str, key: str | None = None, **headers: str) -> Any:
        content = body.encode() if isinstance(body, str) else body
        return self.http.post(GRAPHQL_PATH, content=content, headers=self.headers(key, **headers))

    def client(self) -> labelport.Client:
        return labelport.Client(self.database_url, ADMIN, media_dir=self.media_dir, disable_tqdm=True)


def seed(database_url: str, tmp_path: Path) -> tuple[str, str, str, list[str], str]:
    """The store's content: (admin key, labeler key, project id, asset ids, label id)."""
    media = tmp_path / "media"
    images = factories.ImageFactory(tmp_path / "images")
    with labelport.Client(database_url, ADMIN, media_dir=media, disable_tqdm=True) as admin:
        admin_key = admin.create_api_key(ADMIN, name="admin")
        project_id = admin.create_project("Seed", "IMAGE", factories.image_interface(), "hostile input")["id"]
        paths = [str(images.make(f"img{index}.png")) for index in range(3)]
        asset_ids = admin.append_many_to_dataset(
            project_id, content_array=paths, external_id_array=["car_1", "car_2", "ünïcødé ✓"]
        )["asset_ids"]
        labels = admin.append_labels(
            asset_id_array=[asset_ids[0]],
            json_response_array=[factories.boxes(factories.box("OBJECT_A", 0.1, 0.1, 0.5, 0.5))],
        )
        admin.append_to_roles(project_id, LABELER, "LABELER")
        labeler_key = admin.create_api_key(LABELER, name="labeler")
    return admin_key, labeler_key, project_id, list(asset_ids), labels[0]["id"]


@contextmanager
def running(database_url: str, tmp_path: Path, **limits: Any) -> Iterator[Seeded]:
    """The seeded store served in-process with the given limits (ServerConfig fields)."""
    admin_key, labeler_key, project_id, asset_ids, label_id = seed(database_url, tmp_path)
    config = ServerConfig(database_url=database_url, media_dir=tmp_path / "media", **limits)
    with TestClient(create_app(config), raise_server_exceptions=False) as http:
        yield Seeded(http, admin_key, labeler_key, project_id, asset_ids, label_id, database_url, tmp_path / "media")


def assert_clean_error(answer: Any, status: int) -> dict[str, Any]:
    """``answer`` has HTTP ``status``, a JSON body whose errors all carry ``extensions.code``, and no
    traceback text; returns the first error."""
    text = answer.text
    assert answer.status_code == status, text[:500]
    for mark in TRACEBACK_MARKS:
        assert mark not in text, text[:2000]
    body = answer.json()
    assert body["errors"], body
    for error in body["errors"]:
        assert isinstance(error["extensions"]["code"], str) and error["extensions"]["code"], error
    return body["errors"][0]
