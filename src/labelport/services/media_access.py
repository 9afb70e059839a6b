"""Who may read a stored media file: a member of a project that has an asset using it."""

from __future__ import annotations

from sqlalchemy import select

from labelport.errors import NotFound, PermissionDenied
from labelport.services import permissions
from labelport.services.context import ActingContext
from labelport.services.lookups import get_project
from labelport.services.permissions import Action
from labelport.store import schema

A, AMD, P = schema.assets, schema.asset_media, schema.projects


def require_readable(ctx: ActingContext, key: str) -> None:
    """Nothing if the acting user may read some project with an asset using the file ``key``; else
    NotFound (no asset uses it) or PermissionDenied (the user may read none of those projects)."""
    with ctx.read() as conn:
        projects = list(
            conn.execute(
                select(P.c.id)
                .join(A, A.c.project_pk == P.c.pk)
                .join(AMD, AMD.c.asset_pk == A.c.pk)
                .where(AMD.c.key == key)
                .distinct()
                .order_by(P.c.id)
            ).scalars()
        )
        if not projects:
            raise NotFound(f"No asset uses the stored file {key!r}.")
        refusal: Exception | None = None
        for project_id in projects:
            try:
                permissions.require(ctx, conn, get_project(conn, project_id), Action.READ)
                return
            except PermissionDenied as error:
                refusal = error
        assert refusal is not None
        raise refusal
