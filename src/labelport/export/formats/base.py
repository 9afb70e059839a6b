"""The contract of an export format: a spec in the registry and a writer.

A writer never touches the database: the pipeline calls ``open()``, ``write_asset(asset)`` for each
exported asset, then ``close()``; the writer adds members to ``ctx.archive`` and counts what it wrote
or skipped in ``ctx.report``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from labelport.errors import IncompatibleFormatError
from labelport.export.model import ExportAsset, ExportContext, ExportOptions
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
