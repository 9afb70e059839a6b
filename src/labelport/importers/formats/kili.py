"""Kili (``kili``, alias ``raw``): assets with their labels, as Kili's API and exports give them.

The input is an export archive or folder (``labels/<externalId>.json`` per asset, or one
``data.json`` array; media under ``assets/``), or a JSON file holding one asset or an array of
them. Each asset keeps its external id, content, ``jsonContent``, ``jsonMetadata``, resolution,
page resolutions, status, honeypot flag and priority; each label (from ``labels``,
``latestLabels`` and ``latestLabel``, once each) keeps its jsonResponse, type, author (by email),
``createdAt``, ``secondsToLabel``, ``modelName`` and ``isSentBackToQueue``.

* **media**: a ``content`` (or video frame) that names a file of the archive (``assets/x.jpg``) or
  an existing file is copied into the store; URLs stay URLs; TEXT content is the text itself.
* **input type**: the ``input_type`` argument, else the existing project's, else the
  ``inputType`` of the ontology file, else inferred: VIDEO when an asset has a list of frames (or a
  label has frame keys), PDF when a content is a ``.pdf`` or an asset has page resolutions, TEXT when
  no content is a URL or a file and no asset has a resolution, IMAGE otherwise.
* **pixel fields** that exports add (``vertices``, ``pointPixels``, ``polylinePixels``) are dropped:
  labelport derives them from the normalized coordinates at export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from labelport import media as store_media
from labelport.enums import InputType
from labelport.errors import DatasetError
from labelport.importers.dataset import Dataset, ImportAsset, ImportLabel, ImportOptions
from labelport.importers.formats import register
from labelport.importers.formats.base import Detection, ImporterSpec
from labelport.importers.media import find_media, image_size, missing
from labelport.importers.report import ImportReport
from labelport.importers.source import Source

_DATA = "data.json"
_LABELS = "labels/"
_PIXEL_KEYS = ("pointPixels", "polylinePixels")
_MEDIA_TYPES = frozenset({InputType.IMAGE, InputType.GEOSPATIAL, InputType.PDF, InputType.VIDEO})


def _labels_files(source: Source) -> list[str]:
    return [rel for rel in source.files if rel.startswith(_LABELS) and rel.endswith(".json")]


def detect(source: Source) -> Detection | None:
    if source.single is not None:
        head = source.peek(source.single).lstrip()
        if source.single.endswith(".json") and head[:1] in (b"[", b"{") and b'"externalId"' in head:
            return Detection("kili", source.single)
        return None
    if source.has(_DATA) and source.peek(_DATA).lstrip().startswith(b"["):
        return Detection("kili", _DATA)
    labels = [rel for rel in _labels_files(source) if b'"externalId"' in source.peek(rel)]
    if labels:
        return Detection("kili", f"{labels[0]}" + (f" and {len(labels) - 1} more" if len(labels) > 1 else ""))
    return None


@dataclass
class _Record:
    value: dict[str, Any]
    origin: str
    rel: str  # the file it came from, relative to the input


def _records(source: Source) -> list[_Record]:
    if source.single is not None:
        return _from_value(source, source.single)
    if source.has(_DATA):
        return _from_value(source, _DATA)
    files = _labels_files(source)
    if not files:
        raise DatasetError(f"{source.display}: no Kili data.json nor labels/*.json found.")
    records = []
    for rel in files:
        value = source.read_json(rel)
        if not isinstance(value, dict):
            raise DatasetError(f"{source.describe(rel)}: a Kili label file holds one asset (a JSON object).")
        records.append(_Record(value, source.describe(rel), rel))
    return records


def _from_value(source: Source, rel: str) -> list[_Record]:
    value = source.read_json(rel)
    where = source.describe(rel)
    if isinstance(value, dict):
        return [_Record(value, where, rel)]
    if not isinstance(value, list):
        raise DatasetError(f"{where}: expected a JSON array of assets (or one asset object).")
    records = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise DatasetError(f"{where}, [{index}]: every asset must be a JSON object, got {str(item)[:60]}.")
        records.append(_Record(item, f"{where}, [{index}]", rel))
    return records


# -- input type -------------------------------------------------------------------------------------


def _json_content(value: Any, origin: str) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise DatasetError(f"{origin}: jsonContent starts like JSON but is not valid JSON.") from None
    return value


def _is_frame_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, str) for item in value)


def infer_input_type(source: Source, records: list[_Record], options: ImportOptions) -> str:
    """VIDEO, PDF, TEXT or IMAGE, from what the assets hold (see the module docstring)."""
    media_like = False
    for record in records:
        value = record.value
        if _is_frame_list(_json_content(value.get("jsonContent"), record.origin)) or _frame_labels(value):
            return InputType.VIDEO
        content = value.get("content")
        is_pdf = isinstance(content, str) and content.lower().split("?")[0].endswith(".pdf")
        if value.get("pageResolutions") or is_pdf:
            return InputType.PDF
        if value.get("resolution") or (isinstance(content, str) and _media_ref(source, content, record.rel, options)):
            media_like = True
    return InputType.IMAGE if media_like or not records else InputType.TEXT


def _frame_labels(value: dict[str, Any]) -> bool:
    for label in _raw_labels(value):
        response = label.get("jsonResponse")
        if isinstance(response, dict) and response and all(key.isdigit() for key in response):
            return True
    return False


def _media_ref(source: Source, content: str, rel: str, options: ImportOptions) -> bool:
    if store_media.is_url(content):
        return True
    if not content or "\n" in content or len(content) > 1024:
        return False
    return find_media(source, content, None, options) is not None or Path(content).is_absolute()


# -- one asset --------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: Source, input_type: str, options: ImportOptions, report: ImportReport) -> None:
        self.source = source
        self.input_type = input_type
        self.options = options
        self.report = report
        self.pixels = 0
        self.anonymous = 0

    def asset(self, record: _Record) -> ImportAsset | None:
        value = record.value
        origin = record.origin
        external_id = value.get("externalId")
        if not isinstance(external_id, str) or not external_id.strip():
            raise DatasetError(f"{origin}: an asset needs a non-empty 'externalId'.")
        origin = f"{origin} (externalId {external_id!r})" if ", [" in origin else origin
        asset = ImportAsset(external_id, origin)
        content = value.get("content")
        content = content if isinstance(content, str) else ""
        json_content = _json_content(value.get("jsonContent"), origin)
        resolved = self._media(content, json_content, record, asset)
        if resolved is None:
            return None
        asset.content, asset.json_content = resolved
        asset.metadata = _metadata(value.get("jsonMetadata"), origin)
        resolution = value.get("resolution")
        if isinstance(resolution, dict) and resolution.get("width") and resolution.get("height"):
            asset.resolution = (resolution["width"], resolution["height"])
        if isinstance(value.get("pageResolutions"), list) and value["pageResolutions"]:
            asset.page_resolutions = value["pageResolutions"]
        if isinstance(value.get("status"), str):
            asset.status = value["status"]
        asset.is_honeypot = value.get("isHoneypot") is True
        if isinstance(value.get("priority"), int) and not isinstance(value.get("priority"), bool):
            asset.priority = value["priority"]
        asset.labels = self._labels(value, origin)
        self.report.images_read += 1
        return asset

    def _media(self, content: str, json_content: Any, record: _Record, asset: ImportAsset) -> tuple[str, Any] | None:
        if self.input_type not in _MEDIA_TYPES:
            return content, json_content
        if self.input_type == InputType.VIDEO and _is_frame_list(json_content):
            frames = []
            for index, frame in enumerate(json_content):
                found = self._file(frame, record, asset, f"frame {index}")
                if found is None:
                    return None
                frames.append(found)
            json_content = frames
        if content:
            found = self._file(content, record, asset, "content")
            if found is None:
                return None
            content = found
        return content, json_content

    def _file(self, reference: str, record: _Record, asset: ImportAsset, what: str) -> str | None:
        """A URL as it is, or the absolute path of the file a reference names; None when skipped."""
        if store_media.is_url(reference):
            return reference
        path = find_media(self.source, reference, record.rel if record.rel != _DATA else None, self.options)
        if path is None:
            if self.options.missing_media == "skip":
                reason = f"{what} {reference!r} not found (missing_media='skip')"
                self.report.skip(asset.origin, asset.external_id, reason)
                return None
            raise missing(self.source, reference, asset.origin, self.options, what)
        if self.input_type in (InputType.IMAGE, InputType.GEOSPATIAL, InputType.VIDEO):
            image_size(path, asset.external_id, asset.origin)
        elif self.input_type == InputType.PDF and path.read_bytes()[:5] != b"%PDF-":
            raise DatasetError(f"{asset.origin}: {reference} is not a PDF file (no %PDF- header).")
        return str(path)

    def _labels(self, value: dict[str, Any], origin: str) -> list[ImportLabel]:
        labels = []
        seen: set[Any] = set()
        for raw in _raw_labels(value):
            key = raw.get("id") or orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
            if key in seen:
                continue
            seen.add(key)
            labels.append(self._label(raw, origin))
        self.report.labels_read += len(labels)
        return labels

    def _label(self, raw: dict[str, Any], origin: str) -> ImportLabel:
        here = f"{origin}, label {raw['id']!r}" if isinstance(raw.get("id"), str) else origin
        response = raw.get("jsonResponse")
        if isinstance(response, str | bytes):
            try:
                response = orjson.loads(response) if response else {}
            except orjson.JSONDecodeError:
                raise DatasetError(f"{here}: the jsonResponse is not valid JSON.") from None
        if response is None:
            response = {}
        if not isinstance(response, dict):
            raise DatasetError(f"{here}: the jsonResponse must be a JSON object keyed by job name.")
        self.pixels += _drop_pixels(response)
        self._count(response)
        given = raw.get("author")
        author: dict[str, Any] = given if isinstance(given, dict) else {}
        if not isinstance(author.get("email"), str):
            self.anonymous += 1
        seconds = raw.get("secondsToLabel")
        return ImportLabel(
            response,
            here,
            label_type=raw.get("labelType") or "DEFAULT",
            author_email=author.get("email") if isinstance(author.get("email"), str) else None,
            author_firstname=author.get("firstname") or "",
            author_lastname=author.get("lastname") or "",
            created_at=raw.get("createdAt") if isinstance(raw.get("createdAt"), str) else None,
            seconds_to_label=seconds if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None,
            model_name=raw.get("modelName") if isinstance(raw.get("modelName"), str) else None,
            sent_back=raw.get("isSentBackToQueue") is True,
        )

    def _count(self, response: dict[str, Any]) -> None:
        frames = [v for v in response.values() if isinstance(v, dict)] if _is_frames(response) else [response]
        for frame in frames:
            for job, value in frame.items():
                if isinstance(value, dict) and job != "ROTATION_JOB":
                    answered = bool(value.get("categories")) + bool(value.get("text"))
                    count = len(value.get("annotations") or []) + answered
                    if count:
                        self.report.read(job, count)


def _is_frames(response: dict[str, Any]) -> bool:
    return bool(response) and all(key.isdigit() for key in response)


def _raw_labels(value: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in ("labels", "latestLabels"):
        if isinstance(value.get(key), list):
            found.extend(label for label in value[key] if isinstance(label, dict))
    if isinstance(value.get("latestLabel"), dict):
        found.append(value["latestLabel"])
    return found


def _metadata(value: Any, origin: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise DatasetError(f"{origin}: jsonMetadata is not valid JSON.") from None
    if not isinstance(value, dict):
        raise DatasetError(f"{origin}: jsonMetadata must be a JSON object.")
    return value


def _drop_pixels(value: Any) -> int:
    """Remove the pixel fields an export adds, in place; return how many were removed."""
    removed = 0
    if isinstance(value, dict):
        for key in _PIXEL_KEYS:
            if key in value:
                del value[key]
                removed += 1
        if "normalizedVertices" in value and "vertices" in value:
            del value["vertices"]
            removed += 1
        for item in value.values():
            removed += _drop_pixels(item)
    elif isinstance(value, list):
        for item in value:
            removed += _drop_pixels(item)
    return removed


def read(source: Source, fmt: str, options: ImportOptions, report: ImportReport) -> Dataset:
    records = _records(source)
    input_type = options.input_type or infer_input_type(source, records, options)
    reader = _Reader(source, input_type, options, report)
    dataset = Dataset("kili", report, input_type=input_type)
    for record in records:
        asset = reader.asset(record)
        if asset is not None:
            dataset.assets.append(asset)
    if reader.pixels:
        report.note(
            f"pixel coordinates dropped from {reader.pixels} place(s) (vertices, pointPixels, polylinePixels): "
            "labelport computes them at export from the normalized ones"
        )
    if reader.anonymous:
        report.note(f"{reader.anonymous} label(s) have no author email: they are stored as the acting user's")
    if options.input_type is None:
        report.note(f"input type inferred: {input_type} (pass input_type= to choose)")
    return dataset


SPEC = register(ImporterSpec(name="kili", detect=detect, read=read, aliases=("raw",)))
