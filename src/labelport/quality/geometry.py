"""Similarity of two shapes in normalized coordinates, each in [0, 1].

* boxes and polygons: area IoU (axis-aligned boxes by arithmetic, other shapes with shapely;
  ``boundingPoly[0]`` is the outer ring, further entries are holes);
* points: ``max(0, 1 − d / τ)`` with τ = 5 % of the image diagonal;
* polylines: IoU of the lines buffered by 1 % of the diagonal;
* text spans: character overlap / union.

IoU does not change when the axes are scaled, so normalized coordinates give the pixel IoU.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry

DIAGONAL = math.sqrt(2.0)
POINT_TOLERANCE = 0.05 * DIAGONAL
LINE_HALF_WIDTH = 0.01 * DIAGONAL
_AXIS_EPSILON = 1e-9

Box = tuple[float, float, float, float]


def _xy(vertices: Sequence[Any]) -> list[tuple[float, float]]:
    return [(float(v["x"]), float(v["y"])) for v in vertices]


def box_iou(a: Box, b: Box) -> float:
    if a == b:
        return 1.0  # also for boxes without area
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if inter > 0 and union > 0 else 0.0


class Area:
    """A region: an axis-aligned box, or a polygon (with holes) built on first use."""

    __slots__ = ("_geometry", "bounds", "is_box", "rings")

    def __init__(self, bounds: Box, rings: list[list[tuple[float, float]]] | None = None, is_box: bool = False) -> None:
        self.bounds = bounds
        self.rings = rings or []
        self.is_box = is_box
        self._geometry: BaseGeometry | None = None

    @property
    def geometry(self) -> BaseGeometry:
        if self._geometry is None:
            if self.is_box:
                self._geometry = box(*self.bounds)
            else:
                outer, *holes = self.rings
                shape = Polygon(outer, [h for h in holes if len(h) >= 3]) if len(outer) >= 3 else Polygon()
                self._geometry = shape if shape.is_valid else _repaired(shape)
        return self._geometry


def _repaired(shape: BaseGeometry) -> BaseGeometry:
    """An invalid polygon made valid; one GEOS cannot repair (an outer ring without area around a hole:
    "mixed-dimension" input) has no area to compare, and becomes the empty polygon."""
    try:
        return shapely.make_valid(shape)
    except shapely.errors.GEOSException:
        return Polygon()


#: How many vertices ``build_geometries`` puts in one array (16 bytes each), at most about.
BUILD_BATCH_VERTICES = 100_000


def build_geometries(areas: Iterable[Area]) -> None:
    """Build the geometries of many regions at once: the polygons ``Area.geometry`` builds one by
    one (rings closed, holes of fewer than three vertices left out, invalid shapes made valid), from
    arrays of coordinates in a few GEOS calls, which costs a fraction of a shapely constructor per
    polygon. Boxes, regions already built and those without a ring of three vertices are left to
    ``Area.geometry``; so are those of a batch in which GEOS refuses one (it then says why, one by one)."""
    batch: list[Area] = []
    vertices = 0
    for area in areas:
        if area._geometry is None and not area.is_box and area.rings and len(area.rings[0]) >= 3:
            batch.append(area)
            vertices += sum(len(ring) for ring in area.rings)
            if vertices >= BUILD_BATCH_VERTICES:
                _build_batch(batch)
                batch, vertices = [], 0
    if batch:
        _build_batch(batch)


def _build_batch(pending: list[Area]) -> None:
    rings: list[list[tuple[float, float]]] = []
    area_of_ring: list[int] = []
    for index, area in enumerate(pending):
        outer, *holes = area.rings
        rings.append(outer)
        area_of_ring.append(index)
        for hole in holes:
            if len(hole) >= 3:
                rings.append(hole)
                area_of_ring.append(index)
    sizes = [len(ring) for ring in rings]
    vertices = chain.from_iterable(chain.from_iterable(rings))
    try:
        coordinates = np.fromiter(vertices, dtype=float, count=2 * sum(sizes)).reshape(-1, 2)
        ring_of_vertex = np.repeat(np.arange(len(rings)), sizes)
        linear_rings: Any = shapely.linearrings(coordinates, indices=ring_of_vertex)
        polygons: Any = shapely.polygons(linear_rings, indices=area_of_ring)
        valid: Any = shapely.is_valid(polygons)
    except (shapely.errors.GEOSException, ValueError):
        return
    for area, polygon, is_valid in zip(pending, polygons.tolist(), valid.tolist(), strict=True):
        area._geometry = polygon if is_valid else _repaired(polygon)


def corner_box(vertices: Any) -> Box | None:
    """``(x0, y0, x1, y1)`` of four vertices drawn in Kili's corner order (bottom-left, top-left,
    top-right, bottom-right, or that order mirrored), None for any other list."""
    if not isinstance(vertices, list) or len(vertices) != 4:
        return None
    a, b, c, d = vertices
    x0, y1, x1, y0 = a["x"], a["y"], c["x"], c["y"]
    if b["x"] != x0 or d["x"] != x1 or b["y"] != y0 or d["y"] != y1:
        return None
    if x0 > x1:
        x0, x1 = x1, x0
    if y0 > y1:
        y0, y1 = y1, y0
    return x0, y0, x1, y1


def rectangle_of(bounding_poly: Sequence[Any]) -> Area | None:
    """The region of a rectangle annotation: a box when its vertices are the corners of one."""
    if len(bounding_poly) == 1 and isinstance(bounding_poly[0], dict):
        vertices = bounding_poly[0].get("normalizedVertices") or []
        corners = corner_box(vertices)
        if corners is not None:
            return Area(corners, None, True)
        if len(vertices) in (2, 4):
            xs = {v["x"] for v in vertices}
            ys = {v["y"] for v in vertices}
            if len(xs) <= 2 and len(ys) <= 2:
                return Area((min(xs), min(ys), max(xs), max(ys)), is_box=True)
    return area_of(bounding_poly, "polygon")


def area_of(bounding_poly: Sequence[Any], tool: str) -> Area | None:
    """The region of a rectangle, polygon or semantic annotation, None when it has no vertices."""
    rings = [_xy(poly.get("normalizedVertices") or []) for poly in bounding_poly if isinstance(poly, dict)]
    rings = [ring for ring in rings if ring]
    if not rings:
        return None
    outer = rings[0]
    xs = [x for x, _ in outer]
    ys = [y for _, y in outer]
    return Area((min(xs), min(ys), max(xs), max(ys)), rings)


def area_iou(a: Area, b: Area) -> float:
    if a.is_box and b.is_box:
        return box_iou(a.bounds, b.bounds)
    if a.bounds[2] < b.bounds[0] or b.bounds[2] < a.bounds[0]:
        return 0.0
    if a.bounds[3] < b.bounds[1] or b.bounds[3] < a.bounds[1]:
        return 0.0
    if a.rings == b.rings:  # drawn alike (a copied pre-annotation, say): no overlay needed
        return 0.0 if a.geometry.is_empty else 1.0
    return geometry_iou(a.geometry, b.geometry)


def geometry_iou(a: BaseGeometry, b: BaseGeometry) -> float:
    inter = None
    if a.area > 0 and b.area > 0:  # both overlays would run: the intersection first
        inter = a.intersection(b).area
        if inter == 0.0 and a.bounds != b.bounds:
            # 0 / union, or for a union without area a.equals(b), which GEOS begins by comparing
            # the envelopes: 0.0 either way, without the union.
            return 0.0
    union = a.union(b).area
    if union <= 0:
        return 1.0 if a.equals(b) and not a.is_empty else 0.0  # shapes without area
    if inter is None:
        inter = a.intersection(b).area
    return min(1.0, inter / union)


def point_similarity(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, 1.0 - math.dist(a, b) / POINT_TOLERANCE)


def line_similarity(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return geometry_iou(_buffered(a), _buffered(b))


def _buffered(points: list[tuple[float, float]]) -> BaseGeometry:
    if len(points) == 1:
        return shapely.Point(points[0]).buffer(LINE_HALF_WIDTH)
    return LineString(points).buffer(LINE_HALF_WIDTH)


def span_similarity(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Overlap / union of two character spans ``[begin, end)``."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union


def edit_similarity(a: str, b: str) -> float:
    """1 − Levenshtein(a, b) / max(|a|, |b|), after trimming; 1 for two empty texts."""
    a, b = a.strip(), b.strip()
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))
