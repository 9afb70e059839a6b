"""Converting assets in worker processes while the exporting process writes the archive.

A :class:`~labelport.export.formats.base.StagedWriter` splits its work on an asset in two: ``convert``
(reading the labels and turning them into rows, XML or JSON: most of an export's time, and the same
whatever came before) and ``emit`` (names, ids, counters, the archive). Here the exporting process hands the
selected assets to a pool of worker processes a page at a time; each worker converts every asset of its page
and sends back the results, which the exporting process emits in page order. The archive is therefore the
same, byte for byte, as a serial export's (tests/export/test_parallel.py checks every staged format), and
memory stays bounded: at most ``IN_FLIGHT`` pages per worker wait to be emitted.

Every page shows the moment of the exporting process's snapshot (:meth:`Store.snapshot`), like its count
and a stratified split's pass. On PostgreSQL the exporting process lists the pages' primary keys in its
snapshot and exports the snapshot (``pg_export_snapshot()``); each worker reads its page with its own
connection, in a transaction that adopts that snapshot. A SQLite read transaction cannot be shared with
another process: there the exporting process reads each page's rows in its snapshot and the workers parse
and convert them (:class:`~labelport.export.source.Page`), without a connection of their own.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, select
from sqlalchemy.engine import make_url

from labelport._signals import blocked, quiet_worker
from labelport.errors import ValidationError
from labelport.export import formats, source
from labelport.export.formats.base import StagedWriter, Writer
from labelport.export.model import ExportAsset, ExportContext, expand
from labelport.export.report import ExportReport, Tally
from labelport.store import schema
from labelport.store.engine import Store

A = schema.assets
#: Below this many matched assets an export runs in one process: starting workers (about half a second
#: each: a fresh interpreter importing labelport) would cost more than they save.
PARALLEL_MIN_ASSETS = 2_000
#: Assets per page handed to a worker: smaller than a serial export's pages, as a page's results are held
#: twice (and pickled) on their way back; at 500, a worker converting COCO masks peaked 30 % higher.
PAGE_SIZE = 200
#: Pages handed to each worker ahead of the one being emitted.
IN_FLIGHT = 2
#: The most workers chosen when ``workers`` is not given.
MAX_AUTO_WORKERS = 8

#: Workers are forked on Linux: they start at once and, unlike spawned ones, do not import the caller's
#: ``__main__`` again (a script without an ``if __name__ == "__main__":`` guard would export twice). They open
#: their own store and never touch the connections they inherit, and leave with ``os._exit``, so those are
#: left alone. Elsewhere (macOS, where forking is unsafe, and Windows) they are spawned, only when asked for.
_FORK = sys.platform.startswith("linux")

#: One asset as the exporting process receives it: the asset (labels without their jsonResponse) and, when
#: it has labels, the converted result and tally of each of its outputs (``expand``'s copies).
Converted = tuple[ExportAsset, list[tuple[Any, Tally]] | None]


def worker_count(requested: int | None, matched: int, store: Store, writer: Writer) -> int:
    """How many worker processes convert this export (1: none, the exporting process does it all)."""
    if requested is not None and (isinstance(requested, bool) or not isinstance(requested, int) or requested < 1):
        raise ValidationError(
            f"workers must be a positive whole number of processes (1: convert in the exporting process), "
            f"not {requested!r}; leave it out to use one per core on large exports."
        )
    if not isinstance(writer, StagedWriter) or not writer.parallel() or not _shareable(store):
        return 1
    if requested is None:
        large = matched >= PARALLEL_MIN_ASSETS and _FORK
        return min(os.cpu_count() or 1, MAX_AUTO_WORKERS) if large else 1
    return requested


def _shareable(store: Store) -> bool:
    """Whether other processes can open the store (not an in-memory SQLite database)."""
    return store.dialect != "sqlite" or make_url(store.url).database not in (None, "", ":memory:")


class _NoArchive:
    """The archive of a worker's context: ``convert`` must not write, so any use is a bug, said loudly."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # pickle's and copy's probes
            raise AttributeError(name)
        raise RuntimeError(f"a writer's convert() used the archive ({name}); only emit() may write")


@dataclass(frozen=True)
class _Setup:
    """What a worker needs to read and convert pages like the exporting process would."""

    url: str
    media_dir: str
    ctx: ExportContext
    selection: source.Selection
    one_label_per_output: bool
    #: The exporting process's PostgreSQL snapshot, which the worker adopts to read its pages; None when
    #: the pages come read (SQLite).
    snapshot: str | None


_worker: tuple[Store | None, StagedWriter, _Setup] | None = None


def _start(setup: _Setup) -> None:
    global _worker
    quiet_worker()  # Ctrl-C and SIGTERM: the exporting process stops the workers, none prints a traceback
    gc.disable()  # pages of small acyclic objects, freed by reference counting; see labelport._gc
    writer = formats.get(setup.ctx.options.fmt).writer(setup.ctx)
    assert isinstance(writer, StagedWriter)
    writer.setup()
    store = Store(setup.url, setup.media_dir) if setup.snapshot is not None else None
    _worker = (store, writer, setup)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None elsewhere."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim() if sys.platform.startswith("linux") else None


def _release_memory() -> None:
    """After a page: collect the few reference cycles it made (the collector is paused), and give glibc's
    freed memory back. Without the trim, a worker converting COCO masks grew from 150 to 250 MB over 100,000
    assets with no live object more: freed chunks that malloc kept (benchmarks/RESULTS.md)."""
    gc.collect(0)
    if _TRIM is not None:
        _TRIM(0)


#: A page handed to a worker: the primary keys of its assets, to read in the exporting process's snapshot
#: (PostgreSQL), or its rows, read there (SQLite).
Task = list[int] | source.Page


def _convert_page(task: Task) -> list[Converted]:
    assert _worker is not None, "worker not started"
    try:
        return _converted_page(task)
    finally:
        _release_memory()


def _converted_page(task: Task) -> list[Converted]:
    assert _worker is not None
    store, writer, setup = _worker
    if isinstance(task, source.Page):
        rows = task
    else:
        assert store is not None and setup.snapshot is not None
        with store.snapshot(adopt=setup.snapshot) as conn:
            rows = source.page_of(conn, task, setup.selection)
    page: list[Converted] = []
    for asset in source.parse(rows, setup.selection, Path(setup.media_dir), setup.ctx.input_type):
        converted = None
        if asset.labels:
            converted = []
            for item in expand(asset, setup.one_label_per_output):
                tally = Tally()
                converted.append((writer.convert(item, tally), tally))
        page.append((_light(asset), converted))
    return page


def _light(asset: ExportAsset) -> ExportAsset:
    """The asset without its labels' jsonResponse, which ``emit`` does not read: less to send back."""
    return replace(asset, labels=[replace(label, json_response={}) for label in asset.labels])


def _key_pages(conn: Connection, where: list[ColumnElement[bool]], page_size: int) -> Iterator[list[int]]:
    """The primary keys of the selected assets, in export order, a page at a time."""
    last = 0
    while True:
        keys = list(
            conn.execute(select(A.c.pk).where(*where, A.c.pk > last).order_by(A.c.pk).limit(page_size)).scalars()
        )
        if not keys:
            return
        yield keys
        if len(keys) < page_size:
            return
        last = keys[-1]


def converted(
    store: Store,
    conn: Connection,
    where: list[ColumnElement[bool]],
    ctx: ExportContext,
    selection: source.Selection,
    one_label_per_output: bool,
    workers: int,
    page_size: int | None = None,
) -> Generator[Converted, None, None]:
    """Every selected asset, in export order, converted by ``workers`` processes, as ``conn`` (a
    :meth:`Store.snapshot` of ``store``, open until this ends) sees it."""
    size = page_size or PAGE_SIZE
    snapshot = store.export_snapshot(conn) if store.dialect == "postgresql" else None
    setup = _Setup(
        url=store.url,
        media_dir=str(store.media_dir),
        ctx=replace(ctx, archive=_NoArchive(), report=ExportReport(ctx.project_id, ctx.options.fmt), extras={}),  # type: ignore[arg-type]
        selection=selection,
        one_label_per_output=one_label_per_output,
        snapshot=snapshot,
    )
    pages: Iterator[Task] = (
        _key_pages(conn, where, size) if snapshot is not None else source.pages(conn, where, selection, size)
    )
    context = multiprocessing.get_context("fork" if _FORK else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(setup,)) as pool:
        pending: deque[Future[list[Converted]]] = deque()
        finished = False
        try:
            for task in pages:
                with blocked():  # the first submit forks the workers: none starts with this process's handlers
                    pending.append(pool.submit(_convert_page, task))
                if len(pending) >= workers * IN_FLIGHT:
                    break
            while pending:
                page = pending.popleft().result()
                following = next(pages, None)
                if following is not None:
                    pending.append(pool.submit(_convert_page, following))
                yield from page
            finished = True
        finally:
            for future in pending:
                future.cancel()
            if not finished:  # an error, Ctrl-C, SIGTERM, or the consumer stopped: no page is worth finishing
                _stop_workers(pool)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's worker processes now (SIGTERM, whose default action they take) rather than after the
    pages they are converting; the pool's shutdown then reaps them."""
    processes = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()
