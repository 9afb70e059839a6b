"""Importing a dataset: the one entry point every front door calls.

:func:`import_dataset` reads the input with the importers (:mod:`labelport.importers`: format readers,
the plan, the checks of every asset and label), then stores all of it in **one** transaction: the
project (when new), the authors, the assets (in batches), the labels (in batches, through the same
step as every label append, so flags, statuses and quality marks are exact), sent-back flags and
statuses. If anything fails, nothing is stored and no media file is left behind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from tqdm import tqdm

from labelport._gc import gc_paused
from labelport.enums import InputType, parse_enum
from labelport.errors import ValidationError
from labelport.importers import check_arguments, load_interface, read
from labelport.importers.dataset import ImportAsset, ImportLabel, ImportOptions
from labelport.importers.plan import Plan, check, make_plan
from labelport.importers.report import ImportReport
from labelport.importers.source import open_source
from labelport.models import AssetRef, ProjectInfo
from labelport.services import permissions
from labelport.services.assets import insert_assets, update_assets
from labelport.services.context import ActingContext
from labelport.services.labels import append_and_mark
from labelport.services.lookups import get_project, resolve_assets
from labelport.services.media import MediaWriter
from labelport.services.permissions import Action
from labelport.services.projects import insert_project
from labelport.services.users import acting_user_pk, find_user_pk, insert_user
from labelport.services.workflow import send_back_and_mark
from labelport.store import schema

#: Assets per insert_assets call, labels per append_and_mark call.
ASSET_BATCH = 5_000
LABEL_BATCH = 5_000


def import_dataset(
    ctx: ActingContext,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    project_id: str | None = None,
    title: str | None = None,
    *,
    interface: dict[str, Any] | str | os.PathLike[str] | None = None,
    input_type: str | None = None,
    description: str | None = None,
    job_name: str | None = None,
    label_type: str = "DEFAULT",
    model_name: str | None = None,
    media_root: str | os.PathLike[str] | None = None,
    missing_media: str = "error",
    disable_tqdm: bool | None = None,
) -> ImportReport:
    """Import the dataset at ``path`` into project ``project_id``, or into a new project (``title``).
    Returns the report: what was read, stored, and what could not be represented."""
    kind = check_arguments(project_id, title, description, missing_media, label_type, model_name, job_name)
    raw_interface, declared_type = load_interface(interface)
    given_type = parse_enum(InputType, input_type, "input_type") if input_type is not None else None
    project = _target(ctx, project_id, interface, given_type)
    known_type = given_type or (project.input_type if project is not None else None) or declared_type
    options = ImportOptions(
        job_name=job_name,
        media_root=Path(media_root).expanduser().resolve() if media_root is not None else None,
        missing_media=missing_media,
        input_type=known_type,
    )
    with gc_paused(), open_source(path) as source:  # a dataset is millions of small acyclic objects
        dataset = read(source, fmt, options, str(path))
        plan = make_plan(dataset, project, raw_interface, known_type, path, title, description)
        plan.label_type, plan.model_name = kind, model_name
        check(plan, _existing_external_ids(ctx, project))
        _write(ctx, plan, ctx.progress_off(disable_tqdm))
    return dataset.report


def _target(ctx: ActingContext, project_id: str | None, interface: Any, input_type: str | None) -> ProjectInfo | None:
    """The project the dataset goes to (None: a new one), checked against the arguments."""
    if project_id is None:
        return None
    with ctx.read() as conn:
        project = get_project(conn, project_id)
        permissions.require(ctx, conn, project, Action.MANAGE_ASSETS)
    if interface is not None:
        raise ValidationError(
            f"interface is for a new project; project {project_id!r} has its own ontology "
            "(change it with update_properties_in_project(json_interface=...))."
        )
    if input_type is not None and input_type != project.input_type:
        raise ValidationError(
            f"input_type {input_type} does not match project {project_id!r}, whose input type is {project.input_type}."
        )
    return project


def _existing_external_ids(ctx: ActingContext, project: ProjectInfo | None) -> set[str]:
    if project is None:
        return set()
    A = schema.assets
    with ctx.read() as conn:
        return set(conn.execute(select(A.c.external_id).where(A.c.project_pk == project.pk)).scalars())


# -- the transaction ----------------------------------------------------------------------------------


def _write(ctx: ActingContext, plan: Plan, disable_tqdm: bool | None) -> None:
    """Store the plan in one transaction: the project (when new), the authors, the assets, the labels
    (with the same derived flags, statuses and marks as any label append), sent-back flags, statuses."""
    report = plan.dataset.report
    with ctx.write(media=True) as tx:
        conn, writer = tx.conn, tx.media
        project = plan.project
        if project is None:
            permissions.actor(ctx, conn)  # any user but a deactivated one
        else:  # again: the role may have changed since the dataset was read
            permissions.require(ctx, conn, project, Action.MANAGE_ASSETS)
        acting = acting_user_pk(ctx, tx)
        if project is None:
            project_id = insert_project(conn, acting, plan.title, plan.input_type, plan.ontology.raw, plan.description)
            project = get_project(conn, project_id)
            report.created_project = True
        report.project_id = project.id
        authors = _authors(conn, plan.assets, report)
        refs = _assets(conn, project, writer, plan.assets)
        labels = _labels(conn, project, plan, refs, authors, acting, disable_tqdm)
        _statuses(conn, project, writer, plan.assets, refs)
    report.assets_imported = len(plan.assets)
    report.labels_imported = labels


def _authors(conn: Connection, assets: Sequence[ImportAsset], report: ImportReport) -> dict[str, int]:
    """The pk of every label author, found by email or created with the names the labels give."""
    pks: dict[str, int] = {}
    for asset in assets:
        for label in asset.labels:
            email = label.author_email
            if email is None or email in pks:
                continue
            pk = find_user_pk(conn, email)
            if pk is None:
                pk, _ = insert_user(conn, email, label.author_firstname, label.author_lastname)
                report.users_created.append(email)
            pks[email] = pk
    return pks


def _assets(
    conn: Connection, project: ProjectInfo, writer: MediaWriter, assets: Sequence[ImportAsset]
) -> dict[str, AssetRef]:
    refs: dict[str, AssetRef] = {}
    for start in range(0, len(assets), ASSET_BATCH):
        batch = assets[start : start + ASSET_BATCH]
        insert_assets(
            conn,
            project,
            writer,
            content_array=[asset.content for asset in batch],
            external_id_array=[asset.external_id for asset in batch],
            json_metadata_array=[asset.metadata for asset in batch],
            json_content_array=[asset.json_content for asset in batch],
            is_honeypot_array=[asset.is_honeypot for asset in batch],
            resolution_array=[_resolution(asset) for asset in batch],
            priority_array=[asset.priority for asset in batch],
        )
        found = resolve_assets(conn, project, None, [asset.external_id for asset in batch])
        refs.update((ref.external_id, ref) for ref in found)
    pages = [asset for asset in assets if asset.page_resolutions]
    if pages:
        update_assets(
            conn,
            project,
            [refs[asset.external_id] for asset in pages],
            writer,
            {"page_resolutions_array": [asset.page_resolutions for asset in pages]},
        )
    return refs


def _resolution(asset: ImportAsset) -> dict[str, int] | None:
    return {"width": asset.resolution[0], "height": asset.resolution[1]} if asset.resolution else None


@dataclass(frozen=True)
class _Entry:
    ref: AssetRef
    label: ImportLabel
    phase: int  # 0: labels sent back to the queue (written first), 1: the others
    round: int  # separates labels of one asset with the same date, to keep their order
    group: tuple[str, str | None]  # label type and model name: one append call each


def _entries(plan: Plan, refs: dict[str, AssetRef]) -> list[_Entry]:
    """Every label, with the order its append call must keep.

    Labels are written in calls of one type (and model). "Latest" is decided by createdAt, then by
    insertion, so the order of calls matters only between labels of one asset with the same
    createdAt: each such label goes in a later round than the ones before it of another group.
    """
    entries = []
    for asset in plan.assets:
        last: dict[tuple[int, str | None], tuple[tuple[str, str | None], int]] = {}
        for label in asset.labels:
            label_type = label.label_type or plan.label_type
            group = (label_type, label.model_name if label.label_type else plan.model_name)
            phase = 0 if label.sent_back else 1
            previous = last.get((phase, label.created_at))
            round_ = 0 if previous is None else previous[1] + (previous[0] != group)
            last[(phase, label.created_at)] = (group, round_)
            entries.append(_Entry(refs[asset.external_id], label, phase, round_, group))
    return entries


def _labels(
    conn: Connection,
    project: ProjectInfo,
    plan: Plan,
    refs: dict[str, AssetRef],
    authors: dict[str, int],
    acting: int,
    disable_tqdm: bool | None,
) -> int:
    entries = _entries(plan, refs)
    # The checks validated every label against the plan's ontology: the label service takes their
    # findings as they are when it is the project's (always, unless changed in between).
    checked = plan.ontology.raw == project.ontology.raw and plan.input_type == project.input_type
    groups: dict[tuple[int, int, tuple[str, str | None]], list[_Entry]] = {}
    for entry in entries:
        groups.setdefault((entry.phase, entry.round, entry.group), []).append(entry)
    sent_back_done = False
    with tqdm(total=len(entries), desc="Importing labels", unit=" labels", disable=disable_tqdm, leave=False) as bar:
        for (phase, _round, (label_type, model_name)), members in sorted(groups.items(), key=lambda item: item[0][:2]):
            if phase == 1 and not sent_back_done:
                _send_back(conn, project, entries)
                sent_back_done = True
            for start in range(0, len(members), LABEL_BATCH):
                batch = members[start : start + LABEL_BATCH]
                _append(conn, project, batch, label_type, model_name, authors, acting, checked)
                bar.update(len(batch))
    if not sent_back_done:
        _send_back(conn, project, entries)
    return len(entries)


def _append(
    conn: Connection,
    project: ProjectInfo,
    batch: Sequence[_Entry],
    label_type: str,
    model_name: str | None,
    authors: dict[str, int],
    acting: int,
    checked: bool,
) -> None:
    """One append, with the step every label append takes: flags, statuses and marks included."""
    append_and_mark(
        conn,
        project,
        [entry.ref for entry in batch],
        [entry.label.json_response for entry in batch],
        [authors[entry.label.author_email] if entry.label.author_email else acting for entry in batch],
        label_type,
        [entry.label.seconds_to_label for entry in batch],
        model_name,
        [entry.label.created_at for entry in batch],
        checked=[entry.label.checked for entry in batch] if checked else None,
    )


def _send_back(conn: Connection, project: ProjectInfo, entries: Sequence[_Entry]) -> None:
    """Flag the labels that were sent back to the queue (written first, so only they get the flag)."""
    refs = list({entry.ref.pk: entry.ref for entry in entries if entry.phase == 0}.values())
    if refs:
        send_back_and_mark(conn, project, refs)


def _statuses(
    conn: Connection,
    project: ProjectInfo,
    writer: MediaWriter,
    assets: Sequence[ImportAsset],
    refs: dict[str, AssetRef],
) -> None:
    """Give the assets the status the dataset states (Kili's exports do), whatever the labels derived."""
    given = [asset for asset in assets if asset.status is not None]
    if given:
        update_assets(
            conn,
            project,
            [refs[asset.external_id] for asset in given],
            writer,
            {"status_array": [asset.status for asset in given]},
        )
