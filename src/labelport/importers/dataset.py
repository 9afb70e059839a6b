"""What a format reader produces: a dataset in labelport's terms, not yet stored.

A reader turns files into :class:`Dataset`: assets (content, size, metadata) with their labels, whose
``jsonResponse`` is already in Kili's shape with normalized coordinates. Every asset and label keeps
its ``origin`` (file and line, or file and record) so that a later error can name it. Nothing here
touches the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelport.importers.report import ImportReport

if TYPE_CHECKING:
    from labelport.annotations.validate import ResponseSummary


@dataclass
class ImportOptions:
    """The options of one import, as the readers see them."""

    job_name: str | None = None
    media_root: Path | None = None
    missing_media: str = "error"  # or "skip"
    #: Known before reading (argument, existing project, ontology file); the Kili reader infers it otherwise.
    input_type: str | None = None


@dataclass
class ImportLabel:
    """One label to store. ``label_type`` None means the import's ``label_type`` argument."""

    json_response: dict[str, Any]
    origin: str
    label_type: str | None = None
    author_email: str | None = None
    author_firstname: str = ""
    author_lastname: str = ""
    created_at: str | None = None
    seconds_to_label: float | None = None
    model_name: str | None = None
    sent_back: bool = False
    #: Set by the import's checks: whether the coordinates were taken as geographic, and what the
    #: validation of the jsonResponse found (the label service then does not validate it again).
    checked: tuple[bool, ResponseSummary] | None = field(default=None, repr=False, compare=False)


@dataclass
class ImportAsset:
    """One asset to store. ``content`` is a local file, a URL or (TEXT) the text itself."""

    external_id: str
    origin: str
    content: str = ""
    json_content: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    resolution: tuple[int, int] | None = None
    page_resolutions: list[dict[str, Any]] | None = None
    status: str | None = None
    is_honeypot: bool = False
    priority: int = 0
    labels: list[ImportLabel] = field(default_factory=list)


@dataclass
class DetectionJob:
    """An OBJECT_DETECTION job of a COCO, YOLO or VOC dataset: its categories in order, the tools used."""

    name: str
    categories: list[str] = field(default_factory=list)
    tools: set[str] = field(default_factory=set)

    def add_category(self, key: str) -> None:
        if key not in self.categories:
            self.categories.append(key)


@dataclass
class Dataset:
    """Everything a reader found. ``jobs`` is set by detection formats (COCO, YOLO, VOC);
    ``interface`` and ``input_type`` by readers that know them (Kili with an ontology file)."""

    fmt: str
    report: ImportReport
    assets: list[ImportAsset] = field(default_factory=list)
    jobs: list[DetectionJob] | None = None
    interface: dict[str, Any] | None = None
    input_type: str | None = None
    title: str | None = None
    description: str | None = None
    _by_name: dict[str, DetectionJob] = field(default_factory=dict, repr=False)

    def job(self, name: str) -> DetectionJob:
        """The detection job called ``name``, created (after the others) on first use."""
        found = self._by_name.get(name)
        if found is None:
            assert self.jobs is not None
            found = self._by_name[name] = DetectionJob(name)
            self.jobs.append(found)
        return found
