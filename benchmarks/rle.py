"""Rasterizing regions with holes into COCO RLE: the current ``rle_counts`` against the reference.

    python benchmarks/rle.py            # a few seconds
    python benchmarks/rle.py --quick    # fewer rounds

The reference is the previous implementation (every column of the image against every edge), kept
in tests/export/test_rle_fast.py as ``reference_rle_counts``. The regions are those a COCO export
of benchmarks/export_bench.py rasterizes (its semantic band with a hole, built by ``label``), and
polygons with a hole as drawn by hand: 8 to 30 vertices around a centre placed like the benchmark's
polygons, a smaller ring inside, both in normalized coordinates, converted to pixels of a 1280×720
image as the exporter converts them. Both functions run in the same process, alternately, over the
same regions; each time is the best of the rounds, per region. Every output is checked equal.
"""

from __future__ import annotations

import argparse
import importlib
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests, for the reference

from tests.export.test_rle_fast import reference_rle_counts

from _common import machine, print_table
from export_bench import HEIGHT, WIDTH, label
from labelport.export import formats, rle

formats.all_specs()  # the whole registry before the COCO module (see tests/export/test_coco.py)
coco = importlib.import_module("labelport.export.formats.coco")

Rings = list[list[tuple[float, float]]]
SIZE = (WIDTH, HEIGHT)
#: Regions of each kind, timed together.
REGIONS = 20


def pixels(rings: list[list[tuple[float, float]]]) -> Rings:
    """Normalized rings in pixels, as the COCO exporter computes them (clamped, rounded)."""
    return [coco._pixel_ring([{"x": x, "y": y} for x, y in ring], 0, SIZE) for ring in rings]


def bench_band() -> list[Rings]:
    """The semantic region with a hole of export_bench's labels (every third asset has one; all the same)."""
    regions = []
    for asset in range(0, 3 * REGIONS, 3):
        (band,) = (a for a in label(asset, 0)["REGIONS"]["annotations"] if a["type"] == "semantic")
        regions.append([coco._pixel_ring(poly["normalizedVertices"], 0, SIZE) for poly in band["boundingPoly"]])
    return regions


def ring(rng: random.Random, cx: float, cy: float, radius: float, count: int) -> list[tuple[float, float]]:
    """A star-shaped ring of ``count`` vertices around (cx, cy), radius in image widths."""
    turn = rng.uniform(0, 2 * math.pi)
    points = []
    for index in range(count):
        angle, r = turn + 2 * math.pi * index / count, radius * rng.uniform(0.6, 1.0)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle) * WIDTH / HEIGHT))
    return points


def polygons(vertices: int, radius: float, seed: int) -> list[Rings]:
    """Polygons with ``vertices`` vertices and a hole (a third as many vertices, half the radius)."""
    rng = random.Random(seed)
    regions = []
    for _ in range(REGIONS):
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(0.4, 0.8)  # where export_bench places its polygons
        outer = ring(rng, cx, cy, radius, vertices)
        hole = ring(rng, cx, cy, radius * 0.4, max(3, vertices // 3))
        regions.append(pixels([outer, hole]))
    return regions


def best(function: Callable[[Rings, int, int], object], regions: list[Rings]) -> float:
    start = time.perf_counter()
    for rings in regions:
        function(rings, WIDTH, HEIGHT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 15")
    rounds = 3 if parser.parse_args().quick else 15
    kinds = [
        ("export_bench band with a hole (4+4 vertices)", bench_band()),
        ("polygon, 8 vertices + hole, r 0.05", polygons(8, 0.05, 1)),
        ("polygon, 16 vertices + hole, r 0.1", polygons(16, 0.1, 2)),
        ("polygon, 30 vertices + hole, r 0.1", polygons(30, 0.1, 3)),
        ("polygon, 30 vertices + hole, r 0.3", polygons(30, 0.3, 4)),
    ]
    rows = []
    for name, regions in kinds:
        for rings in regions:
            assert rle.rle_counts(rings, WIDTH, HEIGHT) == reference_rle_counts(rings, WIDTH, HEIGHT), name
        reference, current = math.inf, math.inf
        for _ in range(rounds):  # alternately, so that both see the same load
            reference = min(reference, best(reference_rle_counts, regions))
            current = min(current, best(rle.rle_counts, regions))
        area = sum(rle.rle_counts(rings, WIDTH, HEIGHT)[1] for rings in regions) / len(regions)
        rows.append(
            [
                name,
                f"{area / (WIDTH * HEIGHT):.1%}",
                reference / len(regions) * 1e6,
                current / len(regions) * 1e6,
                f"{reference / current:.1f}×",
            ]
        )
    print(f"COCO RLE of a region with holes, {WIDTH}×{HEIGHT} image — {machine()}")
    print_table(
        f"time per region, best of {rounds} rounds over {REGIONS} regions of each kind",
        ["region", "image covered", "reference µs", "rle_counts µs", "speed-up"],
        rows,
    )


if __name__ == "__main__":
    main()
