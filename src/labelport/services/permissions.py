"""Who may do what: one table, checked by every service entry point.

An organization ADMIN may do everything, in every project. Any other user sees only the projects they
are a member of, and what they may do there follows their project role, a ladder where each role may
do what the ones below it may:

========================  ==============  =====================================================
action                    least role      what
========================  ==============  =====================================================
``read``                  LABELER         the project, its assets, labels, members, counts, media
``label``                 LABELER         DEFAULT and AUTOSAVE labels authored by oneself
``review``                REVIEWER        REVIEW labels, queueing for review, sending back, honeypot ground truths
``label_for_others``      TEAM_MANAGER    labels authored by another member; PREDICTION and INFERENCE labels
``manage_members``        TEAM_MANAGER    adding, changing and removing members
``manage_admins``         ADMIN           making a member ADMIN, changing or removing an ADMIN
``export``                TEAM_MANAGER    exports of the project
``manage_assets``         ADMIN           adding, changing and deleting assets and their metadata; imports
``settings``              ADMIN           title, ontology, quality settings, archiving, recomputing marks
``delete_project``        ADMIN           deleting the project
========================  ==============  =====================================================

Outside projects: any user may create a project (and becomes its ADMIN) or import a dataset as a new
project; creating users is for organization ADMINs; a user who is not an organization ADMIN sees
only themselves among users. docs/server.md has the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, select

from labelport.enums import OrganizationRole, ProjectRole
from labelport.errors import NotFound, PermissionDenied, a_or_an
from labelport.models import ProjectInfo
from labelport.services.context import ActingContext
from labelport.store import schema

U, M, P = schema.users, schema.project_members, schema.projects


class Action(StrEnum):
    READ = "read"
    LABEL = "label"
    REVIEW = "review"
    LABEL_FOR_OTHERS = "label_for_others"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_ADMINS = "manage_admins"
    EXPORT = "export"
    MANAGE_ASSETS = "manage_assets"
    SETTINGS = "settings"
    DELETE_PROJECT = "delete_project"


#: The project roles from the least to the most trusted.
LADDER = (ProjectRole.LABELER, ProjectRole.REVIEWER, ProjectRole.TEAM_MANAGER, ProjectRole.ADMIN)

#: The least project role each action needs.
LEAST_ROLE: dict[Action, ProjectRole] = {
    Action.READ: ProjectRole.LABELER,
    Action.LABEL: ProjectRole.LABELER,
    Action.REVIEW: ProjectRole.REVIEWER,
    Action.LABEL_FOR_OTHERS: ProjectRole.TEAM_MANAGER,
    Action.MANAGE_MEMBERS: ProjectRole.TEAM_MANAGER,
    Action.MANAGE_ADMINS: ProjectRole.ADMIN,
    Action.EXPORT: ProjectRole.TEAM_MANAGER,
    Action.MANAGE_ASSETS: ProjectRole.ADMIN,
    Action.SETTINGS: ProjectRole.ADMIN,
    Action.DELETE_PROJECT: ProjectRole.ADMIN,
}

#: How refusals name each action.
_DOING = {
    Action.READ: "reading it",
    Action.LABEL: "labeling its assets",
    Action.REVIEW: "reviewing (REVIEW labels, review queue, send-back, honeypots)",
    Action.LABEL_FOR_OTHERS: "writing labels for other members, predictions or inferences",
    Action.MANAGE_MEMBERS: "managing its members",
    Action.MANAGE_ADMINS: "making, changing or removing its ADMINs",
    Action.EXPORT: "exporting it",
    Action.MANAGE_ASSETS: "adding, changing or deleting its assets",
    Action.SETTINGS: "changing its settings",
    Action.DELETE_PROJECT: "deleting it",
}


@dataclass(frozen=True)
class Actor:
    """The acting user as the store knows them."""

    email: str
    pk: int | None  # None: a client's user not stored yet (created on its first write)
    organization_admin: bool


def actor(ctx: ActingContext, conn: Connection) -> Actor:
    """The acting user, read in this transaction: an unknown user is refused, unless the context
    creates its user on first use (the Python client), in the organization role it will have."""
    row = conn.execute(
        select(U.c.pk, U.c.organization_role, U.c.activated).where(U.c.email == ctx.user_email)
    ).one_or_none()
    if row is None:
        if ctx.new_user_role is None:
            raise NotFound(f"User {ctx.user_email!r} does not exist in this store.")
        return Actor(ctx.user_email, None, ctx.new_user_role == OrganizationRole.ADMIN)
    if not row.activated:
        raise PermissionDenied(f"User {ctx.user_email!r} is deactivated; an organization ADMIN can reactivate them.")
    return Actor(ctx.user_email, row.pk, row.organization_role == OrganizationRole.ADMIN)


def project_role(conn: Connection, who: Actor, project: ProjectInfo) -> ProjectRole | None:
    """The user's role in the project (None: not a member)."""
    if who.pk is None:
        return None
    role = conn.execute(
        select(M.c.role).where(M.c.project_pk == project.pk, M.c.user_pk == who.pk, M.c.activated.is_(True))
    ).scalar_one_or_none()
    return None if role is None else ProjectRole(role)


def allows(role: ProjectRole | None, action: Action) -> bool:
    """Whether a member with ``role`` may do ``action``."""
    return role is not None and LADDER.index(role) >= LADDER.index(LEAST_ROLE[action])


def require(ctx: ActingContext, conn: Connection, project: ProjectInfo, *actions: Action) -> Actor:
    """The acting user, if they may do every one of ``actions`` in ``project``; else
    :class:`PermissionDenied` naming the first action refused and the role it needs."""
    who = actor(ctx, conn)
    if who.organization_admin:
        return who
    role = project_role(conn, who, project)
    for action in actions:
        if not allows(role, action):
            raise _refusal(who, role, project, action)
    return who


def _refusal(who: Actor, role: ProjectRole | None, project: ProjectInfo, action: Action) -> PermissionDenied:
    needed = LEAST_ROLE[action]
    more = "" if needed == ProjectRole.ADMIN else " or higher"
    have = f"is {a_or_an(role.value)} of" if role is not None else "is not a member of"
    return PermissionDenied(
        f"User {who.email!r} {have} project {project.id!r}; {_DOING[action]} needs the {needed.value} role{more} "
        "(or an organization ADMIN): ask a project ADMIN."
    )


def require_organization_admin(ctx: ActingContext, conn: Connection, doing: str) -> Actor:
    who = actor(ctx, conn)
    if not who.organization_admin:
        raise PermissionDenied(f"User {who.email!r} is not an organization ADMIN; {doing} needs one.")
    return who


def visible_projects(ctx: ActingContext, conn: Connection) -> list[ColumnElement[bool]]:
    """WHERE clauses limiting projects to those the acting user may read."""
    who = actor(ctx, conn)
    if who.organization_admin:
        return []
    if who.pk is None:
        return [P.c.pk.is_(None)]  # not stored yet: member of nothing
    member_of = select(M.c.project_pk).where(M.c.user_pk == who.pk, M.c.activated.is_(True))
    return [P.c.pk.in_(member_of)]
