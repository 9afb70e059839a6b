"""``labelport --help`` and argument errors answer before the store's modules are imported (issue 16, item 15):
the commands are loaded by name (``LazyGroup``), and the library's heavy modules (SQLAlchemy, the client, the
store) only when a command runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

SRC = Path(__file__).resolve().parents[2] / "src"
#: Never imported before a command runs.
STORE = ("sqlalchemy", "psycopg", "labelport.client", "labelport.store", "labelport.services", "labelport.server")
#: Not imported either when no command's options are read (``labelport --help`` lists the groups).
LIBRARY = (*STORE, "labelport.export", "labelport.importers", "numpy", "PIL", "tqdm")


def among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def imported(*args: str) -> tuple[int, set[str]]:
    """The exit code of ``python -X importtime -m labelport ARGS`` and the modules it imported."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "labelport", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "labelport.cli" in modules, result.stderr[-2000:]
    return result.returncode, modules


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--help"], 0),
        (["--version"], 0),
        (["project", "--help"], 0),
        (["project", "export", "--help"], 0),
        (["project", "export"], 2),  # missing options
        (["project", "export", "--project-id", "p", "--output-format", "nope", "--output-file", "x.zip"], 2),
        (["project", "import-dataset", "--help"], 0),
        (["project", "member", "--help"], 0),
        (["serve", "--help"], 0),
        (["no-such-command"], 2),
    ],
)
def test_help_and_argument_errors_import_no_store_module(args, code):
    returncode, modules = imported(*args)
    assert returncode == code
    assert among(modules, STORE) == []


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["no-such-command"]])
def test_the_top_level_help_imports_no_command_module(args):
    _returncode, modules = imported(*args)
    assert among(modules, LIBRARY) == []
    assert among(modules, ("labelport.cli",)) == ["labelport.cli", "labelport.cli.lazy"]


def test_a_command_that_runs_imports_the_store(tmp_path):
    returncode, modules = imported("project", "list", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert returncode == 0 and "sqlalchemy" in modules and "labelport.client" in modules


def test_the_summaries_of_lazy_commands_list_them_as_their_own_help_would():
    from labelport.cli import main
    from labelport.cli.lazy import LazyGroup

    def groups(group: LazyGroup):
        yield group
        for name in group.list_commands(click.Context(group)):
            child = group.commands.get(name)
            if isinstance(child, LazyGroup):
                yield from groups(child)

    checked = 0
    for group in groups(main):
        for name, summary in group.summaries.items():
            target, _hidden = group.lazy_commands.get(name) or ("", False)
            command = group.get_command(click.Context(group), name)
            assert command is not None, target
            stub = click.Command(name, help=summary)
            for limit in (30, 45, 60, 90, 200):
                assert stub.get_short_help_str(limit) == command.get_short_help_str(limit), (name, limit)
            checked += 1
    assert checked == 7


def test_the_help_lists_every_command_once():
    from labelport.cli import main

    result = CliRunner().invoke(main, ["--help"], terminal_width=100)
    listed = result.output.split("Commands:\n", 1)[1]
    assert [line.split()[0] for line in listed.splitlines() if line.strip()] == [
        "api-key",
        "asset",
        "demo",
        "export-job",
        "jobs",
        "label",
        "preview",
        "project",
        "serve",
        "user",
        "worker",
    ]
