"""Users and project members (roles)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select, update

from labelport.enums import OrganizationRole, ProjectRole, parse_enum
from labelport.errors import NotFound, ValidationError
from labelport.ids import new_id
from labelport.services import permissions
from labelport.services.context import ActingContext, Transaction
from labelport.services.lookups import get_project
from labelport.services.permissions import Action
from labelport.store import schema
from labelport.timeutil import now_ts
from labelport.values import check_text, normalize_email, shown

U, M, P = schema.users, schema.project_members, schema.projects


# -- steps (inside a caller's transaction) ------------------------------------------------------------


def find_user_pk(conn: Connection, email: str) -> int | None:
    return conn.execute(select(U.c.pk).where(U.c.email == normalize_email(email))).scalar_one_or_none()


def insert_user(
    conn: Connection,
    email: str,
    firstname: str = "",
    lastname: str = "",
    organization_role: str = OrganizationRole.USER,
) -> tuple[int, str]:
    """Create a user; return its pk and id. An email already taken is an error."""
    address = normalize_email(email)
    firstname = check_text(firstname or "", "firstname", kind="name")
    lastname = check_text(lastname or "", "lastname", kind="name")
    if find_user_pk(conn, address) is not None:
        raise ValidationError(f"A user with email {address!r} already exists.")
    role = parse_enum(OrganizationRole, organization_role, "organization_role")
    now = now_ts()
    user_id = new_id()
    result = conn.execute(
        U.insert().values(
            id=user_id,
            email=address,
            firstname=firstname,
            lastname=lastname,
            activated=True,
            organization_role=role,
            created_at=now,
            updated_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0]), user_id


def ensure_user(conn: Connection, email: str, organization_role: str = OrganizationRole.USER) -> int:
    """The pk of the user with this email, created (with no name) when it does not exist yet."""
    pk = find_user_pk(conn, email)
    if pk is None:
        pk, _ = insert_user(conn, email, organization_role=organization_role)
    return pk


def acting_user_pk(ctx: ActingContext, tx: Transaction) -> int:
    """The acting user's pk, the user created on first use when the context allows it. The pk is
    remembered only once the transaction commits: a write that fails takes a new user with it."""
    if ctx.user_pk is not None:
        return ctx.user_pk
    pk = find_user_pk(tx.conn, ctx.user_email)
    if pk is None:
        if ctx.new_user_role is None:
            raise NotFound(f"User {ctx.user_email!r} does not exist in this store.")
        pk, _ = insert_user(tx.conn, ctx.user_email, organization_role=ctx.new_user_role)

    def remember() -> None:
        ctx.user_pk = pk

    tx.after_commit(remember)
    return pk


def user_pks_by_id(conn: Connection, user_ids: list[str]) -> dict[str, int]:
    """Map user ids to pks, raising NotFound for the first unknown id."""
    for user_id in user_ids:
        if not isinstance(user_id, str):
            raise ValidationError(f"User ids must be strings (author_id_array), got {shown(user_id)}.")
        check_text(user_id, "User id")
    wanted = sorted(set(user_ids))
    found = dict(conn.execute(select(U.c.id, U.c.pk).where(U.c.id.in_(wanted))).all()) if wanted else {}
    for user_id in user_ids:
        if user_id not in found:
            raise NotFound(
                f"User {user_id!r} does not exist; create it with client.create_user(email) "
                "or add it to the project with client.append_to_roles(project_id, email)."
            )
    return found


def author_pks(ctx: ActingContext, tx: Transaction, author_ids: Sequence[str | None] | None, size: int) -> list[int]:
    """The authors of ``size`` labels: the users named by id, the acting user where none is given."""
    acting = acting_user_pk(ctx, tx)
    if author_ids is None:
        return [acting] * size
    known = user_pks_by_id(tx.conn, [a for a in author_ids if a is not None])
    return [acting if author is None else known[author] for author in author_ids]


def _role_pk(conn: Connection, role_id: str) -> int:
    check_text(role_id, "role_id")
    pk = conn.execute(select(M.c.pk).where(M.c.id == role_id)).scalar_one_or_none()
    if pk is None:
        raise NotFound(f"Project role {role_id!r} does not exist; list roles with client.project_users(project_id).")
    return pk


# -- entry points -------------------------------------------------------------------------------------


def create_user(
    ctx: ActingContext,
    email: str,
    firstname: str = "",
    lastname: str = "",
    organization_role: str = OrganizationRole.USER,
) -> str:
    """Create a user (organization ADMINs only); return its id."""
    with ctx.write() as tx:
        permissions.require_organization_admin(ctx, tx.conn, "creating users")
        _pk, user_id = insert_user(tx.conn, email, firstname, lastname, organization_role)
    return user_id


def append_to_roles(ctx: ActingContext, project_id: str, user_email: str, role: str) -> None:
    """Make the user (created when unknown) a member of the project, or change its role."""
    with ctx.write() as tx:
        conn = tx.conn
        project = get_project(conn, project_id)
        kind = parse_enum(ProjectRole, role, "role")
        known = find_user_pk(conn, user_email)
        existing, current = conn.execute(
            select(M.c.pk, M.c.role).where(M.c.project_pk == project.pk, M.c.user_pk == known)
        ).one_or_none() or (None, None)
        permissions.require(ctx, conn, project, _member_action(kind, current))
        user_pk = known if known is not None else ensure_user(conn, user_email)
        if existing is None:
            conn.execute(
                M.insert().values(id=new_id(), project_pk=project.pk, user_pk=user_pk, role=kind, created_at=now_ts())
            )
        else:
            conn.execute(update(M).where(M.c.pk == existing).values(role=kind, activated=True))


def update_properties_in_role(ctx: ActingContext, role_id: str, role: str) -> str:
    """Change a member's role; return the role as stored."""
    kind = parse_enum(ProjectRole, role, "role")
    with ctx.write() as tx:
        pk = _may_change_role(ctx, tx.conn, role_id, kind)
        tx.conn.execute(update(M).where(M.c.pk == pk).values(role=kind))
    return kind


def project_of_role(ctx: ActingContext, role_id: str) -> str:
    """The id of the project a membership belongs to (for a reader of that project)."""
    with ctx.read() as conn:
        pk = _role_pk(conn, role_id)
        project_id = conn.execute(select(P.c.id).join(M, M.c.project_pk == P.c.pk).where(M.c.pk == pk)).scalar_one()
        permissions.require(ctx, conn, get_project(conn, project_id), Action.READ)
    return str(project_id)


def delete_from_roles(ctx: ActingContext, role_id: str) -> None:
    """Remove a member from its project."""
    with ctx.write() as tx:
        tx.conn.execute(delete(M).where(M.c.pk == _may_change_role(ctx, tx.conn, role_id, None)))


def _may_change_role(ctx: ActingContext, conn: Connection, role_id: str, new_role: str | None) -> int:
    """The pk of the membership ``role_id``, if the acting user may change it to ``new_role`` (None:
    remove it); an ADMIN membership, or one made ADMIN, needs a project ADMIN."""
    pk = _role_pk(conn, role_id)
    project_id, current = conn.execute(
        select(P.c.id, M.c.role).join(P, P.c.pk == M.c.project_pk).where(M.c.pk == pk)
    ).one()
    permissions.require(ctx, conn, get_project(conn, project_id), _member_action(new_role, current))
    return pk


def _member_action(new_role: str | None, current: str | None) -> Action:
    """Making a member ADMIN, or changing or removing an ADMIN, is for ADMINs; other changes are
    managing members."""
    return Action.MANAGE_ADMINS if ProjectRole.ADMIN in (new_role, current) else Action.MANAGE_MEMBERS
