"""What keeping quality marks exact costs on label appends.

    python benchmarks/quality.py           # 10,000 labels: 3,334 assets × 3 labelers, 10 boxes each
    python benchmarks/quality.py --quick   # 1,500 labels

A project with consensus on every asset (coverage 100 %, 3 labelers) receives the labels labeler
by labeler, in batches of 1,000, twice in the same process: once as labelport runs (marks updated in
each append's transaction) and once with the mark refresh replaced by a no-op (the baseline). The
table prints both times and their ratio (target: at most 2×), and checks that the marks of the
second run equal a full recomputation and that the baseline stored none. Each run starts after a
full garbage collection, with the other run's store closed, so that neither pays for the other.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import labelport
from _common import BOX_INTERFACE, batches, box_response, boxes_of, machine, marks_disabled, print_table, timer


def build(labels: int, rng: random.Random) -> tuple[list[str], list[list[dict[str, Any]]]]:
    assets = (labels + 2) // 3
    external_ids = [f"img_{i:05d}" for i in range(assets)]
    per_labeler: list[list[dict[str, Any]]] = [[], [], []]
    for i in range(assets):
        truth = boxes_of(box_response(rng, 10, f"t{i}"))
        for labeler in range(3):
            per_labeler[labeler].append(box_response(rng, 10, f"{labeler}-{i}", 0.01 * (labeler + 1), truth))
    return external_ids, per_labeler


def run(
    external_ids: list[str], per_labeler: list[list[dict[str, Any]]], labels: int, maintain: bool
) -> tuple[float, Any]:
    folder = Path(tempfile.mkdtemp(prefix="labelport-quality-"))
    client = labelport.Client(f"sqlite:///{folder / 'q.db'}", user_email="bench@labelport.local", disable_tqdm=True)
    project = client.create_project("quality", "IMAGE", BOX_INTERFACE)["id"]
    client.update_properties_in_project(project, consensus_tot_coverage=100, min_consensus_size=3)
    client.append_many_to_dataset(
        project, content_array=[f"https://h/{e}.jpg" for e in external_ids], external_id_array=external_ids
    )
    users = [client.create_user(f"labeler{i}@bench.io")["id"] for i in range(3)]
    written = 0
    gc.collect()  # both runs start from the same collector state (a full collection can take 0.5 s)
    with marks_disabled(not maintain), timer() as elapsed:  # baseline: every step of mark maintenance a no-op
        for labeler, responses in enumerate(per_labeler):
            for chunk in batches(len(responses), 1000):
                chunk = range(chunk.start, min(chunk.stop, chunk.start + labels - written))
                if not chunk:
                    break
                client.append_labels(
                    project_id=project,
                    asset_external_id_array=[external_ids[i] for i in chunk],
                    author_id_array=[users[labeler]] * len(chunk),
                    json_response_array=[responses[i] for i in chunk],
                )
                written += len(chunk)
    return elapsed["seconds"], (client, project)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--labels", type=int, default=None)
    args = parser.parse_args()
    labels = args.labels or (1_500 if args.quick else 10_000)
    external_ids, per_labeler = build(labels, random.Random(0))
    without, (base_client, base_project) = run(external_ids, per_labeler, labels, maintain=False)
    unmarked = base_client.assets(base_project, fields=["consensusMark"], disable_tqdm=True)
    assert all(a["consensusMark"] is None for a in unmarked), "the baseline maintained marks: fix _common._MARK_STEPS"
    base_client.close()
    del base_client, unmarked
    with_marks, (client, project) = run(external_ids, per_labeler, labels, maintain=True)
    stored = client.assets(project, fields=["consensusMark", "labels.consensusMark"], disable_tqdm=True)
    client.recompute_marks(project)
    recomputed = client.assets(project, fields=["consensusMark", "labels.consensusMark"], disable_tqdm=True)
    assert stored == recomputed, "incremental marks differ from a full recomputation"
    marks = [a["consensusMark"] for a in stored if a["consensusMark"] is not None]
    setup = "3 labelers × 10 boxes, consensus on every asset"
    print(f"labelport quality benchmark — {labels:,} labels ({setup}) — {machine()}")
    print_table(
        "append_labels in batches of 1,000",
        ["run", "labels", "seconds", "labels/s", "ratio"],
        [
            ("without mark maintenance (baseline)", labels, without, labels / without, "1.00×"),
            (
                "with marks kept exact in each transaction",
                labels,
                with_marks,
                labels / with_marks,
                f"{with_marks / without:.2f}×",
            ),
        ],
    )
    print(
        f"\n{len(marks):,} assets have a consensus mark (mean {sum(marks) / len(marks):.3f}); "
        "stored marks equal a full recomputation."
    )


if __name__ == "__main__":
    main()
