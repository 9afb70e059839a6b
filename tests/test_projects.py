from __future__ import annotations

import re

import pytest

from labelport.errors import (
    FilterError,
    NotFound,
    OntologyError,
    UnknownFieldError,
    ValidationError,
)
from tests.factories import box, boxes, image_interface


def test_create_and_read_a_project(client):
    project_id = client.create_project("Cars", "IMAGE", image_interface(), "street scenes")["id"]
    [project] = client.projects(project_id=project_id)
    me = client.users(email="admin@example.com")[0]
    assert project == {
        "roles": [
            {
                "id": project["roles"][0]["id"],
                "role": "ADMIN",
                "user": {"email": "admin@example.com", "id": me["id"]},
            }
        ],
        "consensusTotCoverage": 0,
        "id": project_id,
        "inputType": "IMAGE",
        "jsonInterface": image_interface(),
        "minConsensusSize": 1,
        "reviewCoverage": 0,
        "title": "Cars",
    }
    assert client.count_projects() == 1


def test_project_fields_and_counters(client, image_project):
    client.append_many_to_dataset(
        image_project,
        content_array=["https://h/1.jpg", "https://h/2.jpg", "https://h/3.jpg"],
        external_id_array=["a", "b", "c"],
    )
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a"],
        json_response_array=[boxes(box("OBJECT_A", 0, 0, 1, 1))],
    )
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["b"],
        json_response_array=[{}],
        label_type="REVIEW",
    )
    [project] = client.projects(
        project_id=image_project,
        fields=[
            "title",
            "description",
            "numberOfAssets",
            "numberOfRemainingAssets",
            "numberOfReviewedAssets",
            "numberOfLabeledAssets",
            "numberOfSkippedAssets",
            "workflowVersion",
            "useHoneyPot",
            "archived",
            "author.email",
            "createdAt",
            "updatedAt",
            "consensusMark",
            "honeypotMark",
            "metadataProperties",
        ],
    )
    assert project["author"] == {"email": "admin@example.com"}
    assert {
        k: project[k]
        for k in (
            "title",
            "description",
            "numberOfAssets",
            "numberOfRemainingAssets",
            "numberOfReviewedAssets",
            "numberOfLabeledAssets",
            "numberOfSkippedAssets",
            "workflowVersion",
            "useHoneyPot",
            "archived",
            "consensusMark",
            "honeypotMark",
            "metadataProperties",
        )
    } == {
        "title": "Images",
        "description": "a test project",
        "numberOfAssets": 3,
        "numberOfRemainingAssets": 1,
        "numberOfReviewedAssets": 1,
        "numberOfLabeledAssets": 2,
        "numberOfSkippedAssets": 0,
        "workflowVersion": "V1",
        "useHoneyPot": False,
        "archived": False,
        "consensusMark": None,
        "honeypotMark": None,
        "metadataProperties": {},
    }
    assert len(project["createdAt"]) == 24 and project["createdAt"].endswith("Z")


def test_update_properties_in_project(client, image_project):
    result = client.update_properties_in_project(
        image_project,
        title="New",
        consensus_tot_coverage=50,
        min_consensus_size=3,
        use_honeypot=True,
        metadata_properties={"city": {"type": "string"}},
    )
    assert result == {
        "id": image_project,
        "title": "New",
        "consensusTotCoverage": 50,
        "minConsensusSize": 3,
        "useHoneyPot": True,
        "metadataProperties": {"city": {"type": "string"}},
    }
    [project] = client.projects(
        project_id=image_project,
        fields=["title", "minConsensusSize", "useHoneyPot", "metadataProperties"],
    )
    assert project == {
        "title": "New",
        "minConsensusSize": 3,
        "useHoneyPot": True,
        "metadataProperties": {
            "city": {
                "type": "string",
                "filterable": True,
                "visibleByLabeler": True,
                "visibleByReviewer": True,
            }
        },
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"min_consensus_size": 11},
            "min_consensus_size must be a whole number of labelers between 1 and 10, got 11.",
        ),
        (
            {"consensus_tot_coverage": 101},
            "consensus_tot_coverage must be a whole percentage between 0 and 100, got 101.",
        ),
        (
            {"consensus_mark": 0.5},
            "consensus_mark is computed by labelport from the labels and cannot be set; "
            "read it with client.projects(fields=[...]) instead.",
        ),
        ({"colour": "red"}, "Unknown project properties ['colour']; valid: "),
    ],
)
def test_update_properties_refuses_bad_values(client, image_project, changes, message):
    with pytest.raises(ValidationError) as error:
        client.update_properties_in_project(image_project, **changes)
    assert str(error.value).startswith(message)


def test_ontology_update_is_validated_and_keeps_used_categories(client, image_project):
    client.append_many_to_dataset(image_project, content_array=["https://h/1.jpg"], external_id_array=["a"])
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a"],
        json_response_array=[boxes(box("OBJECT_B", 0, 0, 1, 1))],
    )
    with pytest.raises(OntologyError):
        client.update_properties_in_project(image_project, json_interface={"jobs": {}})
    smaller = image_interface()
    del smaller["jobs"]["JOB_0"]["content"]["categories"]["OBJECT_B"]
    with pytest.raises(ValidationError) as error:
        client.update_properties_in_project(image_project, json_interface=smaller)
    assert str(error.value) == (
        f"The new jsonInterface of project {image_project!r} drops job 'JOB_0', category 'OBJECT_B', which 1 "
        "label(s) use; keep it, or delete those labels first."
    )
    larger = image_interface()
    larger["jobs"]["JOB_0"]["content"]["categories"]["OBJECT_C"] = {"name": "C"}
    assert client.update_properties_in_project(image_project, json_interface=larger)["jsonInterface"] == larger
    assert client.projects(project_id=image_project, fields=["jsonInterface"])[0]["jsonInterface"] == larger


def test_create_project_errors(client):
    with pytest.raises(
        ValidationError,
        match=re.escape("input_type 'AUDIO' is not valid; use one of: IMAGE, GEOSPATIAL, PDF, TEXT, VIDEO."),
    ):
        client.create_project("x", "AUDIO", image_interface())
    with pytest.raises(ValidationError, match=re.escape("A project needs a non-empty title.")):
        client.create_project(" ", "IMAGE", image_interface())
    with pytest.raises(ValidationError, match="create_project needs both input_type"):
        client.create_project("x")
    assert client.count_projects() == 0


def test_unknown_project_is_not_found(client):
    with pytest.raises(NotFound) as error:
        client.assets("nope")
    assert str(error.value) == (
        "Project 'nope' does not exist in this store; list the projects with client.projects() or `labelport project list`."
    )


def test_projects_filters(client):
    a = client.create_project("Street cars", "IMAGE", image_interface(), "city")["id"]
    b = client.create_project("Birds", "IMAGE", image_interface(), "forest cars")["id"]
    client.archive_project(b)
    assert [p["id"] for p in client.projects(search_query="cars", fields=["id"])] == [a, b]
    assert [p["id"] for p in client.projects(search_query="%street%", fields=["id"])] == [a]
    assert [p["id"] for p in client.projects(archived=True, fields=["id"])] == [b]
    assert client.count_projects(archived=False) == 1
    assert client.projects(updated_at_gte="2000-01-01", fields=["id"], first=1) == [{"id": a}]
    assert client.projects(fields=["id"], skip=1) == [{"id": b}]
    with pytest.raises(
        FilterError,
        match=re.escape("Filter tags_in is not available in labelport: labelport projects have no tags."),
    ):
        client.projects(tags_in=["x"])
    with pytest.raises(
        UnknownFieldError,
        match=re.escape("Unknown field 'colour': Project has no field 'colour'. Valid fields: archived, author,"),
    ):
        client.projects(fields=["colour"])


def test_delete_project_removes_everything(client, image_project, images):
    path = images.make("a.png")
    client.append_many_to_dataset(image_project, content_array=[str(path)], external_id_array=["a"])
    client.append_labels(project_id=image_project, asset_external_id_array=["a"], json_response_array=[{}])
    [stored] = [p for p in client.store.media_dir.rglob("*.png")]
    assert client.delete_project(image_project) == image_project
    assert client.count_projects() == 0
    assert not stored.exists()
    with pytest.raises(NotFound):
        client.count_assets(image_project)


def test_members_and_roles(client, image_project):
    project = client.append_to_roles(image_project, "Alice@Example.com", "LABELER")
    assert project["id"] == image_project
    assert sorted((r["user"]["email"], r["role"]) for r in project["roles"]) == [
        ("admin@example.com", "ADMIN"),
        ("alice@example.com", "LABELER"),
    ]
    client.append_to_roles(image_project, "alice@example.com", "REVIEWER")  # a second call changes the role
    members = client.project_users(
        image_project,
        email="alice@example.com",
        fields=["id", "role", "user.email", "status", "activated"],
    )
    assert members == [
        {
            "user": {"email": "alice@example.com"},
            "id": members[0]["id"],
            "role": "REVIEWER",
            "status": "ACTIVATED",
            "activated": True,
        }
    ]
    assert client.count_project_users(image_project) == 2
    client.update_properties_in_role(members[0]["id"], image_project, "unused", "TEAM_MANAGER")
    assert client.project_users(image_project, id=members[0]["id"], fields=["role"]) == [{"role": "TEAM_MANAGER"}]
    client.delete_from_roles(members[0]["id"])
    assert client.count_project_users(image_project) == 1
    with pytest.raises(NotFound, match="Project role 'nope' does not exist"):
        client.delete_from_roles("nope")
    with pytest.raises(
        ValidationError,
        match=re.escape("role 'BOSS' is not valid; use one of: ADMIN, TEAM_MANAGER, REVIEWER, LABELER."),
    ):
        client.append_to_roles(image_project, "bob@example.com", "BOSS")


def test_users(client):
    created = client.create_user("Bob@Example.com", "secret", "USER", "Bob", "Smith")
    assert client.users(
        email="bob@example.com",
        fields=["id", "email", "firstname", "lastname", "organizationRole", "activated"],
    ) == [
        {
            "id": created["id"],
            "email": "bob@example.com",
            "firstname": "Bob",
            "lastname": "Smith",
            "organizationRole": "USER",
            "activated": True,
        }
    ]
    assert client.count_users() == 1  # the acting user is created only when it first writes
    with pytest.raises(ValidationError, match=re.escape("A user with email 'bob@example.com' already exists.")):
        client.create_user("bob@example.com")
    with pytest.raises(ValidationError, match=re.escape("'not-an-email' is not an email address.")):
        client.create_user("not-an-email")
