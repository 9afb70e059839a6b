"""Exports stream: the memory an export needs does not grow with the project.

Two projects of the same shape, one 5 times larger than the other, are exported with the page size
set to 50 assets (so both span many pages), after a warm-up export (imports, caches). The Python
heap's peak (tracemalloc) may grow by less than 400 bytes per extra asset: what an export keeps
per asset is the 64-bit digest of each file name it wrote (to refuse duplicates and allocate
unique names), 16 to 32 bytes per name. An exporter that held the parsed labels would need over
5 KB per asset. Speed is measured by benchmarks/export_bench.py.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

import labelport
from labelport.export import parallel, source
from tests.factories import box, image_interface

SMALL, LARGE = 500, 2500
FORMATS = [
    ("kili", "split", False),
    ("kili", "split", True),
    ("coco", "split", False),
    ("yolo_v8", "split", False),
    ("pascal_voc", "merged", False),
]


def _response(index: int) -> dict:
    step = (index % 7) / 10
    boxes = [
        box("OBJECT_A" if k % 2 else "OBJECT_B", 0.05 + step, 0.1, 0.2 + step, 0.3 + 0.05 * k, f"b{k}")
        for k in range(6)
    ]
    region = {
        "categories": [{"name": "ROAD"}],
        "mid": "p1",
        "type": "polygon",
        "boundingPoly": [{"normalizedVertices": [{"x": 0.5, "y": 0.5}, {"x": 0.9, "y": 0.55}, {"x": 0.7, "y": 0.95}]}],
    }
    return {"JOB_0": {"annotations": boxes}, "POLY": {"annotations": [region]}}


def _stored_projects(
    folder: Path, sizes: tuple[int, ...], response: Callable[[int], dict]
) -> tuple[str, dict[int, str]]:
    """A store with one IMAGE project per size, every asset labeled with ``response(index)``."""
    url = f"sqlite:///{folder / 'store.db'}"
    ids = {}
    with labelport.Client(url, user_email="memory@example.com", disable_tqdm=True) as client:
        for size in sizes:
            project_id = client.create_project(f"{size} assets", "IMAGE", image_interface())["id"]
            external_ids = [f"image_{size}_{n:05d}.jpg" for n in range(size)]
            client.append_many_to_dataset(
                project_id,
                content_array=[f"https://images.example.com/{e}" for e in external_ids],
                external_id_array=external_ids,
                json_metadata_array=[{"source": "memory test", "index": n} for n in range(size)],
                resolution_array=[{"width": 640, "height": 480}] * size,
            )
            client.append_labels(
                project_id=project_id,
                asset_external_id_array=external_ids,
                json_response_array=[response(n) for n in range(size)],
            )
            ids[size] = project_id
    return url, ids


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[int, str]]:
    return _stored_projects(tmp_path_factory.mktemp("memory"), (SMALL, LARGE), _response)


def _peak_bytes(url: str, project_id: str, target: Path, fmt: str, layout: str, single_file: bool, workers: int) -> int:
    with labelport.Client(url, user_email="memory@example.com", disable_tqdm=True) as client:
        gc.collect()
        tracemalloc.start()
        try:
            report = client.export_labels(
                project_id, target, fmt, layout=layout, single_file=single_file, with_assets=False, workers=workers
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert report.assets_exported == report.assets_matched and not report.skipped
    assert report.workers == workers
    return peak


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("fmt", "layout", "single_file"), FORMATS)
def test_export_memory_does_not_grow_with_the_project(
    projects, tmp_path, monkeypatch, fmt, layout, single_file, workers
):
    """In one process, and in the exporting process of a parallel export (results in flight are bounded)."""
    url, ids = projects
    monkeypatch.setattr(source, "PAGE_SIZE", 50)
    monkeypatch.setattr(parallel, "PAGE_SIZE", 50)
    # One page per worker in flight: how many converted pages wait at the peak depends on timing, and at
    # this small size a waiting page (~150 KB) would be a tenth of the difference measured.
    monkeypatch.setattr(parallel, "IN_FLIGHT", 1)
    args = (fmt, layout, single_file, workers)
    _peak_bytes(url, ids[SMALL], tmp_path / "warm-up.zip", *args)
    small = _peak_bytes(url, ids[SMALL], tmp_path / "small.zip", *args)
    large = _peak_bytes(url, ids[LARGE], tmp_path / "large.zip", *args)
    per_asset = (large - small) / (LARGE - SMALL)
    assert per_asset < 400, (
        f"{fmt}: peak {large / 1e6:.2f} MB for {LARGE} assets, {small / 1e6:.2f} MB for {SMALL}: {per_asset:.0f} B/asset"
    )


@pytest.fixture(scope="module")
def issue_projects(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[int, str]]:
    """The sizes the scale issue names: 2,000 and 20,000 assets of the same small labels."""
    return _stored_projects(
        tmp_path_factory.mktemp("memory-issue"), (2_000, 20_000), lambda n: {"JOB_0": _response(n)["JOB_0"]}
    )


@pytest.mark.parametrize(("fmt", "workers"), [("kili", 1), ("coco", 2)])
def test_the_peak_grows_less_than_half_from_2000_to_20000_assets(issue_projects, tmp_path, fmt, workers):
    """Ten times the assets, with the default page size: the peak traced memory grows by less than 1.5×
    (kili: a member per asset, in one process; coco: the exporting process of a parallel export)."""
    url, ids = issue_projects
    args = (fmt, "split", False, workers)
    _peak_bytes(url, ids[2_000], tmp_path / "warm-up.zip", *args)
    small = _peak_bytes(url, ids[2_000], tmp_path / "small.zip", *args)
    large = _peak_bytes(url, ids[20_000], tmp_path / "large.zip", *args)
    assert large < 1.5 * small, f"{fmt}: peak {large / 1e6:.2f} MB for 20,000 assets, {small / 1e6:.2f} MB for 2,000"
