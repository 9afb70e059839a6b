"""The one export pipeline: checks, asset selection, streaming to a writer, README, report."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from sqlalchemy import ColumnElement, Connection, select
from tqdm import tqdm

from labelport.enums import InputType, LabelType, parse_enum
from labelport.errors import ExportError, IncompatibleFormatError, ValidationError, in_words_of
from labelport.export import formats, parallel, source, split
from labelport.export.archive import Archive, atomic_archive
from labelport.export.formats.base import (
    FORMAT_OPTIONS,
    OPTION_DEFAULTS,
    FormatSpec,
    Refused,
    StagedWriter,
    Unused,
    refuse,
)
from labelport.export.model import ExportAsset, ExportContext, ExportOptions, expand
from labelport.export.report import ExportReport
from labelport.models import ProjectInfo
from labelport.ontology import Job
from labelport.store import query, schema
from labelport.store.engine import Store

EXPORT_TYPES = ("latest", "normal")
A = schema.assets
DATASET_LAYOUTS = ("kili", "standard")

#: Told the assets done and the assets matched as an export goes (after each asset); it may raise to stop the
#: export (a cancelled job), which then leaves nothing behind, like any failed export.
Progress = Callable[[int, int], None]


def check_options(spec: FormatSpec, options: ExportOptions, project: ProjectInfo) -> None:
    """Refuse, before anything is written, what the format cannot honour: the project's input type, and
    the option values its spec refuses (:data:`~labelport.export.formats.base.FORMAT_OPTIONS`, checked in
    that order)."""
    if project.input_type not in spec.input_types:
        able = sorted(name for name, other in formats.all_specs().items() if project.input_type in other.input_types)
        raise IncompatibleFormatError(
            f"Project {project.id!r} has input type {project.input_type}, which format {options.fmt!r} cannot "
            f"export; formats for {project.input_type} projects: {', '.join(able)}."
        )
    if options.layout not in ("split", "merged"):
        raise ValidationError(f"layout must be 'split' or 'merged', not {options.layout!r}.")
    if options.dataset_layout not in DATASET_LAYOUTS:
        raise ValidationError(
            "dataset_layout must be 'kili' (the default: Kili's archive layout) or 'standard' (the layout datumaro, "
            f"CVAT and FiftyOne import: docs/export.md), not {options.dataset_layout!r}."
        )
    if options.export_type not in EXPORT_TYPES:
        raise ValidationError(
            f"export_type {options.export_type!r} is not available: labelport projects use workflow V1 "
            "(no steps); use 'latest' (each asset's latest label) or 'normal' (all labels)."
        )
    for option in FORMAT_OPTIONS:
        rule = spec.options[option]
        value = getattr(options, option)
        if isinstance(rule, Refused) and rule.refuses(option, value):
            able = formats.honouring(option)
            raise refuse(
                option,
                value.as_dict() if isinstance(value, split.SplitPlan) else value,
                options.fmt,
                _fill(rule.why, able),
                _fill(rule.fix, able),
            )
    check_dataset_root(options)


def _fill(text: str, able: list[str]) -> str:
    """A refusal's words with the formats that honour the option put in (see ``Refused``)."""
    listed = ", ".join(able)
    one_of = f"{', '.join(able[:-1])} or {able[-1]}" if len(able) > 1 else listed
    return text.replace("{formats_or}", one_of).replace("{formats}", listed)


def option_notes(spec: FormatSpec, options: ExportOptions) -> list[str]:
    """The report's notes for the options given that the format does not use (``Unused`` with a note)."""
    notes = []
    for option in FORMAT_OPTIONS:
        rule = spec.options[option]
        if isinstance(rule, Unused) and rule.note is not None and getattr(options, option) != OPTION_DEFAULTS[option]:
            notes.append(rule.note.replace("{fmt}", options.fmt))
    return notes


def check_dataset_root(options: ExportOptions) -> None:
    """``dataset_root``, in a format that takes it: with a split, and absolute."""
    root = options.dataset_root
    if root is None:
        return
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
    roots = project.ontology.root_jobs
    listed = ", ".join(_describe(job) for job in roots)
    able = sorted(
        name
        for name, other in formats.all_specs().items()
        if project.input_type in other.input_types
        and other.compatible_jobs(roots)
        and not (other.one_job and len(roots) > 1)
    )
    if spec.one_job and len(roots) > 1:
        raise IncompatibleFormatError(
            f"Project {project.id!r} has {len(roots)} jobs ({listed}): format {fmt!r} holds the answer of a "
            "single job in each label, so it exports only projects with one job. "
            f"Formats that can export this project: {', '.join(able)}."
        )
    jobs = spec.compatible_jobs(roots)
    if jobs:
        return jobs
    raise IncompatibleFormatError(
        f"Project {project.id!r} has no job that format {fmt!r} can export (it needs {spec.needs}). "
        f"Jobs: {listed}. Formats that can export this project: {', '.join(able)}."
    )


def check_assets(
    conn: Connection, spec: FormatSpec, project: ProjectInfo, fmt: str, where: list[ColumnElement[bool]]
) -> None:
    """Refuse, before anything is written, an IMAGE selection where no asset is what the format exports
    (``spec.image_asset_rule``: GeoJSON takes georeferenced assets only), listing the formats that can export
    the project. Reads the selected assets' jsonContent until one passes."""
    rule = spec.image_asset_rule
    if rule is None or project.input_type != InputType.IMAGE:
        return
    selected = 0
    for json_content in conn.execute(
        select(A.c.json_content).where(*where).execution_options(yield_per=1000)
    ).scalars():
        selected += 1
        if rule.accepts(json_content or ""):
            return
    able = sorted(
        name
        for name, other in formats.all_specs().items()
        if name != spec.name
        and other.image_asset_rule is None
        and project.input_type in other.input_types
        and other.compatible_jobs(project.ontology.root_jobs)
    )
    assets = "asset selected is" if selected == 1 else "assets selected is"
    raise IncompatibleFormatError(
        f"Project {project.id!r}: none of the {selected} {assets} {rule.adjective}, and format {fmt!r} "
        f"{rule.needs}. Formats that can export this project: {', '.join(able)}."
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
    conn: Connection,
    media_dir: Path,
    where: list[ColumnElement[bool]],
    selection: source.Selection,
    project: ProjectInfo,
    jobs: list[Job],
    plan: split.SplitPlan,
    disable_tqdm: bool | None,
) -> Callable[[ExportAsset], str]:
    """Each exported asset's split: by hash (nothing to prepare), or stratified, which streams the selection
    once more first, with ``conn`` (the export's snapshot: the same assets and labels as the export's pass),
    and keeps one entry per exported asset (memory O(assets))."""
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
            source.stream(conn, media_dir, where, selection, project.input_type),
            desc="Stratifying the split",
            unit=" assets",
            disable=disable_tqdm,
            leave=False,
        )
        if asset.labels
    )
    assignment = split.stratified(plan, members)
    return lambda asset: assignment[asset.id]


def missing_media(asset: ExportAsset) -> str | None:
    """Why an asset whose media the export includes is not exported: a stored file of it (its image, a frame)
    is missing; None when all are there. One rule for the label files and the media: a label file is never
    written without its image (docs/export.md, "Missing media")."""
    paths = [asset.media_path] if asset.media_path is not None else []
    paths.extend(frame.path for frame in asset.frames if frame.path is not None)
    for path in paths:
        if not path.is_file():
            included, without = in_words_of(
                ("with_assets=True", "with_assets=False"), ("--with-assets", "--without-assets")
            )
            return (
                f"asset not exported: its stored media file {path} is missing, and the export includes the media "
                f"({included}); restore the file, or export with {without} to write its labels alone"
            )
    return None


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
    progress: Progress | None = None,
) -> ExportReport:
    """Export the assets ``where`` selects to the archive ``filename``, as the store is at one moment: the
    count, a stratified split's pass and every page (workers' included) read one snapshot
    (:meth:`Store.snapshot`), whatever is written meanwhile."""
    spec = formats.get(options.fmt)
    check_options(spec, options, project)
    jobs = compatible_jobs(spec, project, options.fmt)
    # The archive first: a path that cannot be written is refused before the store is read.
    with atomic_archive(filename) as archive, store.snapshot() as conn:
        check_assets(conn, spec, project, options.fmt, where)
        report = ExportReport(project_id=project.id, fmt=options.fmt, path=str(filename))
        for note in option_notes(spec, options):
            report.note(note)
        _export(
            store,
            conn,
            archive,
            report,
            project,
            description,
            options,
            where,
            spec,
            jobs,
            disable_tqdm,
            clock,
            progress,
        )
    store.checkpoint()  # what was written during the export, which its snapshot kept in SQLite's log
    return report


def _export(
    store: Store,
    conn: Connection,
    archive: Archive,
    report: ExportReport,
    project: ProjectInfo,
    description: str,
    options: ExportOptions,
    where: list[ColumnElement[bool]],
    spec: FormatSpec,
    jobs: list[Job],
    disable_tqdm: bool | None,
    clock: Callable[[], datetime],
    progress: Progress | None = None,
) -> None:
    media_dir = Path(store.media_dir)
    selection = source.Selection(options.export_type, options.label_type_in, options.include_sent_back_labels)
    matched = query.count_in(conn, "Asset", where)
    if progress is not None:
        progress(0, matched)
    plan = options.split
    assign = None
    if plan is not None:
        assign = split_assigner(conn, media_dir, where, selection, project, jobs, plan, disable_tqdm)
        report.split_seed, report.split_stratified = plan.seed, plan.stratify
        report.split_assets = dict.fromkeys(plan.names, 0)
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
    stream: Generator[parallel.Converted, None, None] = (
        parallel.converted(store, conn, where, ctx, selection, spec.one_label_per_output, workers)
        if workers > 1
        else ((asset, None) for asset in source.stream(conn, media_dir, where, selection, project.input_type))
    )
    bar = tqdm(total=matched, desc=f"Exporting to {options.fmt}", unit=" assets", disable=disable_tqdm, leave=False)
    with bar, closing(stream):  # closing: an error stops the workers at once
        for asset, converted in stream:
            report.assets_matched += 1
            bar.update(1)
            if progress is not None:
                progress(report.assets_matched, matched)
            if not asset.labels:
                report.assets_without_labels += 1
                continue
            if options.with_assets and (missing := missing_media(asset)) is not None:
                report.skip(asset.external_id, missing)
                if options.strict:
                    raise ExportError(f"Asset {asset.external_id!r}: {missing} (strict export: nothing was written).")
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
