"""YOLO (``yolo_v4``, ``yolo_v5``, ``yolo_v7``, ``yolo_v8``): one text file of normalized rows per image or frame.

Layout ``split`` (the default): ``<JOB>/labels/<name>.txt`` and ``<JOB>/classes.txt`` (v4) or ``<JOB>/data.yaml``
(v5, v7, v8) for each compatible job; ``merged``: ``labels/<name>.txt`` and ``classes.txt``/``data.yaml`` at the
root, with the objects of every compatible job. Media go to ``images/<name><suffix>`` (yolo_v4: shared at the
root), so that ``images/x.jpg`` pairs with ``labels/x.txt``; without media, ``images/remote_assets.csv`` says where
each image is.

Rows: ``<class> cx cy w h`` for a rectangle, ``<class> x1 y1 … xn yn`` for a polygon or a semantic region (outer
ring), normalized to [0, 1] after undoing ``ROTATION_JOB``, 6 decimals. When rectangles and polygons can meet in
one file, every rectangle is written as its 4 corners: training code rejects files that mix box and segment rows.
``yolo_v4`` is Darknet's format, whose reader takes 5-value rows only: it writes every polygon and semantic region
as its bounding box (and never mixes).
Class ids come from the ontology, never from the labels seen, so they are stable across exports.

With the media and no split (v5, v7, v8), data.yaml's ``train`` and ``val`` are the one image set, and the media are
in each output folder (``<JOB>/images/`` in the split layout), so that the archive trains as it is unzipped.

With a train/val/test split (v5, v7, v8), every output folder is a complete dataset: ``images/<split>/<name><ext>``,
``labels/<split>/<name>.txt`` and a ``data.yaml`` with ``path``, ``train``, ``val`` (and ``test``); in the split layout
the media are copied into each job folder. See ``docs/export/yolo.md``.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

import orjson
import yaml

from labelport.enums import InputType, Tool
from labelport.export import geometry
from labelport.export.archive import compressed
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
    OWN_LAYOUT_ONLY,
    FormatSpec,
    OptionRule,
    Refused,
    StagedWriter,
    object_job,
    split_of,
    standard_layout,
)
from labelport.export.media import add_media_copies
from labelport.export.model import ExportAsset, ExportContext
from labelport.export.names import NameAllocator
from labelport.export.report import Tally
from labelport.export.zipwriter import COPY_CHUNK, Deflated
from labelport.ontology import Job

_REGION_TOOLS = frozenset({Tool.POLYGON, Tool.SEMANTIC})
_VERSIONS = ("yolo_v4", "yolo_v5", "yolo_v7", "yolo_v8")
_PRECISION = 6
#: Clamping that does not change the written value (float noise) is not reported.
_TOLERANCE = 0.5 * 10.0**-_PRECISION
_CSV_HEADER = ("external id", "url", "image file", "label file")
_SPLIT_VERSIONS = ("yolo_v5", "yolo_v7", "yolo_v8")
_IMAGES = "images"
_DEFAULT_SUBSET = "default"
_STANDARD_COMMENT = (
    "# The standard layout without a split: one subset, default, which train and val both name (val then\n"
    "# measures nothing held out; export with split=... for that). path '' (empty) is the folder of this\n"
    "# data.yaml: Ultralytics reads train and val relative to it.\n"
)
_UNSPLIT_COMMENT = (
    "# No split was asked for: train and val are the same images, so that the dataset trains as it is\n"
    "# (val then measures nothing held out; export with split=... for that). path '' (empty) is the\n"
    "# folder of this data.yaml: Ultralytics reads train and val relative to it.\n"
)


class Spool:
    """A member written piece by piece into a temporary file, put into the archive at the end."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish())
        self.empty = True

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.empty = False

    def finish(self, ctx: ExportContext, member: str, head: bytes = b"", tail: bytes = b"") -> None:
        self.file.seek(0)
        with ctx.archive.open(member, large=True) as out:
            out.write(head)
            shutil.copyfileobj(self.file, out, COPY_CHUNK)
            out.write(tail)
        self.file.close()
        ctx.report.files += 1


# -- YOLO -------------------------------------------------------------------------------------------


@dataclass
class _Output:
    """One output folder: its jobs, their class ids, and whether every row is a polygon."""

    folder: str  # "" (merged) or "<JOB>/"
    jobs: tuple[Job, ...]
    classes: dict[tuple[str, str], int]
    names: list[str]
    polygons_only: bool
    meta: Spool | None = None


@dataclass(frozen=True)
class _Values:
    values: list[float]
    clamped: bool


class YoloWriter(StagedWriter):
    def setup(self) -> None:
        self.plan = self.ctx.options.split
        #: yolo_v4 is Darknet's format, whose reader takes 5-value box rows only: regions become their boxes.
        #: dataset_layout="standard": one dataset as Ultralytics lays it out (images/<subset>, labels/<subset>,
        #: data.yaml; subset "default" without a split), box rows only (datumaro's YOLO reader takes 5 values),
        #: names without folders (datumaro pairs an image and its label file by their file names in a subset).
        self.standard = standard_layout(self.ctx.options)
        self.boxes_only = self.ctx.options.fmt == "yolo_v4" or self.standard
        #: With media and no split, data.yaml's train and val are the one image set (yolo_v5/v7/v8), so that the
        #: archive trains as it is unzipped: each output folder holds its images, as in a split export.
        self.trainable = self.plan is None and self.ctx.options.with_assets and self.ctx.options.fmt != "yolo_v4"
        self.outputs = self._outputs()
        self.video = self.ctx.input_type == InputType.VIDEO

    def parallel(self) -> bool:
        return not self.video  # a video's frames are written as they are converted

    def open(self) -> None:
        self.setup()
        self.names = NameAllocator()
        self.counted: Counter[tuple[str, str]] = Counter()  # ("holes" | "clamped", job) -> annotations
        note_unexported(
            self.ctx, "YOLO takes OBJECT_DETECTION jobs whose tools are all among rectangle, polygon and semantic"
        )
        for output in self.outputs:
            if output.polygons_only:
                self.ctx.report.note(self._mixing_note(output.jobs, output.folder == ""))
        if self.plan is not None or self.trainable:
            self._split_notes()
        self.remote: io.TextIOWrapper | None = None
        if not self.ctx.options.with_assets:
            self.remote_spool = Spool()
            self.remote = io.TextIOWrapper(self.remote_spool.file, encoding="utf-8", newline="")
            self.rows = csv.writer(self.remote, lineterminator="\n")
            self.rows.writerow(_CSV_HEADER)
        for output in self.outputs:
            self._class_file(output)
            if self.video:
                output.meta = Spool()

    def _outputs(self) -> list[_Output]:
        if self.ctx.options.layout == "merged" or self.standard:
            groups = [("", tuple(self.ctx.jobs))]
        else:
            groups = [(f"{job_folder(job)}/", (job,)) for job in self.ctx.jobs]
        outputs = []
        for folder, jobs in groups:
            merged = folder == ""
            classes: dict[tuple[str, str], int] = {}
            names: list[str] = []
            for job in jobs:
                for key in job.categories:
                    classes[(job.name, key)] = len(names)
                    names.append(f"{job.name}/{key}" if merged else key)
            tools = {tool for job in jobs for tool in job.tools}
            mixed = Tool.RECTANGLE in tools and bool(tools & _REGION_TOOLS) and not self.boxes_only
            outputs.append(_Output(folder, jobs, classes, names, mixed))
        return outputs

    def _mixing_note(self, jobs: tuple[Job, ...], merged: bool) -> str:
        where = f"merged layout (jobs {', '.join(job.name for job in jobs)})" if merged else f"job {jobs[0].name}"
        return (
            f"{self.ctx.options.fmt}, {where}: rectangles written as 4-point polygons, because rectangles and "
            "polygons/semantic regions can meet in one label file and YOLO training code rejects files that mix "
            "box rows and segment rows"
        )

    def _split_notes(self) -> None:
        fmt, options = self.ctx.options.fmt, self.ctx.options
        if options.with_assets and options.layout != "merged" and len(self.outputs) > 1:
            folders = ", ".join(output.folder.rstrip("/") for output in self.outputs)
            export = "split export" if self.plan is not None else "export with media"
            self.ctx.report.note(
                f"{fmt} {export}, layout split: the media are copied into each of the {len(self.outputs)} job "
                f"folders ({folders}), so that each folder is a complete dataset; use layout='merged' to store "
                "them once"
            )
        if self.plan is None:
            return
        if options.dataset_root is None and fmt == "yolo_v5":
            self.ctx.report.note(
                "yolo_v5: YOLOv5's train.py reads an empty data.yaml path as its own repository folder; export with "
                "dataset_root='<the folder where you unzip the archive>' (or set path in data.yaml)"
            )
        if options.dataset_root is None and fmt == "yolo_v7":
            self.ctx.report.note(
                "yolo_v7: YOLOv7's train.py reads train, val and test relative to the working directory; run it "
                "from the unzipped folder, or export with dataset_root='<the folder where you unzip the archive>'"
            )

    def _class_file(self, output: _Output) -> None:
        fmt = self.ctx.options.fmt
        if fmt == "yolo_v4":
            member, text = "classes.txt", "".join(f"{index} {name}\n" for index, name in enumerate(output.names))
        else:
            data: dict[str, Any] = {}
            if self.plan is not None:
                data = self._split_keys(output)
            elif self.standard:
                subset = f"{self.ctx.media_folder}/{_DEFAULT_SUBSET}"
                data = {"path": "", "train": subset, "val": subset}
            elif self.trainable:
                data = {"path": "", "train": _IMAGES, "val": _IMAGES}
            if fmt == "yolo_v5":
                data["names"] = dict(enumerate(output.names))
            else:
                data.update({"nc": len(output.names), "names": list(output.names)})
            member = "data.yaml"
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
            if self.plan is not None:
                text = self._data_yaml_comment() + text
            elif self.standard:
                text = _STANDARD_COMMENT + text
            elif self.trainable:
                text = _UNSPLIT_COMMENT + text
        self.ctx.archive.write_text(output.folder + member, text)
        self.ctx.report.files += 1

    def _split_keys(self, output: _Output) -> dict[str, Any]:
        """``path``, ``train``, ``val`` (and ``test``) of a split export's data.yaml.

        Without ``dataset_root``, ``path`` is empty: Ultralytics then takes the folder of data.yaml, wherever
        the archive was unzipped. With it, ``path`` is the output folder under that root, and YOLOv7, which reads
        ``train``/``val``/``test`` as they are, gets them absolute.
        """
        assert self.plan is not None
        root = self.ctx.options.dataset_root
        base = "" if root is None else join_path(root, output.folder.rstrip("/"))
        absolute = root is not None and self.ctx.options.fmt == "yolo_v7"
        data: dict[str, Any] = {"path": base}
        for name in self.plan.names:
            data[name] = join_path(base, f"images/{name}") if absolute else f"images/{name}"
        return data

    def _data_yaml_comment(self) -> str:
        if self.ctx.options.dataset_root is None:
            return (
                "# path '' (empty) is the folder of this data.yaml, wherever the archive was unzipped: Ultralytics\n"
                "# reads train, val and test relative to it. YOLOv5 and YOLOv7 do not: see dataset_root in\n"
                "# docs/export/yolo.md.\n"
            )
        if self.ctx.options.fmt == "yolo_v7":
            return (
                "# path is this folder once the archive is unzipped into dataset_root; train, val and test are\n"
                "# absolute, as YOLOv7 reads them as they are.\n"
            )
        return (
            "# path is this folder once the archive is unzipped into dataset_root; train, val and test are\n"
            "# relative to it.\n"
        )

    # -- one asset --------------------------------------------------------------------------------

    def write_asset(self, asset: ExportAsset) -> None:
        if self.video:
            if asset.labels:
                frames = frame_responses(asset.labels[0].json_response)
                count = frame_count(asset, frames)
                name = self._name(asset, frame_endings(asset, (index for index, _ in frames), count, ".txt"))
                self._video(asset, name, frames, count, self._subset(asset))
        else:
            super().write_asset(asset)

    def _name(self, asset: ExportAsset, endings: Sequence[str]) -> str:
        """The asset's name in every folder: unique over the label files and images named after it."""
        stem = asset_stem(asset.external_id)
        if self.standard:
            stem = stem.replace("/", "_")
        paired = self.plan is not None or self.trainable
        return self.names.allocate(asset.external_id, pairable(stem) if paired else stem, endings)

    def _subset(self, asset: ExportAsset) -> str | None:
        """The folder under images/ and labels/: the asset's split, ``default`` in the standard layout without
        one, else None (no subset folder)."""
        split = split_of(self.ctx.options, asset)
        return _DEFAULT_SUBSET if split is None and self.standard else split

    def convert(self, asset: ExportAsset, tally: Tally) -> list[Deflated] | None:
        """The image's label file in each output, compressed for the archive."""
        if not asset.labels:
            return None
        response = asset.labels[0].json_response
        rotation = geometry.rotation_of(response)
        return [
            compressed(self._label_text(output, asset.external_id, response, rotation, tally).encode())
            for output in self.outputs
        ]

    def emit(self, asset: ExportAsset, converted: list[Deflated] | None, tally: Tally) -> None:
        tally.tell(self.ctx.report, self.counted)
        if converted is None:
            return
        name = self._name(asset, (".txt", asset.media_suffix))
        split = self._subset(asset)
        source = str(asset.media_path) if asset.media_path is not None else asset.content
        images: list[str] = []
        for output, label in zip(self.outputs, converted, strict=True):
            image = self._image_member(output, split, f"{name}{asset.media_suffix}")
            label_file = self._label_member(output, name, split)
            self.ctx.archive.write_member(label_file, label)
            self.ctx.report.files += 1
            self._remote_row(asset.external_id, source, image, label_file)
            if image not in images:
                images.append(image)
        if self.ctx.options.with_assets:
            url = None if asset.media_path is not None else asset.content
            add_media_copies(self.ctx, asset.external_id, images, asset.media_path, url)

    def _image_member(self, output: _Output, split: str | None, file: str) -> str:
        """Where an image goes: with a split ``<output>images/<split>/``; without one, ``<output>images/`` when
        data.yaml points at it (:attr:`trainable`), else shared ``images/`` at the root (Kili's place)."""
        if split is None:
            folder = output.folder if self.trainable else ""
            return f"{folder}{self.ctx.media_folder}/{file}"
        return f"{output.folder}{self.ctx.media_folder}/{split}/{file}"

    def _video(
        self, asset: ExportAsset, name: str, frames: list[tuple[int, dict[str, Any]]], count: int, split: str | None
    ) -> None:
        images: dict[int, list[str]] = {}  # frame index -> its image members (one per output with a split)
        for output in self.outputs:
            stems = []
            for index, frame in frames:
                if not any(annotations_of(frame, job.name) for job in output.jobs):
                    continue
                stem = frame_stem(name, index, count)
                stems.append(stem if split is None else f"{split}/{stem}")
                rotation = geometry.rotation_of(frame)
                tally = Tally()
                label_file = self._label_member(output, stem, split)
                text = self._label_text(output, asset.external_id, frame, rotation, tally)
                self.ctx.archive.write_text(label_file, text)
                self.ctx.report.files += 1
                tally.tell(self.ctx.report, self.counted)
                media = frame_at(asset, index)
                image = self._image_member(output, split, f"{stem}{media.suffix}") if media is not None else ""
                source = (str(media.path) if media.path else media.url or "") if media is not None else asset.content
                self._remote_row(asset.external_id, source, image, label_file)
                members = images.setdefault(index, [])
                if image and image not in members:
                    members.append(image)
            assert output.meta is not None
            entry = orjson.dumps(asset.external_id) + b": [" + b", ".join(orjson.dumps(s) for s in stems) + b"]"
            output.meta.write((b"" if output.meta.empty else b",\n") + b"  " + entry)
        if not self.ctx.options.with_assets:
            return
        missing = 0
        for index, members in images.items():
            media = frame_at(asset, index)
            if media is None:
                missing += 1
            else:
                add_media_copies(self.ctx, asset.external_id, members, media.path, media.url)
        if missing:
            self.ctx.report.skip(asset.external_id, missing_frames(missing))

    def _remote_row(self, external_id: str, source: str, image: str, label_file: str) -> None:
        if self.remote is not None:
            self.rows.writerow((external_id, source, image, label_file))

    def _label_member(self, output: _Output, stem: str, split: str | None) -> str:
        return f"{output.folder}labels/{stem}.txt" if split is None else f"{output.folder}labels/{split}/{stem}.txt"

    def _label_text(
        self, output: _Output, external_id: str, response: dict[str, Any], rotation: int, tally: Tally
    ) -> str:
        return "".join(
            [
                row
                for job in output.jobs
                for annotation in annotations_of(response, job.name)
                for row in self._rows(output, job, external_id, annotation, rotation, tally)
            ]
        )

    def _rows(
        self, output: _Output, job: Job, external_id: str, annotation: dict[str, Any], rotation: int, tally: Tally
    ) -> list[str]:
        if rotation == 0 and not output.polygons_only:
            row = _box_row(output, job, annotation, tally)
            if row is not None:
                return [row]
        shape = read_shape(annotation, rotation, "YOLO")
        if isinstance(shape, str):
            tally.skip(external_id, shape, job.name)
            return []
        result = _values(shape, output.polygons_only, self.boxes_only)
        if isinstance(result, str):
            tally.skip(external_id, result, job.name)
            return []
        ids = []
        for key in shape.categories:
            cls = output.classes.get((job.name, key))
            if cls is None:
                tally.skip(external_id, f"category {key!r} is not a category of job {job.name!r}", job.name)
            else:
                ids.append(cls)
        if ids:
            tally.wrote(job.name, len(ids))
            if shape.tool != Tool.RECTANGLE and self.boxes_only:
                tally.count("boxed", job.name)
            elif shape.holes and shape.tool != Tool.RECTANGLE:
                tally.count("holes", job.name)
            if result.clamped:
                tally.count("clamped", job.name)
        text = _row_text(result.values)
        return [f"{cls} {text}\n" for cls in ids]

    # -- end --------------------------------------------------------------------------------------

    def close(self) -> None:
        for job in self.ctx.jobs:
            holes, clamped = self.counted[("holes", job.name)], self.counted[("clamped", job.name)]
            boxed = self.counted[("boxed", job.name)]
            if boxed:
                one = boxed == 1
                what = (
                    f"{plural(boxed, 'polygon')}/semantic region{'' if one else 's'} written as "
                    f"{'its' if one else 'their'} bounding box{'' if one else 'es'}"
                )
                self.ctx.report.note(
                    f"{self.ctx.options.fmt} standard layout, job {job.name}: {what}: the standard YOLO layout "
                    "(datumaro, CVAT, FiftyOne) reads box rows only (5 values)"
                    if self.standard
                    else f"yolo_v4, job {job.name}: {what}: yolo_v4 is Darknet's format, whose label reader takes "
                    "box rows only (5 values); use yolo_v8 for segments"
                )
            if holes:
                self.ctx.report.note(
                    f"job {job.name}: holes dropped from {plural(holes, 'region')}; a YOLO segment has "
                    "one ring, so only the outer ring is written"
                )
            if clamped:
                self.ctx.report.note(
                    f"job {job.name}: {plural(clamped, 'annotation')} extended outside the image; "
                    "their coordinates were clamped to [0, 1]"
                )
        for output in self.outputs:
            if output.meta is not None:
                tail = b"\n}\n" if not output.meta.empty else b"}\n"
                output.meta.finish(self.ctx, f"{output.folder}video_meta.json", b"{\n", tail)
        if self.remote is not None:
            self.remote.flush()
            self.remote.detach()  # the spool owns the file from here
            self.remote_spool.finish(self.ctx, f"{self.ctx.media_folder}/remote_assets.csv")
        self.ctx.extras["renamed"] = self.names.renamed


def _box_row(output: _Output, job: Job, annotation: dict[str, Any], tally: Tally) -> str | None:
    """The row of a plain box of a known category (``geometry.plain_box``) that survives clamping,
    with the numbers and text of the general path; None for anything else, which goes there."""
    box = geometry.plain_box(annotation)
    if box is None:
        return None
    key, lo_x, lo_y, hi_x, hi_y = box
    cls = output.classes.get((job.name, key))
    if cls is None:
        return None
    result = _box_values(lo_x, lo_y, hi_x, hi_y, False)
    if isinstance(result, str):
        return None
    tally.wrote(job.name, 1)
    if result.clamped:
        tally.count("clamped", job.name)
    x, y, w, h = result.values
    return _BOX_ROW(cls, x + 0.0, y + 0.0, w + 0.0, h + 0.0)


def _values(shape: Shape, polygons_only: bool, boxes_only: bool = False) -> _Values | str:
    """The numbers of a row, clamped to [0, 1], or the reason the shape is degenerate. ``boxes_only``
    (yolo_v4): a polygon or semantic region that is not degenerate gives its (clamped) bounding box.

    Written for speed (the hot loop of a YOLO export): clamping is decided from the extremes, and a
    rectangle is built from its clamped extremes (clamping is monotonic, so they are the extremes of
    the clamped points)."""
    outer = shape.outer
    xs = [x for x, _ in outer]
    ys = [y for _, y in outer]
    lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)
    if shape.tool == Tool.RECTANGLE:
        return _box_values(lo_x, lo_y, hi_x, hi_y, polygons_only)
    clamped = _outside(lo_x, lo_y, hi_x, hi_y)
    clamp = geometry.clamp01
    if len(outer) < 3:
        return "polygon with fewer than 3 vertices"
    inside = lo_x >= 0.0 and lo_y >= 0.0 and hi_x <= 1.0 and hi_y <= 1.0
    points = outer if inside else [(clamp(x), clamp(y)) for x, y in outer]
    if geometry.polygon_area(points) < _TOLERANCE**2:
        return "polygon with zero area (after clamping to the image)"
    if boxes_only:
        return _box_values(lo_x, lo_y, hi_x, hi_y, False)
    return _Values([value for point in points for value in point], clamped)


def _outside(lo_x: float, lo_y: float, hi_x: float, hi_y: float) -> bool:
    """Whether some vertex is farther than the tolerance outside [0, 1] (hi − 1.0 is exact near 1)."""
    return -lo_x > _TOLERANCE or -lo_y > _TOLERANCE or hi_x - 1.0 > _TOLERANCE or hi_y - 1.0 > _TOLERANCE


def _box_values(lo_x: float, lo_y: float, hi_x: float, hi_y: float, polygons_only: bool) -> _Values | str:
    """A rectangle's row numbers from its extremes, clamped (clamping is monotonic, so the clamped
    extremes are the extremes of the clamped points): centre and size, or its 4 corners."""
    clamp = geometry.clamp01
    x0, y0, x1, y1 = clamp(lo_x), clamp(lo_y), clamp(hi_x), clamp(hi_y)
    if x1 - x0 < _TOLERANCE or y1 - y0 < _TOLERANCE:
        return "zero-size box (after clamping to the image)"
    clamped = _outside(lo_x, lo_y, hi_x, hi_y)
    if polygons_only:
        return _Values([x0, y0, x1, y0, x1, y1, x0, y1], clamped)
    return _Values([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], clamped)


_FORMAT = f"{{:.{_PRECISION}f}}".format
#: ``cls x y w h`` with the numbers as ``_row_text`` writes them, in one call.
_BOX_ROW = ("{} " + " ".join([f"{{:.{_PRECISION}f}}"] * 4) + "\n").format


def _row_text(values: list[float]) -> str:
    """``0.500000 0.250000 …``: 6 decimals, -0.0 written as 0.000000."""
    return " ".join([_FORMAT(value + 0.0) for value in values])


def pairable(stem: str) -> str:
    """A name Ultralytics pairs: it finds an image's label file by replacing the *last* ``/images/`` of the
    image's path by ``/labels/``, so a folder named ``images`` inside a name (``images/cam1/a``) would be taken
    for the dataset's own; it becomes ``images_``."""
    return "/".join("images_" if segment == "images" else segment for segment in stem.split("/"))


def join_path(root: str, relative: str) -> str:
    """``/data/street`` + ``images/train`` → ``/data/street/images/train`` (no doubled or trailing separator)."""
    trimmed = root.rstrip("/\\") or root[:1]
    if not relative:
        return trimmed
    return f"{trimmed}{relative}" if trimmed.endswith(("/", "\\")) else f"{trimmed}/{relative}"


def _options(version: str) -> dict[str, OptionRule]:
    """How a YOLO version takes each option (checked by the pipeline before anything is written)."""
    split = version in _SPLIT_VERSIONS
    return {
        "layout": HONOURED,
        "single_file": Refused(
            "YOLO writes one label file per image or video frame", "Use single_file=False (the default)", (True,)
        ),
        "with_assets": HONOURED,
        "normalized_coordinates": Refused(
            "YOLO coordinates are always normalized to [0, 1]",
            "Use normalized_coordinates=None (the default) or True",
            (False,),
        ),
        "annotation_modifier": MODIFIER_NOT_CALLED,
        "split": HONOURED
        if split
        else Refused(
            "Darknet (YOLOv4) lists the images of each split in train.txt and valid.txt files, which this export "
            "does not write",
            "Use yolo_v5, yolo_v7 or yolo_v8: they write the same label files, in images/<split> and labels/<split> "
            "folders with a data.yaml",
        ),
        "dataset_root": HONOURED if split else NO_DATASET_ROOT,
        "dataset_layout": HONOURED if split else OWN_LAYOUT_ONLY,
    }


for _version in _VERSIONS:
    register(
        FormatSpec(
            name=_version,
            writer=YoloWriter,
            input_types=frozenset({InputType.IMAGE, InputType.VIDEO}),
            media_folder="images",
            job_filter=object_job(SHAPE_TOOLS, all_tools=True),
            needs="an OBJECT_DETECTION job whose tools are all among rectangle, polygon and semantic",
            options=_options(_version),
            one_label_per_output=True,
        )
    )
