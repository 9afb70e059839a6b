"""Parallel exports (``workers=``): the same archive and report as a serial export, for every staged format."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from labelport import Client
from labelport.errors import ExportError, ValidationError
from labelport.export import formats, parallel
from labelport.export.formats.base import StagedWriter
from tests.export.projects import IMAGE_LABELS, build_image_project, build_video_project
from tests.golden import read_archive

_DATES = re.compile(rb'("date_created":"|- Export date: )[^"\n]*')


def _members(path: Path) -> dict[str, bytes]:
    return {name: _DATES.sub(rb"\1<date>", data) for name, data in read_archive(path).items()}


@pytest.fixture
def project(client: Client, tmp_path: Path) -> str:
    """The export image project, plus what makes the exporting process's part matter: a name that collides
    with another ignoring case, an asset without a resolution, a second label on an asset, and more pages."""
    project_id = build_image_project(client, tmp_path / "images").project_id
    extra = ["IMG_1.PNG", "no_size", *(f"more/{index}.jpg" for index in range(7))]
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.invalid/{index}.jpg" for index in range(len(extra))],
        external_id_array=extra,
        resolution_array=[{"width": 320, "height": 240}, None, *([{"width": 640, "height": 480}] * 7)],
    )
    labeler = client.create_user("bo.chen@example.com", firstname="Bo", lastname="Chen")["id"]
    responses = [IMAGE_LABELS["img_1.png"], IMAGE_LABELS["remote_4"]] + [IMAGE_LABELS["img_1.png"]] * 7
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=[*extra, "img_2.jpg"],
        json_response_array=[*responses, IMAGE_LABELS["remote_4"]],
        author_id_array=[labeler] * (len(extra) + 1),
        created_at_array=[f"2024-06-{index + 1:02d}T09:00:00.000Z" for index in range(len(extra) + 1)],
    )
    return project_id


CASES: list[tuple[str, dict[str, Any]]] = [
    ("coco", {}),
    ("coco", {"layout": "merged"}),
    ("coco", {"split": "train=0.5,val=0.5", "with_assets": True}),
    ("coco", {"export_type": "normal"}),
    ("yolo_v8", {}),
    ("yolo_v8", {"layout": "merged", "with_assets": True}),
    ("yolo_v8", {"split": "train=0.6,val=0.2,test=0.2", "split_stratify": True}),
    ("yolo_v4", {"export_type": "normal"}),
    ("pascal_voc", {}),
    ("pascal_voc", {"layout": "merged", "with_assets": True}),
    ("kili", {}),
    ("kili", {"single_file": True, "export_type": "normal"}),
]


@pytest.mark.parametrize(("fmt", "options"), CASES, ids=[f"{fmt}-{sorted(o)}" for fmt, o in CASES])
def test_a_parallel_export_writes_what_a_serial_one_does(client, project, tmp_path, monkeypatch, fmt, options):
    monkeypatch.setattr(parallel, "PAGE_SIZE", 2)  # 8 pages over 2 workers: results come back interleaved
    options = {"with_assets": False, **options}
    serial = client.export_labels(project, tmp_path / "serial.zip", fmt, workers=1, **options)
    parallel_report = client.export_labels(project, tmp_path / "parallel.zip", fmt, workers=2, **options)

    assert (serial.workers, parallel_report.workers) == (1, 2)
    assert _members(tmp_path / "parallel.zip") == _members(tmp_path / "serial.zip")
    assert {**parallel_report.as_dict(), "path": "", "workers": 1} == {**serial.as_dict(), "path": ""}
    assert parallel_report.assets_exported >= 10
    assert "converted by 2 worker processes" in str(parallel_report)


def test_spawned_workers_write_the_same_archive(client, project, tmp_path, monkeypatch):
    """Off Linux, workers are spawned: everything they get is pickled and they import labelport afresh."""
    monkeypatch.setattr(parallel, "_FORK", False)
    monkeypatch.setattr(parallel, "PAGE_SIZE", 5)
    serial = client.export_labels(project, tmp_path / "serial.zip", "coco", with_assets=False, workers=1)
    spawned = client.export_labels(project, tmp_path / "spawned.zip", "coco", with_assets=False, workers=2)
    assert spawned.workers == 2
    assert _members(tmp_path / "spawned.zip") == _members(tmp_path / "serial.zip")
    assert {**spawned.as_dict(), "path": "", "workers": 1} == {**serial.as_dict(), "path": ""}


def test_convert_cannot_write_to_the_archive():
    archive = parallel._NoArchive()
    with pytest.raises(RuntimeError, match=r"convert\(\) used the archive \(write_bytes\); only emit\(\) may write"):
        archive.write_bytes("a.txt", b"")


def test_parallel_strict_export_fails_on_the_first_skip_and_leaves_nothing(client, project, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "PAGE_SIZE", 2)
    target = tmp_path / "strict.zip"
    with pytest.raises(ExportError, match=r"Asset 'img_1.png', job 'REGIONS': polygon not written"):
        client.export_labels(project, target, "coco", with_assets=False, strict=True, workers=2)
    assert list(tmp_path.glob("strict.zip*")) == []


def test_workers_are_chosen_for_large_exports_of_staged_writers_only(client, project, tmp_path):
    report = client.export_labels(project, tmp_path / "a.zip", "yolo_v8", with_assets=False)
    assert report.workers == 1  # 14 assets: below PARALLEL_MIN_ASSETS
    modifier = client.export_labels(
        project, tmp_path / "b.zip", "coco", with_assets=False, workers=2, annotation_modifier=lambda a, i, k: a
    )
    assert modifier.workers == 1  # the caller's Python callback runs here
    # GeoJSON is not a staged writer (and refuses this project, which has no georeferenced asset)
    assert not issubclass(formats.get("geojson").writer, StagedWriter)
    kili_media = client.export_labels(project, tmp_path / "d.zip", "kili", workers=2)
    assert kili_media.workers == 1  # the record names its media members, allocated as they are written


def test_video_exports_stay_in_one_process(client, tmp_path):
    project_id = build_video_project(client, tmp_path / "frames").project_id
    for fmt in ("coco", "yolo_v8", "pascal_voc"):
        assert client.export_labels(project_id, tmp_path / f"{fmt}.zip", fmt, workers=2).workers == 1


def test_an_in_memory_store_is_not_shared_with_workers(tmp_path):
    with Client("sqlite://", media_dir=tmp_path / "media", disable_tqdm=True) as memory:
        project_id = build_image_project(memory, tmp_path / "images").project_id
        assert memory.export_labels(project_id, tmp_path / "m.zip", "kili", with_assets=False, workers=2).workers == 1


@pytest.mark.parametrize("workers", [0, -1, True, 1.5, "2"])
def test_workers_must_be_a_positive_whole_number(client, project, tmp_path, workers):
    with pytest.raises(ValidationError, match=r"workers must be a positive whole number of processes"):
        client.export_labels(project, tmp_path / "x.zip", "kili", workers=workers)
    assert not (tmp_path / "x.zip").exists()


def test_the_automatic_count_uses_every_core_from_the_threshold(client, project):
    store = client.store
    from labelport.export.formats.yolo import YoloWriter

    writer = YoloWriter.__new__(YoloWriter)
    writer.video = False
    assert parallel.worker_count(None, parallel.PARALLEL_MIN_ASSETS - 1, store, writer) == 1
    expected = min(parallel.os.cpu_count() or 1, parallel.MAX_AUTO_WORKERS) if parallel._FORK else 1
    assert parallel.worker_count(None, parallel.PARALLEL_MIN_ASSETS, store, writer) == expected
    assert parallel.worker_count(3, 10, store, writer) == 3
