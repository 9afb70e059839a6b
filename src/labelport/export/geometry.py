"""Geometry shared by the export formats: undoing a labeling rotation, pixels, areas, boxes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Point = tuple[float, float]


def rotation_of(response: dict[str, Any]) -> int:
    """The rotation (0, 90, 180, 270) the labeler applied, from the response's ``ROTATION_JOB``."""
    job = response.get("ROTATION_JOB")
    rotation = job.get("rotation", 0) if isinstance(job, dict) else 0
    return rotation if rotation in (90, 180, 270) else 0


def unrotate(x: float, y: float, rotation: int) -> Point:
    """Normalized coordinates drawn on a view turned by ``rotation`` degrees, back on the image."""
    if rotation == 90:
        return y, 1.0 - x
    if rotation == 180:
        return 1.0 - x, 1.0 - y
    if rotation == 270:
        return 1.0 - y, x
    return x, y


def rotate(x: float, y: float, rotation: int) -> Point:
    """The inverse of :func:`unrotate`."""
    if rotation == 90:
        return 1.0 - y, x
    if rotation == 180:
        return 1.0 - x, 1.0 - y
    if rotation == 270:
        return y, 1.0 - x
    return x, y


def ring(vertices: Iterable[dict[str, Any]], rotation: int = 0) -> list[Point]:
    """A list of ``{x, y}`` vertices as normalized points, rotation undone."""
    if rotation == 0:
        return [(float(v["x"]), float(v["y"])) for v in vertices]
    return [unrotate(float(v["x"]), float(v["y"]), rotation) for v in vertices]


def scale(points: Sequence[Point], width: float, height: float) -> list[Point]:
    return [(x * width, y * height) for x, y in points]


def shoelace(points: Sequence[Point]) -> float:
    """The signed area of a ring (positive when counter-clockwise in y-up axes)."""
    total = 0.0
    count = len(points)
    for index in range(count):
        x0, y0 = points[index]
        x1, y1 = points[(index + 1) % count]
        total += x0 * y1 - x1 * y0
    return total / 2.0


def polygon_area(outer: Sequence[Point], holes: Sequence[Sequence[Point]] = ()) -> float:
    """Area of a polygon with holes: |outer| − Σ |hole| (simple rings)."""
    area = abs(shoelace(outer)) - sum(abs(shoelace(hole)) for hole in holes)
    return max(area, 0.0)


def bounds(points: Sequence[Point]) -> tuple[float, float, float, float]:
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def clamp01(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


#: A plain box: (category, min x, min y, max x, max y), normalized, as drawn (rotation not undone).
PlainBox = tuple[str, float, float, float, float]


def plain_box(annotation: dict[str, Any]) -> PlainBox | None:
    """The most common annotation, read in one pass: a rectangle with one category and one ring of
    four vertices whose coordinates are floats. Its extremes are those :func:`bounds` gives for
    :func:`ring` (``min`` over the same values in the same order), so a writer's quick path for it
    computes the same numbers as its general one. None for anything else, which the general path
    reads (and, when it is faulty, reports)."""
    if annotation.get("type") != "rectangle":
        return None
    polys = annotation.get("boundingPoly")
    categories = annotation.get("categories")
    if type(polys) is not list or len(polys) != 1 or type(categories) is not list or len(categories) != 1:
        return None
    poly, category = polys[0], categories[0]
    if type(poly) is not dict or type(category) is not dict:
        return None
    name = category.get("name")
    vertices = poly.get("normalizedVertices")
    if type(name) is not str or type(vertices) is not list or len(vertices) != 4:
        return None
    a, b, c, d = vertices
    if type(a) is not dict or type(b) is not dict or type(c) is not dict or type(d) is not dict:
        return None
    try:
        ax, ay, bx, by, cx, cy, dx, dy = a["x"], a["y"], b["x"], b["y"], c["x"], c["y"], d["x"], d["y"]
    except KeyError:
        return None
    if not (float is type(ax) is type(bx) is type(cx) is type(dx) is type(ay) is type(by) is type(cy) is type(dy)):
        return None
    return name, min(ax, bx, cx, dx), min(ay, by, cy, dy), max(ax, bx, cx, dx), max(ay, by, cy, dy)
