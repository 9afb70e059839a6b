"""Kili annotations built from pixel or normalized shapes: boxes, polygons with holes, semantic parts.

Coordinates are normalized to 0..1 of the image (x right, y down). A rectangle has Kili's four
vertices, bottom-left first: (x0, y1), (x0, y0), (x1, y0), (x1, y1). Values outside 0..1 are
clamped to the image; the caller counts the annotations that moved (float noise below
:data:`CLAMP_NOISE` does not count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]
#: A clamp that moves a coordinate by less than this is float noise and is not reported.
CLAMP_NOISE = 1e-9


@dataclass
class Normalized:
    """Rings in normalized coordinates, and whether clamping to the image moved a vertex."""

    rings: list[list[Point]]
    clamped: bool


def _clamp(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def normalize(rings: Sequence[Sequence[Point]], width: float, height: float) -> Normalized:
    """Pixel rings divided by the image size, clamped to 0..1."""
    moved = False
    out = []
    for ring in rings:
        points = []
        for x, y in ring:
            nx, ny = x / width, y / height
            cx, cy = _clamp(nx), _clamp(ny)
            if abs(cx - nx) > CLAMP_NOISE or abs(cy - ny) > CLAMP_NOISE:
                moved = True
            points.append((cx, cy))
        out.append(points)
    return Normalized(out, moved)


def clamp_rings(rings: Sequence[Sequence[Point]]) -> Normalized:
    """Normalized rings clamped to 0..1."""
    return normalize(rings, 1.0, 1.0)


def box_corners(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    """Kili's rectangle vertices, bottom-left first (y grows downwards)."""
    return [(x0, y1), (x0, y0), (x1, y0), (x1, y1)]


def axis_aligned_box(ring: Sequence[Point]) -> tuple[float, float, float, float] | None:
    """``(x0, y0, x1, y1)`` when ``ring`` is the four corners of an axis-aligned box in cyclic order, else None."""
    if len(ring) != 4:
        return None
    xs = {x for x, _ in ring}
    ys = {y for _, y in ring}
    if len(xs) != 2 or len(ys) != 2 or len(set(ring)) != 4:
        return None
    for index in range(4):
        (xa, ya), (xb, yb) = ring[index], ring[(index + 1) % 4]
        if (xa == xb) == (ya == yb):  # each side moves along exactly one axis
            return None
    return min(xs), min(ys), max(xs), max(ys)


def box_annotation(category: str, mid: str, x0: float, y0: float, x1: float, y1: float) -> tuple[dict[str, Any], bool]:
    """A Kili rectangle from normalized bounds, clamped to 0..1, and whether clamping moved it.

    The hot path of box datasets: the same as ``annotation("rectangle", …, [box_corners(…)])``."""
    cx0, cy0, cx1, cy1 = _clamp(x0), _clamp(y0), _clamp(x1), _clamp(y1)
    moved = (
        abs(cx0 - x0) > CLAMP_NOISE
        or abs(cy0 - y0) > CLAMP_NOISE
        or abs(cx1 - x1) > CLAMP_NOISE
        or abs(cy1 - y1) > CLAMP_NOISE
    )
    corners = [{"x": cx0, "y": cy1}, {"x": cx0, "y": cy0}, {"x": cx1, "y": cy0}, {"x": cx1, "y": cy1}]
    return {
        "boundingPoly": [{"normalizedVertices": corners}],
        "categories": [{"name": category}],
        "children": {},
        "mid": mid,
        "type": "rectangle",
    }, moved


def vertices(ring: Sequence[Point]) -> list[dict[str, float]]:
    return [{"x": x, "y": y} for x, y in ring]


def annotation(tool: str, category: str, mid: str, rings: Sequence[Sequence[Point]]) -> dict[str, Any]:
    """A Kili object annotation: ``boundingPoly`` holds the outer ring, then the holes."""
    return {
        "boundingPoly": [{"normalizedVertices": vertices(ring)} for ring in rings],
        "categories": [{"name": category}],
        "children": {},
        "mid": mid,
        "type": tool,
    }
