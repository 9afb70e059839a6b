"""The service layer under the front doors: acting contexts built directly, as the server will build
one per request, and the acting user's identity across failed and committed writes."""

from __future__ import annotations

import pytest

import labelport
from labelport.errors import NotFound, ValidationError
from labelport.services import labels as label_service
from labelport.services import projects as project_service
from labelport.services import queries
from labelport.services.context import ActingContext
from tests import factories


def test_a_failed_first_write_does_not_leave_the_client_a_rolled_back_user(database_url, tmp_path):
    with labelport.Client(database_url, "me@example.com", media_dir=tmp_path / "m", disable_tqdm=True) as client:
        with pytest.raises(ValidationError, match="A project needs a non-empty title"):
            client.create_project(" ", "IMAGE", factories.image_interface())  # created the user, then rolled back
        client.create_user("other@example.com")  # SQLite hands the rolled-back user's key to this one
        project_id = client.create_project("P", "IMAGE", factories.image_interface())["id"]
        [project] = client.projects(project_id=project_id, fields=["author.email", "roles.user.email", "roles.role"])
    assert project == {
        "author": {"email": "me@example.com"},
        "roles": [{"role": "ADMIN", "user": {"email": "me@example.com"}}],
    }


def test_two_contexts_on_one_store_act_as_their_own_users(client, images):
    """What the server does: one context per request, each with its own user, on one store."""
    project_id = client.create_project("P", "IMAGE", factories.image_interface())["id"]
    client.append_many_to_dataset(project_id, [str(images.make("a.png"))], external_id_array=["a"])
    for email in ("ann@example.com", "ben@example.com"):
        client.append_to_roles(project_id, email, "LABELER")
    contexts = {
        email: ActingContext(client.store, email, new_user_role=None)
        for email in ("ann@example.com", "ben@example.com")
    }
    for ctx in contexts.values():
        label_service.append_labels(
            ctx,
            [factories.boxes(factories.box("OBJECT_B", 0.1, 0.1, 0.5, 0.5))],
            asset_external_id_array=["a"],
            project_id=project_id,
        )
    rows = list(queries.labels(contexts["ann@example.com"], project_id, ["author.email", "isLatestLabelForUser"]))
    assert rows == [
        {"author": {"email": "ann@example.com"}, "isLatestLabelForUser": True},
        {"author": {"email": "ben@example.com"}, "isLatestLabelForUser": True},
    ]
    assert queries.count_assets(contexts["ben@example.com"], project_id, {"status_in": ["LABELED"]}) == 1


def test_a_context_for_an_unknown_user_writes_nothing(client):
    stranger = ActingContext(client.store, "stranger@example.com", new_user_role=None)
    with pytest.raises(NotFound, match=r"User .stranger@example\.com. does not exist in this store"):
        project_service.create_project(stranger, "P", "IMAGE", factories.image_interface())
    assert client.count_projects() == 0
    assert client.count_users(email="stranger@example.com") == 0
