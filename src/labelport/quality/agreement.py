"""Agreement between two labels of one asset, in [0, 1] — the rules of ``docs/quality.md``.

* A label's score over the ontology's root jobs is the mean of the job scores weighted by each
  job's number of annotations (1 for a classification or a transcription); jobs that neither label
  answers are left out, and two labels with nothing in common to compare give ``None``.
* Classification: single choice 1 or 0; multiple choice |A ∩ B| / |A ∪ B|.
* Objects (boxes, polygons, masks, points, lines, poses, entities): shapes of the same category and
  kind are paired one-to-one to maximise the total similarity (optimal assignment); the job score is
  Σ similarity of matched pairs / (matched pairs + unmatched shapes on both sides).
* Relations: a pair agrees (1) when the category and both ends agree once the mids of one label are
  translated through the matching of the related objects; then as objects.
* Transcription: 1 − normalised edit distance.
* Child jobs: a matched object (or a chosen category) and its child jobs are combined by geometric
  mean, so a wrong child classification zeroes the object; children do not change job weights.
* Video: the mean of the per-frame agreements over frames that either label answers.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from labelport.enums import InputType, MLTask
from labelport.ontology import Job, Ontology
from labelport.quality import geometry
from labelport.quality.matching import best_matching

_AREA_TOOLS = frozenset({"rectangle", "polygon", "semantic"})
_LINE_TOOLS = frozenset({"polyline", "vector"})
_RELATION_TASKS = frozenset({MLTask.NAMED_ENTITIES_RELATION, MLTask.OBJECT_RELATION})
# Plain strings for the hot paths: comparing with an enum member first looks the member up (slow).
_CLASSIFICATION, _TRANSCRIPTION = MLTask.CLASSIFICATION.value, MLTask.TRANSCRIPTION.value
_NOT_OBJECTS = frozenset({_CLASSIFICATION, _TRANSCRIPTION})
_PLAIN_OBJECTS = frozenset({MLTask.OBJECT_DETECTION.value, MLTask.POSE_ESTIMATION.value})
_FINAL_TIE = 1e-7  # tie-breakers added to a pair's weight for matching (see Comparer._objects)
_COUNT_TIE = 1e-9


@dataclass(slots=True)
class Shape:
    """One annotation, reduced to what comparing it needs."""

    category: str
    kind: str  # area, point, line, pose, span, pdf, relation
    mid: str | None
    data: Any
    children: Mapping[str, Any]


def _prepare_annotation(job: Job, annotation: Mapping[str, Any]) -> Shape | None:
    categories = annotation.get("categories") or []
    if not categories:
        return None
    category = categories[0].get("name")
    mid = annotation.get("mid")
    children = annotation.get("children") or {}
    tool = annotation.get("type")
    if job.ml_task in _RELATION_TASKS:
        starts = annotation.get("startEntities", annotation.get("startObjects")) or []
        ends = annotation.get("endEntities", annotation.get("endObjects")) or []
        ends_data = (frozenset(r.get("mid") for r in starts), frozenset(r.get("mid") for r in ends))
        return Shape(category, "relation", mid, ends_data, children)
    if job.ml_task == MLTask.NAMED_ENTITIES_RECOGNITION:
        return _prepare_entity(category, mid, annotation, children)
    if tool == "rectangle":
        area = geometry.rectangle_of(annotation.get("boundingPoly") or [])
        return None if area is None else Shape(category, "area", mid, area, children)
    if tool in _AREA_TOOLS:
        area = geometry.area_of(annotation.get("boundingPoly") or [], tool)
        return None if area is None else Shape(category, "area", mid, area, children)
    if tool == "marker":
        point = annotation.get("point") or {}
        return Shape(category, "point", mid, (point.get("x", 0.0), point.get("y", 0.0)), children)
    if tool in _LINE_TOOLS:
        line = [(p["x"], p["y"]) for p in annotation.get("polyline") or []]
        return Shape(category, "line", mid, line, children) if line else None
    if tool == "pose":
        points = {
            p.get("code"): (p["point"]["x"], p["point"]["y"]) for p in annotation.get("points") or [] if p.get("point")
        }
        return Shape(category, "pose", mid, points, children)
    return None


def _rectangle_shape(annotation: dict[str, Any]) -> Shape | None:
    """A rectangle drawn with Kili's four corners (bottom-left, top-left, top-right, bottom-right)."""
    categories = annotation.get("categories")
    polys = annotation.get("boundingPoly")
    if not categories or not polys or len(polys) != 1:
        return None
    corners = geometry.corner_box(polys[0].get("normalizedVertices")) if isinstance(polys[0], dict) else None
    if corners is None:
        return None
    area = geometry.Area(corners, None, True)
    return Shape(categories[0].get("name"), "area", annotation.get("mid"), area, annotation.get("children") or {})


def _prepare_entity(category: str, mid: str | None, annotation: Mapping[str, Any], children: Any) -> Shape | None:
    if "annotations" in annotation:  # PDF: regions per page
        regions: dict[int, list[Any]] = {}
        for position in annotation.get("annotations") or []:
            pages = position.get("pageNumberArray") or [0]
            for poly in position.get("boundingPoly") or []:
                for ring in poly.get("normalizedVertices") or []:
                    area = geometry.area_of([{"normalizedVertices": ring}], "polygon")
                    if area is not None:
                        for page in pages:
                            regions.setdefault(page, []).append(area.geometry)
        return Shape(category, "pdf", mid, regions, children)
    begin = annotation.get("beginOffset")
    if begin is None:
        return None
    end = annotation.get("endOffset")
    if end is None:
        end = begin + len(annotation.get("content") or "")
    return Shape(category, "span", mid, (begin, end), children)


def _pdf_similarity(a: dict[int, list[Any]], b: dict[int, list[Any]]) -> float:
    inter = union = 0.0
    for page in a.keys() | b.keys():
        shape_a = _union(a.get(page, []))
        shape_b = _union(b.get(page, []))
        inter += shape_a.intersection(shape_b).area
        union += shape_a.union(shape_b).area
    return inter / union if union > 0 else 0.0


def _union(shapes: list[Any]) -> Any:
    import shapely

    return shapely.union_all(shapes) if shapes else shapely.Polygon()


def _similarity(a: Shape, b: Shape) -> float:
    if a.category != b.category or a.kind != b.kind:
        return 0.0
    if a.kind == "area":
        return geometry.area_iou(a.data, b.data)
    if a.kind == "point":
        return geometry.point_similarity(a.data, b.data)
    if a.kind == "line":
        return geometry.line_similarity(a.data, b.data)
    if a.kind == "span":
        return geometry.span_similarity(a.data, b.data)
    if a.kind == "pdf":
        return _pdf_similarity(a.data, b.data)
    if a.kind == "pose":
        codes = a.data.keys() | b.data.keys()
        if not codes:
            return 1.0
        total = sum(geometry.point_similarity(a.data[c], b.data[c]) for c in codes if c in a.data and c in b.data)
        return total / len(codes)
    return 0.0  # relations are scored after the objects they link


class ShapeList(list[Shape]):
    """The prepared annotations of one object job of a label, with an index by category and kind."""

    _buckets: dict[tuple[str, str], list[int]] | None = None
    _has_children: bool | None = None

    @property
    def has_children(self) -> bool:
        if self._has_children is None:
            self._has_children = any(shape.children for shape in self)
        return self._has_children

    @property
    def buckets(self) -> dict[tuple[str, str], list[int]]:
        if self._buckets is None:
            buckets: dict[tuple[str, str], list[int]] = {}
            for index, shape in enumerate(self):
                buckets.setdefault((shape.category, shape.kind), []).append(index)
            self._buckets = buckets
        return self._buckets


#: One plain box: category, x0, y0, x1, y1 and area (as validation collects them: ``PlainBoxes``).
BoxRow = tuple[str, float, float, float, float, float]


class BoxList:
    """The prepared annotations of one object job of a label when every one is a plain box: a
    rectangle drawn with Kili's four corners, without child jobs (the common case, kept compact: a
    list of tuples instead of objects per shape). ``shapes`` gives the same annotations as a
    :class:`ShapeList` for comparisons with other kinds of shapes."""

    __slots__ = ("_buckets", "_shapes", "mids", "rows")

    def __init__(self, rows: list[BoxRow], mids: list[Any]) -> None:
        self.rows = rows
        self.mids = mids
        self._buckets: dict[str, list[tuple[int, float, float, float, float, float]]] | None = None
        self._shapes: ShapeList | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def buckets(self) -> dict[str, list[tuple[int, float, float, float, float, float]]]:
        """By category: (index, x0, y0, x1, y1, area) of each box, in order."""
        if self._buckets is None:
            buckets: dict[str, list[tuple[int, float, float, float, float, float]]] = {}
            for index, (category, x0, y0, x1, y1, area) in enumerate(self.rows):
                buckets.setdefault(category, []).append((index, x0, y0, x1, y1, area))
            self._buckets = buckets
        return self._buckets

    @property
    def shapes(self) -> ShapeList:
        if self._shapes is None:
            self._shapes = ShapeList(
                Shape(category, "area", mid, geometry.Area((x0, y0, x1, y1), None, True), {})
                for (category, x0, y0, x1, y1, _area), mid in zip(self.rows, self.mids, strict=True)
            )
        return self._shapes


def _box_list(annotations: list[Any]) -> BoxList | None:
    """The annotations as a :class:`BoxList`, or None when one of them is not a plain box."""
    rows: list[BoxRow] = []
    mids: list[Any] = []
    for ann in annotations:
        if type(ann) is not dict or ann.get("type") != "rectangle":
            return None
        children = ann.get("children")
        chosen = ann.get("categories")
        polys = ann.get("boundingPoly")
        if children or not chosen or type(polys) is not list or len(polys) != 1 or type(polys[0]) is not dict:
            return None
        corners = geometry.corner_box(polys[0].get("normalizedVertices"))
        if corners is None:
            return None
        x0, y0, x1, y1 = corners
        rows.append((chosen[0].get("name"), x0, y0, x1, y1, (x1 - x0) * (y1 - y0)))
        mids.append(ann.get("mid"))
    return BoxList(rows, mids)


_ANSWERS = (dict, ShapeList, BoxList)


class Prepared(dict[str, Any]):
    """A jsonResponse ready for comparison: each root object job's annotations are turned into
    shapes once (a label is compared with every other labeler's), other jobs stay as they are."""


def build_geometries(labels: Iterable[Prepared]) -> None:
    """Build the polygons of the regions of prepared labels in one pass (``geometry.build_geometries``):
    the same geometries their first comparison would build one by one."""
    geometry.build_geometries(area for label in labels for area in _regions(label))


def _regions(label: Prepared) -> Iterator[geometry.Area]:
    for value in label.values():
        if isinstance(value, ShapeList):
            for shape in value:
                if shape.kind == "area" and not shape.data.is_box:
                    yield shape.data
        elif isinstance(value, Prepared):  # a video frame
            yield from _regions(value)


class Comparer:
    """Agreement between labels of one project."""

    def __init__(self, ontology: Ontology, input_type: str) -> None:
        self.ontology = ontology
        self.is_video = input_type == InputType.VIDEO
        ordered = sorted(ontology.root_jobs, key=lambda job: job.ml_task in _RELATION_TASKS)
        self.root_jobs = ordered
        self.has_relations = any(job.ml_task in _RELATION_TASKS for job in ontology.jobs.values())
        interface = orjson.dumps([input_type, ontology.raw], option=orjson.OPT_SORT_KEYS)
        #: Names this ontology and input type: prepared labels depend on both.
        self.fingerprint = hashlib.sha256(interface).hexdigest()

    def prepare(
        self, response: Mapping[str, Any], boxes: Mapping[str, tuple[list[BoxRow], list[Any]]] | None = None
    ) -> Prepared:
        """The response with its object jobs' shapes built (per frame for a video). ``boxes``: the
        plain boxes validation collected (``ResponseSummary.boxes``), taken as they are."""
        if self.is_video and _is_frames(response):
            return Prepared({frame: self.prepare(value or {}) for frame, value in response.items()})
        prepared = Prepared(response)
        for job in self.root_jobs:
            value = response.get(job.name)
            if isinstance(value, dict) and job.ml_task not in _NOT_OBJECTS:
                known = boxes.get(job.name) if boxes else None
                prepared[job.name] = BoxList(*known) if known is not None else self._shapes(job, value)
        return prepared

    def agreement(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> float | None:
        """The agreement of two jsonResponses (raw or prepared), or None when neither answers any job."""
        a = a if isinstance(a, Prepared) else self.prepare(a)
        b = b if isinstance(b, Prepared) else self.prepare(b)
        if self.is_video and _is_frames(a) and _is_frames(b):
            scores = [
                score
                for frame in sorted(a.keys() | b.keys(), key=int)
                if (score := self._label(a.get(frame) or {}, b.get(frame) or {})) is not None
            ]
            return sum(scores) / len(scores) if scores else None
        return self._label(a, b)

    def _label(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> float | None:
        mids: dict[str, str] = {}
        total = weight_sum = 0.0
        for job in self.root_jobs:
            result = self._job(job, a.get(job.name), b.get(job.name), mids)
            if result is not None:
                score, weight = result
                total += score * weight
                weight_sum += weight
        return total / weight_sum if weight_sum else None

    def _job(self, job: Job, a: Any, b: Any, mids: dict[str, str]) -> tuple[float, float] | None:
        a = a if isinstance(a, _ANSWERS) else {}
        b = b if isinstance(b, _ANSWERS) else {}
        if job.ml_task == _CLASSIFICATION:
            return self._classification(job, a, b, mids)
        if job.ml_task == _TRANSCRIPTION:
            text_a, text_b = str(a.get("text") or ""), str(b.get("text") or "")
            if not text_a.strip() and not text_b.strip():
                return None
            return geometry.edit_similarity(text_a, text_b), 1.0
        return self._objects(job, a, b, mids)

    def _classification(
        self, job: Job, a: Mapping[str, Any], b: Mapping[str, Any], mids: dict[str, str]
    ) -> tuple[float, float] | None:
        listed_a = a.get("categories") or []
        listed_b = b.get("categories") or []
        if len(listed_a) == 1 and len(listed_b) == 1:  # the common case: one category each, no children
            first, second = listed_a[0], listed_b[0]
            plain = type(first) is dict and type(second) is dict
            if plain and not first.get("children") and not second.get("children"):
                return (1.0 if first.get("name") == second.get("name") else 0.0), 1.0
        chosen_a = {c.get("name"): c for c in listed_a}
        chosen_b = {c.get("name"): c for c in listed_b}
        if not chosen_a and not chosen_b:
            return None
        shared = chosen_a.keys() & chosen_b.keys()
        base = len(shared) / len(chosen_a.keys() | chosen_b.keys())
        if job.is_single_choice:
            base = 1.0 if chosen_a.keys() == chosen_b.keys() else 0.0
        children = [
            self._children(chosen_a[name].get("children"), chosen_b[name].get("children"), mids)
            for name in sorted(shared)
        ]
        return _geometric_mean([base, *(s for group in children for s in group)]), 1.0

    def _children(self, a: Any, b: Any, mids: dict[str, str]) -> list[float]:
        a = a if isinstance(a, dict) else {}
        b = b if isinstance(b, dict) else {}
        scores = []
        for name in sorted(a.keys() | b.keys()):
            job = self.ontology.jobs.get(name)
            if job is None:
                continue
            result = self._job(job, a.get(name), b.get(name), mids)
            if result is not None:
                scores.append(result[0])
        return scores

    def _objects(self, job: Job, a: Any, b: Any, mids: dict[str, str]) -> tuple[float, float] | None:
        shapes_a = a if isinstance(a, ShapeList | BoxList) else self._shapes(job, a)
        shapes_b = b if isinstance(b, ShapeList | BoxList) else self._shapes(job, b)
        if isinstance(shapes_a, BoxList):
            if isinstance(shapes_b, BoxList):
                return self._boxes(shapes_a, shapes_b, mids)
            shapes_a = shapes_a.shapes
        if isinstance(shapes_b, BoxList):
            shapes_b = shapes_b.shapes
        if not shapes_a and not shapes_b:
            return None
        if job.ml_task in _RELATION_TASKS:
            scores = {
                (i, j): 1.0
                for i, sa in enumerate(shapes_a)
                for j, sb in enumerate(shapes_b)
                if sa.category == sb.category and _translate(sa.data, mids) == sb.data
            }
        else:
            scores = _pair_scores(shapes_a, shapes_b)
        # The final score of a pair folds in its child jobs (geometric mean). Pairs are matched on
        # geometry; among equally good matchings, the one with the better final scores, then with
        # more pairs, wins (tiny tie-breaking terms), so that agreement(a, b) == agreement(b, a).
        final = scores
        weights = scores
        if shapes_a.has_children or shapes_b.has_children:
            final = dict(scores)
            for (i, j), score in scores.items():
                sa, sb = shapes_a[i], shapes_b[j]
                if sa.children or sb.children:
                    final[(i, j)] = _geometric_mean([score, *self._children(sa.children, sb.children, {})])
            weights = {pair: score + _FINAL_TIE * final[pair] for pair, score in scores.items()}
        matched = best_matching(weights, tie=_COUNT_TIE)
        total = 0.0
        for i, j, _weight in matched:
            total += final[(i, j)]
        if self.has_relations:  # relations compare their ends through the matching of the objects
            for i, j, _weight in matched:
                mid_a, mid_b = shapes_a[i].mid, shapes_b[j].mid
                if mid_a is not None and mid_b is not None:
                    mids[mid_a] = mid_b
        count = len(shapes_a) + len(shapes_b) - len(matched)
        return total / count, float(count)

    def _boxes(self, a: BoxList, b: BoxList, mids: dict[str, str]) -> tuple[float, float] | None:
        """``_objects`` for two lists of plain boxes: the same pairs, scores, matching and sums, in the
        same order, without building shapes; the Hungarian algorithm runs only where two boxes compete
        for one."""
        if not a.rows and not b.rows:
            return None
        buckets = b.buckets
        scores: dict[tuple[int, int], float] = {}
        taken: set[int] = set()
        contested = False
        for i, (category, ax0, ay0, ax1, ay1, area_a) in enumerate(a.rows):
            candidates = buckets.get(category)
            if not candidates:
                continue
            hits = 0
            for j, bx0, by0, bx1, by1, area_b in candidates:
                # _pair_scores' arithmetic, branch for branch: the same floats
                if ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0:  # apart: width or height ≤ 0
                    if (ax0, ay0, ax1, ay1) != (bx0, by0, bx1, by1):
                        continue
                    score = 1.0  # equal boxes without area
                else:
                    width = (ax1 if ax1 < bx1 else bx1) - (ax0 if ax0 > bx0 else bx0)
                    height = (ay1 if ay1 < by1 else by1) - (ay0 if ay0 > by0 else by0)
                    inter = width * height if width > 0 and height > 0 else 0.0
                    if inter > 0 and (union := area_a + area_b - inter) > 0:
                        score = inter / union
                        if not score > 0:
                            continue
                    elif (ax0, ay0, ax1, ay1) == (bx0, by0, bx1, by1):
                        score = 1.0
                    else:
                        continue
                scores[(i, j)] = score
                hits += 1
                if hits > 1 or j in taken:
                    contested = True
                taken.add(j)
        # Without competition the pairs are the matching, already in (i, j) order.
        matched = [(i, j) for i, j, _weight in best_matching(scores, tie=_COUNT_TIE)] if contested else list(scores)
        total = 0.0
        for pair in matched:
            total += scores[pair]
        if self.has_relations:
            for i, j in matched:
                if a.mids[i] is not None and b.mids[j] is not None:
                    mids[a.mids[i]] = b.mids[j]
        count = len(a.rows) + len(b.rows) - len(matched)
        return total / count, float(count)

    def _shapes(self, job: Job, value: Mapping[str, Any]) -> ShapeList | BoxList:
        plain_objects = job.ml_task in _PLAIN_OBJECTS
        annotations = value.get("annotations") or []
        if plain_objects and type(annotations) is list:
            boxes = _box_list(annotations)
            if boxes is not None:
                return boxes
        shapes = ShapeList()
        append = shapes.append
        for ann in annotations:
            if not isinstance(ann, dict):
                continue
            if plain_objects and ann.get("type") == "rectangle":  # the hot case, inlined
                shape = _rectangle_shape(ann)
                if shape is not None:
                    append(shape)
                    continue
            shape = _prepare_annotation(job, ann)
            if shape is not None:
                append(shape)
        return shapes


def _pair_scores(shapes_a: ShapeList, shapes_b: ShapeList) -> dict[tuple[int, int], float]:
    """Positive similarities between shapes of the same category and kind (boxes inline: the hot case)."""
    buckets = shapes_b.buckets
    scores: dict[tuple[int, int], float] = {}
    for i, sa in enumerate(shapes_a):
        candidates = buckets.get((sa.category, sa.kind))
        if not candidates:
            continue
        is_box = sa.kind == "area" and sa.data.is_box
        if is_box:
            ax0, ay0, ax1, ay1 = sa.data.bounds
            area_a = (ax1 - ax0) * (ay1 - ay0)
        for j in candidates:
            sb = shapes_b[j]
            if is_box and sb.data.is_box:
                bx0, by0, bx1, by1 = sb.data.bounds
                width = (ax1 if ax1 < bx1 else bx1) - (ax0 if ax0 > bx0 else bx0)
                height = (ay1 if ay1 < by1 else by1) - (ay0 if ay0 > by0 else by0)
                inter = width * height if width > 0 and height > 0 else 0.0
                union = area_a + (bx1 - bx0) * (by1 - by0) - inter
                if inter <= 0 or union <= 0:  # no overlap, or boxes too thin to have an area
                    if (ax0, ay0, ax1, ay1) == (bx0, by0, bx1, by1):
                        scores[(i, j)] = 1.0
                    continue
                score = inter / union
            else:
                score = _similarity(sa, sb)
            if score > 0:
                scores[(i, j)] = score
    return scores


def _translate(
    ends: tuple[frozenset[Any], frozenset[Any]], mids: Mapping[str, str]
) -> tuple[frozenset[Any], frozenset[Any]]:
    return frozenset(mids.get(m, m) for m in ends[0]), frozenset(mids.get(m, m) for m in ends[1])


def _geometric_mean(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    if any(v <= 0 for v in values):
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _is_frames(response: Mapping[str, Any]) -> bool:
    return bool(response) and all(isinstance(key, str) and key.isdigit() for key in response)


def agreement(
    a: Mapping[str, Any], b: Mapping[str, Any], ontology: Ontology, input_type: str = "IMAGE"
) -> float | None:
    """Agreement of two jsonResponses of one asset (see the module's rules)."""
    return Comparer(ontology, input_type).agreement(a, b)
