from __future__ import annotations

import json


def _members(client, project_id):
    rows = client.project_users(project_id, fields=["role", "user.email"])
    return sorted((row["user"]["email"], row["role"]) for row in rows)


def test_add_list_update_remove(cli, client, image_project):
    client.create_user("zoe.adams@x.io", firstname="zoe", lastname="adams")
    client.create_user("carl.brown@x.io", firstname="Carl", lastname="Brown")
    result = cli(
        "project", "member", "add", "zoe.adams@x.io", "carl.brown@x.io", "new@x.io", "--project-id", image_project
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"3 member(s) have been successfully added to project: {image_project}\n"
    result = cli("project", "member", "add", "rita@x.io", "--project-id", image_project, "--role", "REVIEWER")
    assert result.output == f"1 member(s) have been successfully added to project: {image_project}\n"

    ids = {row["email"]: row["id"] for row in client.users(fields=["email", "id"])}
    result = cli("project", "member", "list", "--project-id", image_project)
    assert result.exit_code == 0, result.output
    assert result.output == (
        "ROLE      NAME        EMAIL              ID\n"
        f"ADMIN                 admin@example.com  {ids['admin@example.com']}\n"
        f"REVIEWER              rita@x.io          {ids['rita@x.io']}\n"
        f"LABELER               new@x.io           {ids['new@x.io']}\n"
        f"LABELER   Zoe Adams   zoe.adams@x.io     {ids['zoe.adams@x.io']}\n"
        f"LABELER   Carl Brown  carl.brown@x.io    {ids['carl.brown@x.io']}\n"
    )
    rows = json.loads(cli("project", "member", "list", "--project-id", image_project, "--format", "json").output)
    assert rows[3] == {"role": "LABELER", "name": "Zoe Adams", "email": "zoe.adams@x.io", "id": ids["zoe.adams@x.io"]}
    csv_lines = cli("project", "member", "list", "--project-id", image_project, "--format", "csv").output.splitlines()
    assert csv_lines[:2] == ["role,name,email,id", f"ADMIN,,admin@example.com,{ids['admin@example.com']}"]

    result = cli("project", "member", "update", "new@x.io", "--project-id", image_project, "--role", "TEAM_MANAGER")
    assert result.output == f"1 member's role(s) have been successfully updated in project: {image_project}\n"
    result = cli("project", "member", "remove", "zoe.adams@x.io", "carl.brown@x.io", "--project-id", image_project)
    assert result.output == f"2 member(s) have been successfully removed from project: {image_project}\n"
    result = cli("project", "member", "rm", "rita@x.io", "--project-id", image_project)  # Kili's name
    assert result.output == f"1 member(s) have been successfully removed from project: {image_project}\n"
    assert _members(client, image_project) == [("admin@example.com", "ADMIN"), ("new@x.io", "TEAM_MANAGER")]


def test_members_from_csv_and_from_project(cli, client, image_project, tmp_path):
    team = tmp_path / "team.csv"
    team.write_text("email,role\nann@x.io,reviewer\nben@x.io,\n")
    result = cli("project", "member", "add", "--from-csv", team, "--project-id", image_project)
    assert result.output == f"2 member(s) have been successfully added to project: {image_project}\n"
    assert _members(client, image_project) == [
        ("admin@example.com", "ADMIN"),
        ("ann@x.io", "REVIEWER"),
        ("ben@x.io", "LABELER"),
    ]
    other = client.create_project("Other", "IMAGE", client.projects(project_id=image_project)[0]["jsonInterface"])["id"]
    result = cli("project", "member", "add", "--from-project", image_project, "--project-id", other)
    assert result.output == f"3 member(s) have been successfully added to project: {other}\n"
    assert _members(client, other) == _members(client, image_project)
    emails = tmp_path / "emails.csv"
    emails.write_text("email\nann@x.io\n")
    result = cli("project", "member", "update", "--from-csv", emails, "--role", "LABELER", "--project-id", other)
    assert result.output == f"1 member's role(s) have been successfully updated in project: {other}\n"
    result = cli("project", "member", "remove", "--all", "--project-id", other)
    assert result.output == f"3 member(s) have been successfully removed from project: {other}\n"
    assert _members(client, other) == []


def test_member_errors(cli, client, image_project, tmp_path):
    result = cli("project", "member", "update", "ghost@x.io", "--project-id", image_project, "--role", "REVIEWER")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: ghost@x.io is not a member of project {image_project}; list them with "
        f"`labelport project member list --project-id {image_project}`.\n"
    )
    result = cli("project", "member", "add", "ann@x.io", "not-an-email", "--project-id", image_project)
    assert result.exit_code == 1 and result.output == "Error: EMAILS: 'not-an-email' is not an email address.\n"
    result = cli("project", "member", "add", "--project-id", image_project)
    assert result.exit_code == 2 and result.output.endswith(
        "Error: Give EMAILS, --from-csv or --from-project (exactly one of them).\n"
    )
    team = tmp_path / "team.csv"
    team.write_text("email,role\nann@x.io,BOSS\n")
    result = cli("project", "member", "add", "--from-csv", team, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {team}, line 2: role 'BOSS' is not one of ADMIN, TEAM_MANAGER, REVIEWER, LABELER.\n"
    )
    result = cli("project", "member", "add", "--from-csv", team, "--role", "LABELER", "--project-id", image_project)
    assert result.exit_code == 2 and result.output.endswith(
        "Error: --role cannot be used with a CSV that has a role column.\n"
    )
    result = cli("project", "member", "remove", "--all", "ann@x.io", "--project-id", image_project)
    assert result.exit_code == 2
    result = cli("project", "member", "list", "--project-id", "nope")
    assert result.exit_code == 1 and result.output.startswith("Error: Project 'nope' does not exist in this store")
    assert _members(client, image_project) == [("admin@example.com", "ADMIN")]
