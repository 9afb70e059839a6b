"""Fixtures of the web UI tests: a store holding the demo project (the seed-like one: members with roles,
consensus on every asset, a honeypot) and another project, users with web passwords, and the app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import labelport
from labelport.demo import ADMIN_EMAIL, build_demo_project
from labelport.server.app import ServerConfig, create_app
from labelport.services import sign_in
from tests import factories

PASSWORD = "correct horse battery"
ALICE = "alice@demo.labelport"  # LABELER of the demo project
CAROL = "carol@demo.labelport"  # REVIEWER of the demo project
MANAGER = "manager@example.com"  # TEAM_MANAGER of the demo project
OUTSIDER = "eve@example.com"  # LABELER of the other project only


@dataclass
class WebStore:
    url: str
    media: Path
    project_id: str
    other_project_id: str
    external_ids: list[str]


@pytest.fixture
def web_store(database_url: str, tmp_path: Path) -> WebStore:
    media = tmp_path / "media"
    with labelport.Client(database_url, ADMIN_EMAIL, media_dir=media, disable_tqdm=True) as client:
        built = build_demo_project(client, tmp_path / "scenes", scenes=8)
        other = client.create_project("Other project", "IMAGE", factories.image_interface(), "not Alice's")["id"]
        client.create_user(OUTSIDER)
        client.append_to_roles(other, OUTSIDER, "LABELER")
        client.create_user(MANAGER)
        client.append_to_roles(built.project_id, MANAGER, "TEAM_MANAGER")
        for email in (ADMIN_EMAIL, ALICE, CAROL, MANAGER, OUTSIDER):
            sign_in.set_password(client.ctx, email, PASSWORD)
    return WebStore(database_url, media, built.project_id, other, [s.external_id for s in built.scenes])


@pytest.fixture
def app_client(web_store: WebStore) -> Iterator[TestClient]:
    app = create_app(ServerConfig(web_store.url, web_store.media))
    with TestClient(app, base_url="http://testserver") as http:
        yield http


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def sign_in_as(http: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; return the session's CSRF token."""
    page = http.get("/signin")
    response = http.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(http.get("/account").text)
