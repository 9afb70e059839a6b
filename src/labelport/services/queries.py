"""Reads: projects, users, members, assets and labels, with Kili's dotted fields and filters.

Each function checks its fields, filters and paging before the first row is read (errors surface at
the call, even when the caller keeps the iterator for later) and streams the rows page by page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement

from labelport.annotations.parsing import ParsedLabel
from labelport.errors import ValidationError
from labelport.models import ProjectInfo
from labelport.services import permissions
from labelport.services.context import ActingContext
from labelport.services.lookups import get_project
from labelport.services.permissions import Action
from labelport.store import filters, query, schema
from labelport.store.filters import FilterContext
from labelport.values import normalize_email

OutputFormat = Literal["dict", "parsed_label"]


def _project(ctx: ActingContext, project_id: str) -> ProjectInfo:
    """The project, if the acting user may read it."""
    with ctx.read() as conn:
        project = get_project(conn, project_id)
        permissions.require(ctx, conn, project, Action.READ)
        return project


def _visible_projects(ctx: ActingContext, filters_: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    where = filters.project_where(filters_)
    with ctx.read() as conn:
        return [*where, *permissions.visible_projects(ctx, conn)]


def _stream(
    ctx: ActingContext,
    entity: str,
    fields: Sequence[str] | None,
    where: Sequence[ColumnElement[bool]],
    first: int | None,
    skip: int,
    disable_tqdm: bool | None,
    description: str,
) -> Iterator[dict[str, Any]]:
    return query.stream(
        ctx.store,
        entity,
        fields,
        where,
        first=first,
        skip=skip,
        disable_tqdm=ctx.progress_off(disable_tqdm),
        description=description,
        media_base=ctx.media_url,
    )


def _check_output_format(name: str, value: str) -> None:
    if value not in ("dict", "parsed_label"):
        raise ValidationError(f"{name} must be 'dict' or 'parsed_label', not {value!r}.")


# -- projects and users -------------------------------------------------------------------------------


def projects(
    ctx: ActingContext,
    fields: Sequence[str] | None = None,
    first: int | None = None,
    skip: int = 0,
    filters_: Mapping[str, Any] | None = None,
    *,
    disable_tqdm: bool | None = None,
) -> Iterator[dict[str, Any]]:
    """Projects matching ``filters_`` (``project_id``, ``search_query``, ``archived``, ``starred``,
    ``updated_at_gte|lte``)."""
    where = _visible_projects(ctx, filters_ or {})
    return _stream(ctx, "Project", fields, where, first, skip, disable_tqdm, "projects")


def count_projects(ctx: ActingContext, filters_: Mapping[str, Any] | None = None) -> int:
    return query.count(ctx.store, "Project", _visible_projects(ctx, filters_ or {}))


def _user_where(ctx: ActingContext, email: str | None) -> list[ColumnElement[bool]]:
    """The users asked for, among those the acting user may see: all for an organization ADMIN, else
    themselves."""
    where = [] if email is None else [schema.users.c.email == normalize_email(email)]
    with ctx.read() as conn:
        if not permissions.actor(ctx, conn).organization_admin:
            where.append(schema.users.c.email == ctx.user_email)
    return where


def users(
    ctx: ActingContext,
    email: str | None = None,
    fields: Sequence[str] | None = None,
    first: int | None = None,
    skip: int = 0,
    *,
    disable_tqdm: bool | None = None,
) -> Iterator[dict[str, Any]]:
    """The users of the store (one, with ``email``)."""
    return _stream(ctx, "User", fields, _user_where(ctx, email), first, skip, disable_tqdm, "users")


def count_users(ctx: ActingContext, email: str | None = None) -> int:
    return query.count(ctx.store, "User", _user_where(ctx, email))


def _member_where(ctx: ActingContext, project_id: str, filters_: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    project = _project(ctx, project_id)
    return [schema.project_members.c.project_pk == project.pk, *filters.project_user_where(filters_)]


def project_users(
    ctx: ActingContext,
    project_id: str,
    fields: Sequence[str] | None = None,
    first: int | None = None,
    skip: int = 0,
    filters_: Mapping[str, Any] | None = None,
    *,
    disable_tqdm: bool | None = None,
) -> Iterator[dict[str, Any]]:
    """The members of a project, with their role and user; filters ``email``, ``id``, ``status_in``."""
    where = _member_where(ctx, project_id, filters_ or {})
    return _stream(ctx, "ProjectUser", fields, where, first, skip, disable_tqdm, "members")


def count_project_users(ctx: ActingContext, project_id: str, filters_: Mapping[str, Any] | None = None) -> int:
    return query.count(ctx.store, "ProjectUser", _member_where(ctx, project_id, filters_ or {}))


# -- assets and labels --------------------------------------------------------------------------------


def asset_where(project: ProjectInfo, filters_: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``assets()``: the project and Kili's asset filters (label criteria included)."""
    where = filters.asset_where(filters_, FilterContext(project.ontology.jobs))
    return [schema.assets.c.project_pk == project.pk, *where]


def _label_where(project: ProjectInfo, filters_: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    where = filters.label_where(filters_, FilterContext(project.ontology.jobs))
    return [schema.labels.c.project_pk == project.pk, *where]


def assets(
    ctx: ActingContext,
    project_id: str,
    fields: Sequence[str] | None = None,
    first: int | None = None,
    skip: int = 0,
    filters_: Mapping[str, Any] | None = None,
    *,
    label_output_format: OutputFormat = "dict",
    disable_tqdm: bool | None = None,
) -> Iterator[dict[str, Any]]:
    """Assets of a project in creation order, with the dotted ``fields`` asked for; Kili's filters by
    name (docs/query.md). ``label_output_format="parsed_label"``: labels as :class:`ParsedLabel`."""
    project = _project(ctx, project_id)
    where = asset_where(project, filters_ or {})
    _check_output_format("label_output_format", label_output_format)
    rows = _stream(ctx, "Asset", fields, where, first, skip, disable_tqdm, "assets")
    return _parse_asset_labels(rows, project) if label_output_format == "parsed_label" else rows


def count_assets(ctx: ActingContext, project_id: str, filters_: Mapping[str, Any] | None = None) -> int:
    project = _project(ctx, project_id)
    return query.count(ctx.store, "Asset", asset_where(project, filters_ or {}))


def labels(
    ctx: ActingContext,
    project_id: str,
    fields: Sequence[str] | None = None,
    first: int | None = None,
    skip: int = 0,
    filters_: Mapping[str, Any] | None = None,
    *,
    output_format: OutputFormat = "dict",
    disable_tqdm: bool | None = None,
) -> Iterator[Any]:
    """Labels of a project in creation order, with the dotted ``fields`` asked for; Kili's filters by
    name (docs/query.md). ``output_format="parsed_label"``: each label as a :class:`ParsedLabel`."""
    project = _project(ctx, project_id)
    _check_output_format("output_format", output_format)
    if output_format == "parsed_label" and "jsonResponse" not in (fields or ("jsonResponse",)):
        raise ValidationError("output_format='parsed_label' needs 'jsonResponse' in fields.")
    rows = _stream(ctx, "Label", fields, _label_where(project, filters_ or {}), first, skip, disable_tqdm, "labels")
    if output_format == "parsed_label":
        return (ParsedLabel(row, project.ontology, project.input_type) for row in rows)
    return rows


def count_labels(ctx: ActingContext, project_id: str, filters_: Mapping[str, Any] | None = None) -> int:
    project = _project(ctx, project_id)
    return query.count(ctx.store, "Label", _label_where(project, filters_ or {}))


def _parse_asset_labels(rows: Iterator[dict[str, Any]], project: ProjectInfo) -> Iterator[dict[str, Any]]:
    for row in rows:
        if isinstance(row.get("labels"), list):
            row["labels"] = [ParsedLabel(label, project.ontology, project.input_type) for label in row["labels"]]
        latest = row.get("latestLabel")
        if isinstance(latest, dict) and isinstance(latest.get("jsonResponse"), dict):
            row["latestLabel"] = ParsedLabel(latest, project.ontology, project.input_type)
        yield row
