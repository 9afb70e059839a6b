"""The contract of an import format: a spec in the registry with a detector and a reader.

``detect(source)`` looks at file names and the first bytes of a few files and returns a
:class:`Detection` (the format's exact name and the files that gave it away) or None; it never
parses a whole file. ``read(source, fmt, options, report)`` parses everything into a
:class:`~labelport.importers.dataset.Dataset`, raising :class:`DatasetError` with the file and line
for broken input, and counting in ``report`` what it read and what it could not represent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from labelport.importers.dataset import Dataset, ImportOptions
from labelport.importers.report import ImportReport
from labelport.importers.source import Source


@dataclass(frozen=True)
class Detection:
    """What a detector found: the format's name (e.g. ``yolo_v5``) and the evidence, for messages."""

    fmt: str
    evidence: str


@dataclass(frozen=True)
class ImporterSpec:
    """One import format."""

    name: str
    detect: Callable[[Source], Detection | None]
    read: Callable[[Source, str, ImportOptions, ImportReport], Dataset]
    #: Other names the format answers to (``raw`` for ``kili``, the YOLO versions).
    aliases: tuple[str, ...] = ()
