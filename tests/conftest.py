"""Shared fixtures: every store test runs on SQLite, and on PostgreSQL when
``LABELPORT_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); each PostgreSQL test gets a schema of
its own, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import labelport
from labelport.store.engine import ensure_postgres_database, normalize_database_url
from tests import factories

POSTGRES_URL = os.environ.get("LABELPORT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def pytest_report_header(config: Any) -> str:
    if POSTGRES_URL:
        return f"labelport backends: SQLite and PostgreSQL ({make_url(POSTGRES_URL).render_as_string()})"
    return "labelport backends: SQLite only (set LABELPORT_TEST_POSTGRES_URL to add PostgreSQL)"


_ensured: list[bool] = []


def _postgres_schema_url() -> Iterator[str]:
    assert POSTGRES_URL is not None
    base = make_url(normalize_database_url(POSTGRES_URL))
    if not _ensured:
        ensure_postgres_database(base)
        _ensured.append(True)
    name = f"lp_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kili-sdk"  # copied from ../shared/fixtures (Apache-2.0)


@pytest.fixture
def kili_fixture() -> Any:
    """Load a Kili-shaped fixture project and its assets (tests/fixtures/kili-sdk)."""
    import json

    def load(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        project = json.loads((FIXTURES / f"{name}.project.json").read_text())
        assets = json.loads((FIXTURES / f"{name}.assets.json").read_text())
        return project, assets

    return load


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[labelport.Client]:
    with labelport.Client(
        database_url,
        user_email="admin@example.com",
        media_dir=tmp_path / "media",
        disable_tqdm=True,
    ) as instance:
        yield instance


@pytest.fixture
def image_project(client: labelport.Client) -> str:
    return client.create_project("Images", "IMAGE", factories.image_interface(), "a test project")["id"]


@pytest.fixture
def images(tmp_path: Path) -> factories.ImageFactory:
    return factories.ImageFactory(tmp_path / "images")
