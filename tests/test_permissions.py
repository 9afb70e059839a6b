"""Every project role against every class of operation (services/permissions.py, docs/server.md): a
member may do what their role allows and nothing else; a refusal names the role needed and changes
nothing; an organization ADMIN may do everything; a non-member sees nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import labelport
from labelport.errors import PermissionDenied
from tests import factories
from tests.integrity.state import store_state

BOX = factories.boxes(factories.box("OBJECT_B", 0.1, 0.1, 0.5, 0.5))
MEMBERS = {
    "labeler@example.com": "LABELER",
    "reviewer@example.com": "REVIEWER",
    "manager@example.com": "TEAM_MANAGER",
    "admin@example.com": "ADMIN",
}
OUTSIDER = "outsider@example.com"
ORG_ADMIN = "boss@example.com"


class Team:
    def __init__(self, url: str, media: Path, images: factories.ImageFactory) -> None:
        self.url, self.media = url, media
        with self.client(ORG_ADMIN) as boss:  # created by its first write: an organization ADMIN
            self.project = boss.create_project("Team", "IMAGE", factories.image_interface())["id"]
            boss.append_many_to_dataset(self.project, [str(images.make("a.png"))], external_id_array=["a"])
            for email, role in MEMBERS.items():
                boss.append_to_roles(self.project, email, role)
            boss.create_user(OUTSIDER)
            boss.append_labels(json_response_array=[BOX], asset_external_id_array=["a"], project_id=self.project)
            self.user_ids = {row["email"]: row["id"] for row in boss.users()}
            self.roles = {
                row["user"]["email"]: row["id"]
                for row in boss.project_users(self.project, fields=["id", "user.email"], disable_tqdm=True)
            }

    def client(self, email: str) -> labelport.Client:
        return labelport.Client(self.url, email, media_dir=self.media, disable_tqdm=True)


@pytest.fixture
def team(database_url: str, tmp_path: Path, images: factories.ImageFactory) -> Team:
    return Team(database_url, tmp_path / "media", images)


def _operations(
    team: Team, tmp_path: Path, images: factories.ImageFactory
) -> dict[str, Callable[[labelport.Client], Any]]:
    p = team.project
    return {
        "read": lambda c: c.assets(p, fields=["externalId", "labels.jsonResponse"]),
        "count": lambda c: c.count_labels(p),
        "members": lambda c: c.project_users(p, fields=["role"]),
        "label": lambda c: c.append_labels(json_response_array=[BOX], asset_external_id_array=["a"], project_id=p),
        "review": lambda c: c.append_labels(
            json_response_array=[BOX], asset_external_id_array=["a"], project_id=p, label_type="REVIEW"
        ),
        "queue for review": lambda c: c.add_to_review(external_ids=["a"], project_id=p),
        "send back": lambda c: c.send_back_to_queue(external_ids=["a"], project_id=p),
        "honeypot": lambda c: c.create_honeypot(BOX, asset_external_id="a", project_id=p),
        "label for another": lambda c: c.append_labels(
            json_response_array=[BOX],
            asset_external_id_array=["a"],
            project_id=p,
            author_id_array=[team.user_ids[ORG_ADMIN]],
        ),
        "prediction": lambda c: c.create_predictions(p, ["a"], json_response_array=[BOX], model_name="m"),
        "add member": lambda c: c.append_to_roles(p, "new@example.com", "LABELER"),
        "remove labeler": lambda c: c.delete_from_roles(team.roles["labeler@example.com"]),
        "make admin": lambda c: c.append_to_roles(p, "new@example.com", "ADMIN"),
        "demote admin": lambda c: c.update_properties_in_role(team.roles["admin@example.com"], p, "", "LABELER"),
        "export": lambda c: c.export_labels(p, tmp_path / "out" / "e.zip", "kili"),
        "add asset": lambda c: c.append_many_to_dataset(
            p, [str(images.make("b.png", color=(1, 2, 3)))], external_id_array=["b"]
        ),
        "metadata": lambda c: c.add_metadata([{"k": 1}], p, external_ids=["a"]),
        "delete asset": lambda c: c.delete_many_from_dataset(external_ids=["a"], project_id=p),
        "settings": lambda c: c.update_properties_in_project(p, title="Renamed"),
        "recompute marks": lambda c: c.recompute_marks(p),
        "delete project": lambda c: c.delete_project(p),
    }


#: The least role of each operation (the ladder LABELER < REVIEWER < TEAM_MANAGER < ADMIN).
LEAST = {
    "read": "LABELER",
    "count": "LABELER",
    "members": "LABELER",
    "label": "LABELER",
    "review": "REVIEWER",
    "queue for review": "REVIEWER",
    "send back": "REVIEWER",
    "honeypot": "REVIEWER",
    "label for another": "TEAM_MANAGER",
    "prediction": "TEAM_MANAGER",
    "add member": "TEAM_MANAGER",
    "remove labeler": "TEAM_MANAGER",
    "make admin": "ADMIN",
    "demote admin": "ADMIN",
    "export": "TEAM_MANAGER",
    "add asset": "ADMIN",
    "metadata": "ADMIN",
    "delete asset": "ADMIN",
    "settings": "ADMIN",
    "recompute marks": "ADMIN",
    "delete project": "ADMIN",
}
DOING = {
    "read": "reading it",
    "count": "reading it",
    "members": "reading it",
    "label": "labeling its assets",
    "review": "reviewing (REVIEW labels, review queue, send-back, honeypots)",
    "queue for review": "reviewing (REVIEW labels, review queue, send-back, honeypots)",
    "send back": "reviewing (REVIEW labels, review queue, send-back, honeypots)",
    "honeypot": "reviewing (REVIEW labels, review queue, send-back, honeypots)",
    "label for another": "writing labels for other members, predictions or inferences",
    "prediction": "writing labels for other members, predictions or inferences",
    "add member": "managing its members",
    "remove labeler": "managing its members",
    "make admin": "making, changing or removing its ADMINs",
    "demote admin": "making, changing or removing its ADMINs",
    "export": "exporting it",
    "add asset": "adding, changing or deleting its assets",
    "metadata": "adding, changing or deleting its assets",
    "delete asset": "adding, changing or deleting its assets",
    "settings": "changing its settings",
    "recompute marks": "changing its settings",
    "delete project": "deleting it",
}
LADDER = ["LABELER", "REVIEWER", "TEAM_MANAGER", "ADMIN"]
ACTORS = [*MEMBERS, OUTSIDER, ORG_ADMIN]


@pytest.mark.parametrize("operation", sorted(LEAST))
@pytest.mark.parametrize("email", ACTORS)
def test_each_role_may_do_what_its_rank_allows_and_nothing_else(team, tmp_path, images, email, operation):
    role = MEMBERS.get(email)
    allowed = email == ORG_ADMIN or (role is not None and LADDER.index(role) >= LADDER.index(LEAST[operation]))
    call = _operations(team, tmp_path, images)[operation]
    with team.client(email) as client:
        if allowed:
            call(client)
            return
        before = store_state(client)
        with pytest.raises(PermissionDenied) as refused:
            call(client)
        assert store_state(client) == before
    needed = LEAST[operation]
    who = f"is {'an' if role == 'ADMIN' else 'a'} {role} of" if role is not None else "is not a member of"
    assert str(refused.value) == (
        f"User {email!r} {who} project {team.project!r}; {DOING[operation]} needs the {needed} role"
        f"{'' if needed == 'ADMIN' else ' or higher'} (or an organization ADMIN): ask a project ADMIN."
    )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_users_see_only_their_projects_and_themselves(team):
    with team.client(ORG_ADMIN) as boss:
        other = boss.create_project("Elsewhere", "TEXT", {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "content": {}}}})[
            "id"
        ]
        assert {row["id"] for row in boss.projects(fields=["id"])} == {team.project, other}
        assert boss.count_users() == 6
    with team.client("labeler@example.com") as labeler:
        assert [row["id"] for row in labeler.projects(fields=["id"])] == [team.project]
        assert labeler.count_projects() == 1
        assert labeler.users(fields=["email"]) == [{"email": "labeler@example.com"}]
        assert labeler.count_users(email="boss@example.com") == 0
    with team.client(OUTSIDER) as outsider:
        assert outsider.projects(fields=["id"]) == [] and outsider.count_projects() == 0
        created = outsider.create_project("Mine", "TEXT", {"jobs": {"T": {"mlTask": "TRANSCRIPTION", "content": {}}}})
        assert [row["id"] for row in outsider.projects(fields=["id"])] == [created["id"]]
        with pytest.raises(
            PermissionDenied,
            match=r"User 'outsider@example\.com' is not an organization ADMIN; creating users needs one\.",
        ):
            outsider.create_user("friend@example.com")


def test_a_project_admin_can_give_away_and_lose_adminship(team):
    with team.client("admin@example.com") as admin:
        admin.append_to_roles(team.project, "manager@example.com", "ADMIN")
        admin.update_properties_in_role(team.roles["admin@example.com"], team.project, "", "LABELER")
        with pytest.raises(PermissionDenied, match="is a LABELER of project"):
            admin.update_properties_in_project(team.project, title="Mine again")
