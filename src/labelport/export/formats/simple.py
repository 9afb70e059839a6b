"""Kili's legacy simple format (``simple``): each asset with the answer of its project's one job, per label.

Kili offered "Kili (simple)" from its web app, then deprecated it for the Kili format; its SDK kept the
conversion as ``Label.json_response(format_="simple")``. Per label, for the project's one job:

- a classification: the name of its (first) category, e.g. ``"RAINY"``;
- annotations: a list with one entry per annotation: ``[category, normalizedVertices]`` for an annotation with a
  ``boundingPoly`` (its first ring, the labeling rotation undone), ``[category, {beginOffset, content, endOffset…}]``
  for a named entity (the keys among ``beginId``, ``beginOffset``, ``content``, ``endId``, ``endOffset`` that it
  has), the category alone otherwise (a point, a line);
- ``null`` when the label holds nothing for the job.

A project with more than one root job is refused before anything is written (the pipeline, ``FormatSpec.one_job``).
Files: ``labels/<externalId>.json`` per asset, or ``data.json`` (a JSON array) with ``single_file=True``, each
record ``{content, externalId, id, latestLabel}`` (``labels``, a list, with ``export_type="normal"``); media under
``assets/`` with ``with_assets=True``, as in the Kili format. See ``docs/export/simple.md``.
"""

from __future__ import annotations

from typing import Any

from labelport.enums import InputType, MLTask
from labelport.export import geometry
from labelport.export.formats import register
from labelport.export.formats.base import (
    HONOURED,
    MODIFIER_NOT_CALLED,
    NO_DATASET_ROOT,
    NO_SPLIT,
    OWN_LAYOUT_ONLY,
    FormatSpec,
    OptionRule,
    Refused,
    Unused,
)
from labelport.export.media import add_media
from labelport.export.model import ExportAsset
from labelport.export.names import safe_path
from labelport.export.records import RecordWriter
from labelport.export.report import Tally
from labelport.ontology import Job

_TASKS = frozenset({MLTask.CLASSIFICATION, MLTask.OBJECT_DETECTION, MLTask.NAMED_ENTITIES_RECOGNITION})
_ENTITY_KEYS = ("beginId", "beginOffset", "content", "endId", "endOffset")


class SimpleWriter(RecordWriter):
    """The Kili format's files (``labels/<name>.json`` or ``data.json``) and media (``assets/``), with each label
    reduced to the answer of the one job."""

    def record(self, asset: ExportAsset, tally: Tally, *, with_media: bool) -> dict[str, Any]:
        return self._record(asset, self._media(asset) if with_media else asset.content, tally)

    def _media(self, asset: ExportAsset) -> str:
        """The asset's ``content``: its member under ``assets/`` once copied, else as stored (a TEXT asset's
        text stays in the record)."""
        if self.ctx.input_type == InputType.TEXT and asset.media_path is None:
            return asset.content
        folder = self.ctx.media_folder
        base, plain = safe_path(asset.external_id), asset.external_id.replace(" ", "_")
        member = self.media_names.media(asset.external_id, base, plain, asset.media_suffix, folder)
        url = None if asset.media_path is not None else asset.content
        return member if add_media(self.ctx, asset.external_id, member, asset.media_path, url) else asset.content

    def _record(self, asset: ExportAsset, content: str, tally: Tally) -> dict[str, Any]:
        job = self.ctx.jobs[0]
        rotated = self.ctx.input_type == InputType.IMAGE
        values = []
        for label in asset.labels:
            response = label.json_response
            value = simple_value(response, job, geometry.rotation_of(response) if rotated else 0)
            if value is not None:
                tally.wrote(job.name, len(value) if isinstance(value, list) else 1)
            values.append(value)
        record: dict[str, Any] = {"content": content, "externalId": asset.external_id, "id": asset.id}
        if self.ctx.options.export_type == "latest":
            record["latestLabel"] = values[0]
        else:
            record["labels"] = values
        return record


def simple_value(response: dict[str, Any], job: Job, rotation: int = 0) -> Any:
    """The simple form of one label's answer to ``job`` (see the module's docstring); ``rotation``: the labeling
    rotation of an IMAGE label, undone on the vertices."""
    answer = response.get(job.name)
    if not isinstance(answer, dict):
        return None
    categories = answer.get("categories")
    if categories:
        return _category(categories)
    annotations = answer.get("annotations")
    if not annotations:
        return None
    entries: list[Any] = []
    for annotation in annotations:
        category = _category(annotation.get("categories"))
        polys = annotation.get("boundingPoly")
        entity = {key: annotation[key] for key in _ENTITY_KEYS if key in annotation}
        if polys:
            ring = polys[0].get("normalizedVertices", [])
            if rotation:
                ring = [
                    dict(zip("xy", geometry.unrotate(float(v["x"]), float(v["y"]), rotation), strict=True))
                    for v in ring
                ]
            entries.append([category, ring])
        elif entity:
            entries.append([category, entity])
        else:
            entries.append(category)
    return entries


def _takes(job: Job) -> bool:
    return job.ml_task in _TASKS


def _category(categories: Any) -> str | None:
    if isinstance(categories, list) and categories and isinstance(categories[0], dict):
        name = categories[0].get("name")
        return name if isinstance(name, str) else None
    return None


#: How the simple format takes each option (checked by the pipeline before anything is written).
OPTIONS: dict[str, OptionRule] = {
    "layout": Unused(),  # one record per asset, one job: the layout means nothing here
    "single_file": HONOURED,
    "with_assets": HONOURED,
    "normalized_coordinates": Refused(
        "the simple format holds normalized vertices only",
        "Use normalized_coordinates=None (the default) or True, or the kili format for pixel coordinates",
        (False,),
    ),
    "annotation_modifier": MODIFIER_NOT_CALLED,
    "split": NO_SPLIT,
    "dataset_root": NO_DATASET_ROOT,
    "dataset_layout": OWN_LAYOUT_ONLY,
}

SPEC = register(
    FormatSpec(
        name="simple",
        writer=SimpleWriter,
        # VIDEO labels hold one answer per frame, which the simple format has no place for.
        input_types=frozenset({InputType.IMAGE, InputType.TEXT, InputType.PDF, InputType.GEOSPATIAL}),
        media_folder="assets",
        job_filter=_takes,
        needs="a CLASSIFICATION, OBJECT_DETECTION or NAMED_ENTITIES_RECOGNITION job",
        options=OPTIONS,
        one_label_per_output=False,
        one_job=True,
    )
)
