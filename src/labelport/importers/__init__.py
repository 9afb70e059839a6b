"""Importing datasets into labelport: Kili exports, COCO, YOLO (v4–v8) and Pascal VOC.

:func:`import_dataset` opens the input (folder, zip or file), detects its format when none is
given, lets the format's reader turn it into a :class:`~labelport.importers.dataset.Dataset`,
validates all of it against the target ontology, and stores it in one transaction (see
:mod:`labelport.importers.write`). Nothing is stored unless the whole import succeeds. The
:class:`ImportReport` says what was read, what was stored, and what could not be represented.
See docs/import.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from labelport._gc import gc_paused
from labelport.enums import InputType, LabelType, parse_enum
from labelport.errors import ValidationError
from labelport.importers import formats
from labelport.importers.dataset import Dataset, DatasetError, ImportOptions
from labelport.importers.ontology import (
    apply_mapping,
    check_interface,
    detection_interface,
    infer_interface,
    match_detection,
)
from labelport.importers.report import ImportReport, Skipped
from labelport.importers.source import Source, open_source, readme
from labelport.importers.write import Plan, check, write
from labelport.services.projects import ProjectInfo, get_project

if TYPE_CHECKING:
    from labelport.client import Client

__all__ = ["DatasetError", "ImportReport", "Skipped", "detect_format", "formats", "import_dataset"]

MISSING_MEDIA = ("error", "skip")


def import_dataset(
    client: Client,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    project_id: str | None = None,
    title: str | None = None,
    *,
    interface: dict[str, Any] | str | os.PathLike[str] | None = None,
    input_type: str | None = None,
    description: str | None = None,
    job_name: str | None = None,
    label_type: str = LabelType.DEFAULT,
    model_name: str | None = None,
    media_root: str | os.PathLike[str] | None = None,
    missing_media: str = "error",
    disable_tqdm: bool | None = None,
) -> ImportReport:
    """Import the dataset at ``path`` into project ``project_id``, or into a new project (``title``)."""
    kind = _check_arguments(project_id, title, description, missing_media, label_type, model_name, job_name)
    raw_interface, declared_type = load_interface(interface)
    given_type = parse_enum(InputType, input_type, "input_type") if input_type is not None else None
    project = _project(client, project_id, interface, given_type)
    known_type = given_type or (project.input_type if project is not None else None) or declared_type
    options = ImportOptions(
        job_name=job_name,
        media_root=Path(media_root).expanduser().resolve() if media_root is not None else None,
        missing_media=missing_media,
        input_type=known_type,
    )
    with gc_paused(), open_source(path) as source:
        dataset = _read(source, fmt, options, str(path))
        plan = _plan(dataset, project, raw_interface, known_type, path, title, description)
        plan.label_type, plan.model_name = kind, model_name
        check(plan, _existing_external_ids(client, project))
        write(client, plan, disable_tqdm=disable_tqdm if disable_tqdm is not None else client.disable_tqdm)
    return dataset.report


def _read(source: Source, fmt: str | None, options: ImportOptions, path: str) -> Dataset:
    """The dataset in ``source``, read by the format given or detected (the report says which)."""
    if fmt is None:
        spec, detection = formats.detect(source)
        report = ImportReport(fmt=detection.fmt, path=path, detected=True)
        report.note(f"format detected: {detection.fmt} (from {detection.evidence})")
    else:
        spec = formats.get(fmt)
        report = ImportReport(fmt=fmt, path=path)
    dataset = spec.read(source, report.fmt, options, report)
    fields = readme(source)  # a Kili or labelport export names its project
    dataset.title = dataset.title or fields.get("Project name") or None
    if dataset.description is None:
        dataset.description = fields.get("Project description")
    return dataset


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format :func:`import_dataset` would read ``path`` as (an error when none or several fit)."""
    with open_source(path) as source:
        return formats.detect(source)[1].fmt


def _check_arguments(
    project_id: str | None,
    title: str | None,
    description: str | None,
    missing_media: str,
    label_type: str,
    model_name: str | None,
    job_name: str | None,
) -> str:
    if project_id is not None and (title is not None or description is not None):
        raise ValidationError(
            "Give project_id (to add the dataset to that project) or title and description (for a new project), "
            "not both."
        )
    if missing_media not in MISSING_MEDIA:
        raise ValidationError(f"missing_media must be 'error' or 'skip', not {missing_media!r}.")
    kind = parse_enum(LabelType, label_type, "label_type")
    if kind == LabelType.PREDICTION and not model_name:
        raise ValidationError("label_type='PREDICTION' needs a model_name.")
    if job_name is not None and (not isinstance(job_name, str) or not job_name.strip()):
        raise ValidationError(f"job_name must be a non-empty job name, not {job_name!r}.")
    return kind


def load_interface(interface: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The jsonInterface given as a dict or a JSON file, and the ``inputType`` next to it if any.

    A project description (``{"jsonInterface": …, "inputType": …}``, as Kili's ``projects()``
    returns it) is accepted as well as a bare ``{"jobs": …}``."""
    if interface is None:
        return None, None
    where = "interface"
    if isinstance(interface, str | os.PathLike):
        file = Path(interface).expanduser()
        where = str(file)
        try:
            data = file.read_bytes()
        except OSError as error:
            raise DatasetError(f"{file}: cannot read the ontology file ({error}).") from None
        try:
            interface = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            line = data[: error.pos].count(b"\n") + 1
            raise DatasetError(f"{file}, line {line}: not valid JSON ({error.msg}).") from None
    if not isinstance(interface, dict):
        raise DatasetError(f"{where}: the ontology must be a JSON object with 'jobs'.")
    if "jobs" in interface:
        return interface, None
    if "jsonInterface" in interface:
        inner = interface["jsonInterface"]
        if isinstance(inner, str):
            try:
                inner = orjson.loads(inner)
            except orjson.JSONDecodeError:
                raise DatasetError(f"{where}: 'jsonInterface' is a string that is not valid JSON.") from None
        declared = interface.get("inputType")
        return inner, declared if isinstance(declared, str) else None
    raise DatasetError(f"{where}: no 'jobs' (a jsonInterface) nor 'jsonInterface' (a project) in the ontology.")


def _project(client: Client, project_id: str | None, interface: Any, input_type: str | None) -> ProjectInfo | None:
    if project_id is None:
        return None
    with client.store.read() as conn:
        project = get_project(conn, project_id)
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


def _plan(
    dataset: Dataset,
    project: ProjectInfo | None,
    raw_interface: dict[str, Any] | None,
    known_type: str | None,
    path: str | os.PathLike[str],
    title: str | None,
    description: str | None,
) -> Plan:
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


def _existing_external_ids(client: Client, project: ProjectInfo | None) -> set[str]:
    if project is None:
        return set()
    rows = client.assets(project.id, fields=["externalId"], disable_tqdm=True, as_generator=True)
    return {row["externalId"] for row in rows}
