"""COCO run-length masks: decoding (uncompressed and compressed ``counts``) and tracing into polygons.

**Format.** A mask of ``size [h, w]`` is read column by column (Fortran order); ``counts`` alternates
runs of 0s and 1s, starting with 0s. The compressed form writes each count as 5-bit groups, least
significant first, each group as the character ``48 + group``, with bit 0x20 meaning "more groups
follow" and, in the last group, bit 0x10 carrying the sign; from the third count on, the value
written is the difference with the count two places before.

**Tracing.** :func:`trace` turns a mask into polygons that follow the pixel edges: each connected
part (4-connectivity) becomes an outer ring plus one ring per hole; parts that touch only at a
corner are separate. Vertices sit on pixel corners, and only corners where the outline turns are
kept. The polygons are exact: a pixel is inside them (its centre, even-odd rule) exactly when it is
set in the mask, so rasterizing them again gives the same mask, pixel for pixel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from labelport.errors import DatasetError

Ring = list[tuple[float, float]]
#: A traced part: its outer ring, then its holes, in pixel coordinates.
Part = list[Ring]


def decode_string(text: str, where: str) -> list[int]:
    """The counts of a compressed RLE string."""
    counts: list[int] = []
    position, size = 0, len(text)
    while position < size:
        value, shift, more = 0, 0, True
        while more:
            if position >= size:
                raise DatasetError(f"{where}: the compressed RLE 'counts' ends in the middle of a number.")
            group = ord(text[position]) - 48
            if not 0 <= group < 64:
                raise DatasetError(
                    f"{where}: the compressed RLE 'counts' holds {text[position]!r}, which is not an RLE character."
                )
            position += 1
            value |= (group & 0x1F) << shift
            shift += 5
            more = bool(group & 0x20)
            if not more and group & 0x10:
                value -= 1 << shift  # the sign bit of the last group
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def decode(rle: Any, where: str) -> np.ndarray:
    """The boolean mask (``h × w``) of a COCO RLE object ``{"size": [h, w], "counts": ...}``."""
    if not isinstance(rle, dict):
        raise DatasetError(f"{where}: an RLE segmentation must be an object with 'size' and 'counts'.")
    size = rle.get("size")
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise DatasetError(f"{where}: the RLE 'size' must be [height, width] in pixels, got {size!r}.")
    height, width = size
    raw = rle.get("counts")
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", errors="replace")
    if isinstance(raw, str):
        counts = decode_string(raw, where)
    elif isinstance(raw, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        counts = raw
    else:
        raise DatasetError(f"{where}: the RLE 'counts' must be a list of integers or a compressed string.")
    if any(count < 0 for count in counts):
        raise DatasetError(f"{where}: the RLE 'counts' holds a negative run; the mask is corrupt.")
    total = sum(counts)
    if total != height * width:
        raise DatasetError(
            f"{where}: the RLE runs cover {total} pixels but the mask is {height}×{width} = {height * width}."
        )
    flat = np.repeat(np.arange(len(counts)) % 2 == 1, counts)
    return flat.reshape(width, height).T


def trace(mask: np.ndarray) -> list[Part]:
    """The parts of a mask as pixel-edge polygons with holes, ordered by their top-left corner."""
    if not mask.any():
        return []
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded, axis=1)
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    boxes = shapely.box(starts, rows, ends, rows + 1)
    merged = shapely.union_all(boxes)
    polygons = list(merged.geoms) if isinstance(merged, MultiPolygon) else [merged]
    parts = []
    for polygon in polygons:
        if not isinstance(polygon, Polygon) or polygon.is_empty:
            continue
        polygon = orient(polygon, sign=1.0)
        outer = _turns(list(polygon.exterior.coords))
        holes = [_turns(list(ring.coords)) for ring in polygon.interiors]
        parts.append([outer, *sorted(holes, key=_top_left)])
    return sorted(parts, key=lambda part: _top_left(part[0]))


def _top_left(ring: Ring) -> tuple[float, float]:
    return min((y, x) for x, y in ring)


def _turns(coords: Sequence[Sequence[float]]) -> Ring:
    """The ring's vertices where the outline turns (no repeated closing vertex), from its top-left one."""
    points = [(float(x), float(y)) for x, y in coords]
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    changed = True
    while changed and len(points) > 4:
        changed = False
        kept = []
        count = len(points)
        for index in range(count):
            (xa, ya), (x, y), (xb, yb) = points[index - 1], points[index], points[(index + 1) % count]
            if (xa == x == xb) or (ya == y == yb):
                changed = True
                continue
            kept.append((x, y))
        points = kept
    start = points.index(min(points, key=lambda p: (p[1], p[0])))
    return points[start:] + points[:start]
