"""The COCO format (``coco``): object detection and segmentation in pixels, one JSON file per target.

Layout ``split`` writes ``<JOB>/labels.json`` for each compatible job; ``merged`` (or
``single_file=True``) writes one ``labels.json`` with every compatible job. Media go under ``data/``
with ``with_assets=True``; ``file_name`` is ``data/<name>`` either way. See docs/export/coco.md.

Every exported asset (every frame of a video) is an entry of ``images``, annotated or not. Ids are
1-based: categories in ontology order, images in export order, annotations consecutive within a
file. Rectangles and polygons become polygon segmentations; a region with holes becomes an
uncompressed RLE mask (``export/rle.py``: pixel centres, even-odd rule), since a COCO polygon cannot
hold a hole. ``images`` and ``annotations`` are spooled to temporary files while assets stream in and
assembled in :meth:`CocoWriter.close`.

With a train/val/test split, each target has one file per split, ``labels_<split>.json``, holding the images
of that split (ids 1..n within the file) and their annotations; categories are the same in every file.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from labelport.enums import InputType, Tool
from labelport.errors import ExportError
from labelport.export import geometry
from labelport.export.archive import Archive, Member
from labelport.export.detection import SHAPE_TOOLS, note_unexported
from labelport.export.formats import register
from labelport.export.formats.base import (
    HONOURED,
    FormatSpec,
    OptionRule,
    Refused,
    StagedWriter,
    object_job,
    split_of,
    standard_layout,
)
from labelport.export.geometry import Point
from labelport.export.media import add_media
from labelport.export.model import ExportAsset
from labelport.export.names import NameAllocator, safe_path
from labelport.export.report import Tally
from labelport.export.rle import rle_counts
from labelport.ontology import Job

#: Pixel coordinates, box sides and polygon areas are rounded to this many decimals.
DECIMALS = 2

NO_RESOLUTION = (
    "asset not exported: COCO needs each image's width and height in pixels and the asset has no "
    "resolution; set it with update_properties_in_assets(resolution_array=...)"
)
NO_FRAMES = (
    "asset not exported: COCO needs one image per video frame and the video has no stored frames; "
    "import it as a list of frames (json_content_array)"
)
NO_CATEGORY = "annotation not written: it has no category"
UNKNOWN_CATEGORY = "annotation not written: its category is not in the job's ontology"
FEW_VERTICES = "polygon not written: its outer ring has fewer than 3 vertices (degenerate)"
ZERO_POLYGON = "polygon not written: its area is zero (degenerate)"
ZERO_BOX = "rectangle not written: its width or height is zero (degenerate)"
EMPTY_MASK = "region with holes not written: it covers no pixel centre (degenerate)"
DROPPED = "annotation not written: annotation_modifier returned None"


def unsupported(tool: object) -> str:
    return f"{tool} annotation not written: COCO holds rectangles, polygons and semantic regions only"


def frame_beyond(count: int) -> str:
    return f"annotations of a frame beyond the video's {count} frames not written"


#: How COCO takes each option (checked by the pipeline before anything is written).
OPTIONS: dict[str, OptionRule] = {
    "layout": HONOURED,
    "single_file": HONOURED,  # the merged layout: one file means one target
    "with_assets": HONOURED,
    "normalized_coordinates": Refused(
        "COCO coordinates are in pixels", "Use normalized_coordinates=None (the default) or False", (True,)
    ),
    "annotation_modifier": HONOURED,
    "split": HONOURED,
    "dataset_root": Refused(
        "COCO files name their images relative to the archive root (data/<name>) and hold no dataset path",
        "Leave dataset_root out, and give the unzipped folder as the image root to the training code",
    ),
    "dataset_layout": HONOURED,
}

#: The subset of an export without a split in the standard layout (datumaro's name for it).
DEFAULT_SUBSET = "default"


# -- geometry of one annotation ---------------------------------------------------------------------


_SCALE = 10.0**DECIMALS
#: Beyond this, x·100 in floating point may be off by more than the tie margin below.
_FAST_LIMIT = 1e12


def _pixel(value: float) -> float:
    """``round(value, DECIMALS)``, bit for bit, about 4x faster: when ``value·100`` is clearly closer to
    one integer than to the next (not within 1e-4 of a tie), that integer over 100 is the correctly
    rounded result (the product's rounding error is below 1e-3 there); near ties, ``round`` decides.
    ``+ 0.0`` turns -0.0 into 0.0."""
    scaled = value * _SCALE
    if -_FAST_LIMIT < scaled < _FAST_LIMIT:
        nearest = math.floor(scaled + 0.5)
        if abs(scaled - nearest) < 0.4999:
            return nearest / _SCALE + 0.0
    return round(value, DECIMALS) + 0.0


def _pixel_ring(vertices: Any, rotation: int, size: tuple[int, int]) -> list[Point]:
    """The vertices in pixels: rotation undone, clamped to the image, rounded to DECIMALS.

    The hot loop of a COCO export: clamping is written inline (same values as ``clamp01``)."""
    if not isinstance(vertices, list):
        return []
    width, height = size
    points = geometry.ring(vertices, rotation)
    return [
        (
            _pixel((0.0 if x < 0.0 else 1.0 if x > 1.0 else x) * width),
            _pixel((0.0 if y < 0.0 else 1.0 if y > 1.0 else y) * height),
        )
        for x, y in points
    ]


def _rectangle(vertices: Any, rotation: int, size: tuple[int, int]) -> Shape:
    """A rectangle from its extreme coordinates only: clamping, scaling and rounding are monotonic, so
    the pixel bounds are those of the pixel ring, for 4 roundings instead of 8 (or more)."""
    if not isinstance(vertices, list) or not vertices:
        return Shape(reason=ZERO_BOX)
    points = geometry.ring(vertices, rotation)
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return _box_shape(min(xs), min(ys), max(xs), max(ys), size)


def _box_shape(lo_x: float, lo_y: float, hi_x: float, hi_y: float, size: tuple[int, int]) -> Shape:
    """A rectangle from its normalized extremes, as :func:`_rectangle` writes it."""
    width, height = size
    clamp = geometry.clamp01
    x0, x1 = _pixel(clamp(lo_x) * width), _pixel(clamp(hi_x) * width)
    y0, y1 = _pixel(clamp(lo_y) * height), _pixel(clamp(hi_y) * height)
    if x1 <= x0 or y1 <= y0:
        return Shape(reason=ZERO_BOX)
    box = [x0, y0, _pixel(x1 - x0), _pixel(y1 - y0)]
    return Shape([[x0, y0, x1, y0, x1, y1, x0, y1]], _pixel(box[2] * box[3]), box)


def _bbox(points: Sequence[Point]) -> list[float]:
    x0, y0, x1, y1 = geometry.bounds(points)
    return [x0, y0, _pixel(x1 - x0), _pixel(y1 - y0)]


def _flat(points: Sequence[Point]) -> list[float]:
    return [value for point in points for value in point]


@dataclass(slots=True)
class Shape:
    """The COCO geometry of one annotation, or the reason it cannot be written."""

    segmentation: Any = None
    area: float = 0.0
    bbox: list[float] = field(default_factory=list)
    reason: str | None = None
    rle: bool = False


def convert_shape(annotation: dict[str, Any], rotation: int, size: tuple[int, int], tool: Any = None) -> Shape:
    """Pixel segmentation, area and box of a rectangle, polygon or semantic annotation (``tool``:
    its type, when not the annotation's own ``type``)."""
    tool = annotation.get("type") if tool is None else tool
    polys = annotation.get("boundingPoly")
    polys = [poly for poly in polys if isinstance(poly, dict)] if isinstance(polys, list) else []
    if len(polys) == 1 and tool == Tool.RECTANGLE:
        return _rectangle(polys[0].get("normalizedVertices"), rotation, size)
    rings = [_pixel_ring(poly.get("normalizedVertices"), rotation, size) for poly in polys]
    outer = rings[0] if rings else []
    holes = [hole for hole in rings[1:] if len(hole) >= 3]  # fewer vertices enclose nothing
    if holes:
        return _region_with_holes(outer, holes, size)
    if tool == Tool.RECTANGLE:
        if not outer:
            return Shape(reason=ZERO_BOX)
        x0, y0, x1, y1 = geometry.bounds(outer)
        if x1 <= x0 or y1 <= y0:
            return Shape(reason=ZERO_BOX)
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        box = _bbox(corners)
        return Shape([_flat(corners)], _pixel(box[2] * box[3]), box)
    if len(outer) < 3:
        return Shape(reason=FEW_VERTICES)
    area = abs(geometry.shoelace(outer))
    if area == 0.0:
        return Shape(reason=ZERO_POLYGON)
    return Shape([_flat(outer)], _pixel(area), _bbox(outer))


def _region_with_holes(outer: list[Point], holes: list[list[Point]], size: tuple[int, int]) -> Shape:
    if len(outer) < 3:
        return Shape(reason=FEW_VERTICES)
    width, height = size
    counts, area = rle_counts([outer, *holes], width, height)
    if area == 0:
        return Shape(reason=EMPTY_MASK)
    return Shape({"size": [height, width], "counts": counts}, float(area), _bbox(outer), rle=True)


# -- streaming the file -----------------------------------------------------------------------------


class _Spool:
    """A JSON array's items, one a line, compressed as they come into a part of the file to be assembled."""

    def __init__(self, archive: Archive) -> None:
        self.part = archive.part()
        self.count = 0

    def add(self, *pieces: bytes | memoryview) -> None:
        """One item, given whole or in pieces."""
        if self.count:
            self.part.write(b",\n")
        for piece in pieces:
            self.part.write(piece)
        self.count += 1

    def copy_array(self, out: Member) -> None:
        if self.count == 0:
            out.write(b"[]")
            return
        out.write(b"[\n")
        out.write_part(self.part)
        out.write(b"\n]")

    def close(self) -> None:
        self.part.close()


@dataclass
class _Target:
    """One labels.json (one per split with a split): its folder, categories and spooled annotations."""

    folder: str  # "" (merged) or "<JOB>/"
    categories: dict[tuple[str, str], int]
    records: list[dict[str, Any]]
    #: The spooled annotations of each split ("" without a split).
    annotations: dict[str, _Spool] = field(default_factory=dict)
    #: The standard dataset layout: ``annotations/instances_<subset>.json``.
    standard: bool = False

    def member(self, split: str) -> str:
        if self.standard:
            return f"annotations/instances_{split or DEFAULT_SUBSET}.json"
        return f"{self.folder}labels{'_' + split if split else ''}.json"


@dataclass(frozen=True)
class _Image:
    record: dict[str, Any]
    size: tuple[int, int]
    split: str = ""  # the file it belongs to ("" without a split)


class CocoWriter(StagedWriter):
    def setup(self) -> None:
        #: dataset_layout="standard": one dataset (the jobs merged), its images in images/<subset>/.
        self.standard = standard_layout(self.ctx.options)
        self.merged = self.ctx.options.layout == "merged" or self.ctx.options.single_file or self.standard
        plan = self.ctx.options.split
        self.splits: tuple[str, ...] = plan.names if plan is not None else ("",)
        self.targets = self._targets()

    def parallel(self) -> bool:
        # a video's frames are written as they are converted; annotation_modifier is the caller's Python
        return self.ctx.input_type != InputType.VIDEO and self.ctx.options.annotation_modifier is None

    def open(self) -> None:
        self.setup()
        for target in self.targets.values():
            if not target.annotations:  # a merged export's targets are one
                target.annotations = {split: _Spool(self.ctx.archive) for split in self.splits}
        #: The images of each split ("" without a split): ids run from 1 within each.
        self.images = {split: _Spool(self.ctx.archive) for split in self.splits}
        self.names = NameAllocator()  # the data/ names
        self.latest_label = ""
        note_unexported(self.ctx, "COCO takes OBJECT_DETECTION jobs with rectangle, polygon or semantic tools")

    def _targets(self) -> dict[str, _Target]:
        """The target of each job (one per job in split, one shared in merged), ids in ontology order."""
        if self.merged:
            shared = _Target("", {}, [], standard=self.standard)
            for job in self.ctx.jobs:
                _add_categories(shared, job, f"{job.name}/")
            return {job.name: shared for job in self.ctx.jobs}
        targets = {}
        for job in self.ctx.jobs:
            targets[job.name] = _Target(f"{safe_path(job.name)}/", {}, [])
            _add_categories(targets[job.name], job, "")
        return targets

    def _split(self, asset: ExportAsset) -> str:
        return split_of(self.ctx.options, asset) or ""

    # -- one asset --------------------------------------------------------------------------------

    def write_asset(self, asset: ExportAsset) -> None:
        if self.ctx.input_type != InputType.VIDEO:
            super().write_asset(asset)
        elif asset.resolution is None:
            self.ctx.report.skip(asset.external_id, NO_RESOLUTION)
        else:
            self._note_label(asset)
            if asset.frames:
                self._video(asset, self._response(asset), asset.resolution)
            else:
                self.ctx.report.skip(asset.external_id, NO_FRAMES)

    def convert(self, asset: ExportAsset, tally: Tally) -> list[_Converted] | None:
        """The annotations of the image (None when it has no resolution)."""
        if asset.resolution is None:
            tally.skip(asset.external_id, NO_RESOLUTION)
            return None
        return self._convert_annotations(asset, self._response(asset), asset.resolution, tally)

    def emit(self, asset: ExportAsset, converted: list[_Converted] | None, tally: Tally) -> None:
        tally.tell(self.ctx.report)
        if converted is None:
            return
        assert asset.resolution is not None
        self._note_label(asset)
        split = self._split(asset)
        member = self._media_name(asset, split)
        image = self._image(self._file_name(member, split), asset.resolution, split)
        self._emit_annotations(asset, image, converted)
        if self.ctx.options.with_assets:
            url = None if asset.media_path else asset.content
            add_media(self.ctx, asset.external_id, member, asset.media_path, url)

    def _response(self, asset: ExportAsset) -> dict[str, Any]:
        response = asset.labels[0].json_response  # one label per output: the pipeline expands the others
        return response if isinstance(response, dict) else {}

    def _note_label(self, asset: ExportAsset) -> None:
        self.latest_label = max(self.latest_label, asset.labels[0].created_at or "")

    def _video(self, asset: ExportAsset, response: dict[str, Any], size: tuple[int, int]) -> None:
        """One COCO image per frame, annotated or not; annotations from that frame's jobs."""
        frames = {int(key): value for key, value in response.items() if key.isdigit() and isinstance(value, dict)}
        digits = len(str(len(asset.frames)))
        base, plain = safe_path(asset.external_id), asset.external_id.replace(" ", "_")
        split = self._split(asset)
        for frame in asset.frames:
            number = f"_{frame.index + 1:0{digits}d}"
            member = self.names.media(
                asset.external_id, base + number, plain + number, frame.suffix, self._media_folder(split)
            )
            image = self._image(self._file_name(member, split), size, split)
            tally = Tally()
            converted = self._convert_annotations(asset, frames.get(frame.index, {}), size, tally)
            tally.tell(self.ctx.report)
            self._emit_annotations(asset, image, converted)
            if self.ctx.options.with_assets:
                add_media(self.ctx, asset.external_id, member, frame.path, frame.url)
        for index in sorted(key for key in frames if key >= len(asset.frames)):
            for job in self.ctx.jobs:
                if _annotations_of(frames[index], job):
                    self.ctx.report.skip(asset.external_id, frame_beyond(len(asset.frames)), job.name)

    def _media_name(self, asset: ExportAsset, split: str) -> str:
        """``data/<name>`` (``images/<subset>/<name>`` in the standard layout): the external id made safe, with
        the media's suffix (``names.NameAllocator.media``)."""
        return self.names.media(
            asset.external_id,
            safe_path(asset.external_id),
            asset.external_id.replace(" ", "_"),
            asset.media_suffix,
            self._media_folder(split),
        )

    def _media_folder(self, split: str) -> str:
        return f"images/{split or DEFAULT_SUBSET}" if self.standard else self.ctx.media_folder

    def _file_name(self, member: str, split: str) -> str:
        """An image's ``file_name``: its member (``data/<name>``), or in the standard layout its path under
        ``images/<subset>/``, where datumaro (and pycocotools users) look for it."""
        return member[len(self._media_folder(split)) + 1 :] if self.standard else member

    def _image(self, file_name: str, size: tuple[int, int], split: str) -> _Image:
        images = self.images[split]
        record = {"id": images.count + 1, "file_name": file_name, "width": size[0], "height": size[1]}
        images.add(orjson.dumps(record))
        return _Image(record, size, split)

    # -- annotations ------------------------------------------------------------------------------

    def _convert_annotations(
        self, asset: ExportAsset, response: dict[str, Any], size: tuple[int, int], tally: Tally
    ) -> list[_Converted]:
        """Each written annotation of an image: its job and its fields after ``id`` and ``image_id``, as JSON
        (or, for ``annotation_modifier``, as a dict with the Kili annotation)."""
        rotation = geometry.rotation_of(response)
        modifier = self.ctx.options.annotation_modifier
        converted: list[_Converted] = []
        for job in self.ctx.jobs:
            categories = self.targets[job.name].categories
            for annotation in _annotations_of(response, job):
                fields = _fields(asset, job, categories, annotation, rotation, size, tally)
                if fields is not None:
                    converted.append((job.name, orjson.dumps(fields) if modifier is None else (fields, annotation)))
        return converted

    def _emit_annotations(self, asset: ExportAsset, image: _Image, converted: list[_Converted]) -> None:
        image_id = image.record["id"]
        for job_name, fields in converted:
            spool = self.targets[job_name].annotations[image.split]
            if isinstance(fields, bytes):  # the record is {"id":…,"image_id":…, then the fields
                spool.add(b'{"id":%d,"image_id":%d,' % (spool.count + 1, image_id), memoryview(fields)[1:])
            else:
                record = {"id": spool.count + 1, "image_id": image_id, **fields[0]}
                data = self._modified(asset, job_name, image, fields[1], record)
                if data is None:
                    continue
                spool.add(data)
            self.ctx.report.wrote(job_name)

    def _modified(
        self, asset: ExportAsset, job_name: str, image: _Image, annotation: dict[str, Any], record: dict[str, Any]
    ) -> bytes | None:
        """The record as ``annotation_modifier`` returns it, as JSON (None: dropped, and reported)."""
        modifier = self.ctx.options.annotation_modifier
        assert modifier is not None
        changed = modifier(copy.deepcopy(record), dict(image.record), copy.deepcopy(annotation))
        if changed is None:
            self.ctx.report.skip(asset.external_id, DROPPED, job_name)
            return None
        if not isinstance(changed, dict):
            raise ExportError(
                f"Asset {asset.external_id!r}, job {job_name!r}: annotation_modifier returned a "
                f"{type(changed).__name__}; it must return the COCO annotation as a dict (or None to drop it)."
            )
        # The ids keep the file valid: unique annotation ids, an existing image.
        try:
            return orjson.dumps({**changed, "id": record["id"], "image_id": record["image_id"]})
        except TypeError as error:
            raise ExportError(
                f"Asset {asset.external_id!r}, job {job_name!r}: the COCO annotation cannot be written as JSON "
                f"({error}); annotation_modifier must return JSON values only."
            ) from None

    # -- the files --------------------------------------------------------------------------------

    def close(self) -> None:
        now = datetime.now(UTC)
        year = int(self.latest_label[:4]) if self.latest_label[:4].isdigit() else now.year
        info = {
            "description": f"{self.ctx.title} - Exported from labelport",
            "version": "1.0",
            "year": year,
            "date_created": now.isoformat(timespec="seconds"),
        }
        done: set[str] = set()
        for target in self.targets.values():
            if target.folder in done:
                continue
            done.add(target.folder)
            for split in self.splits:  # every split's file, even an empty one
                with self.ctx.archive.open(target.member(split), large=True) as out:
                    _assemble(out, info, target.records, self.images[split], target.annotations[split])
                self.ctx.report.files += 1
                target.annotations[split].close()
        for images in self.images.values():
            images.close()
        self.ctx.extras["renamed"] = self.names.renamed


#: One converted annotation: its job, and its fields after ``id`` and ``image_id`` as JSON, or as a dict
#: with the Kili annotation when ``annotation_modifier`` is called.
_Converted = tuple[str, bytes | tuple[dict[str, Any], dict[str, Any]]]


def _fields(
    asset: ExportAsset,
    job: Job,
    categories: dict[tuple[str, str], int],
    annotation: dict[str, Any],
    rotation: int,
    size: tuple[int, int],
    tally: Tally,
) -> dict[str, Any] | None:
    """An annotation's record fields after ``id`` and ``image_id``, or None when it cannot be written
    (told to the tally)."""
    if rotation == 0:  # the quick path of the most common annotation, same numbers
        box = geometry.plain_box(annotation)
        category_id = None if box is None else categories.get((job.name, box[0]))
        if box is not None and category_id is not None:
            shape = _box_shape(box[1], box[2], box[3], box[4], size)
            if shape.reason is None:
                return _shape_fields(category_id, shape)
    tool = annotation.get("type", Tool.POLYGON if annotation.get("boundingPoly") else None)
    reason = None if tool in SHAPE_TOOLS else unsupported(tool or "untyped")
    category = _first_category(annotation)
    if reason is None and category is None:
        reason = NO_CATEGORY
    elif reason is None and (job.name, category) not in categories:
        reason = UNKNOWN_CATEGORY
    shape = Shape(reason=reason) if reason else convert_shape(annotation, rotation, size, tool)
    if shape.reason is not None:
        tally.skip(asset.external_id, shape.reason, job.name)
        return None
    if shape.rle:
        tally.note(
            f"job {job.name}: regions with holes are written as uncompressed RLE masks (iscrowd 0), "
            "since a COCO polygon cannot hold a hole"
        )
    return _shape_fields(categories[(job.name, str(category))], shape)


def _shape_fields(category_id: int, shape: Shape) -> dict[str, Any]:
    return {
        "category_id": category_id,
        "segmentation": shape.segmentation,
        "area": shape.area,
        "bbox": shape.bbox,
        "iscrowd": 0,
    }


def _assemble(
    out: Member, info: dict[str, Any], categories: list[dict[str, Any]], images: _Spool, annotations: _Spool
) -> None:
    out.write(b'{"info":' + orjson.dumps(info) + b',\n"licenses":[],\n"categories":[\n')
    out.write(b",\n".join(orjson.dumps(record) for record in categories))
    out.write(b'\n],\n"images":')
    images.copy_array(out)
    out.write(b',\n"annotations":')
    annotations.copy_array(out)
    out.write(b"}\n")


def _add_categories(target: _Target, job: Job, prefix: str) -> None:
    for category in sorted(job.categories.values(), key=lambda c: c.index):
        category_id = len(target.records) + 1
        target.categories[(job.name, category.key)] = category_id
        target.records.append({"id": category_id, "name": prefix + category.key, "supercategory": job.name})


def _annotations_of(response: dict[str, Any], job: Job) -> list[dict[str, Any]]:
    value = response.get(job.name)
    annotations = value.get("annotations") if isinstance(value, dict) else None
    return [a for a in annotations if isinstance(a, dict) and a] if isinstance(annotations, list) else []


def _first_category(annotation: dict[str, Any]) -> str | None:
    categories = annotation.get("categories")
    if isinstance(categories, list) and categories and isinstance(categories[0], dict):
        name = categories[0].get("name")
        return name if isinstance(name, str) else None
    return None


SPEC = register(
    FormatSpec(
        name="coco",
        writer=CocoWriter,
        input_types=frozenset({InputType.IMAGE, InputType.VIDEO}),
        media_folder="data",
        job_filter=object_job(SHAPE_TOOLS, all_tools=False),
        needs="an OBJECT_DETECTION job with rectangle, polygon or semantic tools",
        options=OPTIONS,
        one_label_per_output=True,
    )
)
