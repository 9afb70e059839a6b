"""Keeping the stored marks of assets and labels equal to what the labels imply.

The rules and their computation are pure (:mod:`labelport.quality.marks`); this module reads the rows
they need, writes the marks that change, and keeps, per open store, the caches that spare computing
again what cannot have changed. Its functions run inside the transaction of each write that can
change a mark (label appends, honeypot flags and ground truths, send-backs), so no query ever sees a
stale mark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import Connection, Engine, select

from labelport.annotations.validate import PlainBoxes
from labelport.lru import Lru
from labelport.models import ProjectInfo
from labelport.quality.agreement import Comparer, Prepared, build_geometries
from labelport.quality.marks import COMPARED_TYPES, MARK_COLUMNS, AssetMarks, consensus_of
from labelport.store import schema
from labelport.store.bulk import IN_CHUNK, KEYS, executemany_update, select_for_keys

A, L = schema.assets, schema.labels
#: How many prepared labels each open store keeps in memory (about 2.5 kB for a 10-box label).
PREPARED_CACHE_SIZE = 20_000
#: How many pairwise agreements each open store keeps in memory.
SCORE_CACHE_SIZE = 100_000


def refresh_marks(
    conn: Connection,
    project: ProjectInfo,
    asset_pks: Sequence[int],
    *,
    responses: Mapping[int, Any] | None = None,
    consensus: bool = True,
    boxes: Mapping[int, Mapping[str, PlainBoxes]] | None = None,
) -> None:
    """Recompute the consensus, honeypot and inference marks of these assets and of their labels.

    Called inside the transaction of every write that can change a mark (label appends,
    honeypot flags and ground truths, send-backs), so no query ever sees a stale mark. Only the
    rows whose marks change are written. ``responses`` holds jsonResponses the caller already has
    (by label pk), which are then not read back, and ``boxes`` their plain boxes collected by
    validation; ``consensus=False`` says that no DEFAULT label changed, so the consensus marks stay
    as stored.
    """
    comparer = Comparer(project.ontology, project.input_type)
    pks = sorted(set(asset_pks))
    known = _Known(responses or {}, boxes or {})
    for start in range(0, len(pks), IN_CHUNK):
        _refresh_chunk(conn, comparer, pks[start : start + IN_CHUNK], known, consensus)


@dataclass
class MarkCaches:
    """What one open store remembers between writes, to avoid recomputing what cannot change.

    A label is compared again each time another labeler labels its asset: its prepared shapes and
    its agreement with each other label are kept, by label id. Label ids are never reused and labels
    never change, so entries cannot go stale; the ontology's fingerprint is part of every key.
    """

    prepared: Lru[tuple[str, str], Prepared] = field(default_factory=lambda: Lru(PREPARED_CACHE_SIZE))
    scores: Lru[tuple[str, str, str], tuple[float | None]] = field(default_factory=lambda: Lru(SCORE_CACHE_SIZE))


_CACHES: WeakKeyDictionary[Engine, MarkCaches] = WeakKeyDictionary()


def prepare_soon_compared(
    conn: Connection,
    project: ProjectInfo,
    labels: Mapping[int, str],
    responses: Mapping[int, Any],
    boxes: Mapping[int, Mapping[str, PlainBoxes]] | None = None,
) -> None:
    """Remember the prepared shapes of new labels that other labelers' labels will soon be compared with
    (``labels`` maps pk → id), saving the read and parse of their jsonResponse later. ``boxes``: the
    plain boxes validation collected, by pk."""
    if not labels:
        return
    comparer = Comparer(project.ontology, project.input_type)
    cache = caches_for(conn).prepared
    boxes = boxes or {}
    for pk, label_id in labels.items():
        cache.put((comparer.fingerprint, label_id), comparer.prepare(responses[pk], boxes.get(pk)))


def consensus_marks(
    conn: Connection,
    project: ProjectInfo,
    groups: Mapping[int, Sequence[tuple[int, str]]],
    responses: Mapping[int, Any],
    boxes: Mapping[int, Mapping[str, PlainBoxes]] | None = None,
) -> tuple[dict[int, float | None], dict[int, float | None]]:
    """Consensus marks computed during an append, before its labels are written.

    ``groups`` maps each asset to its current labels, the latest DEFAULT label of each labeler, as
    ``(pk, id)`` sorted by pk, new labels included (their pks reserved); ``responses`` holds the
    jsonResponses at hand by pk (the new labels'), ``boxes`` their plain boxes collected by
    validation. Returns the marks of those labels by pk and of the
    assets by pk: the label service writes them with its own rows, so nothing is read back. Pair
    scores and prepared labels come from the store's caches; a stored label is read only when one of
    its pairs has no cached score and its prepared form was evicted.
    """
    if not groups:
        return {}, {}
    comparer = Comparer(project.ontology, project.input_type)
    fingerprint = comparer.fingerprint
    cache = caches_for(conn).scores
    ids = {pk: label_id for group in groups.values() for pk, label_id in group}
    pairs = [(first, second) for group in groups.values() for (first, _), (second, _) in combinations(group, 2)]
    # Label ids are never reused: only a pair of two stored labels can have a cached score.
    stored = [(first, second) for first, second in pairs if first not in responses and second not in responses]
    found = cache.get_many([(fingerprint, ids[first], ids[second]) for first, second in stored])
    scores: dict[tuple[int, int], float | None] = {pair: hit[0] for pair, hit in zip(stored, found, strict=True) if hit}
    missing = [pair for pair in pairs if pair not in scores]
    # Only the labels of assets that still wait for labelers are worth remembering: those of an
    # asset with its consensus complete are not compared again, as a rule.
    waiting = {pk for group in groups.values() if len(group) < project.min_consensus_size for pk, _ in group}
    needed = {pk for pair in missing for pk in pair}
    prepared = _prepared(conn, comparer, ids, needed, _Known(responses, boxes or {}), remember=waiting)
    build_geometries(prepared.values())
    computed = []
    for first, second in missing:
        value = comparer.agreement(prepared[first], prepared[second])
        computed.append(((fingerprint, ids[first], ids[second]), (value,)))
        scores[(first, second)] = value
    cache.put_many(computed)
    label_marks: dict[int, float | None] = {}
    asset_marks: dict[int, float | None] = {}
    for asset_pk, group in groups.items():
        asset_marks[asset_pk], marks = consensus_of([pk for pk, _ in group], lambda a, b: scores[(a, b)])
        label_marks.update(marks)
    return label_marks, asset_marks


def caches_for(conn: Connection) -> MarkCaches:
    caches = _CACHES.get(conn.engine)
    if caches is None:
        caches = _CACHES.setdefault(conn.engine, MarkCaches())
    return caches


@dataclass(frozen=True)
class _Known:
    """What the caller already has of new labels, by pk: jsonResponses, and plain boxes from validation."""

    responses: Mapping[int, Any]
    boxes: Mapping[int, Mapping[str, PlainBoxes]]

    def prepare(self, comparer: Comparer, pk: int) -> Prepared | None:
        response = self.responses.get(pk)
        return None if response is None else comparer.prepare(response, self.boxes.get(pk))


def _refresh_chunk(conn: Connection, comparer: Comparer, chunk: list[int], known: _Known, consensus: bool) -> None:
    assets = conn.execute(
        select(A.c.pk, A.c.is_honeypot, A.c.latest_label_pk, *(A.c[m] for m in MARK_COLUMNS)).where(A.c.pk.in_(chunk))
    ).all()
    rows = conn.execute(
        select(
            L.c.pk,
            L.c.id,
            L.c.asset_pk,
            L.c.label_type,
            L.c.created_at,
            L.c.is_latest_default_for_user,
            *(L.c[m] for m in MARK_COLUMNS),
        )
        .where(L.c.asset_pk.in_(chunk), L.c.label_type.in_(COMPARED_TYPES))
        .order_by(L.c.pk)
    ).all()
    by_asset: dict[int, list[Any]] = {}
    for row in rows:
        by_asset.setdefault(row.asset_pk, []).append(row)
    plans = [AssetMarks(asset, by_asset.get(asset.pk, []), comparer, consensus) for asset in assets]
    needed = {pk for plan in plans for pk in plan.needed()}
    responses = _prepared(conn, comparer, {row.pk: row.id for row in rows}, needed, known)
    build_geometries(responses.values())
    asset_changes: list[dict[str, Any]] = []
    label_changes: list[dict[str, Any]] = []
    current = {row.pk: row for row in rows}
    scores = caches_for(conn).scores
    for plan in plans:
        plan.responses = responses
        plan.scores = scores
        plan.compute()
        asset, values = plan.asset, plan.values
        if (asset.consensus_mark, asset.honeypot_mark, asset.inference_mark) != tuple(values.values()):
            asset_changes.append({**values, "pk": asset.pk})
        for pk, marks in plan.labels.items():
            row = current[pk]
            if (row.consensus_mark, row.honeypot_mark, row.inference_mark) != tuple(marks.values()):
                label_changes.append({**marks, "pk": pk})
    executemany_update(conn, A, asset_changes)
    executemany_update(conn, L, label_changes)


def _prepared(
    conn: Connection,
    comparer: Comparer,
    ids: Mapping[int, str],
    needed: set[int],
    known: _Known,
    remember: set[int] | None = None,
) -> dict[int, Prepared]:
    """The prepared labels the computation needs: given by the caller (new labels: prepared now),
    cached, or read from the store. Those prepared here are remembered (only those in ``remember``
    when given)."""
    cache = caches_for(conn).prepared
    fingerprint = comparer.fingerprint
    prepared: dict[int, Prepared] = {}
    remembered: list[tuple[tuple[str, str], Prepared]] = []
    others = []
    for pk in needed:
        found = known.prepare(comparer, pk)
        if found is None:
            others.append(pk)
        else:
            prepared[pk] = found
            remembered.append(((fingerprint, ids[pk]), found))
    missing = []
    for pk, found in zip(others, cache.get_many([(fingerprint, ids[pk]) for pk in others]), strict=True):
        if found is None:
            missing.append(pk)
        else:
            prepared[pk] = found
    for pk, response in _load_responses(conn, sorted(missing)).items():
        prepared[pk] = comparer.prepare(response)
        remembered.append(((fingerprint, ids[pk]), prepared[pk]))
    if remember is not None:
        wanted = {(fingerprint, ids[pk]) for pk in remember}
        remembered = [(key, value) for key, value in remembered if key in wanted]
    cache.put_many(remembered)
    return prepared


def _load_responses(conn: Connection, pks: list[int]) -> dict[int, Any]:
    rows = select_for_keys(conn, f"SELECT pk, json_response FROM labels WHERE pk {KEYS}", pks)
    return {pk: orjson.loads(text) for pk, text in rows}
