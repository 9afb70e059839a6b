"""An export shows one moment of the store: what is committed while it runs is not in the archive.

The count, a stratified split's pass and every page (read by the exporting process or by workers) read one
snapshot (``Store.snapshot``). Two kinds of tests: a write made at a chosen point of an export (after the
count, after the split's pass, after the first asset is written) leaves the archive as a quiet export of the
same store writes it; and a thread that keeps relabeling a set of assets together, each round in one
transaction, while exports run: every exported asset of the set carries the same round.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import labelport
from labelport import Client
from labelport.export import parallel, pipeline, source, split
from labelport.store import engine
from tests.factories import box, image_interface
from tests.golden import read_archive

ASSETS = 300
#: The assets relabeled together: on the first, a middle and the last page.
TOGETHER = ["asset_000", "asset_150", "asset_299"]
PAGE = 20  # 15 pages, in one process and with workers
_DATES = re.compile(rb'("date_created":"|- Export date: )[^"\n]*')


def response(round_number: int) -> dict[str, Any]:
    """A label that says its round: in its caption, its box and (odd rounds) its category."""
    category = "OBJECT_B" if round_number % 2 else "OBJECT_A"
    return {
        "JOB_0": {"annotations": [box(category, 0.1, 0.1, 0.2 + round_number % 500 / 1000, 0.3)]},
        "CAPTION": {"text": f"round {round_number}"},
    }


def relabel(client: Client, project_id: str, round_number: int) -> None:
    """One transaction: every asset of :data:`TOGETHER` gets a new latest label of this round."""
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=TOGETHER,
        json_response_array=[response(round_number)] * len(TOGETHER),
    )


@pytest.fixture
def project(client: Client) -> str:
    project_id = client.create_project("Snapshot", "IMAGE", image_interface())["id"]
    external_ids = [f"asset_{index:03d}" for index in range(ASSETS)]
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.invalid/{name}.jpg" for name in external_ids],
        external_id_array=external_ids,
        resolution_array=[{"width": 640, "height": 480}] * ASSETS,
    )
    client.append_labels(
        project_id=project_id, asset_external_id_array=external_ids, json_response_array=[response(0)] * ASSETS
    )
    return project_id


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "PAGE_SIZE", PAGE)
    monkeypatch.setattr(parallel, "PAGE_SIZE", PAGE)


def _members(path: Path) -> dict[str, bytes]:
    return {name: _DATES.sub(rb"\1<date>", data) for name, data in read_archive(path).items()}


def _once(action: Callable[[], None]) -> Callable[[], None]:
    done: list[bool] = []

    def run() -> None:
        if not done:
            done.append(True)
            action()

    return run


def _after_the_count(monkeypatch: pytest.MonkeyPatch, write: Callable[[], None]) -> None:
    assigner = pipeline.split_assigner  # called right after the count

    def assign(*args: Any) -> Any:
        write()
        return assigner(*args)

    monkeypatch.setattr(pipeline, "split_assigner", assign)


def _after_the_split_pass(monkeypatch: pytest.MonkeyPatch, write: Callable[[], None]) -> None:
    stratified = split.stratified

    def stratify(*args: Any) -> dict[str, str]:
        result = stratified(*args)
        write()
        return result

    monkeypatch.setattr(split, "stratified", stratify)


def _at_the_first_asset(monkeypatch: pytest.MonkeyPatch, write: Callable[[], None]) -> None:
    expand = pipeline.expand

    def expanded(*args: Any) -> Any:
        write()
        return expand(*args)

    monkeypatch.setattr(pipeline, "expand", expanded)


POINTS = {"after the count": _after_the_count, "after the split's pass": _after_the_split_pass}
POINTS["at the first asset written"] = _at_the_first_asset


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("point", list(POINTS))
def test_what_is_written_during_an_export_is_not_in_it(client, project, tmp_path, monkeypatch, point, workers):
    """Relabeling assets on several pages (to another category: the strata change) and adding a labeled
    asset, in the middle of a stratified YOLO export: the archive is the one the store gave before."""
    options: dict[str, Any] = {
        "with_assets": False,
        "layout": "merged",
        "split": "train=0.6,val=0.2,test=0.2",
        "split_stratify": True,
        "workers": workers,
    }
    before = client.export_labels(project, tmp_path / "before.zip", "yolo_v8", **options)

    def write() -> None:
        relabel(client, project, 1)
        client.append_many_to_dataset(
            project, content_array=["https://images.invalid/new.jpg"], external_id_array=["asset_new"]
        )
        client.append_labels(
            project_id=project, asset_external_id_array=["asset_new"], json_response_array=[response(1)]
        )

    POINTS[point](monkeypatch, _once(write))
    during = client.export_labels(project, tmp_path / "during.zip", "yolo_v8", **options)
    monkeypatch.undo()
    after = client.export_labels(project, tmp_path / "after.zip", "yolo_v8", **{**options, "workers": 1})

    assert (before.workers, during.workers) == (workers, workers)
    assert _members(tmp_path / "during.zip") == _members(tmp_path / "before.zip")
    assert during.as_dict() == {**before.as_dict(), "path": str(tmp_path / "during.zip")}
    assert after.assets_exported == ASSETS + 1  # the writes did happen
    assert _members(tmp_path / "after.zip") != _members(tmp_path / "before.zip")


def _rounds(path: Path) -> list[str]:
    """The caption of the latest label of each asset of :data:`TOGETHER` in a Kili ``data.json``."""
    assets = {asset["externalId"]: asset for asset in orjson.loads(read_archive(path)["data.json"])}
    return [assets[name]["latestLabel"]["jsonResponse"]["CAPTION"]["text"] for name in TOGETHER]


class Relabeler(threading.Thread):
    """Relabels :data:`TOGETHER` round after round, each round in one transaction, until stopped."""

    def __init__(self, url: str, media_dir: Path, project_id: str) -> None:
        super().__init__(daemon=True)
        self.client = labelport.Client(url, user_email="writer@example.com", media_dir=media_dir, disable_tqdm=True)
        self.project_id = project_id
        self.rounds = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                relabel(self.client, self.project_id, self.rounds + 1)
                self.rounds += 1
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.client.close()


@pytest.fixture
def relabeler(database_url: str, tmp_path: Path, project: str) -> Iterator[Relabeler]:
    thread = Relabeler(database_url, tmp_path / "media", project)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop.set()
        thread.join()
    assert thread.error is None, thread.error


@pytest.mark.parametrize("workers", [1, 2])
def test_assets_relabeled_together_are_exported_from_the_same_round(client, project, relabeler, tmp_path, workers):
    """Exports (Kili, one ``data.json``) while another connection keeps relabeling three assets of three
    pages together: in every archive the three carry the same round (on a store read page by page in
    separate transactions, they carried different rounds)."""
    seen = []
    for run in range(4):
        path = tmp_path / f"export_{run}.zip"
        report = client.export_labels(project, path, "kili", with_assets=False, single_file=True, workers=workers)
        assert (report.workers, report.assets_exported) == (workers, ASSETS)
        rounds = _rounds(path)
        seen.append(rounds)
        assert rounds == [rounds[0]] * len(TOGETHER), f"export {run}: {rounds}"
    relabeler.stop.set()
    relabeler.join()
    assert relabeler.error is None, relabeler.error
    assert relabeler.rounds > 0


def test_the_write_ahead_log_is_cut_back_after_an_export(tmp_path, monkeypatch):
    """SQLite: what is written during an export stays in the write-ahead log (its snapshot keeps checkpoints
    from copying it into the database); after the export, the log is checkpointed and the next write cuts
    the file back to the limit."""
    limit = 256 * 1024
    monkeypatch.setattr(engine, "SQLITE_WAL_LIMIT_BYTES", limit, raising=False)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    wal = tmp_path / "store.db-wal"
    with labelport.Client(
        url, user_email="admin@example.com", media_dir=tmp_path / "media", disable_tqdm=True
    ) as client:
        project_id = client.create_project("WAL", "IMAGE", image_interface())["id"]
        client.append_many_to_dataset(
            project_id,
            content_array=[f"https://images.invalid/{index}.jpg" for index in range(ASSETS)],
            external_id_array=[f"asset_{index:03d}" for index in range(ASSETS)],
        )
        client.append_labels(
            project_id=project_id,
            asset_external_id_array=TOGETHER,
            json_response_array=[response(0)] * len(TOGETHER),
        )
        sizes = []

        def write() -> None:
            metadata = {"notes": "x" * 4000}
            for batch in range(4):  # about 1 MB of metadata in the log
                client.update_properties_in_assets(
                    external_ids=[f"asset_{index:03d}" for index in range(ASSETS)],
                    project_id=project_id,
                    json_metadatas=[{**metadata, "batch": batch}] * ASSETS,
                )
            sizes.append(os.path.getsize(wal))

        _at_the_first_asset(monkeypatch, _once(write))
        client.export_labels(project_id, tmp_path / "out.zip", "kili", with_assets=False)
        relabel(client, project_id, 1)
        assert sizes[0] > 4 * limit
        assert os.path.getsize(wal) <= limit
