"""Validation of a label's ``jsonResponse`` against the project's ontology.

Validation runs once per label at write time and, in the same pass, counts what the label holds:
the number of annotations (Kili's rule: each object once, each filled sub-job once, a
classification job once however many classes are ticked) and, per (job, category), how many times
the category is used — the data behind ``category_search`` filters.

Errors name the asset's external id, the job and the category, and say what to fix.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from labelport.enums import SPECIAL_RESPONSE_KEYS, InputType, MLTask, Tool
from labelport.errors import JsonResponseError
from labelport.ontology import Job, Ontology

#: How far outside [0, 1] a normalized coordinate may stray (labeling tools overshoot slightly).
COORDINATE_TOLERANCE = 0.01
_ROTATIONS = (0, 90, 180, 270)
_NORMALIZED = ((-COORDINATE_TOLERANCE, 1 + COORDINATE_TOLERANCE), (-COORDINATE_TOLERANCE, 1 + COORDINATE_TOLERANCE))
_NUMBERS = (float, int)
_RECTANGLE = str(Tool.RECTANGLE)  # a plain str: comparing with an enum member costs an attribute lookup
#: The tools whose annotations are regions drawn as ``boundingPoly`` rings (plain str, as above).
_REGION_TOOLS = frozenset({str(Tool.RECTANGLE), str(Tool.POLYGON), str(Tool.SEMANTIC)})


#: A root object job's plain boxes, in order: (category, x0, y0, x1, y1, area) of each, and their mids.
PlainBoxes = tuple[list[tuple[str, float, float, float, float, float]], list[Any]]


@dataclass
class ResponseSummary:
    """What a valid jsonResponse holds."""

    number_of_annotations: int = 0
    category_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Asked for with ``boxes=True``: each root object job whose annotations are all plain boxes
    #: (rectangles drawn with Kili's four corners, one category, no children). Comparing labels
    #: needs exactly this, and validation has it in hand: the label is not parsed twice.
    boxes: dict[str, PlainBoxes] = field(default_factory=dict)


class _Validator:
    def __init__(self, ontology: Ontology, input_type: str, asset: str) -> None:
        self.ontology = ontology
        self.input_type = input_type
        self.asset = asset
        self.summary = ResponseSummary()
        self.ranges = _NORMALIZED
        self.collect_boxes = False
        self.mids: set[str] = set()
        self.relation_ends: list[tuple[str, str, str]] = []
        # For video, an object that lives on several frames is one object: count it by mid.
        self.seen_objects: set[tuple[str, str, str]] = set()

    def fail(self, job: str | None, category: str | None, message: str) -> JsonResponseError:
        parts = [f"Asset {self.asset!r}"]
        if job is not None:
            parts.append(f"job {job!r}")
        if category is not None:
            parts.append(f"category {category!r}")
        return JsonResponseError(", ".join(parts) + f": {message}")

    # -- top level ------------------------------------------------------------------------------
    def response(self, response: object) -> ResponseSummary:
        if not isinstance(response, dict):
            raise self.fail(None, None, "the jsonResponse must be a JSON object keyed by job name.")
        is_video = self.input_type == InputType.VIDEO
        if is_video and response and all(isinstance(k, str) and k.isdigit() for k in response):
            for frame, payload in response.items():
                if not isinstance(payload, dict):
                    raise self.fail(None, None, f"frame {frame} must be a JSON object keyed by job name.")
                self.jobs(payload, frame)
        else:
            self.jobs(response, None, top=True)
        for job, mid, side in self.relation_ends:
            if mid not in self.mids:
                raise self.fail(
                    job,
                    None,
                    f"a relation's {side} refers to mid {mid!r}, which no annotation of this label has.",
                )
        return self.summary

    def jobs(self, payload: dict[str, Any], frame: str | None, *, top: bool = False) -> None:
        for name, value in payload.items():
            if name in SPECIAL_RESPONSE_KEYS:
                if name == "ROTATION_JOB":
                    self.rotation(value)
                continue
            job = self.ontology.jobs.get(name)
            if job is None:
                valid = ", ".join(self.ontology.jobs)
                where = f" (frame {frame})" if frame is not None else ""
                raise self.fail(name, None, f"this job is not in the ontology{where}; jobs are: {valid}.")
            self.job(job, value, frame, top=top)

    def rotation(self, value: object) -> None:
        rotation = value.get("rotation") if isinstance(value, dict) else None
        if rotation not in _ROTATIONS:
            raise self.fail("ROTATION_JOB", None, f"'rotation' must be one of {_ROTATIONS}, got {value!r}.")

    def job(self, job: Job, value: object, frame: str | None, *, top: bool = False) -> None:
        if not isinstance(value, dict):
            raise self.fail(job.name, None, "the job's answer must be a JSON object.")
        task = job.ml_task
        if task == MLTask.CLASSIFICATION:
            self.classification(job, value, frame)
        elif task == MLTask.TRANSCRIPTION:
            text = value.get("text")
            if not isinstance(text, str):
                raise self.fail(job.name, None, "a transcription needs a string 'text'.")
            if text:
                self.summary.number_of_annotations += 1
        else:
            self.annotations(job, value, frame, top=top)

    # -- classification ---------------------------------------------------------------------------
    def classification(self, job: Job, value: dict[str, Any], frame: str | None) -> None:
        categories = value.get("categories")
        if (
            type(categories) is list
            and len(categories) == 1
            and frame is None
            and self.plain_category(job, categories[0])
        ):
            self.summary.number_of_annotations += 1
            self.summary.category_counts[(job.name, categories[0]["name"])] += 1
            return
        if not isinstance(categories, list):
            raise self.fail(job.name, None, "a classification answer needs a 'categories' list.")
        names = [self.category_entry(job, entry) for entry in categories]
        if len(set(names)) != len(names):
            raise self.fail(job.name, None, f"category chosen twice in {names}.")
        if job.is_single_choice and len(names) > 1:
            raise self.fail(
                job.name,
                None,
                f"this job takes one category ({job.input}), got {len(names)}: {names}.",
            )
        if names:
            key = (job.name, "", frame or "")
            if frame is None or key not in self.seen_objects:
                self.seen_objects.add(key)
                self.summary.number_of_annotations += 1
            for name in names:
                counted = (job.name, name, "class")
                if frame is None or counted not in self.seen_objects:
                    self.seen_objects.add(counted)
                    self.summary.category_counts[(job.name, name)] += 1
        for entry in categories:
            self.children(job, entry.get("name"), entry.get("children"), frame)

    def category_entry(self, job: Job, entry: object) -> str:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise self.fail(job.name, None, f"every category must be an object with a 'name', got {entry!r}.")
        name = entry["name"]
        if name not in job.categories:
            valid = ", ".join(job.categories)
            raise self.fail(job.name, name, f"this category is not in the job; categories are: {valid}.")
        confidence = entry.get("confidence")
        if confidence is not None and not _is_number(confidence):
            raise self.fail(job.name, name, f"'confidence' must be a number, got {confidence!r}.")
        return name

    def children(self, job: Job, category: str | None, children: object, frame: str | None) -> None:
        if children is None or children == {}:
            return
        if not isinstance(children, dict):
            raise self.fail(job.name, category, "'children' must be a JSON object keyed by child job.")
        for child_name, child_value in children.items():
            child = self.ontology.jobs.get(child_name)
            if child is None:
                raise self.fail(job.name, category, f"child job {child_name!r} is not in the ontology.")
            self.job(child, child_value, frame)

    # -- objects ----------------------------------------------------------------------------------
    def annotations(self, job: Job, value: dict[str, Any], frame: str | None, *, top: bool = False) -> None:
        annotations = value.get("annotations")
        if annotations is None:
            return
        if not isinstance(annotations, list):
            raise self.fail(job.name, None, "'annotations' must be a list.")
        if frame is None and job.is_object_job and _RECTANGLE in job.tools:
            boxes = self.plain_rectangles(job, annotations)
            if boxes is not None:
                if top and self.collect_boxes and not job.is_child:
                    self.summary.boxes[job.name] = boxes
                return
        regions = frame is None and job.is_object_job
        for ann in annotations:
            if not (regions and self.plain_region(job, ann)):
                self.annotation(job, ann, frame)

    def annotation(self, job: Job, ann: object, frame: str | None) -> None:
        """Check one annotation of an object job and count it."""
        if not isinstance(ann, dict):
            raise self.fail(job.name, None, f"every annotation must be a JSON object, got {ann!r}.")
        categories = ann.get("categories")
        if not isinstance(categories, list) or not categories:
            raise self.fail(job.name, None, "every annotation needs a non-empty 'categories' list.")
        names = [self.category_entry(job, entry) for entry in categories]
        where = names[0]
        mid = ann.get("mid")
        if mid is not None:
            # Kili writes string mids; some of its own data holds integers, accepted as they are.
            if not (isinstance(mid, str) and mid) and not _is_int(mid):
                raise self.fail(job.name, where, f"'mid' must be a non-empty string, got {mid!r}.")
            self.mids.add(mid)
        self.annotation_shape(job, where, ann)
        identity = (job.name, mid or f"#{id(ann)}", "object")
        if frame is None or identity not in self.seen_objects:
            self.seen_objects.add(identity)
            self.summary.number_of_annotations += 1
            for name in names:
                self.summary.category_counts[(job.name, name)] += 1
        self.children(job, where, ann.get("children"), frame)

    # -- fast paths -------------------------------------------------------------------------------
    # The common answers, checked in one pass. They accept only what the general checks accept and
    # record the same counts; anything else (invalid or unusual) is declined (False, None) with
    # nothing recorded, and goes through the general checks, which name the fault.

    def plain_category(self, job: Job, entry: object) -> bool:
        """A category of the job, without children; its confidence, if any, a number."""
        if type(entry) is not dict:
            return False
        name = entry.get("name")
        return type(name) is str and name in job.categories and (len(entry) == 1 or _plain_extras(entry))

    def plain_rectangles(self, job: Job, annotations: list[Any]) -> PlainBoxes | None:
        """Annotations that are all plain boxes: rectangles with one category, no children, and one
        ring of four vertices in range in Kili's corner order (bottom-left, top-left, top-right,
        bottom-right). Validated and counted (outside video frames); returns them as ``PlainBoxes``.
        One annotation of another form declines the whole list."""
        (x_low, x_high), (y_low, y_high) = self.ranges
        rows: list[tuple[str, float, float, float, float, float]] = []
        mids: list[Any] = []
        for ann in annotations:
            if type(ann) is not dict or ann.get("type") != _RECTANGLE:
                return None
            chosen = ann.get("categories")
            if type(chosen) is not list or len(chosen) != 1 or not self.plain_category(job, entry := chosen[0]):
                return None
            name = entry["name"]
            mid = _plain_mid(ann)
            if mid is _DECLINED:
                return None
            polys = ann.get("boundingPoly")
            if type(polys) is not list or len(polys) != 1 or type(poly := polys[0]) is not dict:
                return None
            vertices = poly.get("normalizedVertices")
            if type(vertices) is not list or len(vertices) != 4:
                return None
            a, b, c, d = vertices
            if type(a) is not dict or type(b) is not dict or type(c) is not dict or type(d) is not dict:
                return None
            try:
                x0, y1, x1, y0 = a["x"], a["y"], c["x"], c["y"]
                corners = (x0, y1, x1, y0, b["x"], b["y"], d["x"], d["y"])
            except KeyError:
                return None
            floats = float is type(x0) is type(y1) is type(x1) is type(y0)
            floats = floats and float is type(corners[4]) is type(corners[5]) is type(corners[6]) is type(corners[7])
            if not floats and not all(type(value) in _NUMBERS for value in corners):  # exact types: not bool
                return None
            if corners[4] != x0 or corners[5] != y0 or corners[6] != x1 or corners[7] != y1:  # NaN fails here
                return None
            # The other four coordinates repeat these: one range test each (infinities fail it).
            if not (
                x_low <= x0 <= x_high and x_low <= x1 <= x_high and y_low <= y0 <= y_high and y_low <= y1 <= y_high
            ):
                return None
            if x0 > x1:
                x0, x1 = x1, x0
            if y0 > y1:
                y0, y1 = y1, y0
            rows.append((name, x0, y0, x1, y1, (x1 - x0) * (y1 - y0)))
            mids.append(mid)
        counts = self.summary.category_counts
        for row in rows:
            counts[(job.name, row[0])] = counts.get((job.name, row[0]), 0) + 1
        self.summary.number_of_annotations += len(rows)
        self.mids.update(mid for mid in mids if mid is not None)
        return rows, mids

    def plain_region(self, job: Job, ann: object) -> bool:
        """One plain region of an object job (outside video frames): a rectangle, polygon or semantic
        annotation of a tool of the job, with one category, no children, and rings of vertices in
        range. Validated and counted as ``annotation`` would; anything else is declined (False)."""
        if type(ann) is not dict:
            return False
        tool = ann.get("type")
        if tool not in _REGION_TOOLS or tool not in job.tools:
            return False
        chosen = ann.get("categories")
        if type(chosen) is not list or len(chosen) != 1 or not self.plain_category(job, entry := chosen[0]):
            return False
        mid = _plain_mid(ann)
        if mid is _DECLINED:
            return False
        polys = ann.get("boundingPoly")
        if type(polys) is not list or not polys:
            return False
        (x_low, x_high), (y_low, y_high) = self.ranges
        for poly in polys:
            vertices = poly.get("normalizedVertices") if type(poly) is dict else None
            if type(vertices) is not list or not vertices:
                return False
            for vertex in vertices:
                if type(vertex) is not dict:
                    return False
                x, y = vertex.get("x"), vertex.get("y")
                # exact types (not bool); the range test also rejects NaN and infinities (no TypeGuard on the
                # hot path: the exact type test is what narrows x and y to numbers)
                if type(x) not in _NUMBERS or type(y) not in _NUMBERS or not (x_low <= x <= x_high):  # type: ignore[operator]
                    return False
                if not y_low <= y <= y_high:  # type: ignore[operator]
                    return False
        if mid is not None:
            self.mids.add(mid)
        self.summary.number_of_annotations += 1
        counts, key = self.summary.category_counts, (job.name, entry["name"])
        counts[key] = counts.get(key, 0) + 1  # not Counter's += (a Python-level __missing__)
        return True

    def annotation_shape(self, job: Job, category: str, ann: dict[str, Any]) -> None:
        task = job.ml_task
        if task in (MLTask.OBJECT_DETECTION, MLTask.POSE_ESTIMATION):
            self.object_shape(job, category, ann)
        elif task == MLTask.NAMED_ENTITIES_RECOGNITION:
            self.entity(job, category, ann)
        else:  # relations
            starts, ends = (
                ("startEntities", "endEntities")
                if task == MLTask.NAMED_ENTITIES_RELATION
                else ("startObjects", "endObjects")
            )
            for side in (starts, ends):
                refs = ann.get(side)
                if not isinstance(refs, list) or not refs:
                    raise self.fail(
                        job.name,
                        category,
                        f"a relation needs a non-empty {side!r} list of {{mid}}.",
                    )
                for ref in refs:
                    if not isinstance(ref, dict) or not isinstance(ref.get("mid"), str):
                        raise self.fail(
                            job.name,
                            category,
                            f"{side!r} items must be {{'mid': str}}, got {ref!r}.",
                        )
                    self.relation_ends.append((job.name, ref["mid"], side))

    def object_shape(self, job: Job, category: str, ann: dict[str, Any]) -> None:
        tool = ann.get("type")
        if not isinstance(tool, str) or not job.allows_tool(tool):
            raise self.fail(
                job.name,
                category,
                f"annotation type {tool!r} is not a tool of this job; tools are: {', '.join(job.tools)}.",
            )
        if tool in (Tool.RECTANGLE, Tool.POLYGON, Tool.SEMANTIC):
            polys = ann.get("boundingPoly")
            if not isinstance(polys, list) or not polys:
                raise self.fail(job.name, category, f"a {tool} needs a non-empty 'boundingPoly' list.")
            for poly in polys:
                vertices = poly.get("normalizedVertices") if isinstance(poly, dict) else None
                self.vertices(job, category, vertices, f"{tool} boundingPoly.normalizedVertices")
        elif tool == Tool.MARKER:
            self.point(job, category, ann.get("point"), "marker 'point'")
        elif tool in (Tool.POLYLINE, Tool.VECTOR):
            self.vertices(job, category, ann.get("polyline"), f"{tool} 'polyline'")
        elif tool == Tool.POSE:
            points = ann.get("points")
            if not isinstance(points, list):
                raise self.fail(job.name, category, "a pose needs a 'points' list.")
            codes = {p.code for p in job.categories[category].points}
            for point in points:
                if not isinstance(point, dict):
                    raise self.fail(job.name, category, f"pose points must be objects, got {point!r}.")
                code = point.get("code")
                if codes and code not in codes:
                    raise self.fail(
                        job.name,
                        category,
                        f"pose point code {code!r} is not defined; codes are: {', '.join(sorted(codes))}.",
                    )
                self.point(job, category, point.get("point"), f"pose point {code!r}")
                if isinstance(point.get("mid"), str):
                    self.mids.add(point["mid"])

    def entity(self, job: Job, category: str, ann: dict[str, Any]) -> None:
        if "annotations" in ann:  # NER in a PDF: positions on pages
            positions = ann["annotations"]
            if not isinstance(positions, list):
                raise self.fail(job.name, category, "a PDF entity's 'annotations' must be a list.")
            for position in positions:
                if not isinstance(position, dict):
                    raise self.fail(job.name, category, "a PDF entity position must be an object.")
                pages = position.get("pageNumberArray", [])
                if not isinstance(pages, list) or not all(_is_int(p) and p >= 1 for p in pages):
                    raise self.fail(
                        job.name,
                        category,
                        f"'pageNumberArray' must list page numbers ≥ 1, got {pages!r}.",
                    )
                for key in ("boundingPoly", "polys"):
                    for poly in position.get(key, []) or []:
                        groups = poly.get("normalizedVertices") if isinstance(poly, dict) else None
                        if not isinstance(groups, list):
                            raise self.fail(
                                job.name,
                                category,
                                f"{key}.normalizedVertices must be a list of vertex lists.",
                            )
                        for group in groups:
                            self.vertices(job, category, group, f"PDF {key}.normalizedVertices")
            return
        begin = ann.get("beginOffset")
        if begin is not None and (not _is_int(begin) or begin < 0):
            raise self.fail(job.name, category, f"'beginOffset' must be an integer ≥ 0, got {begin!r}.")
        end = ann.get("endOffset")
        if end is not None and (not _is_int(end) or (begin is not None and end < begin)):
            raise self.fail(job.name, category, f"'endOffset' must be an integer ≥ beginOffset, got {end!r}.")
        content = ann.get("content")
        if content is not None and not isinstance(content, str):
            raise self.fail(job.name, category, f"'content' must be the entity's text, got {content!r}.")
        if begin is None and "beginId" not in ann:
            raise self.fail(job.name, category, "an entity needs 'beginOffset' (or 'beginId' for rich text).")

    # -- geometry ---------------------------------------------------------------------------------
    def vertices(self, job: Job, category: str, vertices: object, what: str) -> None:
        if not isinstance(vertices, list) or not vertices:
            raise self.fail(job.name, category, f"{what} must be a non-empty list of {{x, y}} points.")
        # Hot path (every vertex of every label): a range test that also rejects NaN and infinities;
        # anything unusual goes through point(), which names the fault.
        (x_low, x_high), (y_low, y_high) = self.ranges
        try:
            for vertex in vertices:
                x, y = vertex["x"], vertex["y"]
                if (
                    type(x) not in _NUMBERS
                    or type(y) not in _NUMBERS
                    or not (x_low <= x <= x_high and y_low <= y <= y_high)
                ):
                    break
            else:
                return
        except (KeyError, TypeError):
            pass
        for vertex in vertices:
            self.point(job, category, vertex, what)

    def point(self, job: Job, category: str, point: object, what: str) -> None:
        if not isinstance(point, dict):
            raise self.fail(
                job.name,
                category,
                f"{what}: a point must be {{'x': float, 'y': float}}, got {point!r}.",
            )
        for axis, (low, high) in zip(("x", "y"), self.ranges, strict=True):
            value = point.get(axis)
            if not _is_number(value) or not math.isfinite(value):
                raise self.fail(job.name, category, f"{what}: {axis} must be a finite number, got {value!r}.")
            if not low <= value <= high:
                raise self.fail(job.name, category, self._range_message(what, axis, value))

    def _range_message(self, what: str, axis: str, value: float) -> str:
        if self.ranges == _NORMALIZED:
            return (
                f"{what}: {axis}={value} is outside 0..1; coordinates are normalized "
                "by the image width and height (divide pixel values by them)."
            )
        name = "longitude" if axis == "x" else "latitude"
        return f"{what}: {axis}={value} is not a {name}; geographic coordinates are (longitude, latitude) in degrees."


#: What :func:`_plain_mid` returns for an annotation that is not plain.
_DECLINED = object()


def _plain_mid(ann: dict[str, Any]) -> Any:
    """The mid of a plain annotation (None without one): a non-empty string or an int, and no children
    (an empty ``children`` dict is none); :data:`_DECLINED` for anything else."""
    mid = ann.get("mid")
    if mid is not None and not ((type(mid) is str and mid) or type(mid) is int):
        return _DECLINED
    children = ann.get("children")
    if children is not None and (type(children) is not dict or children):
        return _DECLINED
    return mid


def _plain_extras(entry: dict[str, Any]) -> bool:
    """A category entry's other keys: a confidence, if any, a number; children, if any, empty."""
    confidence, children = entry.get("confidence"), entry.get("children")
    return (confidence is None or type(confidence) in _NUMBERS) and (
        children is None or (type(children) is dict and not children)
    )


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_response(
    response: object,
    ontology: Ontology,
    input_type: str,
    asset_external_id: str,
    *,
    geographic: bool = False,
    boxes: bool = False,
) -> ResponseSummary:
    """Check ``response`` against ``ontology`` and return what it holds.

    ``geographic``: the coordinates are longitudes and latitudes (GEOSPATIAL projects, and
    georeferenced images), so they are not held to 0..1: longitude in [-180, 180], latitude in
    [-90, 90]. ``boxes``: also collect the plain boxes of root object jobs (``ResponseSummary.boxes``).
    Raises :class:`~labelport.errors.JsonResponseError` naming the asset, job and category.
    """
    validator = _Validator(ontology, input_type, asset_external_id)
    validator.collect_boxes = boxes
    if geographic or input_type == InputType.GEOSPATIAL:
        validator.ranges = ((-180.0, 180.0), (-90.0, 90.0))
    return validator.response(response)
