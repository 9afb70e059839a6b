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

import orjson

from labelport.enums import InputType, MLTask
from labelport.export import geometry
from labelport.export.archive import compressed
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
    StagedWriter,
    Unused,
)
from labelport.export.media import add_media
from labelport.export.model import ExportAsset
from labelport.export.names import NameAllocator, safe_path
from labelport.export.report import Tally
from labelport.export.zipwriter import Deflated, DeflatedPart
from labelport.ontology import Job

_TASKS = frozenset({MLTask.CLASSIFICATION, MLTask.OBJECT_DETECTION, MLTask.NAMED_ENTITIES_RECOGNITION})
_ENTITY_KEYS = ("beginId", "beginOffset", "content", "endId", "endOffset")
_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


class SimpleWriter(StagedWriter):
    """The Kili format's files (``labels/<name>.json`` or ``data.json``) and media (``assets/``), with each label
    reduced to the answer of the one job."""

    def open(self) -> None:
        self.names = NameAllocator()  # labels/<name>.json
        self.media_names = NameAllocator(self.names.renamed)  # assets/<name><suffix>, renames reported alike
        # data.json is spooled (compressed as it comes) and written in close(): media members come meanwhile.
        self.spool: DeflatedPart | None = self.ctx.archive.part() if self.ctx.options.single_file else None
        self.first = True

    def parallel(self) -> bool:
        return not self.ctx.options.with_assets  # the record names its media member, allocated in emit()

    def convert(self, asset: ExportAsset, tally: Tally) -> bytes | Deflated | None:
        """The asset's JSON record: compressed for its own member, as it is for ``data.json``; None with media
        (made in :meth:`emit`, which names them)."""
        if self.ctx.options.with_assets:
            return None
        data = orjson.dumps(self._record(asset, asset.content, tally), option=_OPTIONS)
        return data if self.ctx.options.single_file else compressed(data)

    def emit(self, asset: ExportAsset, converted: bytes | Deflated | None, tally: Tally) -> None:
        if converted is None:
            converted = orjson.dumps(self._record(asset, self._media(asset), tally), option=_OPTIONS)
        tally.tell(self.ctx.report)
        if self.spool is not None:
            assert isinstance(converted, bytes)
            self.spool.write(converted if self.first else b",\n" + converted)
            self.first = False
            return
        member = f"labels/{self.names.allocate(asset.external_id, safe_path(asset.external_id), ('.json',))}.json"
        if isinstance(converted, Deflated):
            self.ctx.archive.write_member(member, converted)
        else:
            self.ctx.archive.write_bytes(member, converted)
        self.ctx.report.files += 1

    def close(self) -> None:
        if self.spool is not None:
            with self.ctx.archive.open("data.json", large=True) as out:
                out.write(b"[\n")
                out.write_part(self.spool)
                out.write(b"\n]\n" if not self.first else b"]\n")
            self.spool.close()
            self.ctx.report.files += 1
        self.ctx.extras["renamed"] = self.names.renamed

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
