"""Planning an import: where a dataset goes, and checking all of it before anything is stored.

:func:`make_plan` decides the target (an existing project, or a new one with the ontology given,
built from the dataset's categories, or inferred from its labels) and maps the dataset's categories
onto the target ontology. :func:`check` then checks everything before the first write: every
jsonResponse (``validate_response``, with the file and line it came from in the message), metadata,
resolutions, statuses, label types, authors' emails and dates; media files were opened by the
readers. Storing the plan is the import service's (``labelport.services.imports``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelport.annotations.validate import ResponseSummary, validate_response
from labelport.enums import AssetStatus, InputType, LabelType, parse_enum
from labelport.errors import DatasetError, JsonResponseError, ValidationError
from labelport.geo import georeferenced
from labelport.importers.dataset import Dataset, ImportAsset, ImportLabel
from labelport.importers.ontology import (
    apply_mapping,
    check_interface,
    detection_interface,
    infer_interface,
    match_detection,
)
from labelport.models import ProjectInfo
from labelport.ontology import Ontology
from labelport.timeutil import parse_ts
from labelport.values import check_metadata, check_page_resolutions, check_resolution, normalize_email


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
        check_metadata(asset.metadata, asset.external_id)
        if asset.resolution is not None:
            width, height = asset.resolution
            check_resolution({"width": width, "height": height}, asset.external_id)
        if asset.page_resolutions is not None:
            check_page_resolutions(asset.page_resolutions, asset.external_id)
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
            label.author_email = normalize_email(label.author_email)
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


def make_plan(
    dataset: Dataset,
    project: ProjectInfo | None,
    raw_interface: dict[str, Any] | None,
    known_type: str | None,
    path: str | os.PathLike[str],
    title: str | None,
    description: str | None,
) -> Plan:
    """Where ``dataset`` goes: into ``project``, or a new project with ``raw_interface``, the ontology
    of the dataset's detection categories, or one inferred from its labels; maps the dataset's
    categories onto the target ontology (COCO, YOLO, VOC)."""
    report = dataset.report
    where = f"project {project.id!r}" if project is not None else "the ontology given"
    if dataset.jobs is not None:  # COCO, YOLO, VOC
        if known_type not in (None, InputType.IMAGE):
            raise DatasetError(f"{report.fmt} holds images: the project's input type must be IMAGE, not {known_type}.")
        input_type = InputType.IMAGE.value
        if project is None and raw_interface is None:
            raw_interface = detection_interface(dataset.jobs)
            ontology = check_interface(raw_interface, "the ontology built from the dataset")
        else:
            ontology = project.ontology if project is not None else check_interface(raw_interface, "interface")
            mapping = match_detection(dataset.jobs, ontology, where)
            apply_mapping(dataset, mapping)
        for job in dataset.jobs:
            if job.categories:
                report.categories[job.name] = list(job.categories)
    else:
        input_type = dataset.input_type or known_type or InputType.IMAGE.value
        if project is not None:
            ontology = project.ontology
        else:
            if raw_interface is None:
                labels = (label for asset in dataset.assets for label in asset.labels)
                raw_interface = infer_interface((label.json_response, label.origin) for label in labels)
                report.note("ontology inferred from the labels (pass interface= to give it)")
            ontology = check_interface(raw_interface, "interface")
    return Plan(
        dataset=dataset,
        ontology=ontology,
        input_type=input_type,
        project=project,
        title=title or dataset.title or Path(path).stem or "Imported dataset",
        description=description if description is not None else (dataset.description or ""),
    )
