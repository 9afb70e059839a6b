"""The lookups every service starts with: a project by id, assets by ids or external ids."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Connection, select

from labelport.errors import NotFound, ValidationError, in_words_of
from labelport.models import AssetRef, ProjectInfo
from labelport.ontology import Ontology
from labelport.store import schema
from labelport.store.bulk import KEYS, select_for_keys
from labelport.values import check_text, shown

P = schema.projects


def get_project(conn: Connection, project_id: str) -> ProjectInfo:
    """The project with this id, or :class:`NotFound` saying how to find the right one."""
    if not isinstance(project_id, str) or not project_id:
        raise ValidationError(f"project_id must be a project id string, got {shown(project_id)}.")
    check_text(project_id, "project_id")
    row = conn.execute(
        select(
            P.c.pk,
            P.c.id,
            P.c.title,
            P.c.input_type,
            P.c.json_interface,
            P.c.consensus_tot_coverage,
            P.c.min_consensus_size,
            P.c.use_honeypot,
        ).where(P.c.id == project_id)
    ).one_or_none()
    if row is None:
        listing = in_words_of("client.projects() or `labelport project list`", "`labelport project list`")
        raise NotFound(f"Project {project_id!r} does not exist in this store; list the projects with {listing}.")
    return ProjectInfo(
        pk=row.pk,
        id=row.id,
        title=row.title,
        input_type=row.input_type,
        ontology=Ontology.from_json(orjson.loads(row.json_interface)),
        consensus_tot_coverage=row.consensus_tot_coverage,
        min_consensus_size=row.min_consensus_size,
        use_honeypot=bool(row.use_honeypot),
    )


def project_description(conn: Connection, project: ProjectInfo) -> str:
    return str(conn.execute(select(P.c.description).where(P.c.pk == project.pk)).scalar_one())


def resolve_assets(
    conn: Connection,
    project: ProjectInfo | None,
    asset_ids: Sequence[str] | None = None,
    external_ids: Sequence[str] | None = None,
) -> list[AssetRef]:
    """The assets named by ids, or by external ids within ``project``, in the order given."""
    if (asset_ids is None) == (external_ids is None):
        raise ValidationError("Give either asset ids or external ids (with the project id), not both or neither.")
    by_external = asset_ids is None
    wanted = list(external_ids if by_external else asset_ids)  # type: ignore[arg-type]
    what = "Asset external id" if by_external else "Asset id"
    for value in wanted:
        if not isinstance(value, str):
            raise ValidationError(f"Asset {'external ' if by_external else ''}ids must be strings, got {shown(value)}.")
        check_text(value, what)
    if by_external and project is None:
        raise ValidationError("External ids are unique within a project only: give the project_id too.")
    # One statement whatever the number of assets (select_for_keys), on the unique key
    # (project_pk, external_id) or on the id.
    key = "external_id" if by_external else "id"
    where = f"project_pk = {int(project.pk)} AND {key}" if project is not None else key
    found: dict[str, AssetRef] = {}
    rows = select_for_keys(
        conn, f"SELECT pk, id, external_id, project_pk FROM assets WHERE {where} {KEYS}", sorted(set(wanted))
    )
    for pk, asset_id, external_id, project_pk in rows:
        found[external_id if by_external else asset_id] = AssetRef(pk, asset_id, external_id, project_pk)
    missing = [value for value in wanted if value not in found]
    if missing:
        where = f" in project {project.id!r}" if project is not None else ""
        kind = "external id" if by_external else "id"
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        field = "externalId" if by_external else "id"
        listing = f"labelport asset list --project-id {project.id}" if project is not None else "labelport asset list"
        check = in_words_of("client.assets()", f"`{listing} --fields {field}`")
        raise NotFound(f"No asset with {kind} {missing[0]!r}{where}{more}; check the {kind}s with {check}.")
    refs = [found[value] for value in wanted]
    projects = {ref.project_pk for ref in refs}
    if len(projects) > 1:
        raise ValidationError("The assets belong to several projects; act on one project at a time.")
    return refs


def project_and_assets(
    conn: Connection,
    asset_ids: Sequence[str] | None,
    external_ids: Sequence[str] | None,
    project_id: str | None,
) -> tuple[ProjectInfo, list[AssetRef]]:
    """The assets a write names (by ids, or by external ids with the project id) and their project."""
    project = get_project(conn, project_id) if project_id is not None else None
    refs = resolve_assets(conn, project, asset_ids, external_ids)
    if project is None:
        if not refs:
            raise ValidationError("No asset given.")
        pk = refs[0].project_pk
        project = get_project(conn, conn.execute(select(P.c.id).where(P.c.pk == pk)).scalar_one())
    return project, refs
