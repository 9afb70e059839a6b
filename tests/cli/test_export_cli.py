from __future__ import annotations

import subprocess
import sys
import zipfile

import click
from click.testing import CliRunner

from labelport.cli import main
from tests.export import projects


def test_export_prints_the_report(client, database_url, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    out = tmp_path / "out.zip"
    result = CliRunner().invoke(
        main,
        [
            "project",
            "export",
            "--project-id",
            built.project_id,
            "--output-format",
            "kili",
            "--output-file",
            str(out),
            "--without-assets",
            "--filter",
            "external_id_in=img",
            "--filter",
            "status_in=LABELED",
            "--db",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Exported project {built.project_id} to kili: {out}",
        "  assets matched: 3, exported: 3, without a label of the selected types (not exported): 0",
        "  labels exported: 3; files in the archive: 4",
        "  annotations written, BOXES: 3",
        "  annotations written, KEYPOINTS: 2",
        "  annotations written, MIXED: 2",
        "  annotations written, REGIONS: 3",
        "  annotations written, WEATHER: 1",
    ]
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [
            "README.kili.txt",
            "labels/folder/img_3.png.json",
            "labels/img_1.png.json",
            "labels/img_2.jpg.json",
        ]


def test_export_errors(client, database_url, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    runner = CliRunner()
    base = [
        "project",
        "export",
        "--project-id",
        built.project_id,
        "--output-file",
        str(tmp_path / "o.zip"),
        "--db",
        database_url,
    ]
    result = runner.invoke(main, [*base, "--output-format", "tfrecord"])  # a usage error: the choices are listed
    assert result.exit_code == 2 and result.output.endswith(
        "Error: Invalid value for '--output-format': 'tfrecord' is not one of 'coco', 'geojson', 'kili', "
        "'pascal_voc', 'raw', 'simple', 'yolo_v4', 'yolo_v5', 'yolo_v7', 'yolo_v8'.\n"
    )
    result = runner.invoke(main, [*base, "--output-format", "kili", "--filter", "colour=red"])
    assert result.exit_code == 1 and result.output.startswith("Error: Unknown asset filter arguments: ['colour']")
    result = runner.invoke(main, [*base, "--output-format", "kili", "--filter", "status_in"])
    assert result.exit_code == 2 and "Invalid value for --filter: 'status_in' is not KEY=VALUE" in result.output
    result = runner.invoke(
        main,
        [
            "project",
            "export",
            "--project-id",
            "nope",
            "--output-format",
            "kili",
            "--output-file",
            "x.zip",
            "--db",
            database_url,
        ],
    )
    assert result.exit_code == 1 and result.output.startswith("Error: Project 'nope' does not exist in this store")
    assert not (tmp_path / "o.zip").exists()


def test_export_in_a_subprocess(client, database_url, tmp_path):
    built = projects.build_text_project(client)
    out = tmp_path / "text.zip"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "labelport",
            "project",
            "export",
            "--project-id",
            built.project_id,
            "--output-format",
            "raw",
            "--output-file",
            str(out),
            "--single-file",
            "--db",
            database_url,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"Exported project {built.project_id} to raw: {out}")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["README.kili.txt", "data.json"]


def test_the_format_choices_and_help_come_from_the_registries():
    from labelport.export import formats as export_formats
    from labelport.importers import formats as import_formats

    project = main.commands["project"]
    assert isinstance(project, click.Group)
    export = project.get_command(click.Context(project), "export")
    assert export is not None
    options = {option.name: option for option in export.params}
    assert list(options["fmt"].type.choices) == export_formats.names()
    assert options["fmt"].help == "The format of the archive (see docs/export.md); raw is another name for kili."
    assert (
        options["single_file"].help == "One file for the whole project (coco, kili, simple; other formats refuse it)."
    )
    assert options["split_text"].help.startswith("coco, yolo_v5, yolo_v7, yolo_v8: a train/val/test split by asset")
    assert options["dataset_root"].help.startswith("yolo_v5, yolo_v7, yolo_v8 with --split: the absolute folder")
    dataset = project.get_command(click.Context(project), "import-dataset")
    assert dataset is not None
    fmt = next(option for option in dataset.params if option.name == "fmt")
    assert list(fmt.type.choices) == import_formats.names()
    assert import_formats.names() == ["coco", "kili", "pascal_voc", "raw", "yolo_v4", "yolo_v5", "yolo_v7", "yolo_v8"]


def test_the_format_and_choices_are_read_in_any_case(client, database_url, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    out = tmp_path / "out.zip"
    result = CliRunner().invoke(
        main,
        [
            "project",
            "export",
            "--project-id",
            built.project_id,
            "--output-format",
            "COCO",
            "--layout",
            "Merged",
            "--export-type",
            "LATEST",
            "--output-file",
            str(out),
            "--without-assets",
            "--db",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"Exported project {built.project_id} to coco: {out}"
    with zipfile.ZipFile(out) as archive:
        assert "README.kili.txt" in archive.namelist()
        assert "- Exported format: coco\n" in archive.read("README.kili.txt").decode()


def test_refused_options_are_named_as_the_command_line_spells_them(client, database_url, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    base = ["project", "export", "--project-id", built.project_id, "--output-file", str(tmp_path / "o.zip")]
    result = CliRunner().invoke(main, [*base, "--output-format", "yolo_v8", "--single-file", "--db", database_url])
    assert result.exit_code == 1
    assert result.output == (
        "Error: Option --single-file cannot be used with format 'yolo_v8': YOLO writes one label file per image or "
        "video frame. Leave out --single-file (the default).\n"
    )
    result = CliRunner().invoke(
        main, [*base, "--output-format", "kili", "--split", "train=0.8,val=0.2", "--db", database_url]
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: Option --split train=0.8,val=0.2 cannot be used with format 'kili': the format has no train/val/test "
        "layout. Use a format that writes splits ("
    )
    assert result.output.endswith("), or leave --split out.\n")
    result = CliRunner().invoke(
        main, [*base, "--output-format", "yolo_v8", "--pixel-coordinates", "--db", database_url]
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: Option --pixel-coordinates cannot be used with format 'yolo_v8': YOLO coordinates are always "
        "normalized to [0, 1]. Leave out --pixel-coordinates (the default), or pass --normalized-coordinates.\n"
    )
