from __future__ import annotations

import pytest
from click.testing import CliRunner

from labelport import __version__
from labelport.cli import main
from labelport.cli.reference import commands
from tests.factories import box, boxes

ALL_COMMANDS = [context.command_path for context, _command in commands(main)]


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output == f"labelport, version {__version__}\n"


def test_the_commands():
    assert ALL_COMMANDS == [
        "labelport",
        "labelport api-key",
        "labelport api-key create",
        "labelport api-key list",
        "labelport api-key revoke",
        "labelport asset",
        "labelport asset list",
        "labelport demo",
        "labelport export-job",
        "labelport export-job cancel",
        "labelport export-job download",
        "labelport export-job start",
        "labelport export-job status",
        "labelport jobs",
        "labelport jobs prune",
        "labelport label",
        "labelport label list",
        "labelport preview",
        "labelport project",
        "labelport project create",
        "labelport project delete",
        "labelport project describe",
        "labelport project export",
        "labelport project import",
        "labelport project import-dataset",
        "labelport project label",
        "labelport project list",
        "labelport project member",
        "labelport project member add",
        "labelport project member list",
        "labelport project member remove",
        "labelport project member update",
        "labelport project recompute-marks",
        "labelport project update",
        "labelport serve",
        "labelport user",
        "labelport user set-password",
        "labelport worker",
    ]


@pytest.mark.parametrize("path", ALL_COMMANDS)
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(main, [*path.split()[1:], "--help"], prog_name="labelport")
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: {path} [OPTIONS]")
    groups = ("labelport", "labelport api-key", "labelport asset", "labelport label", "labelport project")
    groups += ("labelport export-job", "labelport jobs")
    groups += ("labelport user",)
    if path in (*groups, "labelport project member"):
        return  # groups list their commands
    example = result.output.split("Example:\n", 1)[1]
    assert example.startswith(f"    {path} ")
    if path.startswith("labelport export-job "):  # a client of a server: its URL and a key, not a store
        assert "--server TEXT" in result.output and "--api-key TEXT" in result.output
    else:
        assert path == "labelport demo" or "--db TEXT" in result.output


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
    assert result.stdout == ""
    assert result.stderr == (
        "Error: Project 'nope' does not exist in this store; list the projects with `labelport project list`.\n"
    )


def test_the_database_comes_from_the_environment(client, image_project, database_url):
    result = CliRunner(env={"LABELPORT_DATABASE_URL": database_url}).invoke(
        main, ["project", "list", "--format", "csv"]
    )
    assert result.output.splitlines()[1].startswith(f"Images,{image_project},,a test project")


def test_usage_errors_exit_2():
    result = CliRunner().invoke(main, ["project", "recompute-marks"])
    assert result.exit_code == 2 and "Missing option '--project-id'" in result.output
    result = CliRunner().invoke(main, ["project", "frobnicate"])
    assert result.exit_code == 2 and "No such command 'frobnicate'" in result.output
