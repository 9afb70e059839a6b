"""What writers receive: exported assets with their selected labels, and the export context."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from labelport.export.archive import Archive
from labelport.export.names import safe_suffix, strip_image_suffix
from labelport.export.report import ExportReport
from labelport.export.split import SplitPlan
from labelport.ontology import Job, Ontology


@dataclass(frozen=True)
class ExportLabel:
    """One label chosen for export (its jsonResponse already parsed)."""

    id: str
    label_type: str
    created_at: str
    author: dict[str, Any]  # id, email, firstname, lastname, name
    json_response: dict[str, Any]
    is_latest_for_user: bool
    is_sent_back_to_queue: bool
    model_name: str | None
    seconds_to_label: float | None


@dataclass(frozen=True)
class Frame:
    """One frame of a video asset given as a frame list: a stored file or a URL."""

    index: int
    path: Path | None
    url: str | None

    @property
    def suffix(self) -> str:
        source = str(self.path) if self.path is not None else (self.url or "")
        return media_suffix(source)


def media_suffix(source: str) -> str:
    """The lower-case file extension of a path or URL (query and fragment ignored), e.g. ``.jpg``; ``""``
    when there is none or it is not a plain one (``names.safe_suffix``)."""
    tail = source.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    return safe_suffix("." + tail.rsplit(".", 1)[1]) if "." in tail else ""


@dataclass
class ExportAsset:
    """An asset as the writers see it. ``labels`` holds the labels selected by the export type."""

    id: str
    external_id: str
    content: str  # the URL, the text, or the original reference of a stored file
    media_path: Path | None  # the store's copy of the asset's file, when it has one
    json_content: str
    json_metadata: dict[str, Any]
    status: str
    resolution: tuple[int, int] | None  # (width, height)
    page_resolutions: list[dict[str, Any]]
    frames: list[Frame]
    labels: list[ExportLabel]
    created_at: str = ""
    #: With a split export, the asset's split (``train``, ``val``, ``test``), set by the pipeline before the
    #: ``_labelN`` copies are made, so that every copy stays in its asset's split.
    split: str | None = None

    @property
    def width(self) -> int | None:
        return self.resolution[0] if self.resolution else None

    @property
    def height(self) -> int | None:
        return self.resolution[1] if self.resolution else None

    @property
    def media_suffix(self) -> str:
        return media_suffix(str(self.media_path) if self.media_path is not None else self.content)


@dataclass(frozen=True)
class ExportOptions:
    """The options of one export, checked against the format before it starts."""

    fmt: str
    layout: str = "split"
    single_file: bool = False
    with_assets: bool = True
    normalized_coordinates: bool | None = None
    export_type: str = "latest"
    label_type_in: tuple[str, ...] = ("DEFAULT", "REVIEW")
    include_sent_back_labels: bool = True
    annotation_modifier: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    strict: bool = False
    #: A train/val/test split (formats whose spec has ``splits``); None: no split, the usual layout.
    split: SplitPlan | None = None
    #: YOLO split exports: the folder the archive will be unzipped to, written as data.yaml's ``path``.
    dataset_root: str | None = None
    #: ``kili`` (Kili's archive layout) or ``standard``: the layout datumaro, CVAT and FiftyOne import (COCO
    #: ``annotations/instances_<subset>.json`` + ``images/<subset>/``, VOC ``Annotations/`` + ``JPEGImages/`` +
    #: ``ImageSets/Main/``, YOLO ``images/<subset>`` + ``labels/<subset>`` + ``data.yaml``).
    dataset_layout: str = "kili"
    #: Processes converting assets besides the exporting one (``export/parallel.py``); None: one per core when
    #: the export is large enough to gain from it, 1: none.
    workers: int | None = None


@dataclass
class ExportContext:
    """Everything a writer needs besides the assets."""

    project_id: str
    title: str
    description: str
    input_type: str
    ontology: Ontology
    jobs: list[Job]  # the jobs this format exports, in ontology order
    options: ExportOptions
    archive: Archive
    report: ExportReport
    media_folder: str
    extras: dict[str, Any] = field(default_factory=dict)


def expand(asset: ExportAsset, one_label_per_output: bool) -> Iterator[ExportAsset]:
    """With several labels and a format that holds one per output: one copy per label, ``_labelN``
    added before an image extension (``a.jpg`` → ``a_label1.jpg``), so image and label files pair."""
    if not one_label_per_output or len(asset.labels) <= 1:
        yield asset
        return
    stem = strip_image_suffix(asset.external_id)
    suffix = asset.external_id[len(stem) :]
    for number, label in enumerate(asset.labels, 1):
        yield replace(asset, external_id=f"{stem}_label{number}{suffix}", labels=[label])
