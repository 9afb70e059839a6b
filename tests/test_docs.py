"""The docs cannot drift from the code: every method, field and filter is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import labelport
from labelport.store import filters
from labelport.store.fields import ENTITIES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_command():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[0] == "```bash"
    demo, tests = lines[1], lines[2]
    assert lines[3] == "```"
    assert demo.endswith("labelport demo") and demo.startswith("python3 -m venv .venv && .venv/bin/pip install")
    assert tests.endswith("-m pytest -q") and tests.startswith("python3 -m venv .venv && .venv/bin/pip install")
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_public_client_method_is_documented():
    documented = set(re.findall(r"^### (\w+)$", (DOCS / "client.md").read_text(), flags=re.MULTILINE))
    public = {name for name, _ in inspect.getmembers(labelport.Client, inspect.isfunction) if not name.startswith("_")}
    assert public - documented == set()
    assert documented - public == {"ParsedLabel"} or documented - public == set()


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_every_field_is_documented(entity):
    text = (DOCS / "query.md").read_text()
    section = re.split(r"\n#{2,3} ", text.split(f"### {entity}\n", 1)[1], maxsplit=1)[0]
    listed = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE))
    assert listed == set(ENTITIES[entity].fields)


def test_every_filter_is_documented():
    text = (DOCS / "query.md").read_text()
    names = {
        *filters.ASSET_FILTERS,
        *filters.ASSET_LABEL_CRITERIA,
        *filters.LABEL_FILTERS,
        *filters.PROJECT_FILTERS,
        *filters.UNSUPPORTED,
    }
    missing = sorted(name for name in names if f"`{name}`" not in text)
    assert missing == []


def test_public_api_is_small_and_importable():
    for name in labelport.__all__:
        assert hasattr(labelport, name), name
    assert "Client" in labelport.__all__ and issubclass(labelport.NotFound, labelport.LabelportError)


def test_the_table_of_options_by_format_is_what_the_specs_declare():
    from labelport.export import formats
    from labelport.export.formats.base import FORMAT_OPTIONS, Honoured, Refused, Unused

    def cell(rule: Honoured | Refused | Unused) -> str:
        if isinstance(rule, Honoured):
            return "yes"
        if isinstance(rule, Unused):
            return "noted" if rule.note else "no effect"
        return "refused" if rule.values is None else " or ".join(f"`{value}`" for value in rule.values) + " refused"

    section = (DOCS / "export.md").read_text().split("### Which format takes which option\n", 1)[1]
    rows = [line.strip("| ").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    specs = formats.specs()
    assert rows[0] == ["option", *(spec.name for spec in specs)]
    assert rows[1:] == [[f"`{option}`", *(cell(spec.options[option]) for spec in specs)] for option in FORMAT_OPTIONS]


def _cited_paths(text: str) -> list[str]:
    """The repository files a document cites in backquotes (``tests/test_docs.py``, ``services/exports.py``)."""
    found = re.findall(r"`([\w./-]+/[\w.-]+\.(?:py|md|json|toml|yaml|txt))`", text)
    return [path for path in found if not path.startswith(("labels/", "images/", "data/", "annotations/", "ImageSets/", "Annotations/", "JPEGImages/"))]


@pytest.mark.parametrize("document", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md"))])
def test_every_file_the_docs_cite_is_in_the_repository(document):
    bases = [ROOT, ROOT / "src", ROOT / "src" / "labelport", ROOT / "src" / "labelport" / "export"]
    missing = [
        path
        for path in _cited_paths((ROOT / document).read_text(encoding="utf-8"))
        if not any((base / path).exists() for base in bases)
    ]
    assert missing == []


def test_the_concepts_list_every_tool():
    from labelport.enums import Tool

    text = " ".join((DOCS / "concepts.md").read_text(encoding="utf-8").split())
    listed = re.search(r"object jobs need tools \(([^)]*)\)", text)
    assert listed is not None
    assert sorted(tool.strip() for tool in listed.group(1).split(",")) == sorted(tool.value for tool in Tool)


def test_the_readme_says_where_media_go_with_postgresql():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in text.split("## Where data lives", 1)[1].splitlines()
        if line.startswith("| ") and not line.startswith("| what")
    }
    assert "PostgreSQL" in rows["imported media"] and "`$LABELPORT_HOME/media`" in rows["imported media"]


def test_the_readme_says_which_layout_each_front_door_defaults_to():
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "the command line's `--layout` defaults to `merged`" in text
    assert "Python's `layout` to `split`" in text
