"""Every registered export format against the contract of tests/export/contract.py.

The representative projects are built once per store backend (exports only read the store); each test
exports into a folder of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from labelport import Client
from labelport.errors import ExportError, IncompatibleFormatError
from labelport.export import formats
from labelport.export.formats.base import Refused as RefusedRule
from labelport.export.formats.base import Unused
from tests.conftest import BACKENDS, _postgres_schema_url
from tests.export.contract import (
    CONTRACTS,
    EXPORT_OPTIONS,
    GIVEN,
    PROJECTS,
    Contract,
    Exported,
    Refused,
    missing_contracts,
    without_dates,
)
from tests.golden import read_archive

FORMATS = [spec.name for spec in formats.specs()]


@dataclass
class Store:
    client: Client
    ids: dict[str, str]  # project id by representative project name


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("contract")
    database = (
        contextmanager(_postgres_schema_url)()  # a schema of its own, dropped afterwards
        if request.param == "postgres"
        else nullcontext(f"sqlite:///{folder / 'store.db'}")
    )
    with (
        database as url,
        Client(url, user_email="admin@example.com", media_dir=folder / "media", disable_tqdm=True) as client,
    ):
        yield Store(client, {name: build(client, folder / name) for name, build in PROJECTS.items()})


def contract_of(fmt: str) -> Contract:
    contract = CONTRACTS.get(fmt)
    if contract is None:
        pytest.fail(
            f"export format {fmt!r} is registered but has no contract: add CONTRACTS[{fmt!r}] in "
            "tests/export/contract.py (what it reports on each representative project, the options it refuses "
            "or notes, and an export that fails half-way)"
        )
    return contract


def export(store: Store, project: str, target: Path, fmt: str, **options: Any) -> Any:
    return store.client.export_labels(store.ids[project], target, fmt, **{**EXPORT_OPTIONS, **options})


def folder_with_a_previous_export(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "export.zip"
    target.write_bytes(b"previous export")
    return folder, target


def assert_left_untouched(folder: Path, target: Path) -> None:
    """Nothing written: the folder holds the previous export alone (no archive, no temporary file)."""
    assert sorted(path.name for path in folder.iterdir()) == [target.name]
    assert target.read_bytes() == b"previous export"


# -- every registered format has a contract -----------------------------------------------------------------


def test_every_registered_format_has_a_contract():
    missing = missing_contracts(FORMATS)
    assert missing == [], f"registered export formats without a contract in tests/export/contract.py: {missing}"
    assert sorted(CONTRACTS) == FORMATS, "tests/export/contract.py has contracts for formats that are not registered"
    for name, spec in formats.all_specs().items():  # aliases are held to their format's contract
        assert spec.name in CONTRACTS, name


def test_a_format_without_a_contract_is_named():
    assert missing_contracts(["coco", "tfrecord", "kili", "parquet"]) == ["tfrecord", "parquet"]


def test_every_representative_project_has_an_expectation():
    for fmt in FORMATS:
        missing = sorted(set(PROJECTS) - set(contract_of(fmt).exports))
        assert missing == [], f"format {fmt!r}: no expectation for the projects {missing} in tests/export/contract.py"


# -- each representative project: the report, the same bytes twice, or a refusal ------------------------------


@pytest.mark.parametrize("project", list(PROJECTS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_export_of_a_representative_project(store, tmp_path, fmt, project):
    expected = contract_of(fmt).exports.get(project)
    assert expected is not None, f"format {fmt!r}: no expectation for project {project!r} in tests/export/contract.py"
    folder = tmp_path / "exports"
    folder.mkdir()
    if isinstance(expected, Refused):
        with pytest.raises(IncompatibleFormatError) as error:
            export(store, project, folder / "out.zip", fmt)
        assert str(error.value) == expected.message.replace("<project>", repr(store.ids[project]))
        assert list(folder.iterdir()) == []  # refused before anything was written
        return
    assert isinstance(expected, Exported)
    report = export(store, project, folder / "first.zip", fmt)
    assert (
        report.assets_matched,
        report.assets_exported,
        report.assets_without_labels,
        report.labels_exported,
        report.files,
    ) == (expected.matched, expected.exported, expected.without_labels, expected.labels, expected.files)
    assert dict(report.annotations) == expected.annotations
    assert [(item.external_id, item.job, item.reason) for item in report.skipped] == expected.skipped
    assert report.notes == expected.notes
    again = export(store, project, folder / "second.zip", fmt)
    first, second = read_archive(folder / "first.zip"), read_archive(folder / "second.zip")
    assert len(first) == report.files
    assert list(first) == list(second), "the members differ, or come in another order"
    assert without_dates(first) == without_dates(second), "two exports of the same store state differ"
    assert again.as_dict() == {**report.as_dict(), "path": str(folder / "second.zip")}


# -- options: refused before anything is written, or noted ----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_options_a_format_refuses(store, tmp_path, fmt):
    contract = contract_of(fmt)
    spec = formats.get(fmt)
    declared = sorted(option for option, rule in spec.options.items() if isinstance(rule, RefusedRule))
    assert declared == sorted(contract.refused), f"format {fmt!r}: the options its spec refuses"
    for option, (options, message) in contract.refused.items():
        folder = tmp_path / option
        folder.mkdir()
        with pytest.raises(IncompatibleFormatError) as error:
            export(store, contract.project, folder / "out.zip", fmt, **options)
        assert str(error.value) == message, option
        assert list(folder.iterdir()) == [], option


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_options_a_format_does_not_use_are_noted(store, tmp_path, fmt):
    contract = contract_of(fmt)
    spec = formats.get(fmt)
    declared = sorted(option for option, rule in spec.options.items() if isinstance(rule, Unused) and rule.note)
    assert declared == sorted(contract.noted), f"format {fmt!r}: the options its spec notes"
    plain = contract.exports[contract.project]
    assert isinstance(plain, Exported)
    for option, note in contract.noted.items():
        report = export(store, contract.project, tmp_path / f"{option}.zip", fmt, **{option: GIVEN[option]})
        assert report.notes == [note, *plain.notes], option  # the options' notes come first
        assert dict(report.annotations) == plain.annotations, option


# -- an export that fails half-way leaves nothing behind ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failed_export_leaves_nothing_behind(store, tmp_path, fmt):
    failure = contract_of(fmt).failure
    folder, target = folder_with_a_previous_export(tmp_path)
    with pytest.raises(ExportError) as error:
        export(store, failure.project, target, fmt, **failure.options)
    if failure.varying is None:
        assert str(error.value) == failure.message
    else:
        before, after = failure.varying
        assert str(error.value).startswith(before) and str(error.value).endswith(after), str(error.value)
    assert_left_untouched(folder, target)
