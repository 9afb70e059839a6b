"""docs/cli.md cannot drift from the commands: its reference part is what the code renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelport.cli import main
from labelport.cli.reference import MARKER, commands, render_reference, updated_document

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_docs_cli_md_is_the_generated_reference():
    text = DOC.read_text(encoding="utf-8")
    assert text == updated_document(text, render_reference()), (
        "docs/cli.md is out of date: run `.venv/bin/python -m labelport.cli.reference`"
    )


def test_the_reference_has_every_command_with_its_help():
    reference = render_reference()
    for context, _command in commands(main):
        path = context.command_path
        assert f"| [`{path}`](#{path.replace(' ', '-')}) |" in reference
        assert f"### {path}\n\n```text\nUsage: {path} " in reference
    assert "### labelport project member rm" not in reference  # Kili's alias stays out of the docs


def test_the_hand_written_part_is_kept(tmp_path):
    assert updated_document(f"intro\n{MARKER}\nold reference\n", "new\n") == f"intro\n{MARKER}\n\nnew\n"
    with pytest.raises(SystemExit, match="has no line"):
        updated_document("no marker here", "new")
