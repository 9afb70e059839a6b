"""The quality marks an asset and its labels should have, computed from the labels (pure scoring).

For each asset (see ``docs/quality.md`` for the rules and worked examples):

* ``consensusMark``: the mean agreement over the pairs of its labelers' latest DEFAULT labels (none
  with fewer than two); each of those labels gets the mean of its own pairs, older ones none;
* ``honeypotMark`` (assets flagged ``isHoneypot``): the ground truth is the latest REVIEW label;
  every DEFAULT label gets its agreement with it, and the asset the mean over its labelers' latest
  DEFAULT labels;
* ``inferenceMark``: the agreement between the latest INFERENCE label and the asset's latest label
  (which gets the same mark).

Nothing here reads or writes the store: ``labelport.services.marks`` reads the rows, calls these
functions and writes the marks, in the transaction of each write that can change one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

from labelport.enums import LabelType
from labelport.lru import Lru
from labelport.quality.agreement import Comparer

#: The mark columns of assets and labels.
MARK_COLUMNS = ("consensus_mark", "honeypot_mark", "inference_mark")
#: The label types marks compare.
COMPARED_TYPES = (LabelType.DEFAULT, LabelType.REVIEW, LabelType.INFERENCE)


def mean(values: Sequence[float | None]) -> float | None:
    """The mean of the values present (None when there are none)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def consensus_of(
    pks: Sequence[int], score: Callable[[int, int], float | None]
) -> tuple[float | None, dict[int, float | None]]:
    """The consensus marks of an asset whose current labels are ``pks`` (by pk): the asset's (none
    with fewer than two labels) and each label's. The one place these means are taken, so that marks
    computed during an append equal a full recomputation to the last bit."""
    if len(pks) == 2:  # the means below, for one pair: the pair's score, to the last bit
        value = score(pks[0], pks[1])
        return value, {pks[0]: value, pks[1]: value}
    pair_scores: dict[int, list[float | None]] = {pk: [] for pk in pks}
    for first, second in combinations(pks, 2):
        value = score(first, second)
        pair_scores[first].append(value)
        pair_scores[second].append(value)
    labels = {pk: mean(scores) for pk, scores in pair_scores.items()}
    asset = mean([s for scores in pair_scores.values() for s in scores]) if len(pks) >= 2 else None
    return asset, labels


def latest_of(rows: list[Any]) -> Any:
    """The most recent of label rows: by createdAt, then by insertion."""
    return max(rows, key=lambda r: (r.created_at, r.pk)) if rows else None


class AssetMarks:
    """The marks one asset and its labels should have."""

    def __init__(self, asset: Any, labels: list[Any], comparer: Comparer, consensus: bool) -> None:
        self.asset = asset
        self.consensus = consensus
        self.labels = {row.pk: dict.fromkeys(MARK_COLUMNS) for row in labels}
        self.values: dict[str, float | None] = dict.fromkeys(MARK_COLUMNS)
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
        truth = latest_of(self.reviews)
        if self.asset.is_honeypot and truth is not None:
            wanted |= {truth.pk, *(row.pk for row in self.defaults)}
        inference = latest_of(self.inferences)
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
        asset, labels = consensus_of([row.pk for row in self.current], self.agree)
        for pk, mark in labels.items():
            self.labels[pk]["consensus_mark"] = mark
        self.values["consensus_mark"] = asset

    def _honeypot_and_inference(self) -> None:
        truth = latest_of(self.reviews)
        if self.asset.is_honeypot and truth is not None:
            for row in self.defaults:
                self.labels[row.pk]["honeypot_mark"] = self.agree(row.pk, truth.pk)
            self.values["honeypot_mark"] = mean([self.labels[row.pk]["honeypot_mark"] for row in self.current])
        inference = latest_of(self.inferences)
        latest_pk = self.asset.latest_label_pk
        if inference is not None and latest_pk is not None:
            score = self.agree(latest_pk, inference.pk)
            self.values["inference_mark"] = score
            self.labels[latest_pk]["inference_mark"] = score
