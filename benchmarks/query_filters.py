"""Do the usual small filters cost what they cost before lists went to the database as one parameter?

    git archive <commit> src | tar -x -C /tmp/old          # the labelport to compare against
    python benchmarks/query_filters.py --against /tmp/old  # SQLite; add --postgres URL for PostgreSQL

A project of 10,000 image assets (URLs, metadata), two DEFAULT labels each by two labelers, built
once per database by this labelport (the schema is the same). Two worker processes query it, one
importing this labelport, one the other (``PYTHONPATH=<against>/src``); they take turns, query by
query, in alternating order, ``--rounds`` times: each runs the query — with a filter of a few
values, as users usually write them — ``--repeat`` times and reports the median. The table prints,
per query, the median over the rounds of both and their ratio (below 1: faster now). Taking turns on
the same data keeps the ratio fair on a busy machine, where two runs minutes apart are not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import labelport
from _common import BOX_INTERFACE, machine, print_table

ASSETS = 10_000


def build(client: labelport.Client) -> tuple[str, list[str], list[str]]:
    project = client.create_project("filters", "IMAGE", BOX_INTERFACE)["id"]
    external_ids = [f"img_{i:05d}" for i in range(ASSETS)]
    client.append_many_to_dataset(
        project,
        content_array=[f"https://example.com/{i}.jpg" for i in range(ASSETS)],
        external_id_array=external_ids,
        json_metadata_array=[{"city": ["Paris", "Lyon", "Nice"][i % 3], "n": i % 50} for i in range(ASSETS)],
        resolution_array=[{"width": 640, "height": 480}] * ASSETS,
    )
    users = [client.create_user(f"{name}@x.io", firstname=name.title())["id"] for name in ("alice", "bob")]
    for index, user in enumerate(users):
        client.append_labels(
            project_id=project,
            asset_external_id_array=external_ids,
            json_response_array=[
                {"JOB_0": {"annotations": []}, "CLASSIF": {"categories": [{"name": ("DAY", "NIGHT")[(i + index) % 2]}]}}
                for i in range(ASSETS)
            ],
            author_id_array=[user] * ASSETS,
        )
    asset_ids = [a["id"] for a in client.assets(project, fields=["id"], first=3, skip=5_000)]
    label_ids = [label["id"] for label in client.labels(project, fields=["id"], first=3, skip=7_000)]
    return project, asset_ids, label_ids


def queries(project: str, asset_ids: list[str], label_ids: list[str]) -> dict[str, Callable[[Any], Any]]:
    page = {"fields": ["id", "externalId"], "first": 100}
    return {
        "assets asset_id_in (3)": lambda c: c.assets(project, asset_id_in=asset_ids, **page),
        "assets asset_id_not_in (3)": lambda c: c.assets(project, asset_id_not_in=asset_ids, **page),
        "count external_id_strictly_in (3)": lambda c: c.count_assets(
            project, external_id_strictly_in=["img_00001", "img_05000", "nope"]
        ),
        "assets external_id_strictly_in (3)": lambda c: c.assets(
            project, external_id_strictly_in=["img_00001", "img_05000", "nope"], **page
        ),
        "count external_id_in (1)": lambda c: c.count_assets(project, external_id_in=["img_001"]),
        "assets external_id_in (3)": lambda c: c.assets(project, external_id_in=["_0012", "_09", "zz"], **page),
        "count status_in (1)": lambda c: c.count_assets(project, status_in=["LABELED"]),
        "count metadata_where value": lambda c: c.count_assets(project, metadata_where={"city": "Paris"}),
        "count metadata_where list (3)": lambda c: c.count_assets(project, metadata_where={"n": [1, 2, 3]}),
        "count metadata_where range": lambda c: c.count_assets(project, metadata_where={"n": [10, 20]}),
        "assets metadata_where 2 keys": lambda c: c.assets(
            project, metadata_where={"city": "Lyon", "n": [5, 7, 9]}, **page
        ),
        "count label_labeler_in (1)": lambda c: c.count_assets(project, label_labeler_in=["alice@x.io"]),
        "count label_author_in (1)": lambda c: c.count_assets(project, label_author_in=["Bob"]),
        "count label_category_search": lambda c: c.count_assets(project, label_category_search="CLASSIF.DAY.count > 0"),
        "labels id_contains (3)": lambda c: c.labels(project, id_contains=label_ids, fields=["id"]),
        "count labels category_search (2)": lambda c: c.count_labels(
            project, category_search="CLASSIF.DAY.count == 1 OR CLASSIF.NIGHT.count > 1"
        ),
        "count labels type_in (1)": lambda c: c.count_labels(project, type_in=["DEFAULT"]),
        "assets with links, first 500": lambda c: c.assets(
            project, fields=["externalId", "labels.author.email", "latestLabel.jsonResponse"], first=500
        ),
    }


def open_store(backend: str, postgres: str | None, folder: Path) -> tuple[str, str | None]:
    """The URL of an empty store (a schema of its own on PostgreSQL), and the schema's name."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'filters.db'}", None
    from sqlalchemy import create_engine, text

    assert postgres is not None
    schema = f"lp_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in postgres else "?"
    return f"{postgres}{separator}options=-csearch_path%3D{schema}", schema


def drop_schema(postgres: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def serve(url: str, data: dict[str, Any], repeat: int) -> None:
    """Worker: for each query name read on stdin, run it ``repeat`` times and print the median ms."""
    client = labelport.Client(url, user_email="bench@labelport.local", media_dir=data["media"], disable_tqdm=True)
    table = queries(data["project"], data["asset_ids"], data["label_ids"])
    for name in table.values():
        name(client)  # warm-up: caches, compiled statements
    print("ready", flush=True)
    for line in sys.stdin:
        query = table[line.strip()]
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            query(client)
            times.append(time.perf_counter() - start)
        print(statistics.median(times) * 1000, flush=True)
    client.close()


class Worker:
    """A process importing labelport from ``src``, answering query names with median ms."""

    def __init__(self, src: Path, url: str, data: dict[str, Any], repeat: int) -> None:
        job = json.dumps({"url": url, "data": data, "repeat": repeat})
        environment = {**os.environ, "PYTHONPATH": str(src)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", job],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"

    def time(self, name: str) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=False, help="a source tree holding src/labelport")
    parser.add_argument("--postgres", help="also run on this PostgreSQL database (a schema of its own)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        job = json.loads(args.worker)
        serve(job["url"], job["data"], job["repeat"])
        return
    print(f"labelport small-filter queries — {ASSETS:,} assets, 20,000 labels — {machine()}")
    print(f"this labelport: {Path(labelport.__file__).parent}; against: {args.against}")
    for backend in ["sqlite", *(["postgres"] if args.postgres else [])]:
        folder = Path(tempfile.mkdtemp(prefix="labelport-filters-"))
        url, schema = open_store(backend, args.postgres, folder)
        try:
            media = str(folder / "media")
            client = labelport.Client(url, user_email="bench@labelport.local", media_dir=media, disable_tqdm=True)
            project, asset_ids, label_ids = build(client)
            client.close()
            data = {"project": project, "asset_ids": asset_ids, "label_ids": label_ids, "media": media}
            sources = {"now": Path(labelport.__file__).parents[1]}
            if args.against is not None:
                sources["against"] = args.against / "src"
            workers = {side: Worker(src, url, data, args.repeat) for side, src in sources.items()}
            names = list(queries(project, asset_ids, label_ids))
            runs: dict[str, dict[str, list[float]]] = {side: {name: [] for name in names} for side in sources}
            for round_ in range(args.rounds):
                for index, name in enumerate(names):
                    order = list(workers) if (round_ + index) % 2 == 0 else list(reversed(workers))
                    for side in order:
                        runs[side][name].append(workers[side].time(name))
            for each in workers.values():
                each.close()
        finally:
            if schema is not None:
                drop_schema(args.postgres, schema)
        report(backend, runs, args.rounds, args.repeat)


def report(backend: str, runs: dict[str, dict[str, list[float]]], rounds: int, repeat: int) -> None:
    now = {name: statistics.median(times) for name, times in runs["now"].items()}
    rows: list[list[Any]] = []
    if "against" in runs:
        against = {name: statistics.median(times) for name, times in runs["against"].items()}
        for name in now:
            rows.append([name, now[name], against[name], f"{now[name] / against[name]:.2f}×"])
        total, before = sum(now.values()), sum(against.values())
        rows.append(["all queries (sum)", total, before, f"{total / before:.2f}×"])
        headers = ["query", "now ms", "against ms", "× against"]
    else:
        rows = [[name, ms] for name, ms in now.items()]
        headers = ["query", "now ms"]
    print_table(f"{backend}: median over {rounds} rounds of the median of {repeat} runs", headers, rows)


if __name__ == "__main__":
    main()
