"""Users and project members (roles)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, delete, select, update

from labelport.enums import OrganizationRole, ProjectRole, parse_enum
from labelport.errors import NotFound, ValidationError
from labelport.ids import new_id
from labelport.services.projects import get_project
from labelport.store import schema
from labelport.store.limits import check_text, shown
from labelport.timeutil import now_ts

U, M = schema.users, schema.project_members
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(email: Any) -> str:
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise ValidationError(f"{shown(email)} is not an email address.")
    return check_text("email", email.strip().lower())


def find_user_pk(conn: Connection, email: str) -> int | None:
    return conn.execute(select(U.c.pk).where(U.c.email == normalize_email(email))).scalar_one_or_none()


def create_user(
    conn: Connection,
    email: str,
    firstname: str = "",
    lastname: str = "",
    organization_role: str = OrganizationRole.USER,
) -> tuple[int, str]:
    """Create a user; return its pk and id. An email already taken is an error."""
    address = normalize_email(email)
    if find_user_pk(conn, address) is not None:
        raise ValidationError(f"A user with email {address!r} already exists.")
    role = parse_enum(OrganizationRole, organization_role, "organization_role")
    now = now_ts()
    user_id = new_id()
    result = conn.execute(
        U.insert().values(
            id=user_id,
            email=address,
            firstname=firstname or "",
            lastname=lastname or "",
            activated=True,
            organization_role=role,
            created_at=now,
            updated_at=now,
        )
    )
    return result.inserted_primary_key[0], user_id


def ensure_user(conn: Connection, email: str, organization_role: str = OrganizationRole.USER) -> int:
    """The pk of the user with this email, created (with no name) when it does not exist yet."""
    pk = find_user_pk(conn, email)
    if pk is None:
        pk, _ = create_user(conn, email, organization_role=organization_role)
    return pk


def user_pks_by_id(conn: Connection, user_ids: list[str]) -> dict[str, int]:
    """Map user ids to pks, raising NotFound for the first unknown id."""
    wanted = sorted(set(user_ids))
    found = dict(conn.execute(select(U.c.id, U.c.pk).where(U.c.id.in_(wanted))).all()) if wanted else {}
    for user_id in user_ids:
        if user_id not in found:
            raise NotFound(
                f"User {user_id!r} does not exist; create it with client.create_user(email) "
                "or add it to the project with client.append_to_roles(project_id, email)."
            )
    return found


def append_to_roles(conn: Connection, project_id: str, user_email: str, role: str) -> None:
    """Make the user (created when unknown) a member of the project, or change its role."""
    project = get_project(conn, project_id)
    kind = parse_enum(ProjectRole, role, "role")
    user_pk = ensure_user(conn, user_email)
    existing = conn.execute(
        select(M.c.pk).where(M.c.project_pk == project.pk, M.c.user_pk == user_pk)
    ).scalar_one_or_none()
    if existing is None:
        conn.execute(
            M.insert().values(id=new_id(), project_pk=project.pk, user_pk=user_pk, role=kind, created_at=now_ts())
        )
    else:
        conn.execute(update(M).where(M.c.pk == existing).values(role=kind, activated=True))


def _role_pk(conn: Connection, role_id: str) -> int:
    pk = conn.execute(select(M.c.pk).where(M.c.id == role_id)).scalar_one_or_none()
    if pk is None:
        raise NotFound(f"Project role {role_id!r} does not exist; list roles with client.project_users(project_id).")
    return pk


def update_properties_in_role(conn: Connection, role_id: str, role: str) -> None:
    kind = parse_enum(ProjectRole, role, "role")
    conn.execute(update(M).where(M.c.pk == _role_pk(conn, role_id)).values(role=kind))


def delete_from_roles(conn: Connection, role_id: str) -> None:
    conn.execute(delete(M).where(M.c.pk == _role_pk(conn, role_id)))
