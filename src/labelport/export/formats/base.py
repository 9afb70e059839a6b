"""The contract of an export format: a spec in the registry and a writer.

A writer never touches the database: the pipeline calls ``open()``, ``write_asset(asset)`` for each
exported asset, then ``close()``; the writer adds members to ``ctx.archive`` and counts what it wrote
or skipped in ``ctx.report``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labelport.errors import IncompatibleFormatError
from labelport.export.model import ExportAsset, ExportContext, ExportOptions
from labelport.export.report import Tally
from labelport.ontology import Job


class Writer:
    """Base class of the format writers."""

    def __init__(self, ctx: ExportContext) -> None:
        self.ctx = ctx

    def open(self) -> None:
        """Called once before the first asset."""

    def write_asset(self, asset: ExportAsset) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Called once after the last asset: write what depends on all of them."""


class StagedWriter(Writer):
    """A writer whose work on an asset comes in two stages, so that the first can run in other processes
    (``export/parallel.py``) while this one writes:

    - :meth:`convert` turns the asset into what the format writes (rows, XML, JSON bytes), from the asset
      and the state :meth:`setup` derives from the context alone; it never touches the archive, the report
      or anything earlier assets changed, and tells what it skipped or wrote to a :class:`Tally`;
    - :meth:`emit`, called in export order, does what depends on the assets before (unique names, ids,
      counters), writes to the archive and tells the tally to the report.

    ``write_asset`` runs both, so a serial export and a parallel one run the same code.
    """

    def setup(self) -> None:
        """The state :meth:`convert` needs, from ``self.ctx`` (options, jobs, ontology) only. Called by
        :meth:`open`, and in each worker process of a parallel export instead of :meth:`open`."""

    def convert(self, asset: ExportAsset, tally: Tally) -> Any:
        raise NotImplementedError

    def emit(self, asset: ExportAsset, converted: Any, tally: Tally) -> None:
        raise NotImplementedError

    def parallel(self) -> bool:
        """Whether this export may convert in other processes (not when a Python callback is involved)."""
        return True

    def write_asset(self, asset: ExportAsset) -> None:
        tally = Tally()
        self.emit(asset, self.convert(asset, tally), tally)


@dataclass(frozen=True)
class FormatSpec:
    """One export format: what it accepts and how it writes."""

    name: str
    writer: type[Writer]
    input_types: frozenset[str]
    media_folder: str
    #: Which jobs the format exports (``None``: every job).
    job_filter: Callable[[Job], bool] | None
    #: In words, for errors: "an OBJECT_DETECTION job with rectangle, polygon or semantic tools".
    needs: str
    check_options: Callable[[ExportOptions], None] | None = None
    #: Whether one output holds one label (COCO, YOLO, VOC, GeoJSON): with several labels per asset,
    #: each gets its own output, suffixed ``_label1``, ``_label2``…
    one_label_per_output: bool = True
    #: Whether the format writes train/val/test split exports (``export_labels(split=…)``).
    splits: bool = False

    def compatible_jobs(self, jobs: list[Job]) -> list[Job]:
        return [job for job in jobs if self.job_filter is None or self.job_filter(job)]


def split_of(options: ExportOptions, asset: ExportAsset) -> str | None:
    """An asset's split in a split export (None without one): the pipeline's, else by hash."""
    if options.split is None:
        return None
    return asset.split if asset.split in options.split.names else options.split.by_hash(asset.external_id)


def refuse(option: str, value: object, fmt: str, why: str, fix: str) -> IncompatibleFormatError:
    """The error for an option a format cannot honour: names the option, the format and what to do."""
    return IncompatibleFormatError(f"Option {option}={value!r} cannot be used with format {fmt!r}: {why}. {fix}.")


def object_job(tools: frozenset[str], all_tools: bool) -> Callable[[Job], bool]:
    """Jobs of OBJECT_DETECTION whose tools are all (or any) among ``tools``."""

    def accepts(job: Job) -> bool:
        if job.ml_task != "OBJECT_DETECTION" or not job.tools:
            return False
        found = [tool in tools for tool in job.tools]
        return all(found) if all_tools else any(found)

    return accepts
