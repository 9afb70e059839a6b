"""The report every export ends with: what went in, what came out, and what was skipped and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Skipped:
    """Something not written: an asset (``job`` is None) or one annotation of a job."""

    external_id: str
    job: str | None
    reason: str


class Tally:
    """What converting one asset has to tell the report (skips, annotations written, notes) and the writer
    (its counters, e.g. ``("clamped", job)``), recorded where the report is not (a worker process of a
    parallel export) and told to it, in order, when the asset is written."""

    __slots__ = ("counted", "notes", "skipped", "written")

    def __init__(self) -> None:
        self.skipped: list[Skipped] = []
        self.written: dict[str, int] = {}
        self.counted: dict[tuple[str, str], int] = {}
        self.notes: list[str] = []

    def wrote(self, job: str, count: int = 1) -> None:
        self.written[job] = self.written.get(job, 0) + count

    def skip(self, external_id: str, reason: str, job: str | None = None) -> None:
        self.skipped.append(Skipped(external_id, job, reason))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def count(self, what: str, job: str, number: int = 1) -> None:
        key = (what, job)
        self.counted[key] = self.counted.get(key, 0) + number

    def tell(self, report: ExportReport, counters: Counter[tuple[str, str]] | None = None) -> None:
        """Add what was recorded to the report (and the writer's counters)."""
        if self.skipped:
            report.skipped.extend(self.skipped)
        for job, count in self.written.items():
            report.annotations[job] += count
        for text in self.notes:
            report.note(text)
        if counters is not None and self.counted:
            counters.update(self.counted)

    def __getstate__(self) -> tuple[Any, ...]:
        return self.skipped, self.written, self.counted, self.notes

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.skipped, self.written, self.counted, self.notes = state


@dataclass
class ExportReport:
    """Counts and lists describing one export. ``str(report)`` is the text the CLI prints."""

    project_id: str
    fmt: str
    path: str = ""
    assets_matched: int = 0
    assets_exported: int = 0
    assets_without_labels: int = 0
    labels_exported: int = 0
    annotations: Counter[str] = field(default_factory=Counter)
    skipped: list[Skipped] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    #: Split exports: the seed, whether the split is stratified, and the assets exported into each split
    #: (in train, val, test order; ``_labelN`` copies count as assets, as in ``assets_exported``).
    split_seed: int | None = None
    split_stratified: bool = False
    split_assets: dict[str, int] = field(default_factory=dict)
    #: Processes that converted the assets besides the exporting one (1: it did it alone).
    workers: int = 1

    def wrote(self, job: str, count: int = 1) -> None:
        self.annotations[job] += count

    def skip(self, external_id: str, reason: str, job: str | None = None) -> None:
        self.skipped.append(Skipped(external_id, job, reason))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(item.reason for item in self.skipped))

    def as_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "format": self.fmt,
            "path": self.path,
            "assets_matched": self.assets_matched,
            "assets_exported": self.assets_exported,
            "assets_without_labels": self.assets_without_labels,
            "labels_exported": self.labels_exported,
            "annotations": dict(sorted(self.annotations.items())),
            "skipped": [{"external_id": s.external_id, "job": s.job, "reason": s.reason} for s in self.skipped],
            "renamed": [{"external_id": e, "name": n} for e, n in self.renamed],
            "notes": list(self.notes),
            "files": self.files,
            "workers": self.workers,
            "split": None
            if self.split_seed is None
            else {"seed": self.split_seed, "stratified": self.split_stratified, "assets": dict(self.split_assets)},
        }

    def split_line(self) -> str | None:
        """``split (seed 0): train 80, val 10, test 10 assets``, or None without a split."""
        if self.split_seed is None:
            return None
        how = f"seed {self.split_seed}, stratified" if self.split_stratified else f"seed {self.split_seed}"
        counts = ", ".join(f"{name} {count}" for name, count in self.split_assets.items())
        return f"split ({how}): {counts} assets"

    def __str__(self) -> str:
        lines = [
            f"Exported project {self.project_id} to {self.fmt}: {self.path}",
            f"  assets matched: {self.assets_matched}, exported: {self.assets_exported}, "
            f"without a label of the selected types (not exported): {self.assets_without_labels}",
            f"  labels exported: {self.labels_exported}; files in the archive: {self.files}",
        ]
        if self.workers > 1:
            lines.append(f"  converted by {self.workers} worker processes")
        split = self.split_line()
        if split is not None:
            lines.append(f"  {split}")
        for job, count in sorted(self.annotations.items()):
            lines.append(f"  annotations written, {job}: {count}")
        if self.skipped:
            lines.append(f"  skipped: {len(self.skipped)}")
            for reason, count in sorted(self.skipped_by_reason().items()):
                lines.append(f"    {count} × {reason}")
            for item in self.skipped[:20]:
                where = f", job {item.job}" if item.job else ""
                lines.append(f"      asset {item.external_id!r}{where}: {item.reason}")
            if len(self.skipped) > 20:
                lines.append(f"      … and {len(self.skipped) - 20} more (see report.skipped)")
        for external_id, name in self.renamed:
            lines.append(f"  renamed: asset {external_id!r} is written as {name!r} (its name was taken or unsafe)")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)
