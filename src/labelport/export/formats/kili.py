"""The Kili format (``kili``, alias ``raw``): each asset with its labels as Kili's API returns them.

``labels/<externalId>.json`` per asset, or ``data.json`` (a JSON array) with ``single_file=True``;
media under ``assets/`` with ``with_assets=True`` (``content`` then points into the archive).

Coordinates: the labeling rotation (``ROTATION_JOB``) is undone and removed for IMAGE, VIDEO and PDF
projects. With ``normalized_coordinates=False``, pixel fields are added next to the normalized ones
(``vertices`` for each ``boundingPoly``, ``pointPixels``, ``polylinePixels``), from the stored
``resolution`` (``pageResolutions`` for PDFs); with ``True`` or ``None`` (the default) only
normalized coordinates are written, as Kili documents (its current exporter adds pixels always).
"""

from __future__ import annotations

from typing import Any

import orjson

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
    Unused,
)
from labelport.export.media import add_media
from labelport.export.model import ExportAsset, ExportLabel
from labelport.export.names import safe_path
from labelport.export.records import RecordWriter
from labelport.export.report import Tally

_ROTATED_TYPES = frozenset({InputType.IMAGE, InputType.VIDEO})
_PIXEL_TYPES = frozenset({InputType.IMAGE, InputType.VIDEO, InputType.PDF})


class KiliWriter(RecordWriter):
    def record(self, asset: ExportAsset, tally: Tally, *, with_media: bool) -> dict[str, Any]:
        content, json_content = self._media(asset) if with_media else (asset.content, asset.json_content)
        return self._record(asset, content, json_content, tally)

    # -- one asset --------------------------------------------------------------------------------

    def _record(self, asset: ExportAsset, content: str, json_content: str, tally: Tally) -> dict[str, Any]:
        labels = [self._label(asset, label, tally) for label in asset.labels]
        record: dict[str, Any] = {
            "content": content,
            "externalId": asset.external_id,
            "id": asset.id,
            "jsonContent": json_content,
            "jsonMetadata": asset.json_metadata,
            "pageResolutions": asset.page_resolutions or None,
            "resolution": {"height": asset.height, "width": asset.width} if asset.resolution else None,
            "status": asset.status,
        }
        if self.ctx.options.export_type == "latest":
            record["latestLabel"] = labels[0]
        else:
            record["labels"] = labels
        return record

    def _media(self, asset: ExportAsset) -> tuple[str, str]:
        folder = self.ctx.media_folder
        base, plain = safe_path(asset.external_id), asset.external_id.replace(" ", "_")
        content, json_content = asset.content, asset.json_content
        if asset.frames:
            digits = len(str(len(asset.frames)))
            paths = []
            for frame in asset.frames:
                number = f"_{frame.index + 1:0{digits}d}"
                member = self.media_names.media(asset.external_id, base + number, plain + number, frame.suffix, folder)
                if add_media(self.ctx, asset.external_id, member, frame.path, frame.url):
                    paths.append(member)
            return content, orjson.dumps(paths).decode()
        if self.ctx.input_type == InputType.TEXT and asset.media_path is None:
            return content, json_content  # the text is in the record itself
        member = self.media_names.media(asset.external_id, base, plain, asset.media_suffix, folder)
        if add_media(
            self.ctx, asset.external_id, member, asset.media_path, None if asset.media_path else asset.content
        ):
            content = member
        return content, json_content

    def _label(self, asset: ExportAsset, label: ExportLabel, tally: Tally) -> dict[str, Any]:
        response = label.json_response
        self._count(response, tally)
        if self.ctx.input_type in _PIXEL_TYPES:
            response = self._coordinates(asset, response, tally)
        return {
            "author": label.author,
            "createdAt": label.created_at,
            "id": label.id,
            "isLatestLabelForUser": label.is_latest_for_user,
            "isSentBackToQueue": label.is_sent_back_to_queue,
            "jsonResponse": response,
            "labelType": label.label_type,
            "modelName": label.model_name,
            "secondsToLabel": label.seconds_to_label,
        }

    def _count(self, response: dict[str, Any], tally: Tally) -> None:
        """Annotations written, per job: objects, answered classifications and transcriptions."""
        frames = [v for v in response.values() if isinstance(v, dict)] if _is_frames(response) else [response]
        for frame in frames:
            for job_name, value in frame.items():
                if job_name in self.ctx.ontology.jobs and isinstance(value, dict):
                    answered = bool(value.get("categories")) + bool(value.get("text"))
                    count = len(value.get("annotations") or []) + answered
                    if count:
                        tally.wrote(job_name, count)

    def _coordinates(self, asset: ExportAsset, response: dict[str, Any], tally: Tally) -> dict[str, Any]:
        pixels = self.ctx.options.normalized_coordinates is False
        if self.ctx.input_type == InputType.VIDEO and _is_frames(response):
            return {
                frame: self._frame(asset, value, pixels, tally)
                for frame, value in response.items()
                if isinstance(value, dict)
            }
        return self._frame(asset, response, pixels, tally)

    def _frame(self, asset: ExportAsset, response: dict[str, Any], pixels: bool, tally: Tally) -> dict[str, Any]:
        rotation = geometry.rotation_of(response) if self.ctx.input_type in _ROTATED_TYPES else 0
        out = {key: value for key, value in response.items() if key != "ROTATION_JOB"}
        if rotation == 0 and not pixels:
            return out
        if pixels and self.ctx.input_type == InputType.PDF:
            if not asset.page_resolutions:
                tally.skip(
                    asset.external_id,
                    "pixel coordinates not added: the PDF has no pageResolutions; set them with "
                    "update_properties_in_assets(page_resolutions_array=...)",
                )
                return out
            pages = {page["pageNumber"]: page for page in asset.page_resolutions}
            for job_name, value in out.items():
                job = self.ctx.ontology.jobs.get(job_name)
                if job is not None and job.ml_task in (MLTask.NAMED_ENTITIES_RECOGNITION, MLTask.OBJECT_DETECTION):
                    for annotation in value.get("annotations") or []:
                        _pdf_pixels(annotation, pages)
            return out
        size = asset.resolution
        if pixels and size is None:
            tally.skip(
                asset.external_id,
                "pixel coordinates not added: the asset has no resolution; set it with "
                "update_properties_in_assets(resolution_array=...)",
            )
            pixels = False
            if rotation == 0:
                return out
        for job_name, value in out.items():
            job = self.ctx.ontology.jobs.get(job_name)
            if job is None or job.ml_task not in (MLTask.OBJECT_DETECTION, MLTask.POSE_ESTIMATION):
                continue
            out[job_name] = {
                **value,
                "annotations": [
                    _convert(a, rotation, size if pixels else None) for a in value.get("annotations") or []
                ],
            }
        return out


def _is_frames(response: dict[str, Any]) -> bool:
    return bool(response) and all(key.isdigit() for key in response)


def _point(point: dict[str, Any], rotation: int) -> dict[str, float]:
    x, y = geometry.unrotate(float(point["x"]), float(point["y"]), rotation)
    return {"x": x, "y": y}


def _scaled(point: dict[str, float], size: tuple[int, int]) -> dict[str, float]:
    return {"x": point["x"] * size[0], "y": point["y"] * size[1]}


def _convert(annotation: dict[str, Any], rotation: int, size: tuple[int, int] | None) -> dict[str, Any]:
    out = dict(annotation)
    if "boundingPoly" in out:
        polys = []
        for poly in out["boundingPoly"]:
            normalized = [_point(v, rotation) for v in poly.get("normalizedVertices", [])]
            entry = {**poly, "normalizedVertices": normalized}
            if size is not None:
                entry["vertices"] = [_scaled(v, size) for v in normalized]
            polys.append(entry)
        out["boundingPoly"] = polys
    if isinstance(out.get("point"), dict):
        out["point"] = _point(out["point"], rotation)
        if size is not None:
            out["pointPixels"] = _scaled(out["point"], size)
    if isinstance(out.get("polyline"), list) and out["polyline"]:
        out["polyline"] = [_point(v, rotation) for v in out["polyline"]]
        if size is not None:
            out["polylinePixels"] = [_scaled(v, size) for v in out["polyline"]]
    if isinstance(out.get("points"), list):
        points = []
        for point in out["points"]:
            entry = dict(point)
            if isinstance(entry.get("point"), dict):
                entry["point"] = _point(entry["point"], rotation)
                if size is not None:
                    entry["pointPixels"] = _scaled(entry["point"], size)
            points.append(entry)
        out["points"] = points
    return out


def _pdf_pixels(annotation: dict[str, Any], pages: dict[int, dict[str, Any]]) -> None:
    for position in annotation.get("annotations") or []:
        numbers = position.get("pageNumberArray") or []
        for key in ("boundingPoly", "polys"):
            for index, poly in enumerate(position.get(key) or []):
                page = pages.get(numbers[index] if index < len(numbers) else (numbers[0] if numbers else 1))
                if page is None:
                    continue
                size = (page["width"], page["height"])
                poly["vertices"] = [[_scaled(v, size) for v in group] for group in poly.get("normalizedVertices", [])]


#: How the Kili format takes each option (checked by the pipeline before anything is written).
OPTIONS: dict[str, OptionRule] = {
    "layout": Unused(),  # one record per asset whatever the jobs: the layout means nothing here
    "single_file": HONOURED,
    "with_assets": HONOURED,
    "normalized_coordinates": HONOURED,
    "annotation_modifier": MODIFIER_NOT_CALLED,
    "split": NO_SPLIT,
    "dataset_root": NO_DATASET_ROOT,
    "dataset_layout": OWN_LAYOUT_ONLY,
}

SPEC = register(
    FormatSpec(
        name="kili",
        writer=KiliWriter,
        input_types=frozenset(InputType),
        media_folder="assets",
        job_filter=None,
        needs="any job",
        options=OPTIONS,
        one_label_per_output=False,
    ),
    "raw",
)
