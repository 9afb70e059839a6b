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
