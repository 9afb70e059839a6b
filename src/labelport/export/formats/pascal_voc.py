"""Pascal VOC (``pascal_voc``): one XML file of pixel bounding boxes per image or video frame.

Layout ``merged``: ``labels/<name>.xml`` with the objects of every compatible job; ``split`` (the default):
``<JOB>/labels/<name>.xml`` for each compatible job (Kili refuses split; labelport supports it). Media are
shared at the root, ``images/<name><suffix>``. Polygons and semantic regions are written as their bounding box
(the report says how many per job). Boxes are whole pixels, rounded to the nearest pixel edge (0-based) and
clamped to the image, whose size is the asset's stored resolution. Every asset gets a file, even without objects.
See ``docs/export/pascal_voc.md``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from labelport.enums import InputType, Tool
from labelport.export import geometry
from labelport.export.detection import (
    SHAPE_TOOLS,
    Shape,
    annotations_of,
    asset_stem,
    frame_at,
    frame_count,
    frame_endings,
    frame_responses,
    frame_stem,
    job_folder,
    missing_frames,
    note_unexported,
    plural,
    read_shape,
)
from labelport.export.formats import register
from labelport.export.formats.base import (
    HONOURED,
    MODIFIER_NOT_CALLED,
    NO_DATASET_ROOT,
    NO_SPLIT,
    FormatSpec,
    OptionRule,
    Refused,
    StagedWriter,
    object_job,
    standard_layout,
)
from labelport.export.media import add_media
from labelport.export.model import ExportAsset
from labelport.export.names import NameAllocator
from labelport.export.report import Tally
from labelport.ontology import Job

_INDENT = "  "
_DEPTH = "3"
_DATABASE = "labelport"
#: The frame image suffix named in ``filename`` when a video has no stored frame images.
_DEFAULT_FRAME_SUFFIX = ".jpg"


@dataclass(frozen=True)
class _Object:
    name: str
    job: str
    box: tuple[int, int, int, int]  # xmin, ymin, xmax, ymax


#: The standard dataset layout (``dataset_layout="standard"``): Pascal VOC's own folders, one subset.
_ANNOTATIONS, _IMAGES, _SUBSET = "Annotations", "JPEGImages", "default"


class VocWriter(StagedWriter):
    def setup(self) -> None:
        #: dataset_layout="standard": VOC's folders (Annotations/, JPEGImages/, ImageSets/Main/), the jobs merged.
        self.standard = standard_layout(self.ctx.options)
        if self.ctx.options.layout == "merged" or self.standard:
            self.outputs: list[tuple[str, tuple[Job, ...]]] = [("", tuple(self.ctx.jobs))]
        else:
            self.outputs = [(f"{job_folder(job)}/", (job,)) for job in self.ctx.jobs]

    def parallel(self) -> bool:
        return self.ctx.input_type != InputType.VIDEO  # a video's frames are written as they are converted

    def open(self) -> None:
        self.setup()
        self.names = NameAllocator()
        self.counted: Counter[tuple[str, str]] = Counter()  # ("boxed" | "clamped", job) -> annotations
        self.image_set: list[str] = []  # the standard layout's ImageSets/Main/default.txt, in export order
        note_unexported(self.ctx, "Pascal VOC takes OBJECT_DETECTION jobs with a rectangle, polygon or semantic tool")

    def write_asset(self, asset: ExportAsset) -> None:
        if self.ctx.input_type != InputType.VIDEO:
            super().write_asset(asset)
            return
        tally = Tally()
        if self._writable(asset, tally):
            frames = frame_responses(asset.labels[0].json_response)
            count = frame_count(asset, frames)
            endings = frame_endings(asset, range(count), count, ".xml", _DEFAULT_FRAME_SUFFIX)
            name = self.names.allocate(asset.external_id, asset_stem(asset.external_id), endings)
            self._video(asset, name, frames, count)
        tally.tell(self.ctx.report)

    def _writable(self, asset: ExportAsset, tally: Tally) -> bool:
        if not asset.labels:
            return False
        if asset.resolution is None:
            tally.skip(
                asset.external_id,
                "no resolution: Pascal VOC needs the image size in pixels; set it with "
                "update_properties_in_assets(resolution_array=...)",
            )
            return False
        return True

    def convert(self, asset: ExportAsset, tally: Tally) -> list[str] | None:
        """The ``<object>`` elements of the image's document in each output."""
        if not self._writable(asset, tally):
            return None
        response = asset.labels[0].json_response
        rotation = geometry.rotation_of(response)
        return [self._objects_xml(asset, jobs, response, rotation, tally) for _, jobs in self.outputs]

    def emit(self, asset: ExportAsset, converted: list[str] | None, tally: Tally) -> None:
        tally.tell(self.ctx.report, self.counted)
        if converted is None:
            return
        assert asset.resolution is not None
        name = self.names.allocate(asset.external_id, asset_stem(asset.external_id), (".xml", asset.media_suffix))
        filename = f"{name}{asset.media_suffix}"
        for (folder, _), objects in zip(self.outputs, converted, strict=True):
            data = _document(self._images, filename, asset.resolution, objects)
            self.ctx.archive.write_bytes(self._document_member(folder, name), data)
            self.ctx.report.files += 1
        if self.ctx.options.with_assets:
            url = None if asset.media_path is not None else asset.content
            add_media(self.ctx, asset.external_id, f"{self._images}/{filename}", asset.media_path, url)

    @property
    def _images(self) -> str:
        return _IMAGES if self.standard else self.ctx.media_folder

    def _document_member(self, folder: str, stem: str) -> str:
        """``<folder>labels/<stem>.xml``, or ``Annotations/<stem>.xml`` listed in the image set (standard)."""
        if not self.standard:
            return f"{folder}labels/{stem}.xml"
        self.image_set.append(stem)
        return f"{_ANNOTATIONS}/{stem}.xml"

    def _video(self, asset: ExportAsset, name: str, frames: list[tuple[int, dict[str, Any]]], count: int) -> None:
        if count == 0:
            self.ctx.report.skip(asset.external_id, "the video has no frames (no frame list and no frame in its label)")
            return
        by_index = dict(frames)
        missing = 0
        for index in range(count):
            media = frame_at(asset, index)
            stem = frame_stem(name, index, count)
            filename = f"{stem}{media.suffix if media is not None else _DEFAULT_FRAME_SUFFIX}"
            self._documents(asset, stem, filename, by_index.get(index, {}))
            if self.ctx.options.with_assets and media is None:
                missing += 1
            elif self.ctx.options.with_assets and media is not None:
                add_media(self.ctx, asset.external_id, f"{self._images}/{filename}", media.path, media.url)
        if missing:
            self.ctx.report.skip(asset.external_id, missing_frames(missing))

    def _documents(self, asset: ExportAsset, stem: str, filename: str, response: dict[str, Any]) -> None:
        rotation = geometry.rotation_of(response)
        assert asset.resolution is not None
        for folder, jobs in self.outputs:
            tally = Tally()
            objects = self._objects_xml(asset, jobs, response, rotation, tally)
            tally.tell(self.ctx.report, self.counted)
            data = _document(self._images, filename, asset.resolution, objects)
            self.ctx.archive.write_bytes(self._document_member(folder, stem), data)
            self.ctx.report.files += 1

    def _objects_xml(
        self, asset: ExportAsset, jobs: tuple[Job, ...], response: dict[str, Any], rotation: int, tally: Tally
    ) -> str:
        return _objects_text(
            [
                item
                for job in jobs
                for annotation in annotations_of(response, job.name)
                for item in _objects(asset, job, annotation, rotation, tally)
            ]
        )

    def close(self) -> None:
        for job in self.ctx.jobs:
            boxed, clamped = self.counted[("boxed", job.name)], self.counted[("clamped", job.name)]
            if boxed:
                self.ctx.report.note(
                    f"job {job.name}: {plural(boxed, 'polygon')} written as bounding boxes (Pascal VOC has boxes only)"
                )
            if clamped:
                self.ctx.report.note(
                    f"job {job.name}: {plural(clamped, 'annotation')} extended outside the image; "
                    "their boxes were clamped to it"
                )
        if self.standard:
            self._standard_files()
        self.ctx.extras["renamed"] = self.names.renamed

    def _standard_files(self) -> None:
        """The image set (the documents' stems, one a line) and the label map (each category once, in ontology
        order, as ``name:color:parts:actions`` with the three last empty: datumaro then makes the colours)."""
        self.ctx.archive.write_text(f"ImageSets/Main/{_SUBSET}.txt", "".join(f"{stem}\n" for stem in self.image_set))
        names = dict.fromkeys(key for job in self.ctx.jobs for key in job.categories)
        labelmap = "# label:color_rgb:parts:actions\n" + "".join(f"{name}:::\n" for name in names)
        self.ctx.archive.write_text("labelmap.txt", labelmap)
        self.ctx.report.files += 2


def _objects(asset: ExportAsset, job: Job, annotation: dict[str, Any], rotation: int, tally: Tally) -> list[_Object]:
    if rotation == 0:
        found = _box_object(asset, job, annotation, tally)
        if found is not None:
            return [found]
    shape = read_shape(annotation, rotation, "Pascal VOC")
    if isinstance(shape, str):
        tally.skip(asset.external_id, shape, job.name)
        return []
    assert asset.resolution is not None
    result = _pixel_box(shape, asset.resolution)
    if isinstance(result, str):
        tally.skip(asset.external_id, result, job.name)
        return []
    box, clamped = result
    objects = []
    for key in shape.categories:
        if key in job.categories:
            objects.append(_Object(key, job.name, box))
        else:
            tally.skip(asset.external_id, f"category {key!r} is not a category of job {job.name!r}", job.name)
    if objects:
        tally.wrote(job.name, len(objects))
        if shape.tool != Tool.RECTANGLE:
            tally.count("boxed", job.name)
        if clamped:
            tally.count("clamped", job.name)
    return objects


def _box_object(asset: ExportAsset, job: Job, annotation: dict[str, Any], tally: Tally) -> _Object | None:
    """The object of a plain box of a known category (``geometry.plain_box``) at least a pixel
    wide and high, with the numbers of the general path; None for anything else, which goes there."""
    box = geometry.plain_box(annotation)
    if box is None or box[0] not in job.categories:
        return None
    key, lo_x, lo_y, hi_x, hi_y = box
    assert asset.resolution is not None
    result = _whole_pixels(lo_x, lo_y, hi_x, hi_y, asset.resolution)
    if isinstance(result, str):
        return None
    tally.wrote(job.name, 1)
    if result[1]:
        tally.count("clamped", job.name)
    return _Object(key, job.name, result[0])


def _pixel_box(shape: Shape, size: tuple[int, int]) -> tuple[tuple[int, int, int, int], bool] | str:
    """The box in whole pixels (nearest edge, clamped to the image) and whether clamping changed it."""
    if shape.tool != Tool.RECTANGLE and len(shape.outer) < 3:
        return "polygon with fewer than 3 vertices"
    x0, y0, x1, y1 = geometry.bounds(shape.outer)
    return _whole_pixels(x0, y0, x1, y1, size)


def _whole_pixels(
    x0: float, y0: float, x1: float, y1: float, size: tuple[int, int]
) -> tuple[tuple[int, int, int, int], bool] | str:
    """Normalized extremes as a box in whole pixels (nearest edge, clamped to the image), and whether
    clamping changed it."""
    width, height = size
    raw = (round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height))
    box = (
        min(max(raw[0], 0), width),
        min(max(raw[1], 0), height),
        min(max(raw[2], 0), width),
        min(max(raw[3], 0), height),
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        return "box less than one pixel wide or high (after rounding to whole pixels and clamping to the image)"
    return box, box != raw


def _escape(text: str) -> str:
    """XML character data: ``&``, ``<`` and ``>`` escaped (as ElementTree writes them)."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _leaf(tag: str, text: str) -> str:
    """``<tag>text</tag>``, or ``<tag />`` for empty text (as ElementTree writes it)."""
    return f"<{tag}>{_escape(text)}</{tag}>" if text else f"<{tag} />"


def _document(folder: str, filename: str, size: tuple[int, int], objects: str) -> bytes:
    """The XML document around ``objects`` (:func:`_objects_text`), written directly (about 10x faster than
    building an ElementTree and serializing it; the bytes are the same, which tests/export/test_pascal_voc.py
    checks against ElementTree)."""
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n<annotation>\n"
        f"{_INDENT}{_leaf('folder', folder)}\n"
        f"{_INDENT}{_leaf('filename', filename)}\n"
        f"{_INDENT}{_leaf('path', f'{folder}/{filename}')}\n"
        f"{_INDENT}<source>\n{_INDENT * 2}<database>{_DATABASE}</database>\n{_INDENT}</source>\n"
        f"{_INDENT}<size>\n{_INDENT * 2}<width>{size[0]}</width>\n{_INDENT * 2}<height>{size[1]}</height>\n"
        f"{_INDENT * 2}<depth>{_DEPTH}</depth>\n{_INDENT}</size>\n"
        f"{_INDENT}<segmented>0</segmented>\n{objects}</annotation>\n"
    ).encode()


def _objects_text(objects: list[_Object]) -> str:
    """The ``<object>`` elements of a document."""
    i2, i3 = _INDENT * 2, _INDENT * 3
    parts = []
    for item in objects:
        xmin, ymin, xmax, ymax = item.box
        parts.append(
            f"{_INDENT}<object>\n{i2}{_leaf('name', item.name)}\n{i2}{_leaf('job_name', item.job)}\n"
            f"{i2}<pose>Unspecified</pose>\n{i2}<truncated>0</truncated>\n{i2}<difficult>0</difficult>\n"
            f"{i2}<occluded>0</occluded>\n{i2}<bndbox>\n{i3}<xmin>{xmin}</xmin>\n{i3}<ymin>{ymin}</ymin>\n"
            f"{i3}<xmax>{xmax}</xmax>\n{i3}<ymax>{ymax}</ymax>\n{i2}</bndbox>\n{_INDENT}</object>\n"
        )
    return "".join(parts)


#: How Pascal VOC takes each option (checked by the pipeline before anything is written).
OPTIONS: dict[str, OptionRule] = {
    "layout": HONOURED,
    "single_file": Refused(
        "Pascal VOC writes one XML file per image or video frame", "Use single_file=False (the default)", (True,)
    ),
    "with_assets": HONOURED,
    "normalized_coordinates": Refused(
        "Pascal VOC boxes are in whole pixels", "Use normalized_coordinates=None (the default) or False", (True,)
    ),
    "annotation_modifier": MODIFIER_NOT_CALLED,
    "split": NO_SPLIT,
    "dataset_root": NO_DATASET_ROOT,
    "dataset_layout": HONOURED,
}


SPEC = register(
    FormatSpec(
        name="pascal_voc",
        writer=VocWriter,
        input_types=frozenset({InputType.IMAGE, InputType.VIDEO}),
        media_folder="images",
        job_filter=object_job(SHAPE_TOOLS, all_tools=False),
        needs="an OBJECT_DETECTION job with a rectangle, polygon or semantic tool",
        options=OPTIONS,
        one_label_per_output=True,
    )
)
