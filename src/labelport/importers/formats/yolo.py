"""YOLO (``yolo_v4``, ``yolo_v5``, ``yolo_v7``, ``yolo_v8``): one text file of normalized rows per image.

The versions differ only in the class file, and all are read the same way:

* **classes**: ``classes.txt`` (``<id> <name>`` lines as Kili and labelport write them, or one name
  a line as Darknet does), or a YAML file with ``names`` (a list, or a map from id to name; ``nc``
  must agree). Names ``<JOB>/<KEY>`` (a merged Kili/labelport export) give one job per ``<JOB>``;
  several class files (the split layout, ``<JOB>/classes.txt``) give one job each, named after the
  folder; otherwise one job, ``job_name`` or ``OBJECT_DETECTION_JOB``.
* **images and labels**: with a YAML that has ``train``, ``val`` or ``test`` (Ultralytics), the
  images are those entries (folders, or text files listing images), relative to ``path``, and the
  label of ``…/images/…/x.jpg`` is ``…/labels/…/x.txt``. Otherwise the labels are the ``.txt`` files
  under ``labels/`` next to the class file and the images are in ``images/`` (next to it or at the
  root), paired by path; ``images/remote_assets.csv`` (written by exports without media) gives
  the external id and URL of images that are not in the input. The external id is the image's path
  under ``images/``.
* **rows**: ``<class> cx cy w h`` is a rectangle; ``<class> x1 y1 … xn yn`` (n ≥ 3) a polygon, or a
  rectangle when it is the four corners of an axis-aligned box. With ``kpt_shape`` in the YAML
  (pose datasets), the keypoints after the box are reported and not imported.

An image with a label file (even empty: a negative example) gets a label; an image without one is
imported without a label.
"""

from __future__ import annotations

import csv
import io
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labelport import media as store_media
from labelport.enums import Tool
from labelport.errors import DatasetError
from labelport.importers import geometry
from labelport.importers.dataset import Dataset, ImportAsset, ImportLabel, ImportOptions
from labelport.importers.formats import register
from labelport.importers.formats.base import Detection, ImporterSpec
from labelport.importers.media import find_media, image_size, missing
from labelport.importers.ontology import DEFAULT_JOB
from labelport.importers.report import ImportReport
from labelport.importers.source import IMAGE_SUFFIXES, Source

_CLASSES = "classes.txt"
_SPLITS = ("train", "val", "test")
_NUMBERED = re.compile(r"^(\d+)\s+(\S.*)$")
_REMOTE = "remote_assets.csv"


def _is_class_file(rel: str, head: bytes) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name == _CLASSES or (name.endswith((".yaml", ".yml")) and b"names" in head)


def class_files(source: Source) -> list[str]:
    candidates = [source.single] if source.single is not None else source.files
    found = []
    for rel in candidates:
        head = source.peek(rel) if rel.endswith((".yaml", ".yml")) else b""
        if _is_class_file(rel, head):
            found.append(rel)
    return found


def _version(source: Source, rel: str) -> str:
    if rel.endswith(_CLASSES):
        return "yolo_v4"
    try:
        names = yaml.safe_load(source.peek(rel)).get("names")
    except (yaml.YAMLError, AttributeError):
        return "yolo_v8"
    return "yolo_v5" if isinstance(names, dict) else "yolo_v8"


def detect(source: Source) -> Detection | None:
    classes = class_files(source)
    if not classes:
        return None
    if source.single is None:
        labels = [rel for rel in source.files if rel.endswith(".txt") and "labels/" in f"/{rel}" and rel not in classes]
        if not labels:
            return None
        evidence = f"{classes[0]}, {labels[0]}"
    else:
        evidence = classes[0]
    return Detection(_version(source, classes[0]), evidence)


# -- class files ------------------------------------------------------------------------------------


@dataclass
class _Set:
    """One class file and what it governs."""

    rel: str
    folder: str  # the class file's folder, relative to the input root ("" at the root)
    names: list[str]
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    classes: list[tuple[str, str]] = field(default_factory=list)  # job and key of each class id

    @property
    def keypoint_values(self) -> int | None:
        shape = self.data.get("kpt_shape")
        if isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, int) for v in shape):
            return shape[0] * shape[1]
        return None


def _read_set(source: Source, rel: str) -> _Set:
    folder = posixpath.dirname(rel)
    text = source.read_text(rel)
    where = source.describe(rel)
    if rel.endswith(_CLASSES):
        return _Set(rel, folder, _classes_txt(text, where))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise DatasetError(f"{where}{line}: not valid YAML ({getattr(error, 'problem', error)}).") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: a YOLO YAML file must be a mapping with 'names'.")
    names = data.get("names")
    if isinstance(names, dict):
        keys = sorted(names)
        if keys != list(range(len(keys))):
            raise DatasetError(f"{where}, line {_line(text, 'names')}: 'names' ids must be 0, 1, … n-1, got {keys}.")
        names = [names[key] for key in keys]
    if not isinstance(names, list) or not names or not all(isinstance(n, str | int | float) for n in names):
        raise DatasetError(f"{where}, line {_line(text, 'names')}: 'names' must be a non-empty list or map of names.")
    names = [str(name) for name in names]
    count = data.get("nc")
    if count is not None and count != len(names):
        raise DatasetError(f"{where}, line {_line(text, 'nc')}: nc is {count} but 'names' has {len(names)} names.")
    return _Set(rel, folder, names, data, text)


def _classes_txt(text: str, where: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise DatasetError(f"{where}: the class file is empty.")
    numbered = [_NUMBERED.match(line) for line in lines]
    if all(numbered) and [int(m.group(1)) for m in numbered if m] == list(range(len(lines))):
        return [m.group(2).strip() for m in numbered if m]
    return lines


def _line(text: str, key: str) -> int:
    """The line of a top-level key of a YAML document (1 when it cannot be found)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return 1
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if getattr(key_node, "value", None) == key:
                return key_node.start_mark.line + 1
    return 1


def _assign_jobs(sets: list[_Set], options: ImportOptions, where: str) -> None:
    if len(sets) > 1:
        if options.job_name:
            raise DatasetError(
                f"{where}: {len(sets)} class files ({', '.join(s.rel for s in sets)}) give {len(sets)} jobs; "
                "job_name names the job of a one-job dataset only."
            )
        for item in sets:
            job = posixpath.basename(item.folder) or DEFAULT_JOB
            item.classes = [(job, name) for name in item.names]
        return
    item = sets[0]
    if options.job_name:
        item.classes = [(options.job_name, name) for name in item.names]
    elif all(_split_name(name) for name in item.names):
        item.classes = [_split_name(name) for name in item.names]  # type: ignore[misc]
    else:
        item.classes = [(DEFAULT_JOB, name) for name in item.names]


def _split_name(name: str) -> tuple[str, str] | None:
    job, slash, key = name.partition("/")
    return (job, key) if slash and job and key and "/" not in key else None


# -- images -----------------------------------------------------------------------------------------


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for base, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(base) / name for name in sorted(names) if not name.startswith("."))
    return found


def _external_id(path: Path, base: Path) -> str:
    resolved, root = path.resolve(), base.resolve()
    rel = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path.name
    head, sep, tail = rel.rpartition("images/")
    return tail if sep and (not head or head.endswith("/")) else rel


def _label_of(image: Path) -> Path:
    """Ultralytics' rule: the last ``/images/`` of the path becomes ``/labels/``, the suffix ``.txt``."""
    text = image.as_posix()
    head, sep, tail = text.rpartition("/images/")
    replaced = f"{head}/labels/{tail}" if sep else text
    return Path(replaced).with_suffix(".txt")


@dataclass
class _Pending:
    """An image (or a label without an image) found, before it is turned into an asset."""

    external_id: str
    origin: str
    image: Path | None = None
    url: str = ""
    labels: list[tuple[_Set, Path]] = field(default_factory=list)


class _Reader:
    def __init__(self, source: Source, fmt: str, options: ImportOptions, report: ImportReport) -> None:
        self.source = source
        self.options = options
        self.report = report
        self.dataset = Dataset(fmt, report, jobs=[])
        self.pending: dict[str, _Pending] = {}
        self.remote = self._remote_rows()
        #: The order of the CSV (an export's asset order), which assets then keep.
        self.remote_order = {external_id: index for index, (external_id, _) in enumerate(self.remote.values())}

    def _remote_rows(self) -> dict[str, tuple[str, str]]:
        """label file (archive path) → (external id, url), from the CSV of an export without media."""
        rows: dict[str, tuple[str, str]] = {}
        if self.source.kind == "file":
            return rows
        for rel in self.source.files:
            if rel.rsplit("/", 1)[-1] != _REMOTE:
                continue
            reader = csv.reader(io.StringIO(self.source.read_text(rel)))
            header = next(reader, [])
            if header[:2] != ["external id", "url"] or "label file" not in header:
                continue
            at = header.index("label file")
            for row in reader:
                if len(row) > at:
                    rows[row[at]] = (row[0], row[1])
        return rows

    # -- gathering ------------------------------------------------------------------------------

    def gather(self, item: _Set) -> None:
        splits = [key for key in _SPLITS if item.data.get(key)]
        if splits:
            self._gather_splits(item, splits)
        else:
            self._gather_folders(item)

    def _gather_splits(self, item: _Set, splits: list[str]) -> None:
        where = self.source.describe(item.rel)
        folder = self.source.root / item.folder
        base = folder
        declared = item.data.get("path")
        if isinstance(declared, str) and declared:
            candidate = Path(declared) if Path(declared).is_absolute() else folder / declared
            if candidate.is_dir():
                base = candidate
            else:
                self.report.note(
                    f"{where}: path {declared!r} is not a folder here; train/val/test were read from the YAML's folder"
                )
        used: set[Path] = set()
        # train and val often name the same folder (tiny datasets), or the same files by other spellings: each
        # image, by its resolved path, is read once, so that its label file is not read twice.
        seen: set[Path] = set()
        repeated = 0
        for split in splits:
            entries = item.data[split]
            for entry in entries if isinstance(entries, list) else [entries]:
                for image in self._split_images(base, str(entry), f"{where}, line {_line(item.text, split)}"):
                    resolved = image.resolve()
                    if resolved in seen:
                        repeated += 1
                        continue
                    seen.add(resolved)
                    label = _label_of(image)
                    self._add_image(image, base, item, label)
                    used.add(label.resolve())
        if repeated:
            self.report.note(
                f"{where}: {repeated} image{' is' if repeated == 1 else 's are'} listed in more than one of train, "
                "val and test; each image and its label file were imported once"
            )
        labels = base / "labels"
        for path in _walk(labels) if labels.is_dir() else []:
            if path.suffix == ".txt" and path.resolve() not in used:
                reason = "label file of no image of train/val/test: not imported"
                self.report.skip(self._describe(path), path.stem, reason)

    def _split_images(self, base: Path, entry: str, where: str) -> list[Path]:
        target = Path(entry) if Path(entry).is_absolute() else base / entry
        if target.is_dir():
            return [path for path in _walk(target) if path.suffix.lower() in IMAGE_SUFFIXES]
        if target.is_file() and target.suffix == ".txt":
            listed = []
            for line in target.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    path = Path(line.strip())
                    listed.append(path if path.is_absolute() else (base / path).resolve())
            return listed
        raise DatasetError(f"{where}: {entry!r} is neither a folder of images nor a .txt list of images (from {base}).")

    def _gather_folders(self, item: _Set) -> None:
        folder = self.source.root / item.folder
        roots = dict.fromkeys((folder / "images", self.source.root / "images"))
        image_roots = [root for root in roots if root.is_dir()]
        by_stem: dict[str, list[_Pending]] = {}
        for root in image_roots:
            for path in _walk(root):
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    stem = path.relative_to(root).with_suffix("").as_posix()
                    by_stem.setdefault(stem, []).append(self._pending_for(path, root.parent))
        labels_root = folder / "labels"
        for path in _walk(labels_root) if labels_root.is_dir() else []:
            if path.suffix != ".txt" or path.name == _CLASSES:
                continue
            stem = path.relative_to(labels_root).with_suffix("").as_posix()
            images = by_stem.get(stem)
            if images:
                for pending in images:
                    pending.labels.append((item, path))
            else:
                self._label_without_image(item, path)

    def _add_image(self, image: Path, base: Path, item: _Set, label: Path | None) -> None:
        pending = self._pending_for(image, base)
        if label is not None and label.is_file() and not any(label.samefile(path) for _, path in pending.labels):
            pending.labels.append((item, label))

    def _pending_for(self, image: Path, base: Path) -> _Pending:
        external_id = _external_id(image, base)
        pending = self.pending.get(external_id)
        if pending is None:  # an image a .txt list names may not exist: it is then missing media
            pending = _Pending(external_id, self._describe(image), image=image if image.is_file() else None)
            self.pending[external_id] = pending
        return pending

    def _label_without_image(self, item: _Set, path: Path) -> None:
        rel = self._rel(path)
        origin = self.source.describe(rel)
        remote = self.remote.get(rel)
        if remote is not None:
            external_id, url = remote
            local = Path(url) if url and not store_media.is_url(url) and Path(url).is_file() else None
            pending = self.pending.setdefault(
                external_id, _Pending(external_id, origin, image=local, url=url if local is None else "")
            )
            pending.labels.append((item, path))
            return
        stem = posixpath.splitext(posixpath.relpath(rel, posixpath.join(item.folder, "labels")))[0]
        candidates = (find_media(self.source, stem + suffix, None, self.options) for suffix in IMAGE_SUFFIXES)
        found = next((path for path in candidates if path is not None), None)
        external_id = f"{stem}{found.suffix}" if found is not None else stem
        pending = self.pending.setdefault(external_id, _Pending(external_id, origin, image=found))
        pending.labels.append((item, path))

    def _rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.source.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def _describe(self, path: Path) -> str:
        rel = self._rel(path)
        return self.source.describe(rel) if not Path(rel).is_absolute() else rel

    # -- assets ---------------------------------------------------------------------------------

    def finish(self) -> Dataset:
        last = len(self.remote_order)
        for external_id in sorted(self.pending, key=lambda e: (self.remote_order.get(e, last), e)):
            pending = self.pending[external_id]
            asset = self._asset(pending)
            if asset is not None:
                self.dataset.assets.append(asset)
        self._notes()
        return self.dataset

    def _asset(self, pending: _Pending) -> ImportAsset | None:
        if pending.image is None and not pending.url:
            if self.options.missing_media == "skip":
                self.report.skip(pending.origin, pending.external_id, "image not found (missing_media='skip')")
                return None
            raise missing(self.source, pending.external_id, pending.origin, self.options)
        size = image_size(pending.image, pending.external_id, pending.origin) if pending.image is not None else None
        asset = ImportAsset(
            pending.external_id,
            pending.origin,
            content=str(pending.image) if pending.image is not None else pending.url,
            resolution=size,
        )
        self.report.images_read += 1
        if pending.labels:
            response: dict[str, Any] = {}
            for item, path in pending.labels:
                self._rows(item, path, asset, response)
            asset.labels.append(ImportLabel(response, self._describe(pending.labels[0][1])))
            self.report.labels_read += 1
        return asset

    def _rows(self, item: _Set, path: Path, asset: ImportAsset, response: dict[str, Any]) -> None:
        where = self._describe(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise DatasetError(f"{where}: cannot be read as UTF-8 text ({error}).") from None
        mids = sum(len(v["annotations"]) for v in response.values())
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            here = f"{where}, line {number}"
            job_name, key, tool, ring = self._row(item, line, here)
            if ring is None:
                self.report.skip(here, asset.external_id, "box of zero width or height not imported", job_name)
                continue
            normalized = geometry.clamp_rings([ring])
            if normalized.clamped:
                self.report.count(f"clamped {job_name}")
            job = self.dataset.job(job_name)
            job.tools.add(tool)
            mids += 1
            entry = response.setdefault(job_name, {"annotations": []})
            entry["annotations"].append(geometry.annotation(tool, key, str(mids), normalized.rings))
            self.report.read(job_name)

    def _row(self, item: _Set, line: str, here: str) -> tuple[str, str, str, list[geometry.Point] | None]:
        """The job, category, tool and normalized ring of a row (no ring: a box of zero size)."""
        fields = line.split()
        if not fields[0].isdigit() or int(fields[0]) >= len(item.classes):
            raise DatasetError(
                f"{here}: the class {fields[0]!r} is not a class id of {self.source.describe(item.rel)} "
                f"(0 … {len(item.classes) - 1})."
            )
        job_name, key = item.classes[int(fields[0])]
        try:
            values = [float(v) for v in fields[1:]]
        except ValueError:
            raise DatasetError(f"{here}: the values must be numbers, got {line.strip()!r}.") from None
        extra = item.keypoint_values
        if extra is not None and len(values) == 4 + extra:
            self.report.count("keypoints")
            values = values[:4]
        if len(values) == 4:
            cx, cy, w, h = values
            if w < 0 or h < 0:
                raise DatasetError(f"{here}: a box's width and height cannot be negative, got {line.strip()!r}.")
            if w == 0 or h == 0:
                return job_name, key, Tool.RECTANGLE, None
            return job_name, key, Tool.RECTANGLE, geometry.box_corners(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if len(values) >= 6 and len(values) % 2 == 0:
            ring = [(values[i], values[i + 1]) for i in range(0, len(values), 2)]
            box = geometry.axis_aligned_box(ring)
            if box is not None:
                return job_name, key, Tool.RECTANGLE, geometry.box_corners(*box)
            return job_name, key, Tool.POLYGON, ring
        raise DatasetError(
            f"{here}: a row holds a class and 4 values (a box) or an even number of at least 6 (a polygon); "
            f"got {len(values)} values."
        )

    def _notes(self) -> None:
        report = self.report
        assert self.dataset.jobs is not None
        clamped = "annotation(s) reached outside the image; their coordinates were clamped to [0, 1]"
        report.note_counts({f"clamped {job.name}": f"job {job.name}: {{n}} {clamped}" for job in self.dataset.jobs})
        report.note_counts({"keypoints": "keypoints not imported on {n} row(s); their boxes are"})


def read(source: Source, fmt: str, options: ImportOptions, report: ImportReport) -> Dataset:
    rels = class_files(source)
    if not rels:
        raise DatasetError(
            f"{source.display}: no YOLO class file (classes.txt, or a YAML file with 'names') found; "
            "YOLO rows hold class ids, so the class names are needed."
        )
    sets = [_read_set(source, rel) for rel in rels]
    _assign_jobs(sets, options, source.display)
    reader = _Reader(source, fmt, options, report)
    for item in sets:
        for job_name, key in item.classes:
            reader.dataset.job(job_name).add_category(key)
    for item in sets:
        reader.gather(item)
    if source.kind != "file" and any(rel.endswith("video_meta.json") for rel in source.files):
        report.note("video_meta.json not used: video frames are imported as separate images")
    return reader.finish()


SPEC = register(ImporterSpec(name="yolo_v8", detect=detect, read=read, aliases=("yolo_v4", "yolo_v5", "yolo_v7")))
