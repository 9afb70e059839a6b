"""COCO RLE decoding (checked against pycocotools) and the exact mask tracer."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as coco_mask
from shapely.geometry import Polygon

from labelport.export.rle import rle_counts
from labelport.importers import DatasetError, rle
from tests.importers.datasets import ring_mask, uncompressed_counts

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def _random_masks(count: int = 60):
    rng = np.random.default_rng(2024)
    for _ in range(count):
        height, width = (int(v) for v in rng.integers(1, 48, 2))
        density = float(rng.choice([0.05, 0.3, 0.5, 0.7, 0.95]))
        yield (rng.random((height, width)) < density).astype(np.uint8)


def test_compressed_strings_decode_like_pycocotools():
    for mask in _random_masks():
        encoded = coco_mask.encode(np.asfortranarray(mask))
        decoded = rle.decode({"size": encoded["size"], "counts": encoded["counts"].decode()}, "here")
        assert decoded.shape == mask.shape
        assert (decoded == mask.astype(bool)).all()
        # the counts are those of the uncompressed form
        assert rle.decode_string(encoded["counts"].decode(), "here") == uncompressed_counts(mask)


def test_large_counts_and_negative_differences():
    mask = np.zeros((300, 400), dtype=np.uint8)
    mask[10:290, 5:6] = 1  # long runs (several 5-bit groups)
    mask[0:3, 200:399] = 1  # short runs after long ones (negative differences)
    encoded = coco_mask.encode(np.asfortranarray(mask))
    assert (rle.decode({"size": [300, 400], "counts": encoded["counts"]}, "here") == mask.astype(bool)).all()


def test_uncompressed_counts():
    mask = ring_mask(12, 12)
    decoded = rle.decode({"size": [12, 12], "counts": uncompressed_counts(mask)}, "here")
    assert (decoded == mask.astype(bool)).all()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"size": [2, 2], "counts": "0" + chr(48 + 0x20)},
            "here: the compressed RLE 'counts' ends in the middle of a number.",
        ),
        ({"size": [2, 2], "counts": [1, 2]}, "here: the RLE runs cover 3 pixels but the mask is 2×2 = 4."),
        ({"size": [2, 2], "counts": [5, -1]}, "here: the RLE 'counts' holds a negative run; the mask is corrupt."),
        ({"size": [2], "counts": [4]}, "here: the RLE 'size' must be [height, width] in pixels, got [2]."),
        ({"size": [2, 2], "counts": 4}, "here: the RLE 'counts' must be a list of integers or a compressed string."),
        ([4], "here: an RLE segmentation must be an object with 'size' and 'counts'."),
    ],
)
def test_corrupt_rle_is_an_error(value, message):
    with pytest.raises(DatasetError) as error:
        rle.decode(value, "here")
    assert str(error.value) == message


def _area(part):
    outer, *holes = part
    return Polygon(outer).area - sum(Polygon(hole).area for hole in holes)


def test_trace_is_exact():
    for mask in _random_masks():
        parts = rle.trace(mask.astype(bool))
        # the outlines enclose exactly the pixels set
        assert sum(_area(part) for part in parts) == mask.sum()
        rings = [ring for part in parts for ring in part]
        height, width = mask.shape
        counts, area = rle_counts(rings, width, height) if rings else ([height * width], 0)
        assert area == mask.sum()
        rebuilt = coco_mask.decode(coco_mask.frPyObjects({"size": [height, width], "counts": counts}, height, width))
        assert (rebuilt == mask).all()
        for ring in rings:  # vertices only where the outline turns, on pixel corners
            assert all(x == int(x) and y == int(y) for x, y in ring)
            for index in range(len(ring)):
                (xa, ya), (x, y), (xb, yb) = ring[index - 1], ring[index], ring[(index + 1) % len(ring)]
                assert not (xa == x == xb or ya == y == yb)


def test_trace_of_a_ring_and_of_corner_touching_pixels():
    assert rle.trace(ring_mask(12, 12).astype(bool)) == [
        [
            [(2.0, 1.0), (10.0, 1.0), (10.0, 9.0), (2.0, 9.0)],
            [(4.0, 3.0), (4.0, 6.0), (7.0, 6.0), (7.0, 3.0)],
        ]
    ]
    diagonal = np.array([[1, 0], [0, 1]], dtype=bool)
    assert rle.trace(diagonal) == [
        [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]],
        [[(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0)]],
    ]
    assert rle.trace(np.zeros((3, 3), dtype=bool)) == []
