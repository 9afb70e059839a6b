"""The review workflow (V1 statuses): queue assets for review, send them back to the labelers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, false, select, update

from labelport.enums import AssetStatus
from labelport.models import AssetRef, ProjectInfo
from labelport.services import marks, permissions
from labelport.services.context import ActingContext
from labelport.services.lookups import project_and_assets
from labelport.services.permissions import Action
from labelport.store import schema
from labelport.store.bulk import IN_CHUNK, lock_rows
from labelport.timeutil import now_ts

A, L = schema.assets, schema.labels


# -- steps (inside a caller's transaction) ------------------------------------------------------------


def _move(conn: Connection, refs: Sequence[AssetRef], status: str, *, flag_sent_back: bool = False) -> list[str]:
    """Give the assets that have a submitted label ``status``; return their ids. ``flag_sent_back``:
    also flag their submitted labels ``isSentBackToQueue``."""
    pks = sorted({ref.pk for ref in refs})
    lock_rows(conn, A, pks)  # as label appends do: a concurrent one waits, then sees the new status
    moved: list[str] = []
    now = now_ts()
    for start in range(0, len(pks), IN_CHUNK):
        chunk = pks[start : start + IN_CHUNK]
        eligible = A.c.pk.in_(chunk) & A.c.latest_label_pk.is_not(None)
        moved.extend(conn.execute(select(A.c.id).where(eligible).order_by(A.c.pk)).scalars())
        conn.execute(update(A).where(eligible).values(status=status, updated_at=now))
        if flag_sent_back:
            conn.execute(
                update(L)
                .where(
                    L.c.asset_pk.in_(chunk),
                    L.c.label_type.in_(("DEFAULT", "REVIEW")),
                    L.c.is_sent_back_to_queue == false(),
                )
                .values(is_sent_back_to_queue=True, updated_at=now)
            )
    return moved


def move_to_review(conn: Connection, refs: Sequence[AssetRef]) -> list[str]:
    """Move the assets that have a submitted label to TO_REVIEW; return their ids."""
    return _move(conn, refs, AssetStatus.TO_REVIEW)


def send_back(conn: Connection, refs: Sequence[AssetRef]) -> list[str]:
    """Send labeled assets back to ONGOING, flagging their submitted labels ``isSentBackToQueue``."""
    return _move(conn, refs, AssetStatus.ONGOING, flag_sent_back=True)


def send_back_and_mark(conn: Connection, project: ProjectInfo, refs: Sequence[AssetRef]) -> list[str]:
    """Send the assets back to the queue and refresh their marks (a sent-back label leaves the
    consensus); return the ids of the assets moved."""
    moved = send_back(conn, refs)
    marks.refresh_marks(conn, project, [ref.pk for ref in refs])
    return moved


# -- entry points -------------------------------------------------------------------------------------


def _workflow(
    ctx: ActingContext,
    action: Callable[[Connection, ProjectInfo, Sequence[AssetRef]], list[str]],
    asset_ids: Sequence[str] | None,
    external_ids: Sequence[str] | None,
    project_id: str | None,
) -> dict[str, Any] | None:
    with ctx.write() as tx:
        project, refs = project_and_assets(tx.conn, asset_ids, external_ids, project_id)
        permissions.require(ctx, tx.conn, project, Action.REVIEW)
        moved = action(tx.conn, project, refs)
    return {"id": project.id, "asset_ids": moved} if moved else None


def add_to_review(
    ctx: ActingContext, asset_ids: Sequence[str] | None, external_ids: Sequence[str] | None, project_id: str | None
) -> dict[str, Any] | None:
    """Queue labeled assets for review (status TO_REVIEW); assets without a label are ignored.
    Returns ``{"id": project_id, "asset_ids": [...]}``, or None when no asset moved."""
    # A status change alone leaves every mark as it is.
    return _workflow(ctx, lambda conn, _project, refs: move_to_review(conn, refs), asset_ids, external_ids, project_id)


def send_back_to_queue(
    ctx: ActingContext, asset_ids: Sequence[str] | None, external_ids: Sequence[str] | None, project_id: str | None
) -> dict[str, Any] | None:
    """Send labeled assets back to the labelers (status ONGOING, labels ``isSentBackToQueue``).
    Returns ``{"id": project_id, "asset_ids": [...]}``, or None when no asset moved."""
    return _workflow(ctx, send_back_and_mark, asset_ids, external_ids, project_id)
