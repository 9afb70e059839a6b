"""Keeping the stored marks of assets and labels equal to what the labels imply.

For each asset given (see ``docs/quality.md`` for the rules and worked examples):

* ``consensusMark``: the mean agreement over the pairs of its labelers' latest DEFAULT labels (none
  with fewer than two); each of those labels gets the mean of its own pairs, older ones none;
* ``honeypotMark`` (assets flagged ``isHoneypot``): the ground truth is the latest REVIEW label;
  every DEFAULT label gets its agreement with it, and the asset the mean over its labelers' latest
  DEFAULT labels;
* ``inferenceMark``: the agreement between the latest INFERENCE label and the asset's latest label
  (which gets the same mark).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import Connection, Engine, select

from labelport.enums import LabelType
from labelport.quality.agreement import Comparer, Prepared
from labelport.services.labels import Appended
from labelport.services.projects import ProjectInfo
from labelport.store import schema
from labelport.store.bulk import executemany_update
from labelport.store.fields import IN_CHUNK

A, L = schema.assets, schema.labels
_MARKS = ("consensus_mark", "honeypot_mark", "inference_mark")
_TYPES = (LabelType.DEFAULT, LabelType.REVIEW, LabelType.INFERENCE)
#: How many prepared labels each open store keeps in memory (about 2.5 kB for a 10-box label).
PREPARED_CACHE_SIZE = 20_000
#: How many pairwise agreements each open store keeps in memory.
SCORE_CACHE_SIZE = 100_000
K = TypeVar("K")
V = TypeVar("V")


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _latest(rows: list[Any]) -> Any:
    return max(rows, key=lambda r: (r.created_at, r.pk)) if rows else None


class _AssetMarks:
    """The marks one asset and its labels should have."""

    def __init__(self, asset: Any, labels: list[Any], comparer: Comparer, consensus: bool) -> None:
        self.asset = asset
        self.consensus = consensus
        self.labels = {row.pk: dict.fromkeys(_MARKS) for row in labels}
        self.values: dict[str, float | None] = dict.fromkeys(_MARKS)
        if not consensus:  # the consensus set did not change: keep the stored marks
            self.values["consensus_mark"] = asset.consensus_mark
            for row in labels:
                self.labels[row.pk]["consensus_mark"] = row.consensus_mark
        self.comparer = comparer
        self.responses: dict[int, Any] = {}
        self.ids = {row.pk: row.id for row in labels}
        self.scores: Lru[tuple[str, str, str], tuple[float | None]] = Lru(0)
        by_type: dict[str, list[Any]] = {}
        for row in labels:
            by_type.setdefault(row.label_type, []).append(row)
        self.defaults = by_type.get(LabelType.DEFAULT, [])
        self.current = sorted((r for r in self.defaults if r.is_latest_default_for_user), key=lambda r: r.pk)
        self.reviews = by_type.get(LabelType.REVIEW, [])
        self.inferences = by_type.get(LabelType.INFERENCE, [])

    def needed(self) -> set[int]:
        """Labels whose jsonResponse the computation reads."""
        wanted = {row.pk for row in self.current} if self.consensus else set()
        truth = _latest(self.reviews)
        if self.asset.is_honeypot and truth is not None:
            wanted |= {truth.pk, *(row.pk for row in self.defaults)}
        inference = _latest(self.inferences)
        if inference is not None and self.asset.latest_label_pk is not None:
            wanted |= {inference.pk, self.asset.latest_label_pk}
        return wanted

    def agree(self, a: int, b: int) -> float | None:
        key = (self.comparer.fingerprint, self.ids[a], self.ids[b])
        found = self.scores.get(key)
        if found is None:
            found = (self.comparer.agreement(self.responses[a], self.responses[b]),)
            self.scores.put(key, found)
        return found[0]

    def compute(self) -> None:
        if self.consensus:
            self._consensus()
        self._honeypot_and_inference()

    def _consensus(self) -> None:
        pair_scores: dict[int, list[float | None]] = {row.pk: [] for row in self.current}
        for first, second in combinations(self.current, 2):
            score = self.agree(first.pk, second.pk)
            pair_scores[first.pk].append(score)
            pair_scores[second.pk].append(score)
        for pk, scores in pair_scores.items():
            self.labels[pk]["consensus_mark"] = _mean(scores)
        if len(self.current) >= 2:
            self.values["consensus_mark"] = _mean([s for scores in pair_scores.values() for s in scores])

    def _honeypot_and_inference(self) -> None:
        truth = _latest(self.reviews)
        if self.asset.is_honeypot and truth is not None:
            for row in self.defaults:
                self.labels[row.pk]["honeypot_mark"] = self.agree(row.pk, truth.pk)
            self.values["honeypot_mark"] = _mean([self.labels[row.pk]["honeypot_mark"] for row in self.current])
        inference = _latest(self.inferences)
        latest = self.asset.latest_label_pk
        if inference is not None and latest is not None:
            score = self.agree(latest, inference.pk)
            self.values["inference_mark"] = score
            self.labels[latest]["inference_mark"] = score


def refresh_marks(
    conn: Connection,
    project: ProjectInfo,
    asset_pks: Sequence[int],
    *,
    responses: Mapping[int, Any] | None = None,
    consensus: bool = True,
) -> None:
    """Recompute the consensus, honeypot and inference marks of these assets and of their labels.

    Called inside the transaction of every write that can change a mark (label appends,
    honeypot flags and ground truths, send-backs), so no query ever sees a stale mark. Only the
    rows whose marks change are written. ``responses`` holds jsonResponses the caller already has
    (by label pk), which are then not read back; ``consensus=False`` says that no DEFAULT label
    changed, so the consensus marks stay as stored.
    """
    comparer = Comparer(project.ontology, project.input_type)
    pks = sorted(set(asset_pks))
    for start in range(0, len(pks), IN_CHUNK):
        _refresh_chunk(conn, comparer, pks[start : start + IN_CHUNK], responses or {}, consensus)


class Lru(Generic[K, V]):
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


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
    conn: Connection, project: ProjectInfo, labels: Mapping[int, str], responses: Mapping[int, Any]
) -> None:
    """Remember the prepared shapes of new labels that other labelers' labels will soon be compared with
    (``labels`` maps pk → id), saving the read and parse of their jsonResponse later."""
    if not labels:
        return
    comparer = Comparer(project.ontology, project.input_type)
    cache = _caches_for(conn).prepared
    for pk, label_id in labels.items():
        cache.put((comparer.fingerprint, label_id), comparer.prepare(responses[pk]))


def after_append(conn: Connection, project: ProjectInfo, appended: Appended, label_type: str) -> None:
    """What every label append does next, in its transaction: refresh the marks the new labels may
    change (consensus only for DEFAULT labels), then prepare the shapes of the ones soon compared."""
    refresh_marks(
        conn,
        project,
        appended.marks_needed,
        responses=appended.responses,
        consensus=label_type == LabelType.DEFAULT,
    )
    prepare_soon_compared(conn, project, appended.soon_compared, appended.responses)


def _caches_for(conn: Connection) -> MarkCaches:
    caches = _CACHES.get(conn.engine)
    if caches is None:
        caches = _CACHES.setdefault(conn.engine, MarkCaches())
    return caches


def _refresh_chunk(
    conn: Connection, comparer: Comparer, chunk: list[int], known: Mapping[int, Any], consensus: bool
) -> None:
    assets = conn.execute(
        select(A.c.pk, A.c.is_honeypot, A.c.latest_label_pk, *(A.c[m] for m in _MARKS)).where(A.c.pk.in_(chunk))
    ).all()
    rows = conn.execute(
        select(
            L.c.pk,
            L.c.id,
            L.c.asset_pk,
            L.c.label_type,
            L.c.created_at,
            L.c.is_latest_default_for_user,
            *(L.c[m] for m in _MARKS),
        )
        .where(L.c.asset_pk.in_(chunk), L.c.label_type.in_(_TYPES))
        .order_by(L.c.pk)
    ).all()
    by_asset: dict[int, list[Any]] = {}
    for row in rows:
        by_asset.setdefault(row.asset_pk, []).append(row)
    plans = [_AssetMarks(asset, by_asset.get(asset.pk, []), comparer, consensus) for asset in assets]
    needed = {pk for plan in plans for pk in plan.needed()}
    responses = _prepared(conn, comparer, {row.pk: row.id for row in rows}, needed, known)
    asset_changes: list[dict[str, Any]] = []
    label_changes: list[dict[str, Any]] = []
    current = {row.pk: row for row in rows}
    scores = _caches_for(conn).scores
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
    conn: Connection, comparer: Comparer, ids: Mapping[int, str], needed: set[int], known: Mapping[int, Any]
) -> dict[int, Prepared]:
    """The prepared labels the computation needs: cached, given by the caller, or read from the store."""
    cache = _caches_for(conn).prepared
    prepared: dict[int, Prepared] = {}
    missing = []
    for pk in needed:
        key = (comparer.fingerprint, ids[pk])
        found = cache.get(key)
        if found is None and pk in known:
            found = comparer.prepare(known[pk])
            cache.put(key, found)
        if found is None:
            missing.append(pk)
        else:
            prepared[pk] = found
    for pk, response in _load_responses(conn, sorted(missing)).items():
        prepared[pk] = comparer.prepare(response)
        cache.put((comparer.fingerprint, ids[pk]), prepared[pk])
    return prepared


def _load_responses(conn: Connection, pks: list[int]) -> dict[int, Any]:
    responses: dict[int, Any] = {}
    for start in range(0, len(pks), IN_CHUNK):
        query = select(L.c.pk, L.c.json_response).where(L.c.pk.in_(pks[start : start + IN_CHUNK]))
        for pk, text in conn.execute(query):
            responses[pk] = orjson.loads(text)
    return responses
