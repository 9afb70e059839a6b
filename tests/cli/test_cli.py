from __future__ import annotations

import subprocess
import sys
import zipfile

from click.testing import CliRunner

from labelport import __version__
from labelport.cli import main
from tests.factories import box, boxes


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output == f"labelport, version {__version__}\n"


def test_recompute_marks(client, image_project, database_url):
    client.append_many_to_dataset(image_project, content_array=["https://h/a"], external_id_array=["a"])
    alice = client.create_user("alice@x.io")["id"]
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a", "a"],
        author_id_array=[alice, None],
        json_response_array=[boxes(box("OBJECT_A", 0, 0, 0.5, 0.5)), boxes(box("OBJECT_A", 0, 0, 0.5, 0.25))],
    )
    result = CliRunner().invoke(
        main, ["project", "recompute-marks", "--project-id", image_project, "--db", database_url]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"Recomputed the marks of 1 asset(s) in project {image_project}.\n"
    assert client.assets(image_project, fields=["consensusMark"]) == [{"consensusMark": 0.5}]


def test_unknown_project_is_an_error_with_exit_code_1(database_url):
    result = CliRunner().invoke(main, ["project", "recompute-marks", "--project-id", "nope", "--db", database_url])
    assert result.exit_code == 1
    assert result.output == (
        "Error: Project 'nope' does not exist in this store; list the projects with client.projects() "
        "or `labelport project list`.\n"
    )


def test_usage_errors_exit_2():
    result = CliRunner().invoke(main, ["project", "recompute-marks"])
    assert result.exit_code == 2 and "Missing option '--project-id'" in result.output


def test_demo_runs_in_a_subprocess(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "labelport", "demo", "--output-dir", str(tmp_path), "--scenes", "4"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "with 4 assets and 8 labels" in completed.stdout
    assert (tmp_path / "demo.db").exists() and len(list((tmp_path / "images").glob("*.png"))) == 4
    archives = sorted(p.name for p in (tmp_path / "exports").iterdir())
    assert archives == [
        "coco.zip",
        "geojson.zip",
        "kili.zip",
        "kili_single_file.zip",
        "pascal_voc.zip",
        "yolo_v4.zip",
        "yolo_v5.zip",
        "yolo_v7.zip",
        "yolo_v8.zip",
    ]
    assert (
        f"geojson    {tmp_path / 'exports' / 'geojson.zip'}  (3 assets, 6 annotations; a GEOSPATIAL project)"
        in completed.stdout
    )
    with zipfile.ZipFile(tmp_path / "exports" / "yolo_v8.zip") as archive:
        names = archive.namelist()
    assert (
        "data.yaml" in names
        and sum(n.startswith("labels/") for n in names) == 4
        and sum(n.startswith("images/") for n in names) == 4
    )
