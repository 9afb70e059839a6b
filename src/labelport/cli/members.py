"""``labelport project member add|list|update|remove``."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from labelport.cli.common import database_option, open_client, project_id_option, require_project
from labelport.cli.output import FORMATS, print_records, render_table
from labelport.enums import ProjectRole
from labelport.errors import NotFound, ValidationError
from labelport.values import normalize_email

if TYPE_CHECKING:
    from labelport.client import Client

ROLE_ORDER = [role.value for role in ProjectRole]  # ADMIN, TEAM_MANAGER, REVIEWER, LABELER
_MEMBER_FIELDS = ["id", "role", "activated", "user.id", "user.email", "user.firstname", "user.lastname"]

role_option = click.option(
    "--role",
    type=click.Choice(ROLE_ORDER),
    default=None,
    help="The role of the members (default LABELER); not with a CSV that has a role column, nor --from-project.",
)
from_csv_option = click.option(
    "--from-csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CSV with the column email and optionally role.",
)
from_project_option = click.option("--from-project", help="Take the members (and their roles) of this project.")


def members_from_csv(path: Path, role: str | None) -> list[tuple[str, str]]:
    """(email, role) pairs from a CSV with the column ``email`` and optionally ``role``."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if "email" not in columns:
            raise ValidationError(
                f"{path}: the CSV needs the column email (and optionally role); found: {', '.join(columns) or 'none'}."
            )
        if "role" in columns and role is not None:
            raise click.UsageError("--role cannot be used with a CSV that has a role column.")
        members = []
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            email = (row["email"] or "").strip()
            member_role = (row.get("role") or "").strip().upper() or role or ProjectRole.LABELER
            if member_role not in ROLE_ORDER:
                raise ValidationError(f"{where}: role {member_role!r} is not one of {', '.join(ROLE_ORDER)}.")
            members.append((_email(email, where), member_role))
    if not members:
        raise ValidationError(f"{path}: the CSV has no rows.")
    return members


def _email(value: str, where: str) -> str:
    try:
        return normalize_email(value)
    except ValidationError:
        raise ValidationError(f"{where}: {value!r} is not an email address.") from None


def active_members(client: Client, project_id: str) -> list[dict[str, Any]]:
    require_project(client, project_id)
    rows = client.project_users(project_id, fields=_MEMBER_FIELDS, disable_tqdm=True)
    return [row for row in rows if row["activated"]]


def collect_members(
    client: Client,
    emails: Sequence[str],
    role: str | None,
    from_csv: Path | None,
    from_project: str | None,
) -> list[tuple[str, str]]:
    """(email, role) pairs from exactly one source: emails, a CSV, or another project."""
    if (len(emails) > 0) + (from_csv is not None) + (from_project is not None) != 1:
        raise click.UsageError("Give EMAILS, --from-csv or --from-project (exactly one of them).")
    if from_csv is not None:
        return members_from_csv(from_csv, role)
    if from_project is not None:
        if role is not None:
            raise click.UsageError("--role cannot be used with --from-project: the members keep their roles.")
        return [(row["user"]["email"], row["role"]) for row in active_members(client, from_project)]
    return [(_email(email, "EMAILS"), role or ProjectRole.LABELER) for email in emails]


def role_of(client: Client, project_id: str, email: str) -> dict[str, Any]:
    """The membership of ``email`` in the project; NotFound when the user is not a member."""
    rows = client.project_users(project_id, email=email, fields=["id", "user.id"], disable_tqdm=True)
    if not rows:
        raise NotFound(
            f"{email} is not a member of project {project_id}; list them with "
            f"`labelport project member list --project-id {project_id}`."
        )
    return rows[0]


@click.command("add")
@click.argument("emails", nargs=-1)
@project_id_option
@role_option
@from_csv_option
@from_project_option
@database_option
def add(
    emails: tuple[str, ...],
    project_id: str,
    role: str | None,
    from_csv: Path | None,
    from_project: str | None,
    database: str | None,
) -> None:
    """Add members to a project (users are created when their email is new).

    \b
    Example:
      labelport project member add alice@example.com bob@example.com --project-id 01a2… --role LABELER
      labelport project member add --from-csv team.csv --project-id 01a2…
    """
    with open_client(database) as client:
        require_project(client, project_id)
        members = collect_members(client, emails, role, from_csv, from_project)
        for email, member_role in members:
            client.append_to_roles(project_id, email, member_role)
    click.echo(f"{len(members)} member(s) have been successfully added to project: {project_id}")


@click.command("update")
@click.argument("emails", nargs=-1)
@project_id_option
@role_option
@from_csv_option
@from_project_option
@database_option
def update(
    emails: tuple[str, ...],
    project_id: str,
    role: str | None,
    from_csv: Path | None,
    from_project: str | None,
    database: str | None,
) -> None:
    """Change the role of members of a project.

    \b
    Example:
      labelport project member update carol@example.com --project-id 01a2… --role REVIEWER
    """
    with open_client(database) as client:
        require_project(client, project_id)
        members = collect_members(client, emails, role, from_csv, from_project)
        roles = [(role_of(client, project_id, email), member_role) for email, member_role in members]
        for membership, member_role in roles:
            client.update_properties_in_role(membership["id"], project_id, membership["user"]["id"], member_role)
    click.echo(f"{len(members)} member's role(s) have been successfully updated in project: {project_id}")


@click.command("remove")
@click.argument("emails", nargs=-1)
@project_id_option
@from_csv_option
@from_project_option
@click.option("--all", "everyone", is_flag=True, help="Remove every member.")
@database_option
def remove(
    emails: tuple[str, ...],
    project_id: str,
    from_csv: Path | None,
    from_project: str | None,
    everyone: bool,
    database: str | None,
) -> None:
    """Remove members from a project (their labels stay).

    \b
    Example:
      labelport project member remove bob@example.com --project-id 01a2…
      labelport project member remove --all --project-id 01a2…
    """
    with open_client(database) as client:
        require_project(client, project_id)
        if everyone:
            if emails or from_csv is not None or from_project is not None:
                raise click.UsageError("--all cannot be combined with EMAILS, --from-csv or --from-project.")
            role_ids = [row["id"] for row in active_members(client, project_id)]
        else:
            members = collect_members(client, emails, None, from_csv, from_project)
            role_ids = [role_of(client, project_id, email)["id"] for email, _role in members]
        for role_id in role_ids:
            client.delete_from_roles(role_id)
    click.echo(f"{len(role_ids)} member(s) have been successfully removed from project: {project_id}")


def _name(user: dict[str, Any]) -> str:
    return f"{user['firstname'].title()} {user['lastname'].title()}".strip()


@click.command("list")
@project_id_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="table",
    show_default=True,
    help="table, json or csv; the columns role, name, email, id (the user's id).",
)
@database_option
def list_members(project_id: str, fmt: str, database: str | None) -> None:
    """List the members of a project: ROLE, NAME, EMAIL, ID, by role (ADMIN first) then last name.

    \b
    Example:
      labelport project member list --project-id 01a2…
    """
    with open_client(database) as client:
        rows = active_members(client, project_id)
    rows.sort(key=lambda row: (ROLE_ORDER.index(row["role"]), row["user"]["lastname"].lower(), row["user"]["email"]))
    members = [
        {"role": row["role"], "name": _name(row["user"]), "email": row["user"]["email"], "id": row["user"]["id"]}
        for row in rows
    ]
    body = [list(member.values()) for member in members]
    print_records(members, ["role", "name", "email", "id"], fmt, render_table(["ROLE", "NAME", "EMAIL", "ID"], body))
