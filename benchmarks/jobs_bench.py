"""Export jobs through the job runners: the same exports of a large project through 1 and 2 RQ workers
(``labelport serve --broker`` + ``labelport worker``), and through the server's embedded pool with 1 and
2 slots, against the same export run in-process (the baseline).

    python benchmarks/jobs_bench.py                   # 100,000 assets, 2 jobs per configuration
    python benchmarks/jobs_bench.py --assets 10000
    python benchmarks/jobs_bench.py --quick           # 2,000 assets

The project is export_bench.py's (cached in benchmarks/out/, built on first use: 3 labels per asset,
each with 14 annotations). Each configuration copies the store, starts a server (and its workers) on
it, submits ``--jobs`` exports (``kili``, ``with_assets=False``, ``workers=1``: one process per job,
so that the runners' parallelism is what is measured) at once over the HTTP API, and waits until every
job has succeeded. "wall" is from the first POST to the last job's end; "job" is each job's own
run time (started → finished, mean); the ratio is the throughput against 1 worker. Needs Redis on
127.0.0.1:6379 (database 7, a queue of its own).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, print_table
from export_bench import cached_project

REDIS = "redis://127.0.0.1:6379/7"
USER = "bench@labelport.local"
OPTIONS: dict[str, Any] = {"fmt": "kili", "with_assets": False, "workers": 1}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(url: str, key: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"X-API-Key": key})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


@contextlib.contextmanager
def _running(commands: list[list[str]], folder: Path) -> Iterator[None]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABELPORT_")}
    processes = []
    try:
        for index, command in enumerate(commands):
            with (folder / f"process-{index}.log").open("ab") as log:
                processes.append(
                    subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
                )
        yield
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _seconds(start: str, end: str) -> float:
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def run_configuration(source: Path, project: str, runner: str, workers: int, jobs: int) -> dict[str, Any]:
    """Copy the store, start a server (and workers), run ``jobs`` exports, return the timings."""
    import labelport

    folder = Path(tempfile.mkdtemp(prefix="labelport-jobs-bench-"))
    try:
        database = folder / "store.db"
        shutil.copyfile(source, database)
        url = f"sqlite:///{database}"
        with labelport.Client(url, USER, disable_tqdm=True) as client:
            key = client.create_api_key(USER, name="bench")
        port = _free_port()
        base = [sys.executable, "-m", "labelport"]
        common = ["--db", url, "--media-dir", str(folder / "media"), "--storage", str(folder / "archives")]
        serve = [*base, "serve", *common, "--port", str(port), "--log-level", "warning"]
        commands = []
        if runner == "rq":
            queue = f"labelport-bench-{uuid.uuid4().hex[:8]}"
            serve += ["--broker", REDIS, "--queue", queue]
            commands = [[*base, "worker", "--broker", REDIS, "--queue", queue, *common] for _ in range(workers)]
        else:
            serve += ["--job-workers", str(workers)]
        server = f"http://127.0.0.1:{port}"
        with _running([serve, *commands], folder):
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError), urllib.request.urlopen(server + "/health", timeout=2):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {folder}")
                time.sleep(0.2)
            time.sleep(2 if runner == "rq" else 0)  # the workers import and connect
            start = time.perf_counter()
            ids = [
                _call(server + "/api/exports", key, "POST", {"project_id": project, **OPTIONS})["id"]
                for _ in range(jobs)
            ]
            finished: dict[str, Any] = {}
            while len(finished) < jobs:
                for job_id in ids:
                    if job_id not in finished:
                        job = _call(f"{server}/api/exports/{job_id}", key)
                        if job["finished_at"] is not None:
                            finished[job_id] = job
                time.sleep(0.2)
            wall = time.perf_counter() - start
        failed = [job for job in finished.values() if job["state"] != "succeeded"]
        if failed:
            raise RuntimeError(f"jobs did not succeed: {failed[0]['error']}; see {folder}")
        assets = sum(job["report"]["assets_matched"] for job in finished.values())
        durations = [_seconds(job["started_at"], job["finished_at"]) for job in finished.values()]
        return {"wall": wall, "assets": assets, "job": sum(durations) / len(durations)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def baseline(source: Path, project: str) -> float:
    """The same export in this process (Client.export_labels), in seconds."""
    import labelport

    folder = Path(tempfile.mkdtemp(prefix="labelport-jobs-bench-"))
    try:
        with labelport.Client(f"sqlite:///{source}", USER, disable_tqdm=True) as client:
            options = {key: value for key, value in OPTIONS.items() if key != "fmt"}
            start = time.perf_counter()
            client.export_labels(project, folder / "direct.zip", OPTIONS["fmt"], **options)
            return time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000, help="project size (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="2,000 assets")
    parser.add_argument("--jobs", type=int, default=2, help="exports per configuration (default 2)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached project")
    args = parser.parse_args()
    assets = 2_000 if args.quick else args.assets
    database, info = cached_project(assets, args.rebuild)
    project = info["project"]
    single = baseline(database, project)
    rows = []
    reference: float | None = None
    for runner, workers in (("rq", 1), ("rq", 2), ("embedded", 1), ("embedded", 2)):
        result = run_configuration(database, project, runner, workers, args.jobs)
        throughput = result["assets"] / result["wall"]
        if runner == "rq" and workers == 1:
            reference = throughput
        name = f"{'RQ workers' if runner == 'rq' else 'embedded slots'}: {workers}"
        assert reference is not None
        rows.append(
            [
                name,
                args.jobs,
                result["wall"],
                f"{throughput:,.0f}",
                result["job"],
                f"{result['job'] / single:.2f}×",
                f"{throughput / reference:.2f}×",
            ]
        )
    print(f"\nlabelport export jobs — {assets:,} assets, 3 labels each — {machine()}, {os.cpu_count()} cores")
    print(f"in-process export (the baseline): {single:.2f} s, {assets / single:,.0f} assets/s")
    print_table(
        f"{args.jobs} jobs of {OPTIONS} at once per configuration",
        ["runner", "jobs", "wall s", "assets/s", "job s (mean)", "job × in-process", "× 1 RQ worker"],
        rows,
    )


if __name__ == "__main__":
    main()
