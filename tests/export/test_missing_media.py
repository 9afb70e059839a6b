"""A stored media file that has gone missing (issue 16, item 6): with the media included (``with_assets=True``),
the asset is not exported at all — no label file without its image — and the report says why; without the
media, its labels are exported as usual."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import select

from labelport.errors import ExportError
from labelport.store import schema
from tests.export import projects

FORMATS = ["kili", "coco", "yolo_v8", "pascal_voc"]


def remove_stored_file(client, project_id: str, external_id: str):
    A = schema.assets
    with client.store.read() as conn:
        key = conn.execute(
            select(A.c.media_key)
            .where(A.c.external_id == external_id, A.c.project_pk == schema.projects.c.pk)
            .where(schema.projects.c.id == project_id)
        ).scalar_one()
    path = client.store.media_dir / key
    path.unlink()
    return path


def mentions(archive: zipfile.ZipFile, stem: str) -> list[str]:
    """The members whose name or text mention ``stem``."""
    found = []
    for name in archive.namelist():
        if stem in name or (
            name.endswith((".json", ".xml", ".txt", ".yaml")) and stem in archive.read(name).decode("utf-8")
        ):
            found.append(name)
    return found


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_asset_whose_stored_file_is_missing_is_not_exported(client, tmp_path, fmt):
    built = projects.build_image_project(client, tmp_path / "images")
    path = remove_stored_file(client, built.project_id, "img_2.jpg")
    out = tmp_path / f"{fmt}.zip"
    report = client.export_labels(built.project_id, out, fmt, external_ids=["img_1.png", "img_2.jpg"])
    reason = (
        f"asset not exported: its stored media file {path} is missing, and the export includes the media "
        "(with_assets=True); restore the file, or export with with_assets=False to write its labels alone"
    )
    assert [(s.job, s.reason) for s in report.skipped if s.external_id == "img_2.jpg"] == [(None, reason)]
    assert (report.assets_matched, report.assets_exported, report.labels_exported) == (2, 1, 1)
    with zipfile.ZipFile(out) as archive:
        assert mentions(archive, "img_2") == []
        assert mentions(archive, "img_1") != []

    without = client.export_labels(
        built.project_id, tmp_path / f"{fmt}_labels.zip", fmt, external_ids=["img_2.jpg"], with_assets=False
    )
    assert (without.assets_exported, without.skipped) == (1, [])


def test_a_strict_export_stops_at_the_missing_file(client, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    path = remove_stored_file(client, built.project_id, "img_2.jpg")
    with pytest.raises(ExportError) as error:
        client.export_labels(built.project_id, tmp_path / "out.zip", "coco", strict=True, external_ids=["img_2.jpg"])
    assert str(error.value).startswith(
        f"Asset 'img_2.jpg': asset not exported: its stored media file {path} is missing"
    )
    assert not (tmp_path / "out.zip").exists()


def test_coco_lists_no_image_without_its_file(client, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    remove_stored_file(client, built.project_id, "img_2.jpg")
    client.export_labels(built.project_id, tmp_path / "out.zip", "coco", external_ids=["img_1.png", "img_2.jpg"])
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        labels = [n for n in archive.namelist() if n.endswith(".json")]
        assert labels != []
        for name in labels:
            files = {image["file_name"] for image in json.loads(archive.read(name))["images"]}
            assert len(files) == 1 and all(file in archive.namelist() for file in files)
