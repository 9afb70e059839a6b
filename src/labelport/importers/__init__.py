"""Reading datasets for import: Kili exports, COCO, YOLO (v4–v8) and Pascal VOC.

:func:`read` lets a format's reader (detected when none is given) turn an opened input (folder, zip or
file, see :mod:`labelport.importers.source`) into a :class:`~labelport.importers.dataset.Dataset`;
:mod:`labelport.importers.plan` decides where it goes and checks all of it against the target
ontology. Nothing here touches the store: the import service (``labelport.services.imports``) runs
these steps and stores the plan in one transaction. See docs/import.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from labelport.enums import LabelType, parse_enum
from labelport.errors import DatasetError, ValidationError
from labelport.importers import formats
from labelport.importers.dataset import Dataset, ImportOptions
from labelport.importers.report import ImportReport, Skipped
from labelport.importers.source import Source, open_source, readme

__all__ = ["DatasetError", "ImportReport", "Skipped", "check_arguments", "detect_format", "load_interface", "read"]

MISSING_MEDIA = ("error", "skip")


def read(source: Source, fmt: str | None, options: ImportOptions, path: str) -> Dataset:
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
    """The format an import would read ``path`` as (an error when none or several fit)."""
    with open_source(path) as source:
        return formats.detect(source)[1].fmt


def check_arguments(
    project_id: str | None,
    title: str | None,
    description: str | None,
    missing_media: str,
    label_type: str,
    model_name: str | None,
    job_name: str | None,
) -> str:
    """Check an import's arguments together; return the label type."""
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
