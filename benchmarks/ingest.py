"""Bulk import throughput into SQLite, and streaming reads over the result.

    python benchmarks/ingest.py            # 100,000 assets, 300,000 labels
    python benchmarks/ingest.py --quick    # 5,000 assets, 15,000 labels

Each asset gets 3 labels (two labelers' DEFAULT labels, one reviewer's REVIEW label), each with 3
boxes and a classification; marks are maintained as always. The baseline row times the same
rows written by plain ``sqlite3.executemany`` into an equivalent table (no validation, no derived
state), in the same process, so the ratio shows what labelport's bookkeeping costs.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

import labelport
from _common import BOX_INTERFACE, batches, box_response, boxes_of, machine, peak_rss_mb, print_table, timer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 assets instead of 100,000")
    parser.add_argument("--assets", type=int, default=None)
    parser.add_argument("--batch", type=int, default=10_000, help="labels per append_labels call")
    args = parser.parse_args()
    total = args.assets or (5_000 if args.quick else 100_000)
    rng = random.Random(0)
    folder = Path(tempfile.mkdtemp(prefix="labelport-bench-"))
    client = labelport.Client(f"sqlite:///{folder / 'bench.db'}", user_email="bench@labelport.local", disable_tqdm=True)
    project = client.create_project("bench", "IMAGE", BOX_INTERFACE)["id"]
    users = [client.create_user(f"user{i}@bench.io")["id"] for i in range(3)]
    external_ids = [f"img_{i:06d}" for i in range(total)]

    with timer() as t_assets:
        for chunk in batches(total, 10_000):
            client.append_many_to_dataset(
                project,
                content_array=[f"https://images.example.com/{external_ids[i]}.jpg" for i in chunk],
                external_id_array=[external_ids[i] for i in chunk],
                json_metadata_array=[{"split": "train" if i % 10 else "val", "index": i} for i in chunk],
                resolution_array=[{"width": 1920, "height": 1080}] * len(chunk),
            )

    responses: list[tuple[str, str, dict]] = []  # (external id, author, response), in append order
    for i in range(total):
        truth = box_response(rng, 3, f"t{i}")
        base = boxes_of(truth)
        responses.append((external_ids[i], users[0], box_response(rng, 3, f"a{i}", 0.01, base)))
        responses.append((external_ids[i], users[1], box_response(rng, 3, f"b{i}", 0.02, base)))
        responses.append((external_ids[i], users[2], truth))
    by_type = {
        "DEFAULT": [r for k, r in enumerate(responses) if k % 3 != 2],
        "REVIEW": [r for k, r in enumerate(responses) if k % 3 == 2],
    }

    with timer() as t_labels:
        for label_type, items in by_type.items():
            for chunk in batches(len(items), args.batch):
                client.append_labels(
                    project_id=project,
                    asset_external_id_array=[items[i][0] for i in chunk],
                    author_id_array=[items[i][1] for i in chunk],
                    json_response_array=[items[i][2] for i in chunk],
                    label_type=label_type,
                )
    label_count = len(responses)

    with timer() as t_stream:
        streamed = sum(
            1 for _ in client.assets(project, fields=["externalId", "latestLabel.jsonResponse"], as_generator=True)
        )
    with timer() as t_stream_plain:
        plain = sum(1 for _ in client.assets(project, fields=["id", "externalId", "status"], as_generator=True))
    with timer() as t_filter:
        filtered = client.count_assets(project, consensus_mark_gte=0.5, metadata_where={"split": "val"})
    assert streamed == plain == total

    baseline = _baseline(folder / "baseline.db", responses)
    client.close()
    rows = [
        ("append_many_to_dataset", total, t_assets["seconds"], total / t_assets["seconds"], ""),
        (
            "append_labels (validated, flags, marks)",
            label_count,
            t_labels["seconds"],
            label_count / t_labels["seconds"],
            f"{t_labels['seconds'] / baseline:.1f}× the baseline",
        ),
        ("baseline: sqlite3 executemany of the same label rows", label_count, baseline, label_count / baseline, "1.0×"),
        (
            "assets(as_generator) externalId + latestLabel.jsonResponse",
            streamed,
            t_stream["seconds"],
            streamed / t_stream["seconds"],
            "",
        ),
        (
            "assets(as_generator) id, externalId, status",
            plain,
            t_stream_plain["seconds"],
            plain / t_stream_plain["seconds"],
            "",
        ),
        (
            "count_assets(consensus_mark_gte, metadata_where)",
            filtered,
            t_filter["seconds"],
            total / t_filter["seconds"],
            "rows scanned/s",
        ),
    ]
    print(f"labelport ingest benchmark — {total:,} assets, {label_count:,} labels, SQLite — {machine()}")
    print_table("Throughput", ["step", "rows", "seconds", "rows/s", "ratio"], rows)
    size = (folder / "bench.db").stat().st_size / 2**20
    print(f"\npeak RSS of the process: {peak_rss_mb():,.0f} MB; database: {size:,.0f} MB")


def _baseline(path: Path, responses: list[tuple[str, str, dict]]) -> float:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE labels (pk INTEGER PRIMARY KEY, asset TEXT, author TEXT, json_response TEXT, created_at TEXT)"
    )
    start = time.perf_counter()
    for chunk in batches(len(responses), 10_000):
        rows = [
            (responses[i][0], responses[i][1], orjson.dumps(responses[i][2]).decode(), "2026-01-01T00:00:00.000Z")
            for i in chunk
        ]
        with connection:
            connection.executemany(
                "INSERT INTO labels (asset, author, json_response, created_at) VALUES (?, ?, ?, ?)", rows
            )
    seconds = time.perf_counter() - start
    connection.close()
    return seconds


if __name__ == "__main__":
    main()
