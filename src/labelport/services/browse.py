"""Reads for the web UI's pages: what a project page shows, one page of assets after another (keyset
paging), one asset with all its labels, the picture of an asset, and the quality summaries.

Every entry point checks the acting user's permissions (:mod:`labelport.services.permissions`) like
the other services; the web pages call these and :mod:`labelport.services.queries`, never SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from labelport.enums import AssetStatus
from labelport.errors import NotFound, ValidationError
from labelport.media import MEDIA_PREFIX, is_url
from labelport.models import ProjectInfo
from labelport.services import permissions, queries
from labelport.services.context import ActingContext
from labelport.services.lookups import get_project
from labelport.services.permissions import Action
from labelport.store import query, schema
from labelport.values import check_text

A, P, L = schema.assets, schema.projects, schema.labels

#: The most assets one page of the grid may hold.
MAX_PAGE = 200
#: The fields a grid cell shows.
GRID_FIELDS = (
    "id",
    "externalId",
    "status",
    "isHoneypot",
    "consensusMark",
    "honeypotMark",
    "resolution.width",
    "resolution.height",
    "latestLabel.id",
    "latestLabel.labelType",
    "latestLabel.jsonResponse",
    "latestLabel.author.email",
)
#: The fields of an asset's own page.
ASSET_FIELDS = (
    "id",
    "externalId",
    "status",
    "isHoneypot",
    "skipped",
    "priority",
    "consensusMark",
    "honeypotMark",
    "inferenceMark",
    "resolution.width",
    "resolution.height",
    "jsonMetadata",
    "content",
    "createdAt",
    "updatedAt",
    "latestLabel.id",
    "labels.id",
    "labels.labelType",
    "labels.createdAt",
    "labels.author.email",
    "labels.jsonResponse",
    "labels.consensusMark",
    "labels.honeypotMark",
    "labels.inferenceMark",
    "labels.secondsToLabel",
    "labels.modelName",
    "labels.isSentBackToQueue",
)
#: The upper bounds of the mark histograms' buckets (the last one includes 1.0).
BUCKETS = tuple(round(0.1 * step, 1) for step in range(1, 11))


@dataclass(frozen=True)
class ProjectView:
    """A project as its pages show it, with what the acting user may do there."""

    info: ProjectInfo
    row: dict[str, Any]
    allowed: frozenset[Action]
    status_counts: dict[str, int]

    def may(self, action: Action | str) -> bool:
        return Action(action) in self.allowed


@dataclass(frozen=True)
class AssetPage:
    """One page of the grid: its assets, the id to continue after (None: the last page), the total."""

    assets: list[dict[str, Any]]
    next_after: str | None
    total: int


@dataclass(frozen=True)
class ImageSource:
    """Where the picture of an asset (or of one video frame) is: a local file, or a URL the server does
    not fetch; ``version`` changes when the file does (for cache validators)."""

    path: Path | None
    url: str | None
    version: str


@dataclass
class Quality:
    """Marks per member and the spread of the assets' marks."""

    members: list[dict[str, Any]]
    consensus: list[int] = field(default_factory=list)  # assets per bucket of BUCKETS
    honeypot: list[int] = field(default_factory=list)
    consensus_none: int = 0
    honeypot_none: int = 0


def _allowed(ctx: ActingContext, conn: Any, project: ProjectInfo) -> frozenset[Action]:
    who = permissions.require(ctx, conn, project, Action.READ)
    if who.organization_admin:
        return frozenset(Action)
    role = permissions.project_role(conn, who, project)
    return frozenset(action for action in Action if permissions.allows(role, action))


def _status_counts(conn: Any, project_pks: Sequence[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(AssetStatus, 0) for pk in project_pks}
    if not project_pks:
        return counts
    rows = conn.execute(
        select(A.c.project_pk, A.c.status, func.count())
        .where(A.c.project_pk.in_(list(project_pks)))
        .group_by(A.c.project_pk, A.c.status)
    ).all()
    for project_pk, status, count in rows:
        counts[project_pk][status] = int(count)
    return counts


def project_view(ctx: ActingContext, project_id: str) -> ProjectView:
    """The project (if the acting user may read it), its settings, asset counts by status, and the
    actions the acting user may take in it."""
    with ctx.read() as conn:
        info = get_project(conn, project_id)
        allowed = _allowed(ctx, conn, info)
        counts = _status_counts(conn, [info.pk])[info.pk]
    fields = [
        "id",
        "title",
        "description",
        "inputType",
        "jsonInterface",
        "consensusTotCoverage",
        "minConsensusSize",
        "reviewCoverage",
        "useHoneyPot",
        "archived",
        "createdAt",
    ]
    row = next(queries.projects(ctx, fields, filters_={"project_id": project_id}, disable_tqdm=True))
    return ProjectView(info, row, allowed, counts)


def project_summaries(ctx: ActingContext) -> list[dict[str, Any]]:
    """The projects the acting user may read, newest first: id, title, inputType, archived, and
    ``statusCounts`` (assets per status) with ``numberOfAssets``."""
    fields = ["id", "title", "inputType", "archived", "createdAt", "numberOfAssets"]
    rows = list(queries.projects(ctx, fields, disable_tqdm=True))
    with ctx.read() as conn:
        pks = dict(conn.execute(select(P.c.id, P.c.pk).where(P.c.id.in_([row["id"] for row in rows]))).all())
        counts = _status_counts(conn, list(pks.values()))
    for row in rows:
        row["statusCounts"] = counts.get(pks.get(row["id"], -1), {})
    rows.reverse()
    return rows


def asset_page(
    ctx: ActingContext,
    project_id: str,
    filters_: Mapping[str, Any],
    after: str | None = None,
    size: int = 48,
    fields: Sequence[str] = GRID_FIELDS,
) -> AssetPage:
    """The assets matching ``filters_`` (those of ``assets()``) in creation order, ``size`` of them
    after the asset ``after`` (keyset paging: as fast on the last page as on the first)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
        raise ValidationError(f"A page holds from 1 to {MAX_PAGE} assets, not {size!r}.")
    with ctx.read() as conn:
        project = get_project(conn, project_id)
        permissions.require(ctx, conn, project, Action.READ)
        where = queries.asset_where(project, filters_)
        total = query.count_in(conn, "Asset", where)
        if after:
            check_text(after, "after")
            after_pk = conn.execute(
                select(A.c.pk).where(A.c.id == after, A.c.project_pk == project.pk)
            ).scalar_one_or_none()
            if after_pk is None:
                raise NotFound(f"Asset {after!r} does not exist in project {project_id!r}; start from the first page.")
            where = [*where, A.c.pk > after_pk]
    rows = list(query.stream(ctx.store, "Asset", list(fields), where, first=size + 1, disable_tqdm=True))
    next_after = rows[size - 1]["id"] if len(rows) > size else None
    return AssetPage(rows[:size], next_after, total)


def asset_detail(ctx: ActingContext, project_id: str, asset_id: str) -> dict[str, Any]:
    """One asset of the project with every label (author, type, time, marks, jsonResponse), oldest first."""
    rows = list(queries.assets(ctx, project_id, list(ASSET_FIELDS), filters_={"asset_id": asset_id}, disable_tqdm=True))
    if not rows:
        raise NotFound(f"Asset {asset_id!r} does not exist in project {project_id!r}.")
    return rows[0]


def image_source(ctx: ActingContext, project_id: str, asset_id: str, frame: int | None = None) -> ImageSource:
    """The picture of an asset, or of its video frame ``frame`` (0-based), for a user who may read it."""
    with ctx.read() as conn:
        project = get_project(conn, project_id)
        permissions.require(ctx, conn, project, Action.READ)
        row = conn.execute(
            select(A.c.content, A.c.media_key, A.c.json_content, A.c.updated_at).where(
                A.c.id == asset_id, A.c.project_pk == project.pk
            )
        ).one_or_none()
    if row is None:
        raise NotFound(f"Asset {asset_id!r} does not exist in project {project_id!r}.")
    if frame is None:
        if row.media_key:
            return ImageSource(ctx.store.media_dir / row.media_key, None, row.media_key.split("/")[-1])
        return _source(ctx, row.content, row.updated_at)
    frames = _frames(row.json_content)
    if not 0 <= frame < len(frames):
        raise NotFound(f"Asset {asset_id!r} has no frame {frame} (it has {len(frames)}).")
    return _source(ctx, frames[frame], row.updated_at)


def frame_count(json_content: Any) -> int:
    return len(_frames(json_content))


def _frames(json_content: Any) -> list[str]:
    value = json_content
    if isinstance(value, str):
        try:
            value = orjson.loads(value) if value else []
        except orjson.JSONDecodeError:
            return []
    if isinstance(value, dict):
        value = [value[key] for key in sorted(value, key=lambda k: int(k) if str(k).isdigit() else 0)]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _source(ctx: ActingContext, content: str, version: str) -> ImageSource:
    if content.startswith(MEDIA_PREFIX):
        key = content[len(MEDIA_PREFIX) :]
        return ImageSource(ctx.store.media_dir / key, None, key.split("/")[-1])
    if is_url(content):
        return ImageSource(None, content, version)
    return ImageSource(Path(content) if content else None, None, version)


def quality(ctx: ActingContext, project_id: str) -> Quality:
    """Marks per member (consensus, honeypot, labeled assets: ``project_users``' fields) and how many
    assets have a mark in each bucket of :data:`BUCKETS` (one indexed range count per bucket)."""
    fields = ["id", "role", "user.email", "consensusMark", "honeypotMark", "numberOfLabeledAssets"]
    members = list(queries.project_users(ctx, project_id, fields, disable_tqdm=True))
    result = Quality(members)
    with ctx.read() as conn:
        project = get_project(conn, project_id)
        permissions.require(ctx, conn, project, Action.READ)
        for name in ("consensus", "honeypot"):
            column = A.c[f"{name}_mark"]
            counts, lower = [], 0.0
            for index, upper in enumerate(BUCKETS):
                below = column <= upper if index == len(BUCKETS) - 1 else column < upper
                counts.append(query.count_in(conn, "Asset", [A.c.project_pk == project.pk, column >= lower, below]))
                lower = upper
            setattr(result, name, counts)
            setattr(
                result, f"{name}_none", query.count_in(conn, "Asset", [A.c.project_pk == project.pk, column.is_(None)])
            )
    return result
