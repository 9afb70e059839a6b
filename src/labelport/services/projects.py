"""Projects: create, update, delete, and recompute their marks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, select, update

from labelport.enums import InputType, ProjectRole, parse_enum
from labelport.errors import ValidationError
from labelport.ids import new_id
from labelport.models import ProjectInfo
from labelport.ontology import Ontology
from labelport.services import marks, permissions
from labelport.services.context import ActingContext
from labelport.services.labels import redraw_consensus, restatus_for_consensus
from labelport.services.lookups import get_project
from labelport.services.media import remove_unused
from labelport.services.permissions import Action
from labelport.services.users import acting_user_pk
from labelport.store import schema
from labelport.store.bulk import lock_rows
from labelport.timeutil import now_ts
from labelport.values import check_json, check_text, shown

P, A, L, LC = schema.projects, schema.assets, schema.labels, schema.label_categories


def insert_project(
    conn: Connection,
    author_pk: int,
    title: str,
    input_type: str,
    json_interface: Mapping[str, Any],
    description: str = "",
) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationError("A project needs a non-empty title.")
    check_text(title, "title", kind="title")
    check_text(description or "", "description")
    kind = parse_enum(InputType, input_type, "input_type")
    ontology = Ontology.from_json(json_interface)
    project_id = new_id()
    now = now_ts()
    result = conn.execute(
        P.insert().values(
            id=project_id,
            title=title,
            description=description or "",
            input_type=kind,
            json_interface=orjson.dumps(ontology.raw).decode(),
            author_pk=author_pk,
            created_at=now,
            updated_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    project_pk = int(key[0])
    conn.execute(
        schema.project_members.insert().values(
            id=new_id(),
            project_pk=project_pk,
            user_pk=author_pk,
            role=ProjectRole.ADMIN,
            created_at=now,
        )
    )
    return project_id


def _percent(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationError(f"{name} must be a whole percentage between 0 and 100, got {value!r}.")
    return value


def _consensus_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise ValidationError(f"{name} must be a whole number of labelers between 1 and 10, got {value!r}.")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be True or False, got {value!r}.")
    return value


def _text(name: str, value: Any) -> str:
    return check_text(value, name, kind="title" if name == "title" else None)


def _metadata_properties(name: str, value: Any) -> str:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{name} must be a dict {{key: {{type, filterable, ...}}}}, got {shown(value)}.")
    filled = {}
    for key, spec in value.items():
        if spec is not None and not isinstance(spec, Mapping):
            raise ValidationError(f"{name}[{shown(key)}] must be a dict {{type, filterable, ...}}, got {shown(spec)}.")
        spec = dict(spec or {})
        kind = spec.setdefault("type", "string")
        if kind not in ("string", "number", "date"):
            raise ValidationError(f"{name}[{shown(key)}].type must be string, number or date, got {shown(kind)}.")
        for flag in ("filterable", "visibleByLabeler", "visibleByReviewer"):
            spec.setdefault(flag, True)
        filled[key] = spec
    return check_json(filled, name).decode()


#: ``update_properties_in_project`` argument → (column, GraphQL field name, value check).
PROJECT_PROPERTIES: dict[str, tuple[str, str, Any]] = {
    "title": ("title", "title", _text),
    "description": ("description", "description", _text),
    "instructions": ("instructions", "instructions", _text),
    "consensus_tot_coverage": ("consensus_tot_coverage", "consensusTotCoverage", _percent),
    "min_consensus_size": ("min_consensus_size", "minConsensusSize", _consensus_size),
    "review_coverage": ("review_coverage", "reviewCoverage", _percent),
    "use_honeypot": ("use_honeypot", "useHoneyPot", _flag),
    "can_navigate_between_assets": (
        "can_navigate_between_assets",
        "canNavigateBetweenAssets",
        _flag,
    ),
    "can_skip_asset": ("can_skip_asset", "canSkipAsset", _flag),
    "metadata_properties": ("metadata_properties", "metadataProperties", _metadata_properties),
    "archived": ("archived", "archived", _flag),
    "starred": ("starred", "starred", _flag),
}
COMPUTED_PROPERTIES = ("consensus_mark", "honeypot_mark")


def _update_project(conn: Connection, project_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Apply the given properties; return ``{id, <GraphQL name>: value}`` for each one set."""
    project = get_project(conn, project_id)
    values: dict[str, Any] = {}
    echoed: dict[str, Any] = {}
    for name, value in changes.items():
        if value is None:
            continue
        if name in COMPUTED_PROPERTIES:
            raise ValidationError(
                f"{name} is computed by labelport from the labels and cannot be set; "
                "read it with client.projects(fields=[...]) instead."
            )
        if name == "json_interface":
            ontology = Ontology.from_json(value)
            _check_ontology_keeps_labels(conn, project, ontology)
            values["json_interface"] = orjson.dumps(ontology.raw).decode()
            echoed["jsonInterface"] = ontology.raw
            continue
        if name == "input_type":
            kind = parse_enum(InputType, value, "input_type")
            has_assets = conn.execute(select(func.count()).where(A.c.project_pk == project.pk)).scalar()
            if kind != project.input_type and has_assets:
                raise ValidationError(
                    f"Project {project_id!r} already has assets of type {project.input_type}; "
                    "create a new project to change the input type."
                )
            values["input_type"] = kind
            echoed["inputType"] = kind
            continue
        column, graphql, check = PROJECT_PROPERTIES[name]
        values[column] = check(name, value)
        echoed[graphql] = value
    if values:
        values["updated_at"] = now_ts()
        conn.execute(update(P).where(P.c.pk == project.pk).values(**values))
    return {"id": project.id, **echoed}


def _check_ontology_keeps_labels(conn: Connection, project: ProjectInfo, ontology: Ontology) -> None:
    used = conn.execute(
        select(LC.c.job, LC.c.category, func.count())
        .join(L, L.c.pk == LC.c.label_pk)
        .where(L.c.project_pk == project.pk)
        .group_by(LC.c.job, LC.c.category)
        .order_by(LC.c.job, LC.c.category)
    ).all()
    for job, category, count in used:
        known = ontology.jobs.get(job)
        if known is None or category not in known.categories:
            raise ValidationError(
                f"The new jsonInterface of project {project.id!r} drops job {job!r}, category "
                f"{category!r}, which {count} label(s) use; keep it, or delete those labels first."
            )


# -- entry points -------------------------------------------------------------------------------------

#: Every property ``update_properties_in_project`` accepts.
UPDATABLE = frozenset({*PROJECT_PROPERTIES, *COMPUTED_PROPERTIES, "json_interface", "input_type"})


def create_project(
    ctx: ActingContext, title: str, input_type: str, json_interface: Mapping[str, Any], description: str = ""
) -> str:
    """Create a project; the acting user becomes its ADMIN. Returns the project's id."""
    with ctx.write() as tx:
        permissions.actor(ctx, tx.conn)  # any user but a deactivated one
        return insert_project(tx.conn, acting_user_pk(ctx, tx), title, input_type, json_interface, description)


def update_properties_in_project(ctx: ActingContext, project_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """Change project settings (Kili's argument names); return the fields set, with the id. A new
    consensus coverage draws the TODO assets again; a new coverage or consensus size derives the
    statuses again."""
    unknown = sorted(set(properties) - UPDATABLE)
    if unknown:
        raise ValidationError(f"Unknown project properties {unknown}; valid: {', '.join(sorted(UPDATABLE))}.")
    with ctx.write() as tx:
        project = get_project(tx.conn, project_id)
        permissions.require(ctx, tx.conn, project, Action.SETTINGS)
        lock_rows(tx.conn, P, [project.pk])  # label appends (which hold it shared) finish first
        result = _update_project(tx.conn, project_id, properties)
        if properties.get("consensus_tot_coverage") is not None:
            redraw_consensus(tx.conn, get_project(tx.conn, project_id))
        if properties.get("consensus_tot_coverage") is not None or properties.get("min_consensus_size") is not None:
            restatus_for_consensus(tx.conn, get_project(tx.conn, project_id))
    return result


def delete_project(ctx: ActingContext, project_id: str) -> None:
    """Delete the project with its assets, labels and members; once that has committed, the media
    files no other asset uses are removed."""
    with ctx.write() as tx:
        project = get_project(tx.conn, project_id)
        permissions.require(ctx, tx.conn, project, Action.DELETE_PROJECT)
        AMD = schema.asset_media
        used = select(AMD.c.key).join(A, A.c.pk == AMD.c.asset_pk).where(A.c.project_pk == project.pk).distinct()
        keys = list(tx.conn.execute(used).scalars())
        tx.conn.execute(delete(P).where(P.c.pk == project.pk))
        tx.after_commit(lambda: remove_unused(ctx.store, keys))


def recompute_marks(ctx: ActingContext, project_id: str) -> int:
    """Recompute every quality mark of a project from its labels; return the number of assets."""
    with ctx.write() as tx:
        project = get_project(tx.conn, project_id)
        permissions.require(ctx, tx.conn, project, Action.SETTINGS)
        lock_rows(tx.conn, P, [project.pk])  # no label append meanwhile: every mark is recomputed as of now
        asset_pks = list(tx.conn.execute(select(A.c.pk).where(A.c.project_pk == project.pk)).scalars())
        marks.refresh_marks(tx.conn, project, asset_pks)
    return len(asset_pks)
