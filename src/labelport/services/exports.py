"""Exporting a project: the one entry point every front door calls.

:func:`export_project` resolves what the caller named (the project, explicit assets), reads the
project's description, builds the asset selection (the same filters as ``assets()``) and the export
options, and runs the export pipeline (:mod:`labelport.export.pipeline`), which streams the selected
assets to the format's writer and returns the report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from labelport._gc import gc_paused
from labelport._signals import stop_on_terminate
from labelport.errors import ValidationError
from labelport.export import formats, pipeline
from labelport.export.model import ExportOptions
from labelport.export.report import ExportReport
from labelport.export.split import parse_split
from labelport.models import ProjectInfo
from labelport.services import permissions
from labelport.services.context import ActingContext
from labelport.services.lookups import get_project, project_description, resolve_assets
from labelport.services.permissions import Action
from labelport.services.queries import asset_where
from labelport.store import filters, schema
from labelport.store.lists import in_values

#: The filters ``asset_filter_kwargs`` accepts: those of ``assets()`` (the label criteria included).
ASSET_FILTER_NAMES = filters.ASSET_FILTER_NAMES

AnnotationModifier = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ExportRequest:
    """What to export and how: ``export_labels``' arguments, by the same names (docs/export.md)."""

    fmt: str
    asset_ids: Sequence[str] | None = None
    external_ids: Sequence[str] | None = None
    layout: str = "split"
    single_file: bool = False
    with_assets: bool = True
    annotation_modifier: AnnotationModifier | None = None
    asset_filter_kwargs: Mapping[str, Any] | None = None
    normalized_coordinates: bool | None = None
    label_type_in: Sequence[str] | None = None
    include_sent_back_labels: bool | None = None
    export_type: str = "latest"
    strict: bool = False
    split: Mapping[str, float] | str | None = None
    split_seed: int = 0
    split_stratify: bool = False
    dataset_root: str | os.PathLike[str] | None = None
    dataset_layout: str = "kili"
    workers: int | None = None


def export_where(
    project: ProjectInfo,
    asset_ids: Sequence[str] | None,
    external_ids: Sequence[str] | None,
    asset_filter_kwargs: Mapping[str, Any] | None,
) -> list[ColumnElement[bool]]:
    """The asset selection: the project, explicit ids, and the same filters as ``assets()``."""
    A = schema.assets
    given = dict(asset_filter_kwargs or {})
    unknown = sorted(set(given) - ASSET_FILTER_NAMES)
    if unknown:
        valid = ", ".join(sorted(ASSET_FILTER_NAMES))
        raise ValidationError(
            f"Unknown asset filter arguments: {unknown}; asset_filter_kwargs takes the filters of assets(): {valid}."
        )
    where = asset_where(project, given)
    if asset_ids:
        where.append(in_values(A.c.id, list(asset_ids)))
    if external_ids is not None and not asset_ids:
        where.append(in_values(A.c.external_id, list(external_ids)))
    return where


def export_project(
    ctx: ActingContext,
    project_id: str,
    filename: str | os.PathLike[str],
    options: ExportRequest,
    *,
    disable_tqdm: bool | None = None,
    progress: pipeline.Progress | None = None,
) -> ExportReport:
    """Export the project to the zip archive ``filename``; return the report (assets matched and
    exported, annotations written per job, everything skipped and why). The archive is written to a
    temporary file and renamed at the end: a failed export leaves nothing behind, nor does one stopped by
    Ctrl-C or SIGTERM. ``progress`` is told ``(assets done, assets matched)`` as the export goes; an error
    it raises stops the export (nothing is left behind either)."""
    project, description, export_options = _prepare(ctx, project_id, options)
    where = export_where(project, options.asset_ids, options.external_ids, options.asset_filter_kwargs)
    # SIGTERM (timeout, docker stop) removes the temporary archive and stops the workers, like Ctrl-C: see
    # labelport._signals.
    with stop_on_terminate(), gc_paused():  # an export parses millions of small acyclic objects; see labelport._gc
        return pipeline.run(
            ctx.store,
            project,
            description,
            filename,
            export_options,
            where,
            disable_tqdm=ctx.progress_off(disable_tqdm),
            progress=progress,
        )


def check_export(ctx: ActingContext, project_id: str, options: ExportRequest) -> None:
    """Everything :func:`export_project` checks before it writes (the project, the caller's permission, the
    assets named, the format and its options), without exporting: for a job, refused when it is started."""
    project, _description, export_options = _prepare(ctx, project_id, options)
    spec = formats.get(export_options.fmt)
    pipeline.check_options(spec, export_options, project)
    pipeline.compatible_jobs(spec, project, export_options.fmt)
    export_where(project, options.asset_ids, options.external_ids, options.asset_filter_kwargs)


def _prepare(ctx: ActingContext, project_id: str, options: ExportRequest) -> tuple[ProjectInfo, str, ExportOptions]:
    with ctx.read() as conn:
        project = get_project(conn, project_id)
        permissions.require(ctx, conn, project, Action.EXPORT)
        description = project_description(conn, project)
        if options.external_ids is not None and not options.asset_ids:
            resolve_assets(conn, project, None, list(options.external_ids))
        if options.asset_ids:
            resolve_assets(conn, project, list(options.asset_ids), None)
    return (
        project,
        description,
        ExportOptions(
            fmt=options.fmt,
            layout=options.layout,
            single_file=options.single_file,
            with_assets=options.with_assets,
            normalized_coordinates=options.normalized_coordinates,
            export_type=options.export_type,
            label_type_in=pipeline.label_types(options.label_type_in),
            include_sent_back_labels=True
            if options.include_sent_back_labels is None
            else options.include_sent_back_labels,
            annotation_modifier=options.annotation_modifier,
            strict=options.strict,
            split=parse_split(options.split, options.split_seed, options.split_stratify),
            dataset_root=None if options.dataset_root is None else os.fspath(options.dataset_root),
            dataset_layout=options.dataset_layout,
            workers=options.workers,
        ),
    )
