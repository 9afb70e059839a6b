"""Projects: create, read, update, delete, and the lookups every other service starts with."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, select, update

from labelport.enums import InputType, ProjectRole, parse_enum
from labelport.errors import NotFound, ValidationError
from labelport.ids import new_id
from labelport.ontology import Ontology
from labelport.store import schema
from labelport.store.limits import check_text, shown
from labelport.timeutil import now_ts

P, A, L, LC = schema.projects, schema.assets, schema.labels, schema.label_categories


@dataclass(frozen=True)
class ProjectInfo:
    """What services need to know about a project, read once per call."""

    pk: int
    id: str
    title: str
    input_type: str
    ontology: Ontology
    consensus_tot_coverage: int
    min_consensus_size: int
    use_honeypot: bool


def get_project(conn: Connection, project_id: str) -> ProjectInfo:
    """The project with this id, or :class:`NotFound` saying how to find the right one."""
    if not isinstance(project_id, str) or not project_id:
        raise ValidationError(f"project_id must be a project id string, got {shown(project_id)}.")
    check_text("project_id", project_id)
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
        raise NotFound(
            f"Project {project_id!r} does not exist in this store; "
            "list the projects with client.projects() or `labelport project list`."
        )
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


def in_consensus(external_id: str, coverage: int) -> bool:
    """Whether an asset is drawn for consensus: a stable draw from its external id, ``coverage`` %."""
    return zlib.crc32(external_id.encode()) % 100 < coverage


def create_project(
    conn: Connection,
    author_pk: int,
    title: str,
    input_type: str,
    json_interface: Mapping[str, Any],
    description: str = "",
) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValidationError("A project needs a non-empty title.")
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
    project_pk = result.inserted_primary_key[0]
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
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, got {value!r}.")
    return value


def _metadata_properties(name: str, value: Any) -> str:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{name} must be a dict {{key: {{type, filterable, ...}}}}, got {value!r}.")
    filled = {}
    for key, spec in value.items():
        spec = dict(spec or {})
        kind = spec.setdefault("type", "string")
        if kind not in ("string", "number", "date"):
            raise ValidationError(f"{name}[{key!r}].type must be string, number or date, got {kind!r}.")
        for flag in ("filterable", "visibleByLabeler", "visibleByReviewer"):
            spec.setdefault(flag, True)
        filled[key] = spec
    return orjson.dumps(filled).decode()


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


def update_properties_in_project(conn: Connection, project_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
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


def delete_project(conn: Connection, project_id: str) -> list[str]:
    """Delete the project and everything in it; return the media keys its assets used."""
    project = get_project(conn, project_id)
    keys = conn.execute(select(A.c.media_key, A.c.json_content).where(A.c.project_pk == project.pk)).all()
    conn.execute(delete(P).where(P.c.pk == project.pk))
    from labelport.services.assets import media_keys_of

    return media_keys_of(keys)
