"""Validating a whole dataset, then storing it in one transaction.

:func:`check` checks everything before the first write: the ontology (``Ontology.from_json``), every
jsonResponse (``validate_response``, with the file and line it came from in the message), metadata,
resolutions, statuses, label types, authors' emails and dates; media files were opened by the
readers. :func:`write` then stores the project (when new), the authors, the assets (in batches), the
labels (in batches, with the same derived flags, statuses and quality marks as
``Client.append_labels``), and restores sent-back flags and statuses, all in **one** database
transaction: if anything fails, nothing is stored and no media file is left behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from tqdm import tqdm

from labelport import quality
from labelport.annotations.validate import ResponseSummary, validate_response
from labelport.enums import AssetStatus, InputType, LabelType, OrganizationRole, parse_enum
from labelport.errors import JsonResponseError, ValidationError
from labelport.geo import georeferenced
from labelport.importers.dataset import Dataset, DatasetError, ImportAsset, ImportLabel
from labelport.importers.report import ImportReport
from labelport.ontology import Ontology
from labelport.services import assets as asset_service
from labelport.services import labels as label_service
from labelport.services import projects as project_service
from labelport.services import users as user_service
from labelport.services.assets import AssetRef, MediaWriter
from labelport.services.projects import ProjectInfo
from labelport.timeutil import parse_ts

if TYPE_CHECKING:
    from labelport.client import Client

#: Assets per append_many_to_dataset call, labels per append_labels call.
ASSET_BATCH = 5_000
LABEL_BATCH = 5_000


@dataclass
class Plan:
    """A validated import: where it goes and what it stores."""

    dataset: Dataset
    ontology: Ontology
    input_type: str
    project: ProjectInfo | None  # None: a new project
    title: str = ""
    description: str = ""
    label_type: str = LabelType.DEFAULT
    model_name: str | None = None
    assets: list[ImportAsset] = field(default_factory=list)


# -- validation -------------------------------------------------------------------------------------


def check(plan: Plan, existing: set[str]) -> None:
    """Check every asset and label; drop (and report) assets already in the project."""
    report = plan.dataset.report
    first: dict[str, str] = {}
    used: set[tuple[str, str]] = set()
    for asset in plan.dataset.assets:
        if asset.external_id in first:
            raise DatasetError(
                f"{asset.origin}: external id {asset.external_id!r} is also the external id of "
                f"{first[asset.external_id]}; external ids must be unique in a project."
            )
        first[asset.external_id] = asset.origin
        if asset.external_id in existing:
            report.skip(asset.origin, asset.external_id, "an asset with this external id is already in the project")
            continue
        _check_asset(plan, asset, used)
        plan.assets.append(asset)
    if plan.dataset.jobs is None:  # Kili: the categories the labels use, per job, in ontology order
        for job in plan.ontology.jobs.values():
            keys = [key for key in job.categories if (job.name, key) in used]
            if keys:
                report.categories[job.name] = keys
    if not plan.assets:
        where = "the dataset" if not plan.dataset.assets else "the dataset beyond the assets already in the project"
        raise DatasetError(f"{report.path}: nothing to import: no asset in {where}.")


def _check_asset(plan: Plan, asset: ImportAsset, used: set[tuple[str, str]]) -> None:
    if not asset.content and asset.json_content in (None, "", []):
        raise DatasetError(f"{asset.origin}: asset {asset.external_id!r} has no content (no media, URL or text).")
    try:
        asset_service.check_metadata(asset.metadata, asset.external_id)
        if asset.resolution is not None:
            width, height = asset.resolution
            asset_service.check_resolution({"width": width, "height": height}, asset.external_id)
        if asset.page_resolutions is not None:
            asset_service.check_page_resolutions(asset.page_resolutions, asset.external_id)
        if asset.status is not None:
            asset.status = parse_enum(AssetStatus, asset.status, f"Asset {asset.external_id!r}: status")
    except ValidationError as error:
        raise DatasetError(f"{asset.origin}: {error}") from None
    geographic = plan.input_type == InputType.IMAGE and georeferenced(asset.json_content)
    for label in asset.labels:
        used.update(_check_label(plan, asset, label, geographic).category_counts)


def _check_label(plan: Plan, asset: ImportAsset, label: ImportLabel, geographic: bool) -> ResponseSummary:
    try:
        if label.label_type is not None:
            label.label_type = parse_enum(LabelType, label.label_type, "labelType")
        if label.author_email is not None:
            label.author_email = user_service.normalize_email(label.author_email)
        if label.created_at is not None:
            label.created_at = parse_ts(label.created_at, "createdAt")
        if label.seconds_to_label is not None and label.seconds_to_label < 0:
            raise ValidationError(f"secondsToLabel must be ≥ 0, got {label.seconds_to_label!r}.")
        summary = validate_response(
            label.json_response, plan.ontology, plan.input_type, asset.external_id, geographic=geographic
        )
        label.checked = (geographic, summary)
        return summary
    except (ValidationError, JsonResponseError) as error:
        raise DatasetError(f"{label.origin}: {error}") from None


# -- the transaction --------------------------------------------------------------------------------


@contextmanager
def _transaction(client: Client) -> Iterator[tuple[Connection, MediaWriter]]:
    """One write transaction; media copied during it are removed if it fails."""
    writer = MediaWriter(client.store.media_dir)
    try:
        with client.store.write() as conn:
            yield conn, writer
    except BaseException:
        writer.rollback()
        raise


def write(client: Client, plan: Plan, *, disable_tqdm: bool | None = None) -> None:
    report = plan.dataset.report
    with _transaction(client) as (conn, writer):
        acting = user_service.ensure_user(conn, client.user_email, OrganizationRole.ADMIN)
        project = plan.project
        if project is None:
            project_id = project_service.create_project(
                conn, acting, plan.title, plan.input_type, plan.ontology.raw, plan.description
            )
            project = project_service.get_project(conn, project_id)
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
            pk = user_service.find_user_pk(conn, email)
            if pk is None:
                pk, _ = user_service.create_user(conn, email, label.author_firstname, label.author_lastname)
                report.users_created.append(email)
            pks[email] = pk
    return pks


def _assets(
    conn: Connection, project: ProjectInfo, writer: MediaWriter, assets: Sequence[ImportAsset]
) -> dict[str, AssetRef]:
    refs: dict[str, AssetRef] = {}
    for start in range(0, len(assets), ASSET_BATCH):
        batch = assets[start : start + ASSET_BATCH]
        asset_service.append_many_to_dataset(
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
        found = asset_service.resolve_assets(conn, project, None, [asset.external_id for asset in batch])
        refs.update((ref.external_id, ref) for ref in found)
    pages = [asset for asset in assets if asset.page_resolutions]
    if pages:
        asset_service.update_properties_in_assets(
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
    """One append, exactly as ``Client.append_labels`` does it: flags, statuses and marks included."""
    appended = label_service.append_labels(
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
    quality.after_append(conn, project, appended, label_type)


def _send_back(conn: Connection, project: ProjectInfo, entries: Sequence[_Entry]) -> None:
    """Flag the labels that were sent back to the queue (written first, so only they get the flag)."""
    refs = list({entry.ref.pk: entry.ref for entry in entries if entry.phase == 0}.values())
    if refs:
        asset_service.send_back_to_queue(conn, refs)
        quality.refresh_marks(conn, project, [ref.pk for ref in refs])


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
        asset_service.update_properties_in_assets(
            conn,
            project,
            [refs[asset.external_id] for asset in given],
            writer,
            {"status_array": [asset.status for asset in given]},
        )
