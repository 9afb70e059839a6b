"""Dotted field paths → SQL → nested dicts shaped exactly like Kili's GraphQL answers.

Each object type (Asset, Label, Project, ProjectUser, User) is an :class:`Entity` whose fields are
plain columns or SQL expressions (:class:`Scalar`), values built from several columns
(:class:`Computed`, e.g. ``resolution {width height}``) or links to other entities (:class:`Link`,
e.g. ``labels`` or ``latestLabel``). A list of dotted paths becomes a :class:`Plan`: the columns to
select from the root table, and one batched query per link and page (``WHERE key IN (…)``, the keys
in one parameter: :func:`labelport.store.lists.in_values`), never one query per row. A path has at
most :data:`~labelport.store.limits.MAX_FIELD_DEPTH` names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Table, and_, func, select, true

from labelport.errors import UnknownFieldError
from labelport.media import MEDIA_PREFIX
from labelport.store import schema
from labelport.store.limits import MAX_FIELD_DEPTH
from labelport.store.lists import in_values
from labelport.values import shown

Build = Callable[[dict[str, Any], "Context"], Any]


@dataclass(frozen=True)
class Context:
    """What building a value may need beyond the row: where media files live."""

    media_dir: str


@dataclass(frozen=True)
class Scalar:
    """A value read from one SQL expression over the entity's table."""

    expr: Callable[[Table], ColumnElement[Any]]
    decode: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Computed:
    """A value built in Python from some columns; with ``subfields`` it is an object to select into."""

    columns: tuple[str, ...]
    build: Build
    subfields: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Link:
    """A relation to another entity: ``local`` column of this table = ``remote`` column of the target."""

    target: str
    local: str
    remote: str
    many: bool = False
    where: Callable[[Table], ColumnElement[bool]] | None = None
    order_by: tuple[str, ...] = ("pk",)


Field = Scalar | Computed | Link


@dataclass(frozen=True)
class Entity:
    name: str
    table: Table
    fields: dict[str, Field]
    default_fields: tuple[str, ...]


def _col(name: str) -> Callable[[Table], ColumnElement[Any]]:
    return lambda table: table.c[name]


def _bool_col(name: str) -> Scalar:
    return Scalar(_col(name), bool)


def _json(value: Any) -> Any:
    return orjson.loads(value) if value else {}


def _json_or_none(value: Any) -> Any:
    return orjson.loads(value) if value else None


def media_path(media_dir: str, key: str) -> str:
    return f"{media_dir}/{key}"


def _resolve_media_refs(value: Any, media_dir: str) -> Any:
    if isinstance(value, str):
        return media_path(media_dir, value[len(MEDIA_PREFIX) :]) if value.startswith(MEDIA_PREFIX) else value
    if isinstance(value, list):
        return [_resolve_media_refs(item, media_dir) for item in value]
    if isinstance(value, dict):
        return {key: _resolve_media_refs(item, media_dir) for key, item in value.items()}
    return value


def build_content(row: dict[str, Any], ctx: Context) -> str:
    key = row["media_key"]
    return media_path(ctx.media_dir, key) if key else row["content"]


def build_json_content(row: dict[str, Any], ctx: Context) -> str:
    text = row["json_content"]
    if MEDIA_PREFIX not in text:
        return text
    return orjson.dumps(_resolve_media_refs(orjson.loads(text), ctx.media_dir)).decode()


def _build_resolution(row: dict[str, Any], _ctx: Context) -> dict[str, int] | None:
    if row["width"] is None or row["height"] is None:
        return None
    return {"width": row["width"], "height": row["height"]}


def _build_page_resolutions(row: dict[str, Any], _ctx: Context) -> list[dict[str, Any]]:
    return orjson.loads(row["page_resolutions"]) if row["page_resolutions"] else []


def _count(table: Table, fk: str, *conditions: ColumnElement[bool]) -> Callable[[Table], ColumnElement[Any]]:
    def expr(outer: Table) -> ColumnElement[Any]:
        return select(func.count()).select_from(table).where(table.c[fk] == outer.c.pk, *conditions).scalar_subquery()

    return expr


def _mean(table: Table, fk: str, column: str) -> Callable[[Table], ColumnElement[Any]]:
    def expr(outer: Table) -> ColumnElement[Any]:
        return select(func.avg(table.c[column])).where(table.c[fk] == outer.c.pk).scalar_subquery()

    return expr


A, L, P, M, U = schema.assets, schema.labels, schema.projects, schema.project_members, schema.users


def _member_consensus(member: Table) -> ColumnElement[Any]:
    """Mean consensus of the assets the member labeled (DEFAULT labels)."""
    own = L.alias("member_labels")
    labeled = (
        select(own.c.asset_pk)
        .where(
            own.c.project_pk == member.c.project_pk, own.c.author_pk == member.c.user_pk, own.c.label_type == "DEFAULT"
        )
        .correlate(member)
    )
    return select(func.avg(A.c.consensus_mark)).where(A.c.pk.in_(labeled)).correlate(member).scalar_subquery()


def _member_honeypot(member: Table) -> ColumnElement[Any]:
    """Mean honeypot mark of the member's latest DEFAULT label on each honeypot asset."""
    return (
        select(func.avg(L.c.honeypot_mark))
        .where(
            L.c.project_pk == member.c.project_pk,
            L.c.author_pk == member.c.user_pk,
            L.c.is_latest_default_for_user == true(),
        )
        .correlate(member)
        .scalar_subquery()
    )


def _member_labeled_assets(member: Table) -> ColumnElement[Any]:
    """How many assets the member labeled (DEFAULT labels)."""
    return (
        select(func.count(func.distinct(L.c.asset_pk)))
        .where(L.c.project_pk == member.c.project_pk, L.c.author_pk == member.c.user_pk, L.c.label_type == "DEFAULT")
        .correlate(member)
        .scalar_subquery()
    )


ENTITIES: dict[str, Entity] = {}


def _register(entity: Entity) -> None:
    ENTITIES[entity.name] = entity


_register(
    Entity(
        "User",
        U,
        {
            "id": Scalar(_col("id")),
            "email": Scalar(_col("email")),
            "firstname": Scalar(_col("firstname")),
            "lastname": Scalar(_col("lastname")),
            "activated": _bool_col("activated"),
            "organizationRole": Scalar(_col("organization_role")),
            "createdAt": Scalar(_col("created_at")),
            "updatedAt": Scalar(_col("updated_at")),
        },
        ("email", "id", "firstname", "lastname"),
    )
)

_register(
    Entity(
        "Label",
        L,
        {
            "id": Scalar(_col("id")),
            "assetId": Scalar(lambda t: select(A.c.id).where(A.c.pk == t.c.asset_pk).scalar_subquery()),
            "jsonResponse": Scalar(_col("json_response"), _json),
            "labelType": Scalar(_col("label_type")),
            "createdAt": Scalar(_col("created_at")),
            "updatedAt": Scalar(_col("updated_at")),
            "secondsToLabel": Scalar(_col("seconds_to_label")),
            "modelName": Scalar(_col("model_name")),
            "numberOfAnnotations": Scalar(_col("number_of_annotations")),
            "consensusMark": Scalar(_col("consensus_mark")),
            "honeypotMark": Scalar(_col("honeypot_mark")),
            "inferenceMark": Scalar(_col("inference_mark")),
            "isLatestLabelForUser": _bool_col("is_latest_for_user"),
            "isLatestDefaultLabelForUser": _bool_col("is_latest_default_for_user"),
            "isLatestReviewLabelForUser": _bool_col("is_latest_review_for_user"),
            "isSentBackToQueue": _bool_col("is_sent_back_to_queue"),
            "author": Link("User", "author_pk", "pk"),
            "labelOf": Link("Asset", "asset_pk", "pk"),
        },
        (
            "author.email",
            "author.id",
            "id",
            "jsonResponse",
            "labelType",
            "secondsToLabel",
            "isLatestLabelForUser",
            "assetId",
        ),
    )
)

_register(
    Entity(
        "Asset",
        A,
        {
            "id": Scalar(_col("id")),
            "externalId": Scalar(_col("external_id")),
            "content": Computed(("content", "media_key"), build_content),
            "jsonContent": Computed(("json_content",), build_json_content),
            "jsonMetadata": Scalar(_col("json_metadata"), _json),
            "status": Scalar(_col("status")),
            "skipped": _bool_col("skipped"),
            "isHoneypot": _bool_col("is_honeypot"),
            "isUsedForConsensus": _bool_col("is_used_for_consensus"),
            "priority": Scalar(_col("priority")),
            "consensusMark": Scalar(_col("consensus_mark")),
            "honeypotMark": Scalar(_col("honeypot_mark")),
            "inferenceMark": Scalar(_col("inference_mark")),
            "createdAt": Scalar(_col("created_at")),
            "updatedAt": Scalar(_col("updated_at")),
            "resolution": Computed(("width", "height"), _build_resolution, ("width", "height")),
            "pageResolutions": Computed(
                ("page_resolutions",),
                _build_page_resolutions,
                ("pageNumber", "width", "height", "rotation"),
            ),
            "labels": Link("Label", "pk", "asset_pk", many=True, order_by=("created_at", "pk")),
            "latestLabel": Link("Label", "latest_label_pk", "pk"),
            "latestLabels": Link(
                "Label",
                "pk",
                "asset_pk",
                many=True,
                where=lambda t: t.c.is_latest_for_user == true(),
                order_by=("created_at", "pk"),
            ),
            "project": Link("Project", "project_pk", "pk"),
        },
        (
            "content",
            "createdAt",
            "externalId",
            "id",
            "isHoneypot",
            "jsonMetadata",
            "labels.author.id",
            "labels.author.email",
            "labels.createdAt",
            "labels.id",
            "labels.jsonResponse",
            "skipped",
            "status",
        ),
    )
)

_register(
    Entity(
        "ProjectUser",
        M,
        {
            "id": Scalar(_col("id")),
            "role": Scalar(_col("role")),
            "activated": _bool_col("activated"),
            "starred": _bool_col("starred"),
            "status": Scalar(lambda t: t.c.activated, lambda v: "ACTIVATED" if v else "ORG_SUSPENDED"),
            "createdAt": Scalar(_col("created_at")),
            "consensusMark": Scalar(_member_consensus),
            "honeypotMark": Scalar(_member_honeypot),
            "numberOfLabeledAssets": Scalar(_member_labeled_assets),
            "user": Link("User", "user_pk", "pk"),
            "project": Link("Project", "project_pk", "pk"),
        },
        ("activated", "id", "role", "starred", "user.email", "user.id", "status"),
    )
)

_register(
    Entity(
        "Project",
        P,
        {
            "id": Scalar(_col("id")),
            "title": Scalar(_col("title")),
            "description": Scalar(_col("description")),
            "inputType": Scalar(_col("input_type")),
            "jsonInterface": Scalar(_col("json_interface"), _json),
            "instructions": Scalar(_col("instructions")),
            "consensusTotCoverage": Scalar(_col("consensus_tot_coverage")),
            "minConsensusSize": Scalar(_col("min_consensus_size")),
            "reviewCoverage": Scalar(_col("review_coverage")),
            "useHoneyPot": _bool_col("use_honeypot"),
            "canNavigateBetweenAssets": _bool_col("can_navigate_between_assets"),
            "canSkipAsset": _bool_col("can_skip_asset"),
            "metadataProperties": Scalar(_col("metadata_properties"), _json),
            "archived": _bool_col("archived"),
            "starred": _bool_col("starred"),
            "createdAt": Scalar(_col("created_at")),
            "updatedAt": Scalar(_col("updated_at")),
            "workflowVersion": Scalar(lambda t: t.c.pk, lambda _v: "V1"),
            "consensusMark": Scalar(_mean(A, "project_pk", "consensus_mark")),
            "honeypotMark": Scalar(_mean(A, "project_pk", "honeypot_mark")),
            "numberOfAssets": Scalar(_count(A, "project_pk")),
            "numberOfRemainingAssets": Scalar(_count(A, "project_pk", A.c.status.in_(("TODO", "ONGOING")))),
            "numberOfReviewedAssets": Scalar(_count(A, "project_pk", A.c.status == "REVIEWED")),
            "numberOfSkippedAssets": Scalar(_count(A, "project_pk", A.c.skipped == true())),
            "numberOfLabeledAssets": Scalar(
                _count(A, "project_pk", A.c.status.in_(("LABELED", "TO_REVIEW", "REVIEWED")))
            ),
            "roles": Link("ProjectUser", "pk", "project_pk", many=True),
            "author": Link("User", "author_pk", "pk"),
        },
        (
            "consensusTotCoverage",
            "id",
            "inputType",
            "jsonInterface",
            "minConsensusSize",
            "reviewCoverage",
            "roles.id",
            "roles.role",
            "roles.user.email",
            "roles.user.id",
            "title",
        ),
    )
)


# -- plans ------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """How to fetch one entity with a selection of its fields."""

    entity: Entity
    scalars: list[tuple[str, str, Callable[[Any], Any] | None]] = field(default_factory=list)
    computed: list[tuple[str, Computed, tuple[str, ...] | None]] = field(default_factory=list)
    links: list[tuple[str, Link, Plan]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    def columns(self) -> list[ColumnElement[Any]]:
        table = self.entity.table
        cols: dict[str, ColumnElement[Any]] = {"pk": table.c.pk}
        for key, label, _decode in self.scalars:
            cols[label] = self.entity.fields[key].expr(table).label(label)  # type: ignore[union-attr]
        for _key, computed, _sub in self.computed:
            for name in computed.columns:
                cols[name] = table.c[name]
        for _key, link, _plan in self.links:
            cols[link.local] = table.c[link.local]
        for name in self.extra_columns:
            cols[name] = table.c[name]
        return list(cols.values())


def parse_fields(entity_name: str, fields: Sequence[str] | None) -> dict[str, Any]:
    """Turn dotted paths into a nested, ordered selection tree, checking every name."""
    entity = ENTITIES[entity_name]
    if isinstance(fields, str):
        raise UnknownFieldError(f"fields must be a list of field paths, e.g. [{fields!r}], not a string.")
    if fields is not None and not isinstance(fields, list | tuple | set | frozenset | dict):
        raise UnknownFieldError(f"fields must be a list of field paths, e.g. ['id'], got {shown(fields)}.")
    paths = list(entity.default_fields if fields is None else fields)
    tree: dict[str, Any] = {}
    for path in paths:
        if not isinstance(path, str) or not path:
            raise UnknownFieldError(f"Every field must be a non-empty dotted path, got {shown(path)}.")
        if "..." in path:
            continue  # GraphQL fragments: accepted by Kili's builder, meaningless here
        parts = path.split(".")
        if len(parts) > MAX_FIELD_DEPTH:
            raise UnknownFieldError(
                f"Field {shown(path)} has {len(parts):,} names; a field path has at most {MAX_FIELD_DEPTH}."
            )
        _add_path(entity, tree, parts, path)
    if not tree:
        raise UnknownFieldError(f"Select at least one field of {entity_name}.")
    return tree


def _add_path(entity: Entity, tree: dict[str, Any], parts: list[str], path: str) -> None:
    head, rest = parts[0], parts[1:]
    spec = entity.fields.get(head)
    if spec is None:
        valid = ", ".join(sorted(entity.fields))
        raise UnknownFieldError(f"Unknown field {path!r}: {entity.name} has no field {head!r}. Valid fields: {valid}.")
    subfields = _subfields(spec)
    if subfields is None:
        if rest:
            raise UnknownFieldError(f"Field {path!r}: {entity.name}.{head} has no sub-fields.")
        tree.setdefault(head, None)
        return
    if not rest:
        raise UnknownFieldError(
            f"Field {path!r} is an object: select its sub-fields, e.g. '{path}.{subfields[0]}'. "
            f"Sub-fields: {', '.join(subfields)}."
        )
    subtree = tree.setdefault(head, {})
    if isinstance(spec, Link):
        _add_path(ENTITIES[spec.target], subtree, rest, path)
    elif len(rest) != 1 or rest[0] not in subfields:
        raise UnknownFieldError(f"Unknown field {path!r}: {entity.name}.{head} has sub-fields {', '.join(subfields)}.")
    else:
        subtree.setdefault(rest[0], None)


def _subfields(spec: Field) -> tuple[str, ...] | None:
    if isinstance(spec, Link):
        return tuple(sorted(ENTITIES[spec.target].fields))
    if isinstance(spec, Computed):
        return spec.subfields
    return None


def make_plan(entity_name: str, tree: dict[str, Any]) -> Plan:
    """Compile a selection tree (from :func:`parse_fields`) into a :class:`Plan`."""
    entity = ENTITIES[entity_name]
    plan = Plan(entity)
    objects: list[str] = []
    plain: list[str] = []
    for key, sub in tree.items():
        spec = entity.fields[key]
        if isinstance(spec, Link):
            plan.links.append((key, spec, make_plan(spec.target, sub)))
        elif isinstance(spec, Computed):
            plan.computed.append((key, spec, tuple(sub) if sub else None))
        else:
            plan.scalars.append((key, f"f_{key}", spec.decode))
        (objects if sub else plain).append(key)
    # Kili's query builder puts the fields that have sub-fields first, then the plain ones.
    plan.order = objects + plain
    return plan


def materialize(conn: Connection, plan: Plan, rows: Sequence[Any], ctx: Context) -> list[dict[str, Any]]:
    """Turn fetched root rows (with ``plan.columns()``) into nested dicts, loading links in batches."""
    mappings = [row._mapping for row in rows]
    linked: dict[str, dict[Any, Any]] = {}
    for key, link, subplan in plan.links:
        wanted = {m[link.local] for m in mappings if m[link.local] is not None}
        linked[key] = _load_link(conn, link, subplan, wanted, ctx)
    out = []
    for m in mappings:
        values: dict[str, Any] = {}
        for key, label, decode in plan.scalars:
            value = m[label]
            values[key] = decode(value) if decode is not None and value is not None else value
        for key, computed, sub in plan.computed:
            value = computed.build(m, ctx)
            values[key] = _select_sub(value, sub)
        for key, link, _subplan in plan.links:
            found = linked[key].get(m[link.local])
            values[key] = (found or []) if link.many else found
        out.append({key: values[key] for key in plan.order})
    return out


def _select_sub(value: Any, sub: tuple[str, ...] | None) -> Any:
    if sub is None or value is None:
        return value
    if isinstance(value, list):
        return [{k: item.get(k) for k in sub} for item in value]
    return {k: value.get(k) for k in sub}


def _load_link(conn: Connection, link: Link, plan: Plan, keys: Iterable[Any], ctx: Context) -> dict[Any, Any]:
    table = plan.entity.table
    remote = table.c[link.remote]
    keys = sorted(keys)
    grouped: dict[Any, Any] = {}
    if not keys:
        return grouped
    if link.remote not in plan.extra_columns:
        plan.extra_columns.append(link.remote)
    condition = in_values(remote, keys)
    if link.where is not None:
        condition = and_(condition, link.where(table))
    query = select(*plan.columns()).where(condition).order_by(remote, *(table.c[name] for name in link.order_by))
    rows = conn.execute(query).all()
    objects = materialize(conn, plan, rows, ctx)
    for row, obj in zip(rows, objects, strict=True):
        owner = row._mapping[link.remote]
        if link.many:
            grouped.setdefault(owner, []).append(obj)
        else:
            grouped.setdefault(owner, obj)
    return grouped
