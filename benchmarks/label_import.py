"""Label import throughput with quality marks on and off, against a baseline checkout, in one command.

    python benchmarks/label_import.py                                  # 3,000 assets, 9,000 labels
    python benchmarks/label_import.py --assets 5000 --repeat 3
    python benchmarks/label_import.py --baseline /path/to/checkout     # its src/ is the baseline

The project and labels are those of ``export_bench.py`` (image assets of 1280×720, 3 labels each:
two labelers' DEFAULT, one REVIEW; each label with 10 rectangles, 2 polygons, 1 semantic region and
1 classification), imported by ``export_bench.build``: every run imports them into a fresh SQLite
store in its own process; only the ``append_labels`` calls are timed (each call's labels are
generated before its clock starts). Runs of this
checkout and of the baseline (``--baseline``: a checkout whose ``src`` is put first on PYTHONPATH)
alternate, and each figure is the best of ``--repeat`` runs, in wall time and in the CPU time of the
process (which other work on the machine disturbs less). Both stores are then compared: every
label's jsonResponse, flags and marks and every asset's status and marks must be equal (label ids
and timestamps aside), else the command fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, print_table

HERE = Path(__file__).resolve()
SRC = HERE.parent.parent / "src"


def child(database: Path, assets: int, marks: bool) -> dict[str, Any]:
    """Import the project of ``export_bench.build`` into a fresh store at ``database``, with or
    without marks (each call's labels are generated before its clock starts)."""
    from export_bench import build

    result = build(database, assets, marks)
    return {
        "seconds": result["label_seconds"],
        "cpu": result["label_cpu_seconds"],
        "labels": result["labels"],
        "digest": digest(database),
    }


def digest(database: Path) -> str:
    """A hash of what the import stored, label ids and timestamps aside."""
    import sqlite3

    connection = sqlite3.connect(database)
    hashed = hashlib.sha256()
    for row in connection.execute(
        "SELECT a.external_id, u.email, l.label_type, l.json_response, l.number_of_annotations, "
        "l.is_latest_for_user, l.is_latest_default_for_user, l.is_latest_review_for_user, "
        "l.consensus_mark, l.honeypot_mark, l.inference_mark, l.is_sent_back_to_queue, l.pk = a.latest_label_pk "
        "FROM labels l JOIN assets a ON a.pk = l.asset_pk JOIN users u ON u.pk = l.author_pk ORDER BY l.pk"
    ):
        hashed.update(repr(row).encode())
    for row in connection.execute(
        "SELECT external_id, status, consensus_mark, honeypot_mark, inference_mark FROM assets ORDER BY pk"
    ):
        hashed.update(repr(row).encode())
    for row in connection.execute(
        "SELECT l.pk, c.job, c.category, c.count FROM label_categories c JOIN labels l ON l.pk = c.label_pk "
        "ORDER BY l.pk, c.job, c.category"
    ):
        hashed.update(repr(row).encode())
    connection.close()
    return hashed.hexdigest()


def run(src: Path, database: Path, assets: int, marks: bool) -> dict[str, Any]:
    environment = {**os.environ, "PYTHONPATH": str(src)}
    completed = subprocess.run(
        [sys.executable, str(HERE), "--child", str(database), str(assets), str(marks)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    if completed.returncode != 0:
        sys.exit(f"the run from {src} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement (the best is kept)")
    parser.add_argument("--baseline", type=Path, help="a checkout of labelport to compare with (its src/)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        database, assets, marks = args.child
        print(json.dumps(child(Path(database), int(assets), marks == "True")))
        return
    folder = Path(tempfile.mkdtemp(prefix="labelport-label-import-"))
    sources = {"this checkout": SRC}
    if args.baseline:
        sources["baseline"] = args.baseline.resolve() / "src"
    runs: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for marks in (True, False):
            for name, src in sources.items():
                result = run(src, folder / f"{name.replace(' ', '-')}-{marks}.db", args.assets, marks)
                runs.setdefault((name, marks), []).append(result)
    # The best of the runs, in wall time and in CPU time (less sensitive to other work on the machine).
    best = {key: min(results, key=lambda r: r["seconds"]) for key, results in runs.items()}
    best_cpu = {key: min(r["cpu"] for r in results) for key, results in runs.items()}
    labels = 3 * args.assets
    rows = []
    for name in sources:
        for marks in (True, False):
            seconds, cpu = best[(name, marks)]["seconds"], best_cpu[(name, marks)]
            ratios = ["", ""]
            if args.baseline and name != "baseline":
                ratios = [
                    f"{best[('baseline', marks)]['seconds'] / seconds:.2f}×",
                    f"{best_cpu[('baseline', marks)] / cpu:.2f}×",
                ]
            rows.append([name, "on" if marks else "off", seconds, labels / seconds, cpu, labels / cpu, *ratios])
    print_table(
        f"import of {args.assets:,} assets, {labels:,} labels into a fresh SQLite store "
        f"(best of {args.repeat}) — {machine()}",
        ["code", "marks", "seconds", "labels/s", "CPU s", "labels/CPU s", "speed-up", "CPU speed-up"],
        rows,
    )
    if args.baseline:
        for marks in (True, False):
            if best[("this checkout", marks)]["digest"] != best[("baseline", marks)]["digest"]:
                sys.exit(f"the stores differ from the baseline's (marks {'on' if marks else 'off'})")
        print("\nstored labels, flags, statuses and marks: identical to the baseline's")


if __name__ == "__main__":
    main()
