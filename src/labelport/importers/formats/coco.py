"""COCO (``coco``): a JSON file with ``images``, ``annotations`` and ``categories``, and its images.

The input is the JSON file itself, or a folder or zip holding one or more COCO files (Kili's and
labelport's split layout ``<JOB>/labels.json``, or ``instances_train.json`` + ``instances_val.json``):
images named the same in several files are one asset. See docs/import.md for every rule; in short:

* **jobs and categories**: categories in id order; all the categories of a file form one job, named
  ``job_name``, else ``<JOB>`` for ``<JOB>/labels.json`` in a Kili or labelport export (the split
  layout; the export has ``README.kili.txt`` at its root), else ``OBJECT_DETECTION_JOB`` — except
  that names ``<JOB>/<KEY>`` whose supercategory is ``<JOB>`` (a merged export) give one job per
  supercategory, with the keys after the ``/``;
* **images**: the external id is ``file_name`` without a leading ``data/`` (the media folder of
  Kili's and labelport's exports); the file is copied into the store when found, else ``coco_url``
  (or ``flickr_url``) is kept as a URL; coordinates are normalized by the file's ``width`` and
  ``height`` (measured from the image when absent);
* **annotations**: no segmentation → a rectangle from ``bbox``; one polygon → a polygon, or a
  rectangle when it is the four corners of an axis-aligned box; polygons lying inside the first one
  → its holes (as Kili writes holes); other polygons → separate parts (``semantic`` annotations
  sharing one ``mid``); an RLE mask (uncompressed or compressed) → its exact pixel-edge outline, one
  ``semantic`` part per connected region, holes kept.

Every image gets a label (an empty one when it has no annotation: a negative example), so that the
images without objects come back in an export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeGuard

import shapely
from shapely.geometry import Polygon

from labelport import media as store_media
from labelport.enums import Tool
from labelport.errors import DatasetError
from labelport.importers import geometry, rle
from labelport.importers.dataset import Dataset, ImportAsset, ImportLabel, ImportOptions
from labelport.importers.formats import register
from labelport.importers.formats.base import Detection, ImporterSpec
from labelport.importers.media import find_media, image_size, missing
from labelport.importers.ontology import DEFAULT_JOB
from labelport.importers.report import ImportReport
from labelport.importers.source import Source, readme

_MEDIA_FOLDER = "data/"
_SPLIT_FILE = "labels.json"
_ANNOTATION_KEYS = frozenset({"id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd"})
_IMAGE_KEYS = frozenset({"id", "file_name", "width", "height"})
_URL_KEYS = ("coco_url", "flickr_url")
_NUMBERS = (float, int)


def _looks_like_coco(head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"images"' in head


def coco_files(source: Source) -> list[str]:
    if source.single is not None:
        return [source.single] if source.single.lower().endswith(".json") else []
    return [rel for rel in source.files if rel.lower().endswith(".json") and _looks_like_coco(source.peek(rel))]


def detect(source: Source) -> Detection | None:
    files = [rel for rel in coco_files(source) if _looks_like_coco(source.peek(rel))]
    if not files:
        return None
    more = f" and {len(files) - 3} more" if len(files) > 3 else ""
    return Detection("coco", ", ".join(files[:3]) + more)


class _Here:
    """Where an annotation is, for messages; formatted only when one is needed."""

    __slots__ = ("index", "record", "where")

    def __init__(self, where: str, index: int, record: Any) -> None:
        self.where, self.index, self.record = where, index, record

    def __str__(self) -> str:
        ident = f" (id {self.record['id']})" if isinstance(self.record, dict) and "id" in self.record else ""
        return f"{self.where}, annotations[{self.index}]{ident}"


@dataclass
class _Image:
    asset: ImportAsset
    size: tuple[int, int] | None  # the size the coordinates are in
    mids: set[str] = field(default_factory=set)


class _Reader:
    def __init__(self, source: Source, options: ImportOptions, report: ImportReport) -> None:
        self.source = source
        self.options = options
        self.report = report
        self.dataset = Dataset("coco", report, jobs=[])
        self.images: dict[str, _Image] = {}
        self.skipped_images: set[str] = set()
        self.extra_keys: dict[str, set[str]] = {"annotation": set(), "image": set()}
        #: A Kili or labelport export (README.kili.txt at its root), whose split layout names the jobs.
        self.from_export = bool(readme(source))

    # -- one file -------------------------------------------------------------------------------

    def read_file(self, rel: str) -> None:
        data = self.source.read_json(rel)
        where = self.source.describe(rel)
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise DatasetError(
                f"{where}: not a COCO file (it needs an 'images' list, with 'annotations' and 'categories')."
            )
        for key in ("annotations", "categories"):
            if not isinstance(data.get(key, []), list):
                raise DatasetError(f"{where}: '{key}' must be a list.")
        categories = self._categories(data.get("categories", []), where, rel)
        images = self._images(data["images"], rel, where)
        for index, annotation in enumerate(data.get("annotations", [])):
            self._annotation(annotation, where, index, images, categories)

    def _categories(self, records: list[Any], where: str, rel: str) -> dict[Any, tuple[str, str]]:
        found: dict[Any, dict[str, Any]] = {}
        for index, record in enumerate(records):
            here = f"{where}, categories[{index}]"
            if not isinstance(record, dict) or not isinstance(record.get("name"), str) or not record["name"]:
                raise DatasetError(f"{here}: a category needs an 'id' and a non-empty 'name', got {record!r}.")
            if "id" not in record or record["id"] in found:
                raise DatasetError(f"{here}: category ids must be present and unique, got {record.get('id')!r}.")
            found[record["id"]] = record
        ordered = sorted(found.values(), key=lambda r: (not isinstance(r["id"], int), r["id"]))
        mapping: dict[Any, tuple[str, str]] = {}
        for record, (job_name, key) in zip(ordered, self._job_keys(ordered, rel), strict=True):
            self.dataset.job(job_name).add_category(key)
            mapping[record["id"]] = (job_name, key)
        return mapping

    def _job_keys(self, records: list[dict[str, Any]], rel: str) -> list[tuple[str, str]]:
        """The job and key of each category (see the module docstring)."""
        names = [record["name"] for record in records]
        if self.options.job_name:
            return [(self.options.job_name, name) for name in names]
        supers = [str(r["supercategory"]) if isinstance(r.get("supercategory"), str) else "" for r in records]
        pairs = list(zip(supers, names, strict=True))
        if records and all(s and n.startswith(f"{s}/") and len(n) > len(s) + 1 for s, n in pairs):
            return [(s, n[len(s) + 1 :]) for s, n in pairs]
        folder, _, file = rel.rpartition("/")
        split_layout = self.from_export and file == _SPLIT_FILE and folder and "/" not in folder
        return [(folder if split_layout else DEFAULT_JOB, name) for name in names]

    def _images(self, records: list[Any], rel: str, where: str) -> dict[Any, _Image | None]:
        by_id: dict[Any, _Image | None] = {}
        names: dict[str, int] = {}
        for index, record in enumerate(records):
            here = f"{where}, images[{index}]"
            if not isinstance(record, dict) or not isinstance(record.get("file_name"), str) or not record["file_name"]:
                raise DatasetError(f"{here}: an image needs an 'id' and a 'file_name', got {record!r}.")
            if "id" not in record or record["id"] in by_id:
                raise DatasetError(f"{here}: image ids must be present and unique, got {record.get('id')!r}.")
            name = record["file_name"]
            if name in names:
                raise DatasetError(f"{here}: file_name {name!r} is already the name of images[{names[name]}].")
            names[name] = index
            self.extra_keys["image"].update(set(record) - _IMAGE_KEYS)
            by_id[record["id"]] = self._image(record, rel, here)
        return by_id

    def _image(self, record: dict[str, Any], rel: str, here: str) -> _Image | None:
        name = record["file_name"]
        external_id = name[len(_MEDIA_FOLDER) :] if name.startswith(_MEDIA_FOLDER) else name
        if external_id in self.skipped_images:
            return None
        declared = _declared_size(record, here)
        known = self.images.get(external_id)
        if known is not None:
            if declared is not None and known.size is not None and declared != known.size:
                raise DatasetError(
                    f"{here}: image {name!r} is {declared[0]}×{declared[1]} here but "
                    f"{known.size[0]}×{known.size[1]} in {known.asset.origin}."
                )
            return known
        path = find_media(self.source, name, rel, self.options, folders=("", "images"))
        urls = [record[k] for k in _URL_KEYS if isinstance(record.get(k), str) and store_media.is_url(record[k])]
        url = urls[0] if urls else ""
        if path is None and not url:
            if self.options.missing_media == "skip":
                self.skipped_images.add(external_id)
                self.report.skip(here, external_id, f"image {name!r} not found (missing_media='skip')")
                return None
            raise missing(self.source, name, here, self.options)
        measured = image_size(path, external_id, here) if path is not None else None
        if declared is None and measured is None:
            raise DatasetError(f"{here}: image {name!r} has no width and height, and no file to measure them from.")
        if declared is not None and measured is not None and declared != measured:
            self.report.count("size mismatch")
        asset = ImportAsset(
            external_id,
            here,
            content=str(path) if path is not None else url,
            resolution=measured or declared,
        )
        image = _Image(asset, declared or measured)
        self.images[external_id] = image
        self.report.images_read += 1
        return image

    # -- one annotation ---------------------------------------------------------------------------

    def _annotation(
        self,
        record: Any,
        where: str,
        index: int,
        images: dict[Any, _Image | None],
        categories: dict[Any, tuple[str, str]],
    ) -> None:
        here = _Here(where, index, record)
        if not isinstance(record, dict):
            raise DatasetError(f"{here}: an annotation must be an object, got {record!r}.")
        if record.get("image_id") not in images:
            raise DatasetError(f"{here}: image_id {record.get('image_id')!r} is not the id of an image of the file.")
        if record.get("category_id") not in categories:
            raise DatasetError(
                f"{here}: category_id {record.get('category_id')!r} is not the id of a category of the file."
            )
        job_name, key = categories[record["category_id"]]
        image = images[record["image_id"]]
        if image is None:  # its image is skipped (missing media), and reported once
            return
        if not record.keys() <= _ANNOTATION_KEYS:
            self.extra_keys["annotation"].update(record.keys() - _ANNOTATION_KEYS)
            keypoints = record.get("keypoints")
            if isinstance(keypoints, list) and any(keypoints):
                self.report.count("keypoints")
        if record.get("iscrowd") == 1:
            self.report.count("iscrowd")
        segmentation = record.get("segmentation")
        if not segmentation:  # a box: the hot path of detection datasets
            made = self._box(record, image, here, job_name, key)
            if made is None:
                return
            annotations = [made]
            tool: str = Tool.RECTANGLE
        else:
            shapes = self._shapes(segmentation, image, here, job_name)
            if not shapes:
                return
            tool, parts = shapes
            mid = self._mid(image, record)
            annotations = [geometry.annotation(tool, key, mid, rings) for rings in parts]
            if len(parts) > 1:
                self.report.count("parts")
        self.dataset.job(job_name).tools.add(tool)
        response = image.asset.labels[0].json_response if image.asset.labels else self._new_label(image)
        entry = response.get(job_name)
        if entry is None:
            entry = response[job_name] = {"annotations": []}
        entry["annotations"].extend(annotations)
        self.report.read(job_name)

    def _box(
        self, record: dict[str, Any], image: _Image, here: _Here, job_name: str, key: str
    ) -> dict[str, Any] | None:
        box = _bbox(record.get("bbox"), here)
        if box is None:
            self.report.skip(str(here), image.asset.external_id, "box of zero width or height not imported", job_name)
            return None
        assert image.size is not None
        width, height = image.size
        x0, y0, x1, y1 = box
        made, moved = geometry.box_annotation(
            key, self._mid(image, record), x0 / width, y0 / height, x1 / width, y1 / height
        )
        if moved:
            self.report.count(f"clamped {job_name}")
        return made

    def _new_label(self, image: _Image) -> dict[str, Any]:
        image.asset.labels.append(ImportLabel({}, image.asset.origin))
        return image.asset.labels[0].json_response

    def _mid(self, image: _Image, record: dict[str, Any]) -> str:
        base = str(record.get("id", len(image.mids) + 1))
        mid, counter = base, 2
        while mid in image.mids:
            mid, counter = f"{base}-{counter}", counter + 1
        image.mids.add(mid)
        return mid

    def _shapes(
        self, segmentation: Any, image: _Image, here: _Here, job_name: str
    ) -> tuple[str, list[list[list[geometry.Point]]]] | None:
        """The tool and the normalized parts (each: outer ring, then holes) of a segmentation."""
        assert image.size is not None
        width, height = image.size
        if isinstance(segmentation, dict):
            return self._mask(segmentation, image, here, job_name)
        if not isinstance(segmentation, list):
            raise DatasetError(f"{here}: 'segmentation' must be a list of polygons or an RLE object.")
        rings = _rings(segmentation, here)
        kept = [ring for ring in rings if len(ring) >= 3]
        if len(kept) < len(rings):
            reason = "polygon with fewer than 3 vertices not imported"
            self.report.skip(str(here), image.asset.external_id, reason, job_name)
        if not kept:
            return None
        parts = _group(kept)
        if len(parts) == 1 and len(parts[0]) == 1:
            box = geometry.axis_aligned_box(parts[0][0])
            if box is not None:
                return self._normalized(Tool.RECTANGLE, [[geometry.box_corners(*box)]], width, height, job_name)
            return self._normalized(Tool.POLYGON, parts, width, height, job_name)
        tool = Tool.POLYGON if len(parts) == 1 else Tool.SEMANTIC
        return self._normalized(tool, parts, width, height, job_name)

    def _mask(
        self, segmentation: dict[str, Any], image: _Image, here: _Here, job_name: str
    ) -> tuple[str, list[list[list[geometry.Point]]]] | None:
        mask = rle.decode(segmentation, f"{here}, segmentation")
        height, width = mask.shape
        if image.size != (width, height):
            self.report.count("mask size")
        parts = rle.trace(mask)
        if not parts:
            self.report.skip(str(here), image.asset.external_id, "RLE mask with no pixel set not imported", job_name)
            return None
        self.report.count("masks")
        return self._normalized(Tool.SEMANTIC, parts, width, height, job_name)

    def _normalized(
        self, tool: str, parts: list[list[list[geometry.Point]]], width: float, height: float, job_name: str
    ) -> tuple[str, list[list[list[geometry.Point]]]]:
        out = []
        moved = False
        for part in parts:
            normalized = geometry.normalize(part, width, height)
            moved = moved or normalized.clamped
            out.append(normalized.rings)
        if moved:
            self.report.count(f"clamped {job_name}")
        return tool, out

    # -- the end ----------------------------------------------------------------------------------

    def finish(self) -> Dataset:
        for image in self.images.values():
            if not image.asset.labels:
                image.asset.labels.append(ImportLabel({}, image.asset.origin))
            self.report.labels_read += 1
            self.dataset.assets.append(image.asset)
        self._notes()
        return self.dataset

    def _notes(self) -> None:
        report = self.report
        assert self.dataset.jobs is not None
        clamped = "annotation(s) reached outside their image; their coordinates were clamped to it"
        report.note_counts({f"clamped {job.name}": f"job {job.name}: {{n}} {clamped}" for job in self.dataset.jobs})
        report.note_counts(
            {
                "parts": "{n} annotation(s) made of several polygons became semantic parts sharing one mid "
                "(a labelport COCO export writes one annotation per part)",
                "masks": "{n} RLE mask(s) became semantic regions tracing the mask's pixel edges exactly "
                "(holes kept, one part per connected region)",
                "iscrowd": "iscrowd=1 not kept on {n} annotation(s) (labelport has no crowd flag)",
                "keypoints": "keypoints not imported on {n} annotation(s); their boxes and segmentations are",
                "size mismatch": "{n} image(s) differ in size from the width and height the file gives; coordinates "
                "were normalized by the file's size, and the resolution stored is the image's",
                "mask size": "{n} RLE mask(s) have a size different from their image's; they were normalized by "
                "the mask's own size",
            }
        )
        for kind, keys in self.extra_keys.items():
            if keys:
                report.note(f"{kind} fields not imported: {', '.join(sorted(keys))}")


def _declared_size(record: dict[str, Any], here: str) -> tuple[int, int] | None:
    width, height = record.get("width"), record.get("height")
    if width is None and height is None:
        return None
    if not (
        _number(width)
        and _number(height)
        and width > 0
        and height > 0
        and width == int(width)
        and height == int(height)
    ):
        raise DatasetError(
            f"{here}: width and height must be positive whole numbers of pixels, got {width!r}, {height!r}."
        )
    return int(width), int(height)


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rings(segmentation: list[Any], here: _Here) -> list[list[geometry.Point]]:
    polygons = [segmentation] if all(_number(v) for v in segmentation) else segmentation
    rings = []
    for index, polygon in enumerate(polygons):
        if not isinstance(polygon, list) or not all(_number(v) for v in polygon) or len(polygon) % 2:
            raise DatasetError(
                f"{here}, segmentation[{index}]: a polygon must be a flat list of x, y pixel coordinates "
                f"(an even count of numbers), got {str(polygon)[:80]}."
            )
        rings.append([(float(polygon[i]), float(polygon[i + 1])) for i in range(0, len(polygon), 2)])
    return rings


def _group(rings: list[list[geometry.Point]]) -> list[list[list[geometry.Point]]]:
    """Parts (outer ring, then holes): a ring inside the outer ring of an earlier part is one of its holes."""
    parts: list[list[list[geometry.Point]]] = []
    shapes: list[Polygon | None] = []
    for ring in rings:
        owner = next((i for i, shape in enumerate(shapes) if shape is not None and _covers(shape, ring)), None)
        if owner is None:
            parts.append([ring])
            shapes.append(_polygon(ring))
        else:
            parts[owner].append(ring)
    return parts


def _polygon(ring: list[geometry.Point]) -> Polygon | None:
    polygon = Polygon(ring)
    return polygon if polygon.is_valid and polygon.area > 0 else None


def _covers(shape: Polygon, ring: list[geometry.Point]) -> bool:
    inner = Polygon(ring)
    if not inner.is_valid or inner.area == 0:
        return False
    return bool(shapely.covers(shape, inner))


def _bbox(value: Any, here: _Here) -> tuple[float, float, float, float] | None:
    if (
        type(value) is not list
        or len(value) != 4
        or type(value[0]) not in _NUMBERS
        or type(value[1]) not in _NUMBERS
        or type(value[2]) not in _NUMBERS
        or type(value[3]) not in _NUMBERS
    ):
        raise DatasetError(
            f"{here}: an annotation without segmentation needs a 'bbox' [x, y, width, height], got {value!r}."
        )
    x, y, w, h = value
    if w <= 0 or h <= 0:
        return None
    return x, y, x + w, y + h


def read(source: Source, fmt: str, options: ImportOptions, report: ImportReport) -> Dataset:
    files = coco_files(source)
    if not files:
        raise DatasetError(f"{source.display}: no COCO JSON file (an object with an 'images' list) found.")
    reader = _Reader(source, options, report)
    for rel in files:
        reader.read_file(rel)
    return reader.finish()


SPEC = register(ImporterSpec(name="coco", detect=detect, read=read))
