"""The COCO RLE rasterizer (``rle.rle_counts``) equals, count for count, the implementation it replaced.

``reference_rle_counts`` below is that implementation, kept verbatim (only renamed): every column of
the image against every edge in a (columns × edges) matrix. The property tests draw regions of every
kind the exporter or a caller can hand over (polygons with holes, vertices on pixel centres or edges
or anywhere, shapes across the image borders, degenerate and self-intersecting rings, nearly
vertical edges, NaN and infinite coordinates) and compare the two outputs exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from labelport.export import rle

Point = tuple[float, float]
Rings = list[list[Point]]

# -- the reference: the implementation before the crossing-only rewrite, verbatim -------------------

_REFERENCE_BLOCK_CELLS = 1 << 21


def _reference_first_centres(bounds: np.ndarray, inclusive: bool) -> np.ndarray:
    """For each bound, the smallest integer ``i`` whose centre ``i + 0.5`` is ``>= bound`` (``>`` if not
    inclusive): exact, whatever the rounding of ``bound - 0.5`` would be."""
    centres = np.floor(bounds) - 1.0  # centre < bound here
    for _ in range(2):
        below = centres + 0.5 < bounds if inclusive else centres + 0.5 <= bounds
        centres += below
    return centres


def reference_rle_counts(rings: Sequence[Sequence[Point]], width: int, height: int) -> tuple[list[int], int]:
    """Uncompressed COCO RLE counts (column-major) of the pixels inside ``rings``, and their number.

    Pixel (x, y) is inside when its centre (x + 0.5, y + 0.5) is inside by the even-odd rule over
    all rings: an odd number of edges cross the vertical line through the centre strictly above it.
    An edge a→b crosses the line ``X = x + 0.5`` when ``min(xa, xb) <= X < max(xa, xb)`` (a vertex on
    the line counts once), at ``ya + (X - xa) * (yb - ya) / (xb - xa)``. Columns are computed in
    blocks with numpy; each column's sorted crossings pair into spans.
    """
    edges = [(ring[index], ring[(index + 1) % len(ring)]) for ring in rings for index in range(len(ring))]
    edges = [(a, b) for a, b in edges if a[0] != b[0]]
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    if edges:
        xa, ya = np.array([a[0] for a, _ in edges]), np.array([a[1] for a, _ in edges])
        xb, yb = np.array([b[0] for _, b in edges]), np.array([b[1] for _, b in edges])
        with np.errstate(over="ignore"):  # nearly vertical edges: a huge slope, as in float arithmetic
            low, high, slope = np.minimum(xa, xb), np.maximum(xa, xb), (yb - ya) / (xb - xa)
        block = max(1, _REFERENCE_BLOCK_CELLS // len(edges))
        for first in range(0, width, block):
            columns = np.arange(first, min(width, first + block))
            spans = _reference_column_spans(columns, xa, ya, low, high, slope, height)
            starts.append(spans[0])
            ends.append(spans[1])
    return _reference_runs(
        np.concatenate(starts) if starts else np.empty(0, np.int64),
        np.concatenate(ends) if ends else np.empty(0, np.int64),
        width * height,
    )


def _reference_column_spans(
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
    top = np.maximum(_reference_first_centres(np.where(valid, upper, 0.0), inclusive=False), 0)
    bottom = np.minimum(_reference_first_centres(np.where(valid, lower, 0.0), inclusive=False) - 1, height - 1)
    keep = valid & (top <= bottom)
    offset = (columns[:, None] * height).astype(np.int64)
    return (offset + top.astype(np.int64))[keep], (offset + bottom.astype(np.int64) + 1)[keep]


def _reference_runs(starts: np.ndarray, ends: np.ndarray, total: int) -> tuple[list[int], int]:
    """Alternating background/foreground run lengths from sorted spans (adjacent spans merge)."""
    if starts.size == 0:
        return [total], 0
    joined = np.concatenate(([False], starts[1:] == ends[:-1]))  # a span that continues the previous one
    starts, ends = starts[~joined], ends[np.concatenate((~joined[1:], [True]))]
    gaps = starts - np.concatenate(([0], ends[:-1]))
    counts = np.column_stack((gaps, ends - starts)).ravel().tolist()
    if ends[-1] < total:
        counts.append(int(total - ends[-1]))
    return counts, int((ends - starts).sum())


# -- comparing ---------------------------------------------------------------------------------------


def assert_same(rings: Sequence[Sequence[Point]], width: int, height: int) -> tuple[list[int], int]:
    with np.errstate(all="ignore"):  # the reference warns on NaN and infinite crossings
        expected = reference_rle_counts(rings, width, height)
    actual = rle.rle_counts(rings, width, height)
    assert actual == expected
    assert all(type(count) is int for count in actual[0]) and type(actual[1]) is int
    return actual


def fast_path_taken(rings: Sequence[Sequence[Point]], width: int, height: int) -> bool:
    """Whether ``rle_counts`` computes these rings from their crossings (not the full matrix)."""
    with mock.patch.object(rle, "_matrix_spans", side_effect=AssertionError("matrix")):
        try:
            rle.rle_counts(rings, width, height)
        except AssertionError:
            return False
    return True


# -- regions -----------------------------------------------------------------------------------------

#: Values that stress the rounding: just off a pixel centre, huge, tiny, signed zero.
_AWKWARD = [
    0.5 - 2**-54,
    0.5 + 2**-53,
    2.5 - 2**-51,
    2.5 + 2**-51,
    3.5 + 1e-300,
    -0.0,
    5e-324,
    -5e-324,
    1e17,
    -1e17,
    1e300,
    -1e300,
    1e308,
    -1e308,
]
#: Offsets that make an edge nearly vertical (slopes up to infinity).
_TINY = [5e-324, -5e-324, 1e-300, -1e-300, 2**-52, -(2**-52), 1e-9, -1e-9]


def coordinate(limit: int) -> st.SearchStrategy[float]:
    """A coordinate on an axis of ``limit`` pixels, a few pixels beyond it on both sides."""
    return st.one_of(
        st.integers(-3, limit + 3).map(lambda value: value + 0.5),  # a pixel centre
        st.integers(-3, limit + 3).map(float),  # a pixel edge
        st.integers(-12, 4 * limit + 12).map(lambda value: value / 4),
        st.integers(-300, 100 * limit + 300).map(lambda value: value / 100),  # as the exporter rounds
        st.floats(-limit - 3.0, 2.0 * limit + 3.0, allow_nan=False, allow_infinity=False),
        st.sampled_from(_AWKWARD),
    )


@st.composite
def free_ring(draw: st.DrawFn, width: int, height: int) -> list[Point]:
    """Any ring: random vertices (often self-intersecting), repeated x's, a NaN or infinite coordinate,
    nearly vertical edges."""
    points = draw(st.lists(st.tuples(coordinate(width), coordinate(height)), max_size=9))
    if len(points) > 2 and draw(st.booleans()):  # shared x's: vertical edges and vertices on one line
        x = points[0][0]
        points = [(x, y) if draw(st.booleans()) else (px, y) for px, y in points]
    if points and draw(st.integers(0, 9)) == 0:  # a NaN or infinite coordinate
        index, axis = draw(st.integers(0, len(points) - 1)), draw(st.integers(0, 1))
        value = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
        points[index] = (value, points[index][1]) if axis == 0 else (points[index][0], value)
    if points and draw(st.integers(0, 4)) == 0:  # a nearly vertical edge, to a far or near y
        x, y = points[0]
        far = draw(st.sampled_from([1e308, -1e308, 1e17, y + 1.0, y - 3.0, y]))
        step = draw(st.sampled_from(_TINY))
        near = math.nextafter(x, math.copysign(math.inf, step)) if draw(st.booleans()) else x + step
        points.insert(1, (near, far))
    return points


@st.composite
def polygon_with_hole(draw: st.DrawFn, width: int, height: int) -> Rings:
    """A star-shaped polygon and holes inside it (scaled copies), possibly touching it or the borders."""
    count = draw(st.integers(3, 30))
    cx = draw(st.floats(-0.2 * width, 1.2 * width, allow_nan=False))
    cy = draw(st.floats(-0.2 * height, 1.2 * height, allow_nan=False))
    size = draw(st.sampled_from([0.3, 2.0, 0.2 * max(width, height), 0.6 * max(width, height), 3.0 * (width + height)]))
    radii = [radius * size for radius in draw(st.lists(st.floats(0.3, 1.0), min_size=count, max_size=count))]
    turn = draw(st.floats(0.0, 2 * math.pi))
    # as computed, or on pixel edges, on pixel edges and centres, or rounded as the exporter does
    snap = draw(
        st.sampled_from([lambda v: v, lambda v: float(round(v)), lambda v: round(2 * v) / 2, lambda v: round(v, 2)])
    )

    def point(index: int, scale: float) -> Point:
        angle = turn + 2 * math.pi * index / count
        return snap(cx + scale * radii[index] * math.cos(angle)), snap(cy + scale * radii[index] * math.sin(angle))

    outer = [point(index, 1.0) for index in range(count)]
    rings = [outer]
    for _ in range(draw(st.integers(1, 2))):
        scale = draw(st.sampled_from([0.2, 0.5, 0.9, 1.0]))  # 1.0: the hole touches the outer ring
        hole = [point(index, scale) for index in range(count)]
        if draw(st.booleans()):
            hole.reverse()
        rings.append(hole[:: draw(st.integers(1, 3))])
    return rings


@st.composite
def rectilinear(draw: st.DrawFn, width: int, height: int) -> Rings:
    """Rings of horizontal and vertical edges only (boxes, staircases, traced masks), boxes inside."""
    rings = []
    for _ in range(draw(st.integers(1, 3))):
        steps = draw(st.integers(2, 6))
        xs = draw(st.lists(coordinate(width), min_size=steps, max_size=steps))
        ys = draw(st.lists(coordinate(height), min_size=steps, max_size=steps))
        rings.append(
            [point for x, y, x_next in zip(xs, ys, xs[1:] + xs[:1], strict=True) for point in ((x, y), (x_next, y))]
        )
    return rings


@st.composite
def regions(draw: st.DrawFn, sizes: st.SearchStrategy[tuple[int, int]]) -> tuple[int, int, Rings]:
    width, height = draw(sizes)
    kind = draw(st.sampled_from(["polygon", "rectilinear", "free"]))
    rings = draw(polygon_with_hole(width, height)) if kind == "polygon" else []
    if kind == "rectilinear":
        rings = draw(rectilinear(width, height))
        if draw(st.booleans()):  # nothing else: every edge horizontal or vertical
            return width, height, rings
    rings += draw(st.lists(free_ring(width, height), max_size=3))
    degenerate = st.sampled_from([[], [(1.5, 1.5)], [(0.5, 0.0), (2.5, 3.0)], [(1.0, 0.0), (1.0, 5.0), (1.0, 2.0)]])
    rings += draw(st.lists(degenerate, max_size=1))
    return width, height, draw(st.permutations(rings))


SMALL = st.tuples(st.integers(1, 50), st.integers(1, 50))


@settings(max_examples=600, deadline=None)
@given(regions(SMALL))
@example((1, 1, [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]]))
@example((4, 4, [[(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)], [(1.0, 1.0), (3.0, 1.0), (3.0, 3.0), (1.0, 3.0)]]))
@example((5, 3, [[(0.5, 0.5), (4.5, 0.5), (4.5, 2.5), (0.5, 2.5)], [(0.5, 0.5), (2.5, 0.5), (2.5, 2.5)]]))
@example(
    (3, 7, [[(-5.0, -5.0), (10.0, -5.0), (10.0, 10.0), (-5.0, 10.0)], [(1.5, 2.5), (1.5 + 5e-324, 1e308), (2.0, 3.0)]])
)
def test_equals_the_reference_on_small_images(region):
    width, height, rings = region
    assert_same(rings, width, height)


@settings(max_examples=80, deadline=None)
@given(regions(st.just((1280, 720))))
def test_equals_the_reference_on_1280x720_images(region):
    width, height, rings = region
    assert_same(rings, width, height)


@settings(max_examples=150, deadline=None)
@given(regions(SMALL), st.integers(1, 40))
def test_equals_the_reference_in_column_blocks(region, cells):
    """Few cells per block: the crossings (and the matrix) are computed block by block."""
    width, height, rings = region
    with mock.patch.object(rle, "_BLOCK_CELLS", cells):
        assert_same(rings, width, height)


# -- the cases each path is for ----------------------------------------------------------------------


def test_rectilinear_regions():
    """Boxes and boxes with box holes: every crossing of an edge on the edge's own row."""
    band = [
        [(0.0, 216.0), (0.0, 0.0), (1280.0, 0.0), (1280.0, 216.0)],
        [(512.0, 72.0), (768.0, 72.0), (768.0, 144.0), (512.0, 144.0)],
    ]
    assert assert_same(band, 1280, 720)[1] == 1280 * 216 - 256 * 72
    assert fast_path_taken(band, 1280, 720)
    rng = np.random.default_rng(5)
    for _ in range(300):
        width, height = (int(value) for value in rng.integers(1, 30, 2))
        rings = []
        for _ in range(int(rng.integers(1, 4))):
            x0, x1 = sorted(rng.integers(-8, 4 * width + 8, 2) / 4)
            y0, y1 = sorted(rng.integers(-8, 4 * height + 8, 2) / 4)
            rings.append([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        assert_same(rings, width, height)
    for rings in (
        [[(math.inf, 1.0), (4.0, 1.0), (4.0, 3.0), (math.inf, 3.0)]],
        [[(0.5, math.nan), (4.0, math.nan), (4.0, 3.0)]],
    ):
        assert_same(rings, 8, 6)
        assert not fast_path_taken(rings, 8, 6)


def test_typical_regions_take_the_crossings_path():
    outer = [(100.25, 80.5), (300.0, 60.75), (420.5, 200.0), (310.0, 390.5), (120.0, 330.0)]
    hole = [(200.0, 150.0), (260.5, 150.0), (260.5, 250.5), (200.0, 250.5)]
    counts, area = assert_same([outer, hole], 1280, 720)
    assert area > 0 and len(counts) > 100
    assert fast_path_taken([outer, hole], 1280, 720)


@pytest.mark.parametrize(
    "rings",
    [
        pytest.param([[(0.0, 0.0), (math.nan, 2.0), (5.0, 5.0)]], id="nan-x"),  # odd crossings per column
        pytest.param([[(0.0, 0.0), (3.0, math.nan), (5.0, 5.0)]], id="nan-y"),
        pytest.param([[(2.5, 0.0), (math.nextafter(2.5, 3.0), 1e308), (6.0, 3.0)]], id="zero-times-infinite-slope"),
        pytest.param(
            [[(2.5, -1e308), (math.nextafter(2.5, 3.0), 1e308), (6.0, 3.0)], [(0.5, 1.0), (7.0, 1.0), (7.0, 2.0)]],
            id="overflowing-rise",
        ),
        pytest.param([[(-math.inf, 1.0), (3.0, 2.0), (4.0, 6.0)]], id="infinite-x"),
        pytest.param(
            [[(1.0, -math.inf), (3.0, 2.0), (4.0, 6.0)], [(0.0, 0.5), (8.0, 0.5), (8.0, 3.5)]], id="infinite-y"
        ),
    ],
)
def test_nan_crossings_take_the_matrix_path(rings):
    assert_same(rings, 8, 6)
    assert not fast_path_taken(rings, 8, 6)


@pytest.mark.parametrize(
    "rings",
    [
        pytest.param([[(1.5 - 2**-52, 0.0), (1.5 + 2**-52, 1.0), (6.0, 3.0)]], id="huge-slope"),
        pytest.param([[(1.5 - 2**-52, 0.0), (1.5 + 2**-52, 1e300), (6.0, 3.0)]], id="infinite-slope-off-centre"),
        pytest.param([[(-1e300, -1e300), (1e300, -1e300), (1e300, 1e300)]], id="huge-coordinates"),
        pytest.param([[(0.0, 1.0), (math.inf, 2.0), (math.inf, 6.0), (100.0, 5.0)]], id="infinite-x-no-nan"),
        pytest.param([[(0.0, 0.0), (9.0, 0.0), (9.0, 6.0)], [(0.0, 0.0), (9.0, 6.0), (0.0, 6.0)]], id="touching"),
    ],
)
def test_infinite_but_not_nan_crossings_take_the_crossings_path(rings):
    assert_same(rings, 8, 6)
    assert fast_path_taken(rings, 8, 6)


@pytest.mark.parametrize(("width", "height"), [(0, 5), (5, 0), (0, 0), (1, 1), (1, 9), (9, 1)])
def test_empty_and_one_pixel_wide_images(width, height):
    for rings in ([], [[]], [[(0.0, 0.0), (9.0, 0.0), (9.0, 9.0), (0.0, 9.0)], [(0.2, 0.2), (0.4, 0.2), (0.4, 0.4)]]):
        assert_same(rings, width, height)


def test_other_number_types_as_the_reference():
    """Integers, float16/32, long doubles and numpy rows: the same arrays are built from them, so the
    same arithmetic."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        width, height = (int(value) for value in rng.integers(1, 30, 2))
        vertices = rng.uniform(-3, 33, (int(rng.integers(3, 12)), 2))
        for rings in (
            [[(int(x), int(y)) for x, y in vertices]],
            [[(float(x), int(y)) for x, y in vertices]],
            [vertices.astype(np.float32)],
            [[(np.float32(x), np.float32(y)) for x, y in vertices], [(1, 1), (5.5, 1), (5.5, 4)]],
            [vertices.astype(np.float16)],
            [vertices.astype(np.longdouble)],  # wider than float64: left to the matrix
            [np.abs(vertices).astype(np.uint32)],
        ):
            assert_same(rings, width, height)


def test_seeded_random_regions():
    """Many cheap cases besides hypothesis's: random rings on a quarter-pixel grid and anywhere."""
    rng = np.random.default_rng(2024)
    for _ in range(3000):
        width, height = (int(value) for value in rng.integers(1, 40, 2))
        rings = []
        for _ in range(int(rng.integers(1, 4))):
            count = int(rng.integers(0, 9))
            if rng.random() < 0.5:
                points = rng.integers(-8, 4 * max(width, height) + 8, (count, 2)) / 4
            else:
                points = rng.uniform(-3, max(width, height) + 3, (count, 2))
            rings.append([(float(x), float(y)) for x, y in points])
        assert_same(rings, width, height)
