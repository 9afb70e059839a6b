"""Rasterizing a region with holes into uncompressed COCO RLE counts, exactly (pixel centres, even-odd rule).

COCO holds a region with holes as a mask, not as polygons: the COCO writer hands the region's rings, in
pixels, to :func:`rle_counts`. The counts are checked against a per-pixel even-odd test
(tests/export/test_coco.py) and against the implementation this one replaced (tests/export/test_rle_fast.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labelport.export.geometry import Point

#: At most about this many crossings (or cells of the crossing matrix) are held at once: wider
#: regions are computed in column blocks.
_BLOCK_CELLS = 1 << 21


def _first_centres(bounds: np.ndarray, inclusive: bool) -> np.ndarray:
    """For each bound, the smallest integer ``i`` whose centre ``i + 0.5`` is ``>= bound`` (``>`` if not
    inclusive): exact, whatever the rounding of ``bound - 0.5`` would be."""
    centres = np.floor(bounds) - 1.0  # centre < bound here
    for _ in range(2):
        below = centres + 0.5 < bounds if inclusive else centres + 0.5 <= bounds
        centres += below
    return centres


def rle_counts(rings: Sequence[Sequence[Point]], width: int, height: int) -> tuple[list[int], int]:
    """Uncompressed COCO RLE counts (column-major) of the pixels inside ``rings``, and their number.

    Pixel (x, y) is inside when its centre (x + 0.5, y + 0.5) is inside by the even-odd rule over
    all rings: an odd number of edges cross the vertical line through the centre strictly above it.
    An edge a→b crosses the line ``X = x + 0.5`` when ``min(xa, xb) <= X < max(xa, xb)`` (a vertex on
    the line counts once), at ``ya + (X - xa) * (yb - ya) / (xb - xa)``. Each column's sorted
    crossings pair into spans.

    Only the crossings are computed: each edge's run of columns, in one array for the whole region
    (:func:`_crossing_spans`). Where that does not apply (a NaN coordinate or crossing, coordinates
    wider than float64), every column of the image is computed against every edge
    (:func:`_column_spans`), as before; both give the same counts (tests/export/test_rle_fast.py).
    """
    edges = [(a, b) for ring in rings for a, b in zip(ring, (*ring[1:], *ring[:1]), strict=True) if a[0] != b[0]]
    if not edges:
        return [width * height], 0
    xa, ya = np.array([a[0] for a, _ in edges]), np.array([a[1] for a, _ in edges])
    xb, yb = np.array([b[0] for _, b in edges]), np.array([b[1] for _, b in edges])
    # nearly vertical edges: a huge (even infinite) slope, as in float arithmetic; NaN and ±inf as given
    with np.errstate(all="ignore"):
        low, high, slope = np.minimum(xa, xb), np.maximum(xa, xb), (yb - ya) / (xb - xa)
        spans = _crossing_spans(xa, ya, low, high, slope, width, height)
        if spans is None:
            spans = _matrix_spans(xa, ya, low, high, slope, width, height)
    return _runs(*spans, width * height)


#: Column centres ``x + 0.5`` of images of each width (a few widths at a time).
_CENTRES: dict[int, np.ndarray] = {}


def _crossing_spans(
    xa: np.ndarray, ya: np.ndarray, low: np.ndarray, high: np.ndarray, slope: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Flat pixel indices [start, end) of the inside spans, in column-major order, from the edges'
    crossings only; None when a coordinate or a crossing is NaN, or the coordinates are not
    integers or floats of at most 64 bits.

    Edge ``e`` crosses the columns ``first[e] <= x < stop[e]``: those whose centre is in
    [low, high), counted exactly by a search among the centres. Without NaN, every column has an
    even number of crossings (each ring crosses a vertical line an even number of times), so once
    all crossings are sorted by column then row, consecutive pairs are the spans of :func:`_column_spans`.
    """
    if slope.dtype.kind != "f" or slope.dtype.itemsize > 8 or np.isnan(low).any():
        return None
    count = low.size
    centres = _CENTRES.get(width)
    if centres is None:
        if len(_CENTRES) >= 16:
            _CENTRES.clear()
        centres = _CENTRES[width] = np.arange(width) + 0.5
        centres.setflags(write=False)
    columns = np.searchsorted(centres, np.concatenate((low, high)))
    first, stop = columns[:count], columns[count:]
    if int((stop - first).sum()) <= _BLOCK_CELLS:
        return _block_spans(first, stop, xa, ya, slope, height)
    block = max(1, _BLOCK_CELLS // count)  # at most ``count`` crossings a column
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    for begin in range(0, width, block):
        end = min(width, begin + block)
        spans = _block_spans(np.clip(first, begin, end), np.clip(stop, begin, end), xa, ya, slope, height)
        if spans is None:
            return None
        starts.append(spans[0])
        ends.append(spans[1])
    return np.concatenate(starts), np.concatenate(ends)


def _block_spans(
    first: np.ndarray, stop: np.ndarray, xa: np.ndarray, ya: np.ndarray, slope: np.ndarray, height: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The spans of the crossings of edge ``e`` with columns ``first[e] <= x < stop[e]`` (see
    :func:`_crossing_spans`).

    The crossing rows are those of :func:`_column_spans`, bit for bit (same operations on the same
    values), and rounded the same way: row ``r`` is the first pixel whose centre is below the
    crossing, clamped to [0, height]. As that rounding keeps the order, sorting the keys
    ``x * height + r`` (the flat index of the first pixel below the crossing) sorts each column's
    crossings; the pairs of sorted keys are the spans, the empty ones dropped. (Column x's key
    ``x * height + height`` equals column x + 1's ``(x + 1) * height + 0``: equal keys, whichever
    column they came from, leave the sorted values the same.)
    """
    lengths = stop - first
    last = np.cumsum(lengths)
    columns = np.arange(last[-1])
    columns -= np.repeat(last - lengths - first, lengths)  # each edge's columns, edge after edge
    # horizontal edges only (boxes, traced masks): ya + (X - xa) * 0.0 is ya, one row for each edge
    flat = not slope.any() and bool(np.isfinite(xa).all())
    if flat:
        rows = _first_centres(ya.astype(np.float64), inclusive=False)
    else:
        ys = columns + 0.5  # then ya + (X - xa) * slope, in place (float64 whatever the coordinates' type)
        ys -= np.repeat(xa, lengths)
        ys *= np.repeat(slope, lengths)
        ys += np.repeat(ya, lengths)
        rows = _first_centres(ys, inclusive=False)
    if np.isnan(rows).any():  # 0 × an infinite slope: left to the matrix, which orders NaN its own way
        return None
    np.maximum(rows, 0, out=rows)
    np.minimum(rows, height, out=rows)
    keys = rows.astype(np.int64)
    if flat:
        keys = np.repeat(keys, lengths)
    columns *= height
    keys += columns
    keys.sort(kind="stable")  # merges the edges' runs, each already sorted
    starts, ends = keys[0::2], keys[1::2]
    keep = starts < ends
    return starts[keep], ends[keep]


def _matrix_spans(
    xa: np.ndarray, ya: np.ndarray, low: np.ndarray, high: np.ndarray, slope: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """The spans of every column of the image, in blocks of a (columns × edges) crossing matrix."""
    starts: list[np.ndarray] = [np.empty(0, np.int64)]
    ends: list[np.ndarray] = [np.empty(0, np.int64)]
    block = max(1, _BLOCK_CELLS // low.size)
    for first in range(0, width, block):
        columns = np.arange(first, min(width, first + block))
        spans = _column_spans(columns, xa, ya, low, high, slope, height)
        starts.append(spans[0])
        ends.append(spans[1])
    return np.concatenate(starts), np.concatenate(ends)


def _column_spans(
    columns: np.ndarray,
    xa: np.ndarray,
    ya: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    slope: np.ndarray,
    height: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat pixel indices [start, end) of the inside spans of these columns, in column-major order."""
    centre = columns[:, None] + 0.5
    crossing = (low[None, :] <= centre) & (centre < high[None, :])
    with np.errstate(over="ignore", invalid="ignore"):
        ys = np.where(crossing, ya[None, :] + (centre - xa[None, :]) * slope[None, :], np.inf)
    ys.sort(axis=1)
    count = crossing.sum(axis=1)
    pairs = ys.shape[1] // 2
    if pairs == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    upper, lower = ys[:, 0 : 2 * pairs : 2], ys[:, 1 : 2 * pairs : 2]
    valid = (2 * np.arange(pairs) + 1)[None, :] < count[:, None]
    top = np.maximum(_first_centres(np.where(valid, upper, 0.0), inclusive=False), 0)
    bottom = np.minimum(_first_centres(np.where(valid, lower, 0.0), inclusive=False) - 1, height - 1)
    keep = valid & (top <= bottom)
    offset = (columns[:, None] * height).astype(np.int64)
    return (offset + top.astype(np.int64))[keep], (offset + bottom.astype(np.int64) + 1)[keep]


def _runs(starts: np.ndarray, ends: np.ndarray, total: int) -> tuple[list[int], int]:
    """Alternating background/foreground run lengths from sorted spans (adjacent spans merge)."""
    if starts.size == 0:
        return [total], 0
    area = int(ends.sum() - starts.sum())
    bounds = np.empty(2 * starts.size + 2, np.int64)  # 0, start, end, start, end, ..., total
    bounds[0], bounds[-1] = 0, total
    bounds[1:-1:2], bounds[2:-1:2] = starts, ends
    joined = np.flatnonzero(starts[1:] == ends[:-1])  # a span that continues the previous one
    if joined.size:
        keep = np.ones(bounds.size, bool)
        keep[2 * joined + 2] = keep[2 * joined + 3] = False
        bounds = bounds[keep]
    counts = np.diff(bounds).tolist()
    if counts[-1] == 0:  # the last span reaches the last pixel
        counts.pop()
    return counts, area
