"""Export throughput and memory at scale, against a floor and two reference converters.

    python benchmarks/export_bench.py --quick          # 2,000 assets
    python benchmarks/export_bench.py                  # 10,000 and 100,000 assets
    python benchmarks/export_bench.py --assets 20000   # one size
    python benchmarks/export_bench.py --quick --postgres postgresql+psycopg://user:pw@host/db

The project (built deterministically from a seed, cached in benchmarks/out/): image assets with a
resolution, 3 labels each (two labelers' DEFAULT, one REVIEW), each label with 10 rectangles,
2 polygons, 1 semantic region (with a hole in a third of them) and 1 classification.

Each export (``with_assets=False``) runs in its own subprocess, which reports its wall time and peak
memory (the peak of the summed PSS of the process and its workers, sampled every 50 ms), twice: in
one process (``workers=1``) and with the workers labelport chooses (one per core at this size),
printed as a speed-up. In the same command run three references on the same data:
- the floor: the same latest labels read from the store and written with orjson into one file;
- Kili's converters (the ``kili-formats`` package, bench-only extra): their COCO, YOLO and VOC
  conversion functions on the same Kili-shaped assets, held in memory as Kili holds them;
- globox (a fast box converter): the same rectangles written as COCO, YOLO and VOC from memory.
With ``--postgres URL``, the project is copied table by table into a fresh schema of that
PostgreSQL database and every export runs again from there (workers chosen by labelport), printed
as a ratio to the same export from SQLite. Also timed: the bulk import of the project (marks
maintained), the import of a sample of IMPORT_SAMPLE assets with marks on and off (every step of
mark maintenance a no-op), and a streamed ``assets(as_generator=True)`` with
``latestLabel.jsonResponse``.
Install the references with ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, marks_disabled, print_table

OUT = Path(__file__).resolve().parent / "out"
VERSION = 1  # bump when the generated project changes

INTERFACE: dict[str, Any] = {
    "jobs": {
        "OBJECTS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "required": 0,
            "isChild": False,
            "instruction": "Objects",
            "content": {"input": "radio", "categories": {f"CLASS_{i}": {"name": f"Class {i}"} for i in range(5)}},
        },
        "REGIONS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["polygon", "semantic"],
            "required": 0,
            "isChild": False,
            "instruction": "Regions",
            "content": {"input": "radio", "categories": {"ROAD": {"name": "Road"}, "SKY": {"name": "Sky"}}},
        },
        "SCENE": {
            "mlTask": "CLASSIFICATION",
            "required": 0,
            "isChild": False,
            "instruction": "Scene",
            "content": {"input": "radio", "categories": {"DAY": {"name": "Day"}, "NIGHT": {"name": "Night"}}},
        },
    }
}
WIDTH, HEIGHT = 1280, 720
#: (format, layout, single_file) of the timed exports.
#: Above this size the in-memory references are not run (they would exhaust the machine's memory).
REFERENCE_LIMIT = 20_000
#: The import is timed with marks on and off on this many assets (both in fresh stores).
IMPORT_SAMPLE = 5_000
EXPORTS = [
    ("coco", "split", False),
    ("yolo_v8", "split", False),
    ("pascal_voc", "merged", False),
    ("kili", "split", False),
    ("kili", "split", True),
]


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[dict[str, float]]:
    return [{"x": x0, "y": y1}, {"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}]


def label(asset: int, labeler: int) -> dict[str, Any]:
    """One label of the benchmark project, deterministic in (asset, labeler)."""
    rng = random.Random(asset * 7 + labeler)
    boxes = []
    for index in range(10):
        x0, y0 = rng.uniform(0, 0.8), rng.uniform(0, 0.8)
        x1, y1 = x0 + rng.uniform(0.02, 0.15), y0 + rng.uniform(0.02, 0.15)
        boxes.append(
            {
                "mid": f"b{index}",
                "type": "rectangle",
                "categories": [{"name": f"CLASS_{index % 5}"}],
                "boundingPoly": [{"normalizedVertices": _rect(x0, y0, x1, y1)}],
            }
        )
    regions = []
    for index in range(2):
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(0.4, 0.8)
        diamond = [(cx - 0.1, cy), (cx, cy - 0.1), (cx + 0.1, cy), (cx, cy + 0.1)]
        regions.append(
            {
                "mid": f"p{index}",
                "type": "polygon",
                "categories": [{"name": "ROAD"}],
                "boundingPoly": [{"normalizedVertices": [{"x": x, "y": y} for x, y in diamond]}],
            }
        )
    rings = [[(0.0, 0.0), (1.0, 0.0), (1.0, 0.3), (0.0, 0.3)]]
    if asset % 3 == 0:
        rings.append([(0.4, 0.1), (0.6, 0.1), (0.6, 0.2), (0.4, 0.2)])
    regions.append(
        {
            "mid": "sky",
            "type": "semantic",
            "categories": [{"name": "SKY"}],
            "boundingPoly": [{"normalizedVertices": [{"x": x, "y": y} for x, y in ring]} for ring in rings],
        }
    )
    scene = "DAY" if rng.random() < 0.5 else "NIGHT"
    return {
        "OBJECTS": {"annotations": boxes},
        "REGIONS": {"annotations": regions},
        "SCENE": {"categories": [{"name": scene}]},
    }


# -- building the project ---------------------------------------------------------------------------


def build(database: Path, assets: int, marks: bool) -> dict[str, Any]:
    """Create the project in a fresh SQLite store; return ids and import timings."""
    import labelport

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url, user = f"sqlite:///{database}", "bench@labelport.local"
    with marks_disabled(not marks), labelport.Client(url, user_email=user, disable_tqdm=True) as client:
        project = client.create_project("Export benchmark", "IMAGE", INTERFACE)["id"]
        users = [client.create_user(f"user{i}@bench.io", firstname=f"User{i}")["id"] for i in range(3)]
        external_ids = [f"img_{i:06d}.jpg" for i in range(assets)]
        start = time.perf_counter()
        for first in range(0, assets, 10_000):
            chunk = external_ids[first : first + 10_000]
            client.append_many_to_dataset(
                project,
                content_array=[f"https://images.example.com/{e}" for e in chunk],
                external_id_array=chunk,
                resolution_array=[{"width": WIDTH, "height": HEIGHT}] * len(chunk),
            )
        asset_seconds = time.perf_counter() - start
        label_seconds = label_cpu_seconds = 0.0
        for labeler, label_type in ((0, "DEFAULT"), (1, "DEFAULT"), (2, "REVIEW")):
            for first in range(0, assets, 5_000):
                indexes = range(first, min(assets, first + 5_000))
                responses = [label(i, labeler) for i in indexes]
                start, cpu_start = time.perf_counter(), time.process_time()
                client.append_labels(
                    project_id=project,
                    asset_external_id_array=[external_ids[i] for i in indexes],
                    author_id_array=[users[labeler]] * len(indexes),
                    json_response_array=responses,
                    label_type=label_type,
                )
                label_seconds += time.perf_counter() - start
                label_cpu_seconds += time.process_time() - cpu_start
    return {
        "project": project,
        "asset_seconds": asset_seconds,
        "label_seconds": label_seconds,
        "label_cpu_seconds": label_cpu_seconds,
        "labels": 3 * assets,
    }


def cached_project(assets: int, rebuild: bool) -> tuple[Path, dict[str, Any]]:
    OUT.mkdir(exist_ok=True)
    database = OUT / f"export-{assets}-v{VERSION}.db"
    meta = OUT / f"export-{assets}-v{VERSION}.json"
    if rebuild or not database.exists() or not meta.exists():
        info = build(database, assets, marks=True)
        meta.write_text(json.dumps(info))
    return database, json.loads(meta.read_text())


def copy_to_postgres(database: Path, url: str) -> str:
    """Copy the SQLite store into a new schema of the PostgreSQL database at ``url``; return a URL
    whose connections use that schema. Rows keep their keys, so ids and order are the same."""
    import uuid

    from sqlalchemy import create_engine, delete, select, text
    from sqlalchemy.engine import make_url

    import labelport
    from labelport.store import schema
    from labelport.store.engine import ensure_postgres_database, normalize_database_url

    base = make_url(normalize_database_url(url))
    ensure_postgres_database(base)
    name = f"lp_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    target = base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
    labelport.Client(target, user_email="bench@labelport.local").close()  # creates the tables
    source, sink = create_engine(f"sqlite:///{database}"), create_engine(target)
    with source.connect() as reader, sink.begin() as writer:
        for table in reversed(schema.metadata.sorted_tables):
            writer.execute(delete(table))
        for table in schema.metadata.sorted_tables:
            result = reader.execute(select(table)).mappings()
            while batch := result.fetchmany(5_000):
                writer.execute(table.insert(), [dict(row) for row in batch])
    source.dispose()
    sink.dispose()
    # A database in use has statistics and a visibility map: without them the first queries plan
    # blind, and autovacuum would run during the timed exports.
    maintenance = create_engine(target, isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    maintenance.dispose()
    return target


def drop_postgres_schema(target: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(target)
    name = parsed.query["options"].split("=", 1)[1]
    engine = create_engine(parsed.difference_update_query(["options"]))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


# -- children: each measurement in its own process ------------------------------------------------------


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: reset at exec, unlike ru_maxrss after fork)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _MemorySampler:
    """The peak of the summed proportional set size (PSS) of this process and its children (the export's
    workers), sampled every 50 ms: pages that forked workers share with their parent count once in all.
    Linux only (``/proc/<pid>/smaps_rollup``); elsewhere ``peak_mb`` is None."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = Path(f"/proc/{os.getpid()}/smaps_rollup").exists()

    def __enter__(self) -> _MemorySampler:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in [me, *_children(me)]))

    @property
    def peak_mb(self) -> float | None:
        return self.peak_kb / 1024 if self.available and self.peak_kb else None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:  # the worker has just exited
        return 0
    return 0


def child_export(
    url: str, project: str, fmt: str, layout: str, single_file: bool, out: Path, workers: int | None
) -> dict[str, Any]:
    import labelport

    with (
        labelport.Client(url, user_email="bench@labelport.local", disable_tqdm=True) as client,
        _MemorySampler() as memory,
    ):
        start = time.perf_counter()
        report = client.export_labels(
            project, out, fmt, layout=layout, single_file=single_file, with_assets=False, workers=workers
        )
        seconds = time.perf_counter() - start
    # Without /proc: the exporting process's peak, plus the largest worker's peak for each worker (an upper
    # bound: forked workers share their parent's pages until they write them).
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if report.workers > 1 else 0.0
    bound = _peak_mb() + report.workers * worker_mb
    return {
        "seconds": seconds,
        "peak_mb": max(memory.peak_mb or 0.0, _peak_mb()) if memory.available else bound,
        "workers": report.workers,
        "assets": report.assets_exported,
        "annotations": sum(report.annotations.values()),
        "skipped": len(report.skipped),
    }


def _latest_rows(url: str, project: str) -> Any:
    """(external id, latest label jsonResponse text) of every asset, page by page."""
    from sqlalchemy import create_engine, select

    from labelport.store import schema

    engine = create_engine(url)
    A, L, P = schema.assets, schema.labels, schema.projects
    with engine.connect() as conn:
        project_pk = conn.execute(select(P.c.pk).where(P.c.id == project)).scalar_one()
        last = 0
        while True:
            rows = conn.execute(
                select(A.c.pk, A.c.external_id, L.c.json_response)
                .join(L, L.c.pk == A.c.latest_label_pk)
                .where(A.c.project_pk == project_pk, A.c.pk > last)
                .order_by(A.c.pk)
                .limit(1000)
            ).all()
            if not rows:
                return
            yield from rows
            last = rows[-1].pk


def child_floor(url: str, project: str, out: Path) -> dict[str, Any]:
    import labelport.store.schema  # noqa: F401 - imported before the clock starts, as the exports are

    start = time.perf_counter()
    count = 0
    with out.open("wb") as handle:
        for row in _latest_rows(url, project):
            handle.write(orjson.dumps({"externalId": row.external_id, "jsonResponse": orjson.loads(row.json_response)}))
            handle.write(b"\n")
            count += 1
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(), "assets": count}


def _kili_assets(url: str, project: str) -> list[dict[str, Any]]:
    return [
        {
            "externalId": row.external_id,
            "content": f"https://images.example.com/{row.external_id}",
            "resolution": {"width": WIDTH, "height": HEIGHT},
            "jsonContent": "",
            "latestLabel": {"jsonResponse": orjson.loads(row.json_response)},
        }
        for row in _latest_rows(url, project)
    ]


def child_kili_formats(url: str, project: str, fmt: str, out: Path) -> dict[str, Any]:
    """Kili's own converters (kili-formats) on Kili-shaped assets loaded in memory, as Kili does."""
    assets = _kili_assets(url, project)
    jobs = {name: job for name, job in INTERFACE["jobs"].items() if job["mlTask"] == "OBJECT_DETECTION"}
    start = time.perf_counter()
    if fmt == "coco":
        from kili_formats.format.coco import convert_from_kili_to_coco_format

        for name in jobs:  # split: one file per job
            coco = convert_from_kili_to_coco_format(
                {name: jobs[name]}, assets, "Export benchmark", "IMAGE", None, False
            )
            (out / f"{name}.json").write_bytes(orjson.dumps(coco, option=orjson.OPT_SERIALIZE_NUMPY, default=float))
    elif fmt == "yolo":
        from kili_formats.format.yolo import convert_from_kili_to_yolo_format
        from kili_formats.types import JobCategory

        for name, job in jobs.items():
            categories = {
                f"{name}__{key}": JobCategory(key, index, name)
                for index, key in enumerate(job["content"]["categories"])
            }
            for asset in assets:
                lines = convert_from_kili_to_yolo_format(name, asset["latestLabel"], categories)
                text = "".join(" ".join(str(v) for v in line) + "\n" for line in lines)
                (out / f"{name}_{asset['externalId']}.txt").write_text(text)
    else:
        from kili_formats.format.voc import convert_from_kili_to_voc_format

        for asset in assets:
            xml = convert_from_kili_to_voc_format(
                asset["latestLabel"]["jsonResponse"], WIDTH, HEIGHT, {"filename": asset["externalId"]}, list(jobs)
            )
            (out / f"{asset['externalId']}.xml").write_text(xml)
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(), "assets": len(assets)}


def child_globox(url: str, project: str, fmt: str, out: Path) -> dict[str, Any]:
    """globox writing the same rectangles from memory."""
    from globox import Annotation, AnnotationSet, BoundingBox

    annotations = []
    boxes_count = 0
    for row in _latest_rows(url, project):
        boxes = []
        for annotation in orjson.loads(row.json_response)["OBJECTS"]["annotations"]:
            vertices = annotation["boundingPoly"][0]["normalizedVertices"]
            xs, ys = [v["x"] * WIDTH for v in vertices], [v["y"] * HEIGHT for v in vertices]
            boxes.append(
                BoundingBox(
                    label=annotation["categories"][0]["name"], xmin=min(xs), ymin=min(ys), xmax=max(xs), ymax=max(ys)
                )
            )
        boxes_count += len(boxes)
        annotations.append(Annotation(image_id=row.external_id, image_size=(WIDTH, HEIGHT), boxes=boxes))
    dataset = AnnotationSet(annotations)
    labels = {f"CLASS_{i}": i for i in range(5)}
    start = time.perf_counter()
    if fmt == "coco":
        dataset.save_coco(out / "labels.json", label_to_id=labels, auto_ids=True)
    elif fmt == "yolo":
        dataset.save_yolo_v5(out / "yolo", label_to_id=labels)
    else:
        dataset.save_pascal_voc(out / "voc")
    return {
        "seconds": time.perf_counter() - start,
        "peak_mb": _peak_mb(),
        "assets": len(annotations),
        "boxes": boxes_count,
    }


def child_stream(url: str, project: str) -> dict[str, Any]:
    import labelport

    with labelport.Client(url, user_email="bench@labelport.local", disable_tqdm=True) as client:
        start = time.perf_counter()
        count = sum(
            1 for _ in client.assets(project, fields=["externalId", "latestLabel.jsonResponse"], as_generator=True)
        )
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(), "assets": count}


def run_child(*args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        return {"error": (completed.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


# -- the parent ---------------------------------------------------------------------------------------------


def measure(assets: int, rebuild: bool, postgres: str | None = None) -> None:
    database, info = cached_project(assets, rebuild)
    url = f"sqlite:///{database}"
    project = info["project"]
    work = Path(tempfile.mkdtemp(prefix="labelport-export-bench-"))
    floor = run_child("floor", url, project, str(work / "floor.jsonl"))
    annotations_per_asset = 14
    rows = []
    defaults = []  # the exports with workers chosen by labelport, compared with PostgreSQL below
    for fmt, layout, single in EXPORTS:
        name = f"{fmt} {layout}{' single file' if single else ''}"
        out = str(work / f"{fmt}-{layout}-{single}.zip")
        alone = run_child("export", url, project, fmt, layout, str(single), out, "1")
        rows.append([*_row(f"{name}, 1 process", alone, floor), ""])
        chosen = run_child("export", url, project, fmt, layout, str(single), out, "auto")
        defaults.append(chosen)
        workers = chosen.get("workers", 1)
        speedup = f"{alone['seconds'] / chosen['seconds']:.2f}×" if "seconds" in alone and "seconds" in chosen else ""
        rows.append([*_row(f"{name}, {workers} workers", chosen, floor), speedup])
    references = []
    if assets > REFERENCE_LIMIT:  # kili-formats holds the whole project in memory: ~2.5 GB per 10,000 assets
        print(f"(references skipped above {REFERENCE_LIMIT:,} assets: kili-formats would need ~{assets // 4_000} GB)")
    for fmt in ("coco", "yolo", "voc") if assets <= REFERENCE_LIMIT else ():
        kili = run_child("kili-formats", url, project, fmt, str(_fresh(work / f"kili-{fmt}")))
        references.append(_row(f"kili-formats {fmt}", kili, floor, annotations_per_asset))
        globox = run_child("globox", url, project, fmt, str(_fresh(work / f"globox-{fmt}")))
        references.append(_row(f"globox {fmt} (boxes only)", globox, floor, 10))
    stream = run_child("stream", url, project)
    # The import with marks on and off, each into a fresh store in its own process, on a sample.
    sample = min(assets, IMPORT_SAMPLE)
    imports = {on: run_child("import", str(work / f"import-{on}.db"), str(sample), str(on)) for on in (True, False)}
    postgres_rows = []
    if postgres:
        target = copy_to_postgres(database, postgres)
        try:
            pg_floor = run_child("floor", target, project, str(work / "pg-floor.jsonl"))
            postgres_rows.append(_versus("floor", pg_floor, floor))
            for (fmt, layout, single), sqlite in zip(EXPORTS, defaults, strict=True):
                out = str(work / f"pg-{fmt}-{layout}-{single}.zip")
                result = run_child("export", target, project, fmt, layout, str(single), out, "auto")
                name = f"{fmt} {layout}{' single file' if single else ''}, {result.get('workers', 1)} workers"
                postgres_rows.append(_versus(name, result, sqlite))
        finally:
            drop_postgres_schema(target)
    print(f"\nlabelport export benchmark — {assets:,} assets, {info['labels']:,} labels — {machine()}")
    if "seconds" in floor:
        print(
            f"floor (read the latest labels, write them with orjson): {floor['seconds']:.2f} s, "
            f"{assets / floor['seconds']:,.0f} assets/s, peak {floor['peak_mb']:.0f} MB"
        )
    headers = ["export", "seconds", "assets/s", "annotations/s", "peak MB", "× floor time"]
    print_table(
        "labelport exports (with_assets=False), each in its own process: in one process (workers=1), then with "
        "the workers labelport chooses (peak MB: summed PSS of the exporting process and its workers)",
        [*headers, "× 1 process speed"],
        rows,
    )
    print_table("references on the same data", headers, references)
    if postgres_rows:
        print_table(
            "the same exports from PostgreSQL",
            ["export", "seconds", "assets/s", "peak MB", "× SQLite time"],
            postgres_rows,
        )
    print(
        f"\nimport of the project (marks maintained): {assets / info['asset_seconds']:,.0f} assets/s, "
        f"{info['labels'] / info['label_seconds']:,.0f} labels/s"
    )
    on, off = imports[True], imports[False]
    if "label_seconds" in on and "label_seconds" in off:
        print(
            f"import of {sample:,} assets into a fresh store: {on['labels'] / on['label_seconds']:,.0f} labels/s with "
            f"marks maintained, {off['labels'] / off['label_seconds']:,.0f} labels/s without "
            f"({on['label_seconds'] / off['label_seconds']:.2f}× the time)"
        )
    if "seconds" in stream:
        print(
            f"streamed assets(as_generator) with latestLabel.jsonResponse: {assets / stream['seconds']:,.0f} assets/s, "
            f"peak {stream['peak_mb']:.0f} MB"
        )


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _row(
    name: str, result: dict[str, Any], floor: dict[str, Any], annotations_per_asset: int | None = None
) -> list[Any]:
    if "error" in result:
        return [name, "failed", result["error"][:60], "", "", ""]
    seconds = result["seconds"]
    annotations = result.get("annotations", result.get("boxes", result["assets"] * (annotations_per_asset or 0)))
    ratio = f"{seconds / floor['seconds']:.1f}×" if "seconds" in floor else ""
    return [name, seconds, result["assets"] / seconds, annotations / seconds, result["peak_mb"], ratio]


def _versus(name: str, result: dict[str, Any], sqlite: dict[str, Any]) -> list[Any]:
    if "error" in result:
        return [name, "failed", result["error"][:60], "", ""]
    seconds = result["seconds"]
    ratio = f"{seconds / sqlite['seconds']:.2f}×" if "seconds" in sqlite else ""
    return [name, seconds, result["assets"] / seconds, result["peak_mb"], ratio]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 assets")
    parser.add_argument("--assets", type=int, nargs="*", help="project sizes (default 10,000 and 100,000)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached projects")
    parser.add_argument("--postgres", metavar="URL", help="also export from a copy of the project in PostgreSQL")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "export":
            url, project, fmt, layout, single, out, workers = rest
            result = child_export(
                url, project, fmt, layout, single == "True", Path(out), None if workers == "auto" else int(workers)
            )
        elif kind == "floor":
            result = child_floor(rest[0], rest[1], Path(rest[2]))
        elif kind == "kili-formats":
            result = child_kili_formats(rest[0], rest[1], rest[2], Path(rest[3]))
        elif kind == "import":
            result = build(Path(rest[0]), int(rest[1]), rest[2] == "True")
        elif kind == "globox":
            result = child_globox(rest[0], rest[1], rest[2], Path(rest[3]))
        else:
            result = child_stream(rest[0], rest[1])
        print(json.dumps(result))
        return
    sizes = [2_000] if args.quick else (args.assets or [10_000, 100_000])
    for size in sizes:
        measure(size, args.rebuild, args.postgres)


if __name__ == "__main__":
    main()
