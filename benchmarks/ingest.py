"""Bulk import throughput into SQLite, and streaming reads over the result.

    python benchmarks/ingest.py            # 100,000 assets, 300,000 labels
    python benchmarks/ingest.py --quick    # 5,000 assets, 15,000 labels

Each asset gets 3 labels (two labelers' DEFAULT labels, one reviewer's REVIEW label), each with 3
boxes and a classification, appended in batches of 10,000 labels generated on the fly (so the
process's memory is labelport's; generation is not timed); marks are maintained as always.
The baseline row times the same
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
from typing import Any

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

    def labels_of(label_type: str, chunk: range) -> tuple[list[str], list[str], list[dict]]:
        """The labels of a batch, generated on the fly (deterministic per asset) to keep memory flat."""
        external, authors, responses = [], [], []
        for i in chunk:
            asset_rng = random.Random(i)
            truth = box_response(asset_rng, 3, f"t{i}")
            if label_type == "REVIEW":
                external.append(external_ids[i])
                authors.append(users[2])
                responses.append(truth)
                continue
            base = boxes_of(truth)
            for labeler, jitter in ((0, 0.01), (1, 0.02)):
                external.append(external_ids[i])
                authors.append(users[labeler])
                responses.append(box_response(asset_rng, 3, f"{labeler}-{i}", jitter, base))
        return external, authors, responses

    t_labels = {"seconds": 0.0}
    for label_type, per_call in (("DEFAULT", args.batch // 2), ("REVIEW", args.batch)):
        for chunk in batches(total, per_call):
            external, authors, responses = labels_of(label_type, chunk)
            with timer() as elapsed:
                client.append_labels(
                    project_id=project,
                    asset_external_id_array=external,
                    author_id_array=authors,
                    json_response_array=responses,
                    label_type=label_type,
                )
            t_labels["seconds"] += elapsed["seconds"]
    label_count = 3 * total

    with timer() as t_stream:
        streamed = sum(
            1 for _ in client.assets(project, fields=["externalId", "latestLabel.jsonResponse"], as_generator=True)
        )
    with timer() as t_stream_plain:
        plain = sum(1 for _ in client.assets(project, fields=["id", "externalId", "status"], as_generator=True))
    with timer() as t_filter:
        filtered = client.count_assets(project, consensus_mark_gte=0.5, metadata_where={"split": "val"})
    assert streamed == plain == total

    baseline = _baseline(folder / "baseline.db", total, labels_of)
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


def _baseline(path: Path, total: int, labels_of: Any) -> float:
    """The same label rows written by plain sqlite3 (no validation, no derived state)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE labels (pk INTEGER PRIMARY KEY, asset TEXT, author TEXT, json_response TEXT, created_at TEXT)"
    )
    elapsed = 0.0
    for label_type in ("DEFAULT", "REVIEW"):
        for chunk in batches(total, 5_000):
            external, authors, responses = labels_of(label_type, chunk)
            start = time.perf_counter()
            rows = [
                (e, a, orjson.dumps(r).decode(), "2026-01-01T00:00:00.000Z")
                for e, a, r in zip(external, authors, responses, strict=True)
            ]
            with connection:
                connection.executemany(
                    "INSERT INTO labels (asset, author, json_response, created_at) VALUES (?, ?, ?, ?)", rows
                )
            elapsed += time.perf_counter() - start
    connection.close()
    return elapsed


if __name__ == "__main__":
    main()
