"""Property tests of the geometry every format relies on."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Polygon

from labelport.export import geometry

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
rotation = st.sampled_from([0, 90, 180, 270])
size = st.integers(min_value=1, max_value=10_000)


@given(unit, unit, rotation)
def test_unrotate_undoes_rotate_and_stays_in_the_unit_square(x, y, angle):
    back = geometry.unrotate(*geometry.rotate(x, y, angle), angle)
    assert back == pytest.approx((x, y), abs=1e-12)
    assert all(0.0 <= v <= 1.0 for v in geometry.unrotate(x, y, angle))


@given(unit, unit)
def test_four_quarter_turns_are_the_identity(x, y):
    point = (x, y)
    for _ in range(4):
        point = geometry.unrotate(*point, 90)
    assert point == pytest.approx((x, y), abs=1e-12)
    assert geometry.unrotate(*geometry.unrotate(x, y, 90), 90) == pytest.approx(geometry.unrotate(x, y, 180), abs=1e-12)


@given(st.lists(st.tuples(unit, unit), min_size=1, max_size=20), size, size)
def test_normalized_to_pixels_and_back(points, width, height):
    pixels = geometry.scale(points, width, height)
    back = [value for x, y in pixels for value in (x / width, y / height)]
    assert back == pytest.approx([value for point in points for value in point], abs=1e-12)


@given(st.lists(st.tuples(unit, unit), min_size=1, max_size=20))
def test_bounds_contain_every_point(points):
    x0, y0, x1, y1 = geometry.bounds(points)
    assert (x0, x1) == (min(x for x, _ in points), max(x for x, _ in points))
    assert (y0, y1) == (min(y for _, y in points), max(y for _, y in points))


@st.composite
def square_with_hole(draw):
    x0, y0 = draw(st.floats(0, 0.4)), draw(st.floats(0, 0.4))
    side = draw(st.floats(0.2, 0.5))
    inset = draw(st.floats(0.01, 0.09))
    hole_side = draw(st.floats(0.01, side - 2 * inset - 0.001)) if side - 2 * inset > 0.011 else None
    outer = [(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side)]
    if hole_side is None:
        return outer, []
    hx, hy = x0 + inset, y0 + inset
    hole = [(hx, hy), (hx + hole_side, hy), (hx + hole_side, hy + hole_side), (hx, hy + hole_side)]
    return outer, [hole]


@given(square_with_hole(), size, size)
def test_polygon_area_with_holes_matches_shapely_in_pixels(rings, width, height):
    outer, holes = rings
    pixel_outer = geometry.scale(outer, width, height)
    pixel_holes = [geometry.scale(hole, width, height) for hole in holes]
    expected = Polygon(pixel_outer, pixel_holes).area
    assert geometry.polygon_area(pixel_outer, pixel_holes) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@given(st.lists(st.tuples(unit, unit), min_size=3, max_size=12))
def test_shoelace_orientation(points):
    clockwise_area = geometry.shoelace(list(reversed(points)))
    assert geometry.shoelace(points) == pytest.approx(-clockwise_area, abs=1e-12)
    if Polygon(points).is_valid:  # a simple ring: the shoelace area is the area
        assert math.isclose(abs(geometry.shoelace(points)), Polygon(points).area, abs_tol=1e-9)


def test_rotation_of():
    assert geometry.rotation_of({"ROTATION_JOB": {"rotation": 90}}) == 90
    assert geometry.rotation_of({"ROTATION_JOB": {"rotation": 45}}) == 0
    assert geometry.rotation_of({}) == 0
    # a box drawn on the view turned by 90° comes back onto the image
    assert geometry.ring([{"x": 0.1, "y": 0.5}], 90) == [(0.5, 0.9)]
