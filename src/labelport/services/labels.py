"""Labels: validated appends that keep every derived flag and status exact, in the same transaction.

Derived state, maintained on each write:

* ``isLatestLabelForUser``: the author's most recent submitted (DEFAULT or REVIEW) label on the asset;
* ``isLatestDefaultLabelForUser`` / ``isLatestReviewLabelForUser``: the same among DEFAULT / REVIEW;
* the asset's ``latestLabel``: its most recent DEFAULT or REVIEW label, any author;
* the asset's ``status`` (workflow V1): a DEFAULT label moves TODO/ONGOING/LABELED to LABELED once
  as many distinct labelers as the asset needs (``minConsensusSize`` for consensus assets, else 1)
  have a current, not sent back, DEFAULT label, to ONGOING before; a REVIEW label makes it REVIEWED
  (except the ground truth written by ``create_honeypot``); an AUTOSAVE moves TODO to ONGOING.

"Most recent" orders by ``createdAt``, then by insertion. Because the flags are exact before each
write, only the labels that hold a flag and the new labels can hold one after it: an append reads
those few rows, never the asset's whole history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, delete, exists, false, or_, select, true, update

from labelport.annotations.validate import validate_response
from labelport.enums import AssetStatus, InputType, LabelType
from labelport.errors import ValidationError
from labelport.geo import georeferenced
from labelport.ids import new_ids
from labelport.services.assets import AssetRef
from labelport.services.projects import ProjectInfo
from labelport.store import schema
from labelport.store.bulk import executemany_insert, executemany_update, insert_rows
from labelport.store.fields import IN_CHUNK
from labelport.timeutil import now_ts, parse_ts

A, L, LC = schema.assets, schema.labels, schema.label_categories
_NEW = 1 << 62  # orders new labels after every stored one, as their future pks will
_FLAGS = ("is_latest_for_user", "is_latest_default_for_user", "is_latest_review_for_user")
_GROUP_OF_TYPE = {
    LabelType.DEFAULT: ("is_latest_for_user", "is_latest_default_for_user"),
    LabelType.REVIEW: ("is_latest_for_user", "is_latest_review_for_user"),
}


@dataclass(frozen=True)
class Appended:
    """What an append wrote: label ids, the assets touched, and each new label's jsonResponse by pk."""

    ids: list[str]
    asset_pks: list[int]
    responses: dict[int, Any]
    #: The assets whose marks the append may have changed: two or more labelers, a honeypot, or
    #: an INFERENCE label to compare with. Others have no mark before or after.
    marks_needed: list[int]
    #: New labels (pk → id) on consensus assets still waiting for their other labelers: they will be
    #: compared soon, so their shapes are worth preparing now, while their jsonResponse is at hand.
    soon_compared: dict[int, str] = field(default_factory=dict)


@dataclass
class _Candidate:
    asset_pk: int
    author_pk: int
    label_type: str
    created_at: str
    order: int  # pk for stored labels, _NEW + index for new ones
    sent_back: bool
    flags: dict[str, bool]

    @property
    def key(self) -> tuple[str, int]:
        return (self.created_at, self.order)


def parse_json_response(value: Any, external_id: str) -> Any:
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValidationError(f"Asset {external_id!r}: the jsonResponse is not valid JSON.") from None
    return value


def append_labels(
    conn: Connection,
    project: ProjectInfo,
    refs: Sequence[AssetRef],
    json_responses: Sequence[Any],
    author_pks: Sequence[int],
    label_type: str,
    seconds_to_label: Sequence[float | None] | None = None,
    model_name: str | None = None,
    created_at: Sequence[str | None] | None = None,
    *,
    overwrite: bool = False,
    change_status: bool = True,
) -> Appended:
    """Validate and insert labels; return their ids, the assets they touched and their responses."""
    now = now_ts()
    rows: list[dict[str, Any]] = []
    category_counts = []
    responses = []
    geographic = _georeferenced_assets(conn, project, refs)
    for index, (ref, response) in enumerate(zip(refs, json_responses, strict=True)):
        response = parse_json_response(response, ref.external_id)
        responses.append(response)
        summary = validate_response(
            response, project.ontology, project.input_type, ref.external_id, geographic=ref.pk in geographic
        )
        seconds = seconds_to_label[index] if seconds_to_label is not None else None
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0):
            raise ValidationError(f"Asset {ref.external_id!r}: seconds_to_label must be a number ≥ 0, got {seconds!r}.")
        stamp = created_at[index] if created_at is not None and created_at[index] is not None else None
        stamp = parse_ts(stamp, f"Asset {ref.external_id!r}: created_at") if stamp is not None else now
        rows.append(
            {
                "project_pk": project.pk,
                "asset_pk": ref.pk,
                "author_pk": author_pks[index],
                "label_type": label_type,
                "json_response": orjson.dumps(response).decode(),
                "seconds_to_label": seconds,
                "model_name": model_name,
                "number_of_annotations": summary.number_of_annotations,
                "is_sent_back_to_queue": False,
                "created_at": stamp,
                "updated_at": now,
                **dict.fromkeys(_FLAGS, False),
            }
        )
        category_counts.append(summary.category_counts)
    asset_pks = sorted({ref.pk for ref in refs})
    if overwrite:
        _delete_model_labels(conn, asset_pks, label_type, model_name)
    ids = new_ids(len(rows))
    for row, label_id in zip(rows, ids, strict=True):
        row["id"] = label_id
    marks_needed: list[int] = asset_pks if label_type == LabelType.INFERENCE else []
    waiting: set[int] = set()
    if label_type in _GROUP_OF_TYPE:
        marks_needed, waiting = _derive_and_insert(conn, project, asset_pks, rows, change_status)
    else:
        insert_rows(conn, L, rows)
        if label_type == LabelType.AUTOSAVE and change_status:
            _set_status_where(conn, asset_pks, AssetStatus.ONGOING, A.c.status == AssetStatus.TODO)
    lc_rows = [
        {"label_pk": row["pk"], "job": job, "category": category, "count": count}
        for row, counts in zip(rows, category_counts, strict=True)
        for (job, category), count in counts.items()
    ]
    executemany_insert(conn, LC, lc_rows)
    new_responses = {row["pk"]: response for row, response in zip(rows, responses, strict=True)}
    soon = {row["pk"]: row["id"] for row in rows if row["asset_pk"] in waiting}
    return Appended(ids, asset_pks, new_responses, marks_needed, soon)


def _georeferenced_assets(conn: Connection, project: ProjectInfo, refs: Sequence[AssetRef]) -> set[int]:
    """The IMAGE assets among ``refs`` whose labels use longitude and latitude."""
    if project.input_type != InputType.IMAGE:
        return set()
    pks = sorted({ref.pk for ref in refs})
    found: set[int] = set()
    for start in range(0, len(pks), IN_CHUNK):
        query = select(A.c.pk, A.c.json_content).where(
            A.c.pk.in_(pks[start : start + IN_CHUNK]), A.c.json_content.contains("epsg")
        )
        found.update(pk for pk, json_content in conn.execute(query) if georeferenced(json_content))
    return found


def _delete_model_labels(conn: Connection, asset_pks: list[int], label_type: str, model_name: str | None) -> None:
    if label_type not in (LabelType.PREDICTION, LabelType.INFERENCE):
        raise ValidationError("overwrite=True replaces PREDICTION or INFERENCE labels only.")
    for start in range(0, len(asset_pks), IN_CHUNK):
        conn.execute(
            delete(L).where(
                L.c.asset_pk.in_(asset_pks[start : start + IN_CHUNK]),
                L.c.label_type == label_type,
                L.c.model_name == model_name if model_name is not None else L.c.model_name.is_(None),
            )
        )


def _load_state(conn: Connection, asset_pks: list[int]) -> tuple[dict[int, list[_Candidate]], dict[int, Any]]:
    """The flag holders and the workflow fields of the assets."""
    holders: dict[int, list[_Candidate]] = {pk: [] for pk in asset_pks}
    assets: dict[int, Any] = {}
    for start in range(0, len(asset_pks), IN_CHUNK):
        chunk = asset_pks[start : start + IN_CHUNK]
        query = select(
            L.c.pk,
            L.c.asset_pk,
            L.c.author_pk,
            L.c.label_type,
            L.c.created_at,
            L.c.is_sent_back_to_queue,
            *(L.c[f] for f in _FLAGS),
        ).where(L.c.asset_pk.in_(chunk), or_(*(L.c[f] == true() for f in _FLAGS)))
        for row in conn.execute(query):
            holders[row.asset_pk].append(
                _Candidate(
                    row.asset_pk,
                    row.author_pk,
                    row.label_type,
                    row.created_at,
                    row.pk,
                    bool(row.is_sent_back_to_queue),
                    {f: bool(getattr(row, f)) for f in _FLAGS},
                )
            )
        for row in conn.execute(
            select(
                A.c.pk,
                A.c.status,
                A.c.is_used_for_consensus,
                A.c.is_honeypot,
                exists().where(L.c.asset_pk == A.c.pk, L.c.label_type == LabelType.INFERENCE).label("has_inference"),
            ).where(A.c.pk.in_(chunk))
        ):
            assets[row.pk] = row
    return holders, assets


def _derive_and_insert(
    conn: Connection,
    project: ProjectInfo,
    asset_pks: list[int],
    rows: list[dict[str, Any]],
    change_status: bool,
) -> tuple[list[int], set[int]]:
    """Insert DEFAULT or REVIEW labels with exact flags. Return the assets whose marks may change,
    and the consensus assets that still wait for more labelers."""
    holders, assets = _load_state(conn, asset_pks)
    new_candidates: list[_Candidate] = []
    for index, row in enumerate(rows):
        candidate = _Candidate(
            row["asset_pk"],
            row["author_pk"],
            row["label_type"],
            row["created_at"],
            _NEW + index,
            False,
            dict.fromkeys(_FLAGS, False),
        )
        holders[row["asset_pk"]].append(candidate)
        new_candidates.append(candidate)
    stored_changes: list[dict[str, Any]] = []
    latest_of_asset: dict[int, _Candidate] = {}
    labelers_of_asset: dict[int, int] = {}
    raters_of_asset: dict[int, int] = {}
    for asset_pk, candidates in holders.items():
        before = {id(c): dict(c.flags) for c in candidates}
        for candidate in candidates:
            candidate.flags = dict.fromkeys(_FLAGS, False)
        best: dict[tuple[int, str], _Candidate] = {}
        for candidate in candidates:
            for flag in _GROUP_OF_TYPE.get(candidate.label_type, ()):
                slot = (candidate.author_pk, flag)
                if slot not in best or candidate.key > best[slot].key:
                    best[slot] = candidate
        for (_author, flag), candidate in best.items():
            candidate.flags[flag] = True
        submitted = [c for c in candidates if c.flags["is_latest_for_user"]]
        if submitted:
            latest_of_asset[asset_pk] = max(submitted, key=lambda c: c.key)
        labelers_of_asset[asset_pk] = sum(
            1 for c in candidates if c.flags["is_latest_default_for_user"] and not c.sent_back
        )
        raters_of_asset[asset_pk] = sum(1 for c in candidates if c.flags["is_latest_default_for_user"])
        for candidate in candidates:
            if candidate.order < _NEW and candidate.flags != before[id(candidate)]:
                stored_changes.append({**candidate.flags, "pk": candidate.order})
    for row, candidate in zip(rows, new_candidates, strict=True):
        row.update(candidate.flags)
    pks = insert_rows(conn, L, rows)
    executemany_update(conn, L, stored_changes)
    label_type = rows[0]["label_type"] if rows else None
    now = now_ts()
    asset_rows = []
    for asset_pk in asset_pks:
        asset = assets[asset_pk]
        latest = latest_of_asset.get(asset_pk)
        latest_pk = None if latest is None else (pks[latest.order - _NEW] if latest.order >= _NEW else latest.order)
        status = asset.status
        if change_status and label_type == LabelType.DEFAULT:
            if status in (AssetStatus.TODO, AssetStatus.ONGOING, AssetStatus.LABELED):
                needed = project.min_consensus_size if asset.is_used_for_consensus else 1
                status = AssetStatus.LABELED if labelers_of_asset[asset_pk] >= needed else AssetStatus.ONGOING
        elif change_status and label_type == LabelType.REVIEW:
            status = AssetStatus.REVIEWED
        asset_rows.append({"latest_label_pk": latest_pk, "status": status, "updated_at": now, "pk": asset_pk})
    executemany_update(conn, A, asset_rows)
    needed = [pk for pk in asset_pks if raters_of_asset[pk] >= 2 or assets[pk].is_honeypot or assets[pk].has_inference]
    waiting = {
        pk
        for pk in asset_pks
        if raters_of_asset[pk] < 2 and assets[pk].is_used_for_consensus and project.min_consensus_size >= 2
    }
    return needed, waiting


def _set_status_where(conn: Connection, asset_pks: list[int], status: str, condition: Any) -> None:
    now = now_ts()
    for start in range(0, len(asset_pks), IN_CHUNK):
        conn.execute(
            update(A)
            .where(A.c.pk.in_(asset_pks[start : start + IN_CHUNK]), condition)
            .values(status=status, updated_at=now)
        )


def restatus_for_consensus(conn: Connection, project: ProjectInfo, asset_pks: list[int] | None = None) -> None:
    """Re-derive ONGOING/LABELED after the consensus settings or an asset's consensus flag changed."""
    query = select(A.c.pk, A.c.status, A.c.is_used_for_consensus).where(
        A.c.project_pk == project.pk, A.c.status.in_((AssetStatus.ONGOING, AssetStatus.LABELED))
    )
    if asset_pks is not None:
        query = query.where(A.c.pk.in_(asset_pks))
    assets = conn.execute(query).all()
    if not assets:
        return
    counts: dict[int, int] = {}
    pks = [row.pk for row in assets]
    for start in range(0, len(pks), IN_CHUNK):
        for asset_pk, author_pk in conn.execute(
            select(L.c.asset_pk, L.c.author_pk).where(
                L.c.asset_pk.in_(pks[start : start + IN_CHUNK]),
                L.c.is_latest_default_for_user == true(),
                L.c.is_sent_back_to_queue == false(),
            )
        ):
            del author_pk
            counts[asset_pk] = counts.get(asset_pk, 0) + 1
    now = now_ts()
    changes = []
    for row in assets:
        needed = project.min_consensus_size if row.is_used_for_consensus else 1
        have = counts.get(row.pk, 0)
        status = AssetStatus.LABELED if have >= needed else (AssetStatus.ONGOING if have else row.status)
        if status != row.status:
            changes.append({"b_pk": row.pk, "v_status": status, "v_updated": now})
    if changes:
        conn.execute(
            update(A)
            .where(A.c.pk == bindparam("b_pk"))
            .values(status=bindparam("v_status"), updated_at=bindparam("v_updated")),
            changes,
        )


def redraw_consensus(conn: Connection, project: ProjectInfo) -> None:
    """After a coverage change, draw TODO assets again (others keep their draw, as in Kili)."""
    from labelport.services.projects import in_consensus

    rows = conn.execute(
        select(A.c.pk, A.c.external_id, A.c.is_used_for_consensus).where(
            and_(A.c.project_pk == project.pk, A.c.status == AssetStatus.TODO)
        )
    ).all()
    changes = [
        {"b_pk": row.pk, "v_flag": flag}
        for row in rows
        if (flag := in_consensus(row.external_id, project.consensus_tot_coverage)) != bool(row.is_used_for_consensus)
    ]
    if changes:
        conn.execute(
            update(A).where(A.c.pk == bindparam("b_pk")).values(is_used_for_consensus=bindparam("v_flag")),
            changes,
        )
