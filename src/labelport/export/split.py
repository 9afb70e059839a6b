"""Train/val/test splits of an export: which split each exported asset goes to.

Two ways to assign (see docs/export.md, "Train/val/test splits"):

- **by hash** (the default): an asset's split depends only on the seed and its external id,
  ``u = blake2b(f"{seed}\\0{external_id}")`` read as a number in [0, 1), and the split is the first whose
  cumulative fraction exceeds ``u``. It is *stable*: adding or removing other assets never moves an asset, and
  the same external id lands in the same split in another project. Counts follow the fractions statistically.
- **stratified** (``stratify=True``): a pre-pass reads the categories of every exported asset (memory
  O(assets)); each asset's stratum is its rarest category, and assets are dealt, rarest strata first, so that
  every split gets a share of each stratum and the totals follow the fractions. Deterministic, but *not*
  stable: adding assets may move others.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

from labelport.errors import ValidationError

SPLIT_NAMES = ("train", "val", "test")
#: Trainers need both a training and a validation set.
REQUIRED = ("train", "val")
EXAMPLE = "train=0.8,val=0.1,test=0.1"
_SUM_TOLERANCE = 1e-6
#: The stratum of assets without any category of the exported jobs (sorts before every (job, category)).
NO_CATEGORY: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class SplitPlan:
    """The splits of an export, in train, val, test order (a split of fraction 0 is left out)."""

    fractions: tuple[tuple[str, float], ...]
    seed: int = 0
    stratify: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fractions)

    def as_dict(self) -> dict[str, float]:
        return dict(self.fractions)

    def text(self) -> str:
        """The CLI form, ``train=0.8,val=0.1,test=0.1``."""
        return ",".join(f"{name}={fraction:g}" for name, fraction in self.fractions)

    def by_hash(self, external_id: str) -> str:
        """The split of an asset by hash: stable, whatever the other assets."""
        u = unit(self.seed, external_id)
        cumulative = 0.0
        for name, fraction in self.fractions[:-1]:
            cumulative += fraction
            if u < cumulative:
                return name
        return self.fractions[-1][0]  # the last split takes the rest (no rounding gap at the top)


def unit(seed: int, external_id: str) -> float:
    """A number in [0, 1) that depends only on the seed and the external id."""
    digest = hashlib.blake2b(f"{seed}\0{external_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# -- parsing ----------------------------------------------------------------------------------------


def parse_split(split: Mapping[str, float] | str | None, seed: int = 0, stratify: bool = False) -> SplitPlan | None:
    """The plan of ``export_labels(split=…, split_seed=…, split_stratify=…)``, or None without a split.

    ``split`` is a mapping (``{"train": 0.8, "val": 0.1, "test": 0.1}``) or the CLI's text
    (``"train=0.8,val=0.1,test=0.1"``). Every error names the bad key or value and what to do.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError(f"split_seed must be an integer, not {seed!r}.")
    if not isinstance(stratify, bool):
        raise ValidationError(f"split_stratify must be True or False, not {stratify!r}.")
    if split is None:
        if stratify:
            raise ValidationError(
                f"split_stratify=True needs a split: pass split too (e.g. split='{EXAMPLE}'), "
                "or leave split_stratify out."
            )
        if seed != 0:
            raise ValidationError(
                f"split_seed={seed} needs a split: pass split too (e.g. split='{EXAMPLE}'), or leave split_seed out."
            )
        return None
    if isinstance(split, str):
        given = _from_text(split)
    elif isinstance(split, Mapping):
        given = dict(split)
    else:
        raise ValidationError(
            f"split must be a dict such as {{'train': 0.8, 'val': 0.1, 'test': 0.1}} or text such as '{EXAMPLE}', "
            f"not a {type(split).__name__}."
        )
    return SplitPlan(_fractions(given), seed, stratify)


def _from_text(text: str) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, equals, value = (piece.strip() for piece in item.partition("="))
        if not equals or not name or not value:
            raise ValidationError(f"split: {item!r} is not NAME=FRACTION; write e.g. {EXAMPLE}.")
        if name in given:
            raise ValidationError(f"split: {name!r} is given twice; give each split once, e.g. {EXAMPLE}.")
        try:
            given[name] = float(value)
        except ValueError:
            raise ValidationError(f"split: the fraction of {name!r} must be a number, not {value!r}.") from None
    return given


def _fractions(given: dict[Any, Any]) -> tuple[tuple[str, float], ...]:
    for key in given:
        if key not in SPLIT_NAMES:
            raise ValidationError(
                f"split: unknown split name {key!r}; the splits are train, val and test, e.g. {EXAMPLE}."
            )
    for name in REQUIRED:
        if name not in given:
            raise ValidationError(
                f"split: {name!r} is missing; train and val are both required (trainers need a validation set), "
                f"e.g. {EXAMPLE}."
            )
    fractions = []
    for name in SPLIT_NAMES:
        if name not in given:
            continue
        value = given[name]
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValidationError(f"split: the fraction of {name!r} must be a number, not {value!r}.")
        fraction = float(value)
        if not math.isfinite(fraction):
            raise ValidationError(f"split: the fraction of {name!r} must be a finite number, not {value!r}.")
        if name in REQUIRED and fraction <= 0:
            raise ValidationError(
                f"split: the fraction of {name!r} must be greater than 0, not {value!r}; "
                "train and val both need assets."
            )
        if fraction < 0:
            raise ValidationError(
                f"split: the fraction of {name!r} must be 0 or more, not {value!r} (0 leaves the test split out)."
            )
        if fraction > 0:
            fractions.append((name, fraction))
    total = math.fsum(fraction for _, fraction in fractions)
    if abs(total - 1.0) > _SUM_TOLERANCE:
        percent = " (fractions, not percentages)" if abs(total - 100.0) <= 100 * _SUM_TOLERANCE else ""
        raise ValidationError(
            f"split: the fractions sum to {total:g}, not 1; make them add up to 1{percent}, e.g. {EXAMPLE}."
        )
    return tuple(fractions)


# -- stratified assignment --------------------------------------------------------------------------


@dataclass(frozen=True)
class StratumMember:
    """What the stratified assignment needs of one exported asset."""

    asset_id: str
    external_id: str
    categories: Collection[tuple[str, str]]  # (job, category) of its annotations in the exported jobs


def stratified(plan: SplitPlan, members: Iterable[StratumMember]) -> dict[str, str]:
    """The split of every asset (by asset id), stratified by category.

    1. The size of each split is fixed first: ``floor(fraction·n)``, the assets left over going to the largest
       remainders (ties in train/val/test order), so every total is within one asset of ``fraction·n``.
    2. Each asset's stratum is its rarest category: the (job, category) found in the fewest exported assets, ties
       by name; assets without a category form one stratum. Assets are ordered by (stratum count, stratum key,
       u, external id), so the rarest strata are dealt first.
    3. The m-th asset of a stratum goes, among the splits not full yet, to one this stratum has not reached
       (while there is one), else to the split with the largest deficit ``fraction·(m+1) − assigned`` within the
       stratum; ties go to the split furthest behind overall, then in train/val/test order. A stratum of at
       least as many assets as splits reaches every split (as long as rarer strata left room in them), and a
       larger one is split in proportion.
    """
    listed = list(members)
    counts: Counter[tuple[str, str]] = Counter(key for member in listed for key in set(member.categories))
    without = sum(1 for member in listed if not member.categories)

    def stratum(member: StratumMember) -> tuple[int, tuple[str, str]]:
        if not member.categories:
            return without, NO_CATEGORY
        return min((counts[key], key) for key in member.categories)

    ordered = sorted(
        listed,
        key=lambda m: (*stratum(m), unit(plan.seed, m.external_id), m.external_id, m.asset_id),
    )
    fractions = [fraction for _, fraction in plan.fractions]
    room = split_sizes(fractions, len(ordered))
    used = [0] * len(fractions)
    result: dict[str, str] = {}
    current: tuple[int, tuple[str, str]] | None = None
    local = [0] * len(fractions)  # assets of the current stratum in each split
    position = 0  # the asset's rank in its stratum
    for index, member in enumerate(ordered):
        key = stratum(member)
        if key != current:
            current, local, position = key, [0] * len(fractions), 0
        open_ = [j for j in range(len(fractions)) if used[j] < room[j]]
        candidates = [j for j in open_ if local[j] == 0] or open_
        best = max(
            candidates,
            key=lambda j: (fractions[j] * (position + 1) - local[j], fractions[j] * (index + 1) - used[j], -j),
        )
        used[best] += 1
        local[best] += 1
        position += 1
        result[member.asset_id] = plan.fractions[best][0]
    return result


def split_sizes(fractions: list[float], total: int) -> list[int]:
    """How many of ``total`` assets each split gets: ``floor(fraction·total)``, then one more for the largest
    remainders (ties in order) until the sizes add up; each is within one asset of ``fraction·total``."""
    whole = math.fsum(fractions)
    exact = [fraction / whole * total for fraction in fractions]
    sizes = [math.floor(value) for value in exact]
    by_remainder = sorted(range(len(fractions)), key=lambda j: (-(exact[j] - sizes[j]), j))
    for j in by_remainder[: max(0, total - sum(sizes))]:
        sizes[j] += 1
    return sizes


def asset_categories(
    responses: Iterable[dict[str, Any]], jobs: Mapping[str, Collection[str]], video: bool
) -> set[tuple[str, str]]:
    """The (job, category) pairs of the annotations of ``jobs`` (job name → its category keys) in label
    responses; a VIDEO response holds one response per frame (``{"0": {...}, "1": {...}}``)."""
    found: set[tuple[str, str]] = set()
    for response in responses:
        if not isinstance(response, dict):
            continue
        frames = (
            [value for key, value in response.items() if key.isdigit() and isinstance(value, dict)]
            if video
            else [response]
        )
        for frame in frames:
            for job, keys in jobs.items():
                value = frame.get(job)
                annotations = value.get("annotations") if isinstance(value, dict) else None
                for annotation in annotations if isinstance(annotations, list) else []:
                    categories = annotation.get("categories") if isinstance(annotation, dict) else None
                    for category in categories if isinstance(categories, list) else []:
                        name = category.get("name") if isinstance(category, dict) else None
                        if isinstance(name, str) and name in keys:
                            found.add((job, name))
    return found
