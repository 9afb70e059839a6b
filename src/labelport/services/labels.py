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

Quality marks: the consensus marks of assets without a honeypot or an INFERENCE label depend only
on their current DEFAULT labels, which the flags above name. A DEFAULT append computes them
(``services.marks.consensus_marks``) from the responses at hand before writing, so new labels are
inserted with their mark and the asset's mark goes with its status: nothing is read back or written
twice. Other assets' marks are left to :func:`append_and_mark` (``Appended.marks_needed``). A
REVIEW label changes no consensus mark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, and_, bindparam, delete, false, select, true, update

from labelport.annotations.validate import PlainBoxes, ResponseSummary, validate_response
from labelport.enums import AssetStatus, InputType, LabelType, parse_enum
from labelport.errors import ValidationError
from labelport.geo import georeferenced
from labelport.ids import new_ids
from labelport.models import AssetRef, ProjectInfo, in_consensus
from labelport.services import marks, permissions, users
from labelport.services.context import ActingContext
from labelport.services.lookups import project_and_assets
from labelport.services.permissions import Action
from labelport.store import schema
from labelport.store.bulk import (
    IN_CHUNK,
    KEYS,
    executemany_insert,
    executemany_update,
    insert_rows,
    lock_rows,
    reserve_pks,
    select_for_keys,
)
from labelport.timeutil import now_ts, parse_ts
from labelport.values import check_json, check_text, shown

A, L, LC = schema.assets, schema.labels, schema.label_categories
_NEW = 1 << 62  # orders new labels after every stored one, as their future pks will
_FLAGS = ("is_latest_for_user", "is_latest_default_for_user", "is_latest_review_for_user")
_DEFAULT, _REVIEW = LabelType.DEFAULT.value, LabelType.REVIEW.value  # plain str: no enum lookups in loops
_SUBMITTED = frozenset({LabelType.DEFAULT, LabelType.REVIEW})  # the types that hold flags
_COMPARED = frozenset({LabelType.DEFAULT, LabelType.REVIEW, LabelType.INFERENCE})  # the types marks compare


@dataclass(frozen=True)
class Appended:
    """What an append wrote: label ids, the assets touched, and each new label's jsonResponse by pk."""

    ids: list[str]
    asset_pks: list[int]
    responses: dict[int, Any]
    #: The assets whose marks the append may have changed and did not write: for DEFAULT and REVIEW
    #: labels, those with a honeypot or an INFERENCE label (the consensus marks of the others are
    #: written with the labels); for INFERENCE labels, all. Others have no mark before or after.
    marks_needed: list[int]
    #: New labels (pk → id) on consensus assets still waiting for their other labelers: they will be
    #: compared soon, so their shapes are worth preparing now, while their jsonResponse is at hand.
    soon_compared: dict[int, str] = field(default_factory=dict)
    #: The plain boxes validation collected from the new labels, by pk (see ``ResponseSummary.boxes``).
    boxes: dict[int, dict[str, PlainBoxes]] = field(default_factory=dict)


class _Candidate:
    """A label that holds a flag before or after the append (stored holders and new labels)."""

    __slots__ = ("asset_pk", "author_pk", "consensus_mark", "created_at", "flags", "id", "label_type", "order")

    def __init__(
        self,
        asset_pk: int,
        author_pk: int,
        label_type: str,
        created_at: str,
        order: int,  # pk for stored labels, _NEW + index for new ones
        flags: tuple[bool, bool, bool],  # _FLAGS, as stored (all False for new labels)
        label_id: str,
        consensus_mark: float | None = None,  # as stored
    ) -> None:
        self.asset_pk = asset_pk
        self.author_pk = author_pk
        self.label_type = label_type
        self.created_at = created_at
        self.order = order
        self.flags = flags
        self.id = label_id
        self.consensus_mark = consensus_mark


def _recency(candidate: _Candidate) -> tuple[str, int]:
    return (candidate.created_at, candidate.order)


class _AssetState(NamedTuple):
    status: str
    in_consensus: bool
    is_honeypot: bool
    has_inference: bool


def parse_json_response(value: Any, external_id: str) -> Any:
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValidationError(f"Asset {external_id!r}: the jsonResponse is not valid JSON.") from None
    return value


def insert_labels(
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
    checked: Sequence[tuple[bool, ResponseSummary] | None] | None = None,
) -> Appended:
    """Validate and insert labels; return their ids, the assets they touched and their responses.

    ``checked``: for each label, None or what a validation the caller already ran against this
    project's ontology and input type found, with whether it took the coordinates as geographic; it
    is used as it is where that agrees with the asset (the labels' plain boxes are then not at hand,
    and marks prepare them from the responses, to the same values)."""
    now = now_ts()
    rows: list[dict[str, Any]] = []
    category_counts = []
    responses = []
    boxes = []
    compared = label_type in _COMPARED  # labels that marks compare: collect their plain boxes
    geographic = _georeferenced_assets(conn, project, refs)
    if model_name is not None:
        check_text(model_name, "model_name", kind="model_name")
    for index, (ref, response) in enumerate(zip(refs, json_responses, strict=True)):
        if isinstance(response, str | bytes):
            response = parse_json_response(response, ref.external_id)
            data = orjson.dumps(response)  # what JSON text gives, JSON can hold
        else:  # checked before validation, which may then take every number as finite
            data = check_json(response, f"Asset {ref.external_id!r}: jsonResponse")
        responses.append(response)
        known = checked[index] if checked is not None else None
        if known is not None and known[0] == (ref.pk in geographic):
            summary = known[1]
        else:
            summary = validate_response(
                response,
                project.ontology,
                project.input_type,
                ref.external_id,
                geographic=ref.pk in geographic,
                boxes=compared,
            )
        boxes.append(summary.boxes)
        seconds = seconds_to_label[index] if seconds_to_label is not None else None
        if seconds is not None:
            seconds = _seconds(seconds, ref.external_id)
        stamp = created_at[index] if created_at is not None and created_at[index] is not None else None
        stamp = parse_ts(stamp, f"Asset {ref.external_id!r}: created_at") if stamp is not None else now
        rows.append(
            {
                "project_pk": project.pk,
                "asset_pk": ref.pk,
                "author_pk": author_pks[index],
                "label_type": label_type,
                "json_response": data.decode(),
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
    lock_rows(conn, schema.projects, [project.pk], shared=True)  # the project's settings stay as read
    lock_rows(conn, A, asset_pks)  # a concurrent write to these assets waits, then reads this one's labels
    if overwrite:
        _delete_model_labels(conn, asset_pks, label_type, model_name)
    ids = new_ids(len(rows))
    for row, label_id in zip(rows, ids, strict=True):
        row["id"] = label_id
    marks_needed: list[int] = asset_pks if label_type == LabelType.INFERENCE else []
    waiting: set[int] = set()
    if label_type in _SUBMITTED:
        marks_needed, waiting = _derive_and_insert(conn, project, asset_pks, rows, responses, boxes, change_status)
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
    new_boxes = {row["pk"]: found for row, found in zip(rows, boxes, strict=True) if found}
    return Appended(ids, asset_pks, new_responses, marks_needed, soon, new_boxes)


def _seconds(value: Any, external_id: str) -> float:
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        with suppress(OverflowError):
            number = float(value)
    if number is None or not math.isfinite(number) or number < 0:
        raise ValidationError(f"Asset {external_id!r}: seconds_to_label must be a number ≥ 0, got {shown(value)}.")
    return number


def append_and_mark(
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
    checked: Sequence[tuple[bool, ResponseSummary] | None] | None = None,
) -> Appended:
    """Append labels and keep every mark exact: the one write step of every label append (the
    client's, the server's, an import's). :func:`insert_labels` writes the consensus marks the labels
    alone decide; then the marks it left to a full recomputation (assets with a honeypot or an
    INFERENCE label) are refreshed, consensus only for DEFAULT labels, and the shapes of the labels
    soon compared are prepared."""
    appended = insert_labels(
        conn,
        project,
        refs,
        json_responses,
        author_pks,
        label_type,
        seconds_to_label,
        model_name,
        created_at,
        overwrite=overwrite,
        checked=checked,
    )
    marks.refresh_marks(
        conn,
        project,
        appended.marks_needed,
        responses=appended.responses,
        consensus=label_type == LabelType.DEFAULT,
        boxes=appended.boxes,
    )
    marks.prepare_soon_compared(conn, project, appended.soon_compared, appended.responses, appended.boxes)
    return appended


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


def _load_state(
    conn: Connection, asset_pks: list[int]
) -> tuple[dict[int, list[_Candidate]], dict[int, _AssetState], set[int]]:
    """The flag holders of the assets, the assets' workflow fields, and which stored holders are
    sent back to the queue: two statements whatever the number of assets."""
    holders: dict[int, list[_Candidate]] = {pk: [] for pk in asset_pks}
    sent_back: set[int] = set()
    for pk, label_id, asset_pk, author_pk, label_type, created_at, back, mark, *flags in select_for_keys(
        conn,
        f"SELECT pk, id, asset_pk, author_pk, label_type, created_at, is_sent_back_to_queue, consensus_mark, "
        f"{', '.join(_FLAGS)} FROM labels WHERE asset_pk {KEYS} AND ({' OR '.join(_FLAGS)})",
        asset_pks,
    ):
        stored = (bool(flags[0]), bool(flags[1]), bool(flags[2]))
        holders[asset_pk].append(_Candidate(asset_pk, author_pk, label_type, created_at, pk, stored, label_id, mark))
        if back:
            sent_back.add(pk)
    assets = {
        pk: _AssetState(status, bool(consensus), bool(honeypot), bool(inference))
        for pk, status, consensus, honeypot, inference in select_for_keys(
            conn,
            "SELECT pk, status, is_used_for_consensus, is_honeypot, EXISTS (SELECT 1 FROM labels "
            f"WHERE labels.asset_pk = assets.pk AND labels.label_type = '{LabelType.INFERENCE.value}') "
            f"FROM assets WHERE pk {KEYS}",
            asset_pks,
        )
    }
    return holders, assets, sent_back


def _derive_and_insert(
    conn: Connection,
    project: ProjectInfo,
    asset_pks: list[int],
    rows: list[dict[str, Any]],
    responses: list[Any],
    boxes: list[dict[str, PlainBoxes]],
    change_status: bool,
) -> tuple[list[int], set[int]]:
    """Insert DEFAULT or REVIEW labels with exact flags, statuses and, where the labels alone decide
    them, consensus marks. Return the assets whose marks are left to a full recomputation (a
    honeypot, or an INFERENCE label), and the consensus assets that still wait for more labelers."""
    holders, assets, sent_back = _load_state(conn, asset_pks)
    new_candidates: list[_Candidate] = []
    unflagged = (False, False, False)
    for index, row in enumerate(rows):
        candidate = _Candidate(
            row["asset_pk"], row["author_pk"], row["label_type"], row["created_at"], _NEW + index, unflagged, row["id"]
        )
        holders[row["asset_pk"]].append(candidate)
        new_candidates.append(candidate)
    flag_changes: dict[int, tuple[bool, bool, bool]] = {}  # stored label pk → its new flags
    latest_of_asset: dict[int, _Candidate] = {}
    current_of_asset: dict[int, list[_Candidate]] = {}  # the latest DEFAULT label of each labeler
    for asset_pk, candidates in holders.items():
        # From the most recent back: the first label of an author in a group holds its flag.
        candidates.sort(key=_recency, reverse=True)
        submitted: set[int] = set()
        defaults: set[int] = set()
        reviews: set[int] = set()
        current: list[_Candidate] = []
        for candidate in candidates:
            author = candidate.author_pk
            if candidate.label_type == _DEFAULT:
                flags = (author not in submitted, author not in defaults, False)
                submitted.add(author)
                defaults.add(author)
                if flags[1]:
                    current.append(candidate)
            elif candidate.label_type == _REVIEW:
                flags = (author not in submitted, False, author not in reviews)
                submitted.add(author)
                reviews.add(author)
            else:
                flags = unflagged
            if flags[0] and asset_pk not in latest_of_asset:  # the asset's most recent DEFAULT or REVIEW label
                latest_of_asset[asset_pk] = candidate
            if candidate.order < _NEW and flags != candidate.flags:
                flag_changes[candidate.order] = flags
            candidate.flags = flags
        current_of_asset[asset_pk] = current
    for row, candidate in zip(rows, new_candidates, strict=True):
        row.update(zip(_FLAGS, candidate.flags, strict=True))
    pks = reserve_pks(conn, L, len(rows))
    for row, pk in zip(rows, pks, strict=True):
        row["pk"] = pk

    def pk_of(candidate: _Candidate) -> int:
        return pks[candidate.order - _NEW] if candidate.order >= _NEW else candidate.order

    label_type = rows[0]["label_type"] if rows else None
    # Consensus marks of the assets whose marks the labels alone decide (no honeypot, no INFERENCE
    # label): computed now, from the responses at hand, and written with the rows below. Other
    # assets are left to append_and_mark's full recomputation.
    consensus: dict[int, list[tuple[int, str]]] = {}
    if label_type == LabelType.DEFAULT:
        for asset_pk in asset_pks:
            current, asset = current_of_asset[asset_pk], assets[asset_pk]
            if len(current) >= 2 and not asset.is_honeypot and not asset.has_inference:
                consensus[asset_pk] = sorted((pk_of(c), c.id) for c in current)
    label_marks, asset_marks = marks.consensus_marks(
        conn,
        project,
        consensus,
        {row["pk"]: response for row, response in zip(rows, responses, strict=True)},
        {row["pk"]: found for row, found in zip(rows, boxes, strict=True) if found},
    )
    for row in rows:
        row["consensus_mark"] = label_marks.get(row["pk"])
    stored_changes: list[dict[str, Any]] = []
    stored_mark_changes: list[dict[str, Any]] = []
    for asset_pk in asset_pks:
        in_consensus = asset_pk in consensus
        for candidate in holders[asset_pk]:
            if candidate.order >= _NEW:
                continue
            mark = label_marks.get(candidate.order)
            if in_consensus and mark != candidate.consensus_mark:
                stored_mark_changes.append(
                    {**dict(zip(_FLAGS, candidate.flags, strict=True)), "consensus_mark": mark, "pk": candidate.order}
                )
            elif candidate.order in flag_changes:
                stored_changes.append({**dict(zip(_FLAGS, candidate.flags, strict=True)), "pk": candidate.order})
    executemany_insert(conn, L, rows)
    executemany_update(conn, L, stored_changes)
    executemany_update(conn, L, stored_mark_changes)
    now = now_ts()
    asset_rows = []
    asset_mark_rows = []
    for asset_pk in asset_pks:
        asset = assets[asset_pk]
        status = asset.status
        latest = latest_of_asset.get(asset_pk)
        if change_status and label_type == LabelType.DEFAULT:
            if status in (AssetStatus.TODO, AssetStatus.ONGOING, AssetStatus.LABELED):
                needed = project.min_consensus_size if asset.in_consensus else 1
                labelers = sum(1 for c in current_of_asset[asset_pk] if c.order not in sent_back)
                status = AssetStatus.LABELED if labelers >= needed else AssetStatus.ONGOING
        elif change_status and label_type == LabelType.REVIEW:
            status = AssetStatus.REVIEWED
        values = {
            "latest_label_pk": None if latest is None else pk_of(latest),
            "status": status,
            "updated_at": now,
            "pk": asset_pk,
        }
        if asset_pk in asset_marks:
            asset_mark_rows.append({"consensus_mark": asset_marks[asset_pk], **values})
        else:
            asset_rows.append(values)
    executemany_update(conn, A, asset_rows)
    executemany_update(conn, A, asset_mark_rows)
    left = [pk for pk in asset_pks if assets[pk].is_honeypot or assets[pk].has_inference]
    waiting = {
        pk
        for pk in asset_pks
        if len(current_of_asset[pk]) < 2 and assets[pk].in_consensus and project.min_consensus_size >= 2
    }
    return left, waiting


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


# -- entry points -------------------------------------------------------------------------------------

#: What appending labels of each type by oneself is (other types, and labels by others: LABEL_FOR_OTHERS).
_LABEL_ACTION = {LabelType.DEFAULT: Action.LABEL, LabelType.AUTOSAVE: Action.LABEL, LabelType.REVIEW: Action.REVIEW}


def append_labels(
    ctx: ActingContext,
    json_response_array: Sequence[Any],
    *,
    asset_id_array: Sequence[str] | None = None,
    asset_external_id_array: Sequence[str] | None = None,
    project_id: str | None = None,
    author_id_array: Sequence[str | None] | None = None,
    seconds_to_label_array: Sequence[float | None] | None = None,
    model_name: str | None = None,
    label_type: str = LabelType.DEFAULT,
    overwrite: bool = False,
    created_at_array: Sequence[str | None] | None = None,
) -> list[str]:
    """Add labels to assets named by ids, or by external ids with ``project_id``; one bad label
    stores nothing. Returns the new labels' ids, in the order given."""
    kind = parse_enum(LabelType, label_type, "label_type")
    if not json_response_array:
        raise ValidationError("json_response_array must not be empty.")
    if asset_id_array is not None and asset_external_id_array is not None:
        raise ValidationError("Give asset_id_array or asset_external_id_array, not both.")
    if kind == LabelType.PREDICTION and not model_name:
        raise ValidationError("PREDICTION labels need a model_name.")
    size = len(json_response_array)
    for name, array in (
        ("asset_id_array", asset_id_array),
        ("asset_external_id_array", asset_external_id_array),
        ("author_id_array", author_id_array),
        ("seconds_to_label_array", seconds_to_label_array),
        ("created_at_array", created_at_array),
    ):
        if array is not None and len(array) != size:
            raise ValidationError(f"{name} has {len(array)} items but json_response_array has {size}.")
    with ctx.write() as tx:
        project, refs = project_and_assets(tx.conn, asset_id_array, asset_external_id_array, project_id)
        authors = users.author_pks(ctx, tx, author_id_array, size)
        acting = users.acting_user_pk(ctx, tx)
        by_others = any(author != acting for author in authors)
        action = Action.LABEL_FOR_OTHERS if by_others else _LABEL_ACTION.get(LabelType(kind), Action.LABEL_FOR_OTHERS)
        permissions.require(ctx, tx.conn, project, action)
        appended = append_and_mark(
            tx.conn,
            project,
            refs,
            json_response_array,
            authors,
            kind,
            seconds_to_label_array,
            model_name,
            created_at_array,
            overwrite=overwrite,
        )
        # Before the collector runs again: what the append built for its own use (responses' plain
        # boxes, rows) is freed by reference counting, not walked by a collection first.
        ids = appended.ids
        del appended
    return ids


def create_honeypot(
    ctx: ActingContext,
    json_response: Any,
    *,
    asset_id: str | None = None,
    asset_external_id: str | None = None,
    project_id: str | None = None,
) -> str:
    """Write the ground truth of a honeypot asset: a REVIEW label by the acting user. The asset is
    flagged ``isHoneypot``; its status does not change. Returns the label's id."""
    with ctx.write() as tx:
        project, refs = project_and_assets(
            tx.conn,
            None if asset_id is None else [asset_id],
            None if asset_external_id is None else [asset_external_id],
            project_id,
        )
        permissions.require(ctx, tx.conn, project, Action.REVIEW)
        tx.conn.execute(update(A).where(A.c.pk == refs[0].pk).values(is_honeypot=True, updated_at=now_ts()))
        author = users.acting_user_pk(ctx, tx)
        appended = insert_labels(
            tx.conn, project, refs, [json_response], [author], LabelType.REVIEW, change_status=False
        )
        marks.refresh_marks(tx.conn, project, appended.marks_needed, responses=appended.responses, consensus=False)
    return appended.ids[0]
