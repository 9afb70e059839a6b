"""The report every import ends with: what was read, what was stored, and what could not be represented."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Skipped:
    """Something read but not stored: an asset (``job`` is None) or one annotation of a job."""

    origin: str  # file and line (or record) it came from
    external_id: str
    job: str | None
    reason: str


@dataclass
class ImportReport:
    """Counts and lists describing one import. ``str(report)`` is the text the CLI prints."""

    fmt: str
    path: str
    detected: bool = False
    project_id: str = ""
    created_project: bool = False
    images_read: int = 0
    labels_read: int = 0
    annotations_read: Counter[str] = field(default_factory=Counter)
    categories: dict[str, list[str]] = field(default_factory=dict)
    assets_imported: int = 0
    labels_imported: int = 0
    users_created: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _counters: Counter[str] = field(default_factory=Counter, repr=False)

    def read(self, job: str, count: int = 1) -> None:
        self.annotations_read[job] += count

    def skip(self, origin: str, external_id: str, reason: str, job: str | None = None) -> None:
        self.skipped.append(Skipped(origin, external_id, job, reason))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def count(self, key: str, number: int = 1) -> None:
        """Count an event whose note is written once at the end (see :meth:`counted`)."""
        self._counters[key] += number

    def counted(self, key: str) -> int:
        return self._counters[key]

    def note_counts(self, templates: dict[str, str]) -> None:
        """Write the note of each counted event: ``templates`` maps a :meth:`count` key to its text,
        where ``{n}`` stands for the count. Keys never counted write nothing."""
        for key, template in templates.items():
            if self._counters[key]:
                self.note(template.format(n=self._counters[key]))

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(item.reason for item in self.skipped))

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.fmt,
            "path": self.path,
            "detected": self.detected,
            "project_id": self.project_id,
            "created_project": self.created_project,
            "images_read": self.images_read,
            "labels_read": self.labels_read,
            "annotations_read": dict(self.annotations_read),
            "categories": {job: list(keys) for job, keys in self.categories.items()},
            "assets_imported": self.assets_imported,
            "labels_imported": self.labels_imported,
            "users_created": list(self.users_created),
            "skipped": [
                {"origin": s.origin, "external_id": s.external_id, "job": s.job, "reason": s.reason}
                for s in self.skipped
            ],
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        how = "detected" if self.detected else "given"
        target = "a new project" if self.created_project else "project"
        lines = [
            f"Imported {self.path} ({self.fmt}, format {how}) into {target} {self.project_id}",
            f"  images read: {self.images_read}, labels read: {self.labels_read}",
            f"  assets imported: {self.assets_imported}, labels imported: {self.labels_imported}",
        ]
        for job, count in self.annotations_read.items():
            lines.append(f"  annotations read, {job}: {count}")
        for job, keys in self.categories.items():
            lines.append(f"  categories, {job}: {', '.join(keys)}")
        if self.users_created:
            lines.append(f"  users created: {', '.join(self.users_created)}")
        if self.skipped:
            lines.append(f"  not imported: {len(self.skipped)}")
            for reason, count in sorted(self.skipped_by_reason().items()):
                lines.append(f"    {count} × {reason}")
            for item in self.skipped[:20]:
                where = f", job {item.job}" if item.job else ""
                lines.append(f"      {item.origin} (asset {item.external_id!r}{where}): {item.reason}")
            if len(self.skipped) > 20:
                lines.append(f"      … and {len(self.skipped) - 20} more (see report.skipped)")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)
