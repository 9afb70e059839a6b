"""Pascal VOC (``pascal_voc``): one XML file of pixel boxes per image, and the images.

* **files**: every ``.xml`` file whose root element is ``<annotation>``; XML files that name the same
  ``<filename>`` (labelport's split layout, one file per job) make one asset.
* **images**: the external id is ``<filename>``; the image is looked up by ``<path>``, then by
  ``<filename>`` next to the XML file, in ``images/``, ``JPEGImages/`` (also one folder up, as in
  VOC's ``Annotations/`` + ``JPEGImages/``) and at the root. ``<size>`` gives the size the boxes
  are in (measured from the image when absent or zero).
* **objects**: ``<name>`` is the category; the job is ``job_name``, else the object's
  ``<job_name>`` (written by labelport), else ``OBJECT_DETECTION_JOB``; categories come in order of
  first appearance (files sorted by path). ``<bndbox>`` is read in labelport's and Kili's convention,
  0-based pixel edges (``xmax - xmin`` is the width): boxes of the original VOC devkit, numbered from
  1, come in one pixel to the right and down.

Every XML file gives a label, an empty one when it has no object (a negative example).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from labelport.enums import Tool
from labelport.errors import DatasetError
from labelport.importers import geometry
from labelport.importers.dataset import Dataset, ImportAsset, ImportLabel, ImportOptions
from labelport.importers.formats import register
from labelport.importers.formats.base import Detection, ImporterSpec
from labelport.importers.media import find_media, image_size, missing
from labelport.importers.ontology import DEFAULT_JOB
from labelport.importers.report import ImportReport
from labelport.importers.source import Source

_FOLDERS = ("", "images", "JPEGImages", "../images", "../JPEGImages")
_OBJECT_TAGS = frozenset({"name", "bndbox", "job_name", "pose", "truncated", "difficult", "occluded"})
_FLAGS = ("truncated", "difficult", "occluded")


@dataclass
class _Node:
    tag: str
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)

    def child(self, tag: str) -> _Node | None:
        return next((node for node in self.children if node.tag == tag), None)

    def value(self, tag: str) -> str:
        node = self.child(tag)
        return node.text.strip() if node is not None else ""


def _parse(data: bytes, where: str) -> _Node:
    """A small element tree that remembers the line of every element."""
    parser = expat.ParserCreate()
    stack: list[_Node] = []
    roots: list[_Node] = []

    def start(tag: str, _attributes: dict[str, str]) -> None:
        node = _Node(tag, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def text(chunk: str) -> None:
        if stack:
            stack[-1].text += chunk

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise DatasetError(
            f"{where}, line {error.lineno}, column {error.offset + 1}: not well-formed XML "
            f"({expat.ErrorString(error.code)})."
        ) from None
    return roots[0]


def _looks_like_voc(head: bytes) -> bool:
    return b"<annotation" in head


def voc_files(source: Source) -> list[str]:
    candidates = [source.single] if source.single is not None else source.files
    return [rel for rel in candidates if rel.lower().endswith(".xml") and _looks_like_voc(source.peek(rel))]


def detect(source: Source) -> Detection | None:
    files = voc_files(source)
    if not files:
        return None
    more = f" and {len(files) - 2} more" if len(files) > 2 else ""
    return Detection("pascal_voc", ", ".join(files[:2]) + more)


class _Reader:
    def __init__(self, source: Source, options: ImportOptions, report: ImportReport) -> None:
        self.source = source
        self.options = options
        self.report = report
        self.dataset = Dataset("pascal_voc", report, jobs=[])
        self.assets: dict[str, tuple[ImportAsset, tuple[int, int]]] = {}
        self.skipped: set[str] = set()
        self.unknown_tags: set[str] = set()

    def read_file(self, rel: str) -> None:
        where = self.source.describe(rel)
        root = _parse(self.source.read_bytes(rel), where)
        if root.tag != "annotation":
            return
        filename = root.value("filename") or posixpath.basename(root.value("path"))
        if not filename:
            raise DatasetError(f"{where}, line {root.line}: the annotation has no <filename> (nor <path>).")
        found = self._asset(root, rel, filename, where)
        if found is None:
            return
        asset, size = found
        response = asset.labels[0].json_response
        for node in root.children:
            if node.tag == "object":
                self._object(node, asset, size, response, where)

    def _asset(self, root: _Node, rel: str, filename: str, where: str) -> tuple[ImportAsset, tuple[int, int]] | None:
        if filename in self.skipped:
            return None
        declared = _size(root, where)
        known = self.assets.get(filename)
        if known is not None:
            if declared is not None and declared != known[1]:
                raise DatasetError(
                    f"{where}, line {root.child('size').line}: image {filename!r} is {declared[0]}×{declared[1]} "  # type: ignore[union-attr]
                    f"here but {known[1][0]}×{known[1][1]} in {known[0].origin}."
                )
            return known
        path = None
        if root.value("path"):
            path = find_media(self.source, root.value("path"), None, self.options)
        if path is None:
            folders = (*_FOLDERS, root.value("folder")) if root.value("folder") else _FOLDERS
            path = find_media(self.source, filename, rel, self.options, folders=folders)
        if path is None:
            if self.options.missing_media == "skip":
                self.skipped.add(filename)
                self.report.skip(where, filename, f"image {filename!r} not found (missing_media='skip')")
                return None
            raise missing(self.source, filename, where, self.options)
        measured = image_size(path, filename, where)
        if declared is not None and declared != measured:
            self.report.count("size mismatch")
        asset = ImportAsset(filename, where, content=str(path), resolution=measured)
        asset.labels.append(ImportLabel({}, where))
        self.assets[filename] = (asset, declared or measured)
        self.report.images_read += 1
        self.report.labels_read += 1
        return self.assets[filename]

    def _object(
        self,
        node: _Node,
        asset: ImportAsset,
        size: tuple[int, int],
        response: dict[str, Any],
        where: str,
    ) -> None:
        here = f"{where}, line {node.line}"
        name = node.value("name")
        if not name:
            raise DatasetError(f"{here}: an <object> needs a <name>.")
        job_name = self.options.job_name or node.value("job_name") or DEFAULT_JOB
        self.unknown_tags.update(child.tag for child in node.children if child.tag not in _OBJECT_TAGS)
        if any(node.value(flag) not in ("", "0") for flag in _FLAGS):
            self.report.count("flags")
        job = self.dataset.job(job_name)
        job.add_category(name)
        box = node.child("bndbox")
        if box is None:
            raise DatasetError(f"{here}: object {name!r} has no <bndbox>.")
        try:
            x0, y0, x1, y1 = (float(box.value(tag)) for tag in ("xmin", "ymin", "xmax", "ymax"))
        except ValueError:
            raise DatasetError(f"{where}, line {box.line}: <bndbox> needs numeric xmin, ymin, xmax and ymax.") from None
        if x1 <= x0 or y1 <= y0:
            self.report.skip(here, asset.external_id, "box of zero width or height not imported", job_name)
            return
        normalized = geometry.normalize([geometry.box_corners(x0, y0, x1, y1)], *size)
        if normalized.clamped:
            self.report.count(f"clamped {job_name}")
        job.tools.add(Tool.RECTANGLE)
        annotations = response.setdefault(job_name, {"annotations": []})["annotations"]
        mid = str(sum(len(value["annotations"]) for value in response.values()) + 1)
        annotations.append(geometry.annotation(Tool.RECTANGLE, name, mid, normalized.rings))
        self.report.read(job_name)

    def finish(self) -> Dataset:
        self.dataset.assets = [asset for asset, _ in self.assets.values()]
        report = self.report
        assert self.dataset.jobs is not None
        clamped = "box(es) reached outside their image; they were clamped to it"
        report.note_counts({f"clamped {job.name}": f"job {job.name}: {{n}} {clamped}" for job in self.dataset.jobs})
        report.note_counts(
            {
                "flags": "truncated/difficult/occluded flags not kept on {n} object(s) "
                "(labelport boxes have no such flags)",
                "size mismatch": "{n} image(s) differ in size from their <size>; boxes were normalized by <size>, "
                "and the resolution stored is the image's",
            }
        )
        if self.unknown_tags:
            report.note(f"object fields not imported: {', '.join(sorted(self.unknown_tags))}")
        return self.dataset


def _size(root: _Node, where: str) -> tuple[int, int] | None:
    node = root.child("size")
    if node is None:
        return None
    try:
        width, height = int(float(node.value("width") or 0)), int(float(node.value("height") or 0))
    except ValueError:
        raise DatasetError(f"{where}, line {node.line}: <size> needs whole numbers of pixels.") from None
    return (width, height) if width > 0 and height > 0 else None


def read(source: Source, fmt: str, options: ImportOptions, report: ImportReport) -> Dataset:
    files = voc_files(source)
    if not files:
        raise DatasetError(f"{source.display}: no Pascal VOC XML file (an <annotation> document) found.")
    reader = _Reader(source, options, report)
    for rel in sorted(files):
        reader.read_file(rel)
    return reader.finish()


SPEC = register(ImporterSpec(name="pascal_voc", detect=detect, read=read))
