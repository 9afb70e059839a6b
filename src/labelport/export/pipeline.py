"""The one export pipeline: checks, asset selection, streaming to a writer, README, report."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sqlalchemy import ColumnElement
from tqdm import tqdm

from labelport.enums import InputType, LabelType, parse_enum
from labelport.errors import ExportError, IncompatibleFormatError, ValidationError
from labelport.export import formats, parallel, source, split
from labelport.export.archive import atomic_archive
from labelport.export.formats.base import FormatSpec, StagedWriter, refuse
from labelport.export.model import ExportAsset, ExportContext, ExportOptions, expand
from labelport.export.report import ExportReport
from labelport.ontology import Job
from labelport.services.projects import ProjectInfo
from labelport.store import filters, query, schema
from labelport.store.engine import Store
from labelport.store.filters import FilterContext
from labelport.store.lists import in_values

EXPORT_TYPES = ("latest", "normal")
#: The filters ``asset_filter_kwargs`` accepts: those of ``assets()`` (the label criteria included).
ASSET_FILTER_NAMES = filters.ASSET_FILTER_NAMES


def check_options(spec: FormatSpec, options: ExportOptions, project: ProjectInfo) -> None:
    """Refuse, before anything is written, what the format cannot honour."""
    if project.input_type not in spec.input_types:
        able = sorted(name for name, other in formats.all_specs().items() if project.input_type in other.input_types)
        raise IncompatibleFormatError(
            f"Project {project.id!r} has input type {project.input_type}, which format {options.fmt!r} cannot "
            f"export; formats for {project.input_type} projects: {', '.join(able)}."
        )
    if options.layout not in ("split", "merged"):
        raise ValidationError(f"layout must be 'split' or 'merged', not {options.layout!r}.")
    if options.export_type not in EXPORT_TYPES:
        raise ValidationError(
            f"export_type {options.export_type!r} is not available: labelport projects use workflow V1 "
            "(no steps); use 'latest' (each asset's latest label) or 'normal' (all labels)."
        )
    if spec.check_options is not None:
        spec.check_options(options)
    check_split(spec, options)


def check_split(spec: FormatSpec, options: ExportOptions) -> None:
    """``split`` only for formats that write splits; ``dataset_root`` only with a YOLO split export."""
    if options.split is not None and not spec.splits:
        able = sorted(name for name, other in formats.all_specs().items() if other.splits)
        raise refuse(
            "split",
            options.split.as_dict(),
            options.fmt,
            "the format has no train/val/test layout",
            f"Use a format that writes splits ({', '.join(able)}), or leave split out",
        )
    root = options.dataset_root
    if root is None:
        return
    if not spec.splits:
        raise refuse(
            "dataset_root",
            root,
            options.fmt,
            "only YOLO split exports write a data.yaml, whose path it sets",
            "Use it with yolo_v5, yolo_v7 or yolo_v8 and split=..., or leave dataset_root out",
        )
    if options.split is None:
        raise ValidationError(
            f"dataset_root is written as data.yaml's path, next to its train, val and test folders, so it needs a "
            f"split: pass split too (e.g. split='{split.EXAMPLE}'), or leave dataset_root out."
        )
    if not (PurePosixPath(root).is_absolute() or PureWindowsPath(root).is_absolute()):
        raise ValidationError(
            f"dataset_root must be an absolute path, the folder where the archive will be unzipped "
            f"(e.g. '/data/street'), not {root!r}."
        )


def compatible_jobs(spec: FormatSpec, project: ProjectInfo, fmt: str) -> list[Any]:
    jobs = spec.compatible_jobs(project.ontology.root_jobs)
    if jobs:
        return jobs
    listed = ", ".join(
        f"{job.name} ({job.ml_task}{', ' + '/'.join(job.tools) if job.tools else ''})"
        for job in project.ontology.root_jobs
    )
    able = sorted(
        name
        for name, other in formats.all_specs().items()
        if project.input_type in other.input_types and other.compatible_jobs(project.ontology.root_jobs)
    )
    raise IncompatibleFormatError(
        f"Project {project.id!r} has no job that format {fmt!r} can export (it needs {spec.needs}). "
        f"Jobs: {listed}. Formats that can export this project: {', '.join(able)}."
    )


def _describe(job: Any) -> str:
    tools = f", {'/'.join(job.tools)}" if job.tools else ""
    return f"{job.name} ({job.ml_task}{tools})"


def readme(project_title: str, project_id: str, description: str, fmt: str, export_type: str, now: datetime) -> str:
    return (
        "Exported Labels from KILI\n"
        "=========================\n\n"
        f"- Project name: {project_title}\n"
        f"- Project identifier: {project_id}\n"
        f"- Project description: {description}\n"
        f"- Export date: {now.strftime('%Y%m%d-%H%M%S')}\n"
        f"- Exported format: {fmt}\n"
        f"- Exported labels: {export_type}\n"
    )


def label_types(label_type_in: Sequence[str] | None) -> tuple[str, ...]:
    if not label_type_in:
        return (LabelType.DEFAULT, LabelType.REVIEW)
    chosen = tuple(dict.fromkeys(parse_enum(LabelType, t, "label_type_in") for t in label_type_in))
    if LabelType.AUTOSAVE in chosen:
        raise ValidationError("label_type_in: AUTOSAVE labels are drafts and are never exported; remove it.")
    return chosen


def split_assigner(
    store: Store,
    where: list[ColumnElement[bool]],
    selection: source.Selection,
    project: ProjectInfo,
    jobs: list[Job],
    plan: split.SplitPlan,
    disable_tqdm: bool | None,
) -> Callable[[ExportAsset], str]:
    """Each exported asset's split: by hash (nothing to prepare), or stratified, which streams the selection
    once more first and keeps one entry per exported asset (memory O(assets))."""
    if not plan.stratify:
        return lambda asset: plan.by_hash(asset.external_id)
    categories = {job.name: frozenset(job.categories) for job in jobs}
    video = project.input_type == InputType.VIDEO
    members = (
        split.StratumMember(
            asset.id,
            asset.external_id,
            frozenset(split.asset_categories((label.json_response for label in asset.labels), categories, video)),
        )
        for asset in tqdm(
            source.stream(store, where, selection, project.input_type),
            desc="Stratifying the split",
            unit=" assets",
            disable=disable_tqdm,
            leave=False,
        )
        if asset.labels
    )
    assignment = split.stratified(plan, members)
    # An asset labeled between the two passes was not stratified: it gets its hash split.
    return lambda asset: assignment.get(asset.id) or plan.by_hash(asset.external_id)


def empty_split(name: str) -> str:
    """The note for a split that no exported asset went to."""
    return (
        f"split {name} is empty: no exported asset went to it; add assets or change the fractions "
        "(training code fails on an empty split: Ultralytics stops when a split folder is missing)"
    )


def run(
    store: Store,
    project: ProjectInfo,
    description: str,
    filename: str | os.PathLike[str],
    options: ExportOptions,
    where: list[ColumnElement[bool]],
    *,
    disable_tqdm: bool | None,
    clock: Callable[[], datetime] = datetime.now,
) -> ExportReport:
    spec = formats.get(options.fmt)
    check_options(spec, options, project)
    jobs = compatible_jobs(spec, project, options.fmt)
    report = ExportReport(project_id=project.id, fmt=options.fmt, path=str(filename))
    selection = source.Selection(options.export_type, options.label_type_in, options.include_sent_back_labels)
    matched = query.count(store, "Asset", where)
    plan = options.split
    assign = None
    if plan is not None:
        assign = split_assigner(store, where, selection, project, jobs, plan, disable_tqdm)
        report.split_seed, report.split_stratified = plan.seed, plan.stratify
        report.split_assets = dict.fromkeys(plan.names, 0)
    with atomic_archive(filename) as archive:
        ctx = ExportContext(
            project_id=project.id,
            title=project.title,
            description=description,
            input_type=project.input_type,
            ontology=project.ontology,
            jobs=jobs,
            options=options,
            archive=archive,
            report=report,
            media_folder=spec.media_folder,
        )
        writer = spec.writer(ctx)
        writer.open()
        workers = report.workers = parallel.worker_count(options.workers, matched, store, writer)
        stream: Iterator[parallel.Converted] = (
            parallel.converted(store, where, ctx, selection, spec.one_label_per_output, workers)
            if workers > 1
            else ((asset, None) for asset in source.stream(store, where, selection, project.input_type))
        )
        bar = tqdm(total=matched, desc=f"Exporting to {options.fmt}", unit=" assets", disable=disable_tqdm, leave=False)
        with bar, closing(stream):  # closing: an error stops the workers at once
            for asset, converted in stream:
                report.assets_matched += 1
                bar.update(1)
                if not asset.labels:
                    report.assets_without_labels += 1
                    continue
                report.labels_exported += len(asset.labels)
                if assign is not None:
                    asset.split = assign(asset)
                for index, item in enumerate(expand(asset, spec.one_label_per_output)):
                    skipped_before = len(report.skipped)
                    if converted is None:
                        writer.write_asset(item)
                    else:
                        assert isinstance(writer, StagedWriter)
                        writer.emit(item, *converted[index])
                    report.assets_exported += 1
                    if item.split is not None:
                        report.split_assets[item.split] += 1
                    if options.strict and len(report.skipped) > skipped_before:
                        problem = report.skipped[skipped_before]
                        where_job = f", job {problem.job!r}" if problem.job else ""
                        raise ExportError(
                            f"Asset {problem.external_id!r}{where_job}: {problem.reason} "
                            "(strict export: nothing was written)."
                        )
        writer.close()
        for name, count in report.split_assets.items():
            if count == 0:
                report.note(empty_split(name))
        archive.write_text(
            "README.kili.txt", readme(project.title, project.id, description, options.fmt, options.export_type, clock())
        )
        report.files += 1
        report.renamed.extend(ctx.extras.get("renamed", []))
    return report


def build_where(
    project: ProjectInfo,
    asset_ids: Sequence[str] | None,
    external_ids: Sequence[str] | None,
    asset_filter_kwargs: dict[str, Any] | None,
) -> list[ColumnElement[bool]]:
    """The asset selection: the project, explicit ids, and the same filters as ``assets()``."""
    A = schema.assets
    where: list[ColumnElement[bool]] = [A.c.project_pk == project.pk]
    given = dict(asset_filter_kwargs or {})
    unknown = sorted(set(given) - ASSET_FILTER_NAMES)
    if unknown:
        valid = ", ".join(sorted(ASSET_FILTER_NAMES))
        raise ValidationError(
            f"Unknown asset filter arguments: {unknown}; asset_filter_kwargs takes the filters of assets(): {valid}."
        )
    where.extend(filters.asset_where(given, FilterContext(project.ontology.jobs)))
    if asset_ids:
        where.append(in_values(A.c.id, list(asset_ids)))
    if external_ids is not None and not asset_ids:
        where.append(in_values(A.c.external_id, list(external_ids)))
    return where
