"""Export jobs against running processes: ``labelport serve`` (embedded runner, or ``--broker`` with
``labelport worker`` processes on the real Redis at 127.0.0.1:6379, database 7, flushed for each test), on
the test's store (SQLite or PostgreSQL)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import labelport
from tests import factories
from tests.server.conftest import ADMIN, serving

_DATE_CREATED = re.compile(rb'"date_created":"[^"]*"')
REDIS_URL = "redis://127.0.0.1:6379/7"
#: Fast heartbeats and a short staleness limit, so that the fault tests see lost jobs within seconds.
HEARTBEAT = "0.3"
STALE_AFTER = "8"
#: Seconds a slowed job process sleeps after each asset (the fault tests, to kill or cancel mid-export).
SLOW = "0.03"
ASSETS = 240


_flushed: list[bool] = []


def redis_or_skip() -> None:
    """Skip when the Redis is not reachable; flush its database 7 once per session (each test then uses a
    queue of its own)."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable ({error}); .ci/run starts one (redis-server).")
    if not _flushed:
        connection.flushdb()
        _flushed.append(True)
    connection.close()


def build_project(client: labelport.Client, assets: int = ASSETS) -> str:
    """An image project with ``assets`` assets (remote URLs) each with one box label."""
    project = client.create_project("Jobs", "IMAGE", factories.image_interface(), "export jobs")["id"]
    external = [f"img_{i:05d}.jpg" for i in range(assets)]
    client.append_many_to_dataset(
        project,
        content_array=[f"https://images.example.com/{name}" for name in external],
        external_id_array=external,
        json_metadata_array=[{"i": i} for i in range(assets)],
        resolution_array=[{"width": 640, "height": 480}] * assets,
    )
    client.append_labels(
        project_id=project,
        asset_external_id_array=external,
        json_response_array=[
            factories.boxes(factories.box("OBJECT_A" if i % 2 else "OBJECT_B", 0.1, 0.1, 0.2 + i / (4 * assets), 0.5))
            for i in range(assets)
        ],
    )
    return project


def members(archive: bytes) -> dict[str, bytes]:
    """An archive's members without the export's date (README.kili.txt's line, COCO's date_created); the rest
    is byte-exact."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        found = {name: _DATE_CREATED.sub(b"", opened.read(name)) for name in opened.namelist()}
    readme = found.get("README.kili.txt")
    if readme is not None:
        found["README.kili.txt"] = b"\n".join(line for line in readme.split(b"\n") if b"Export date" not in line)
    return found


@dataclass
class JobRunner:
    """A server (and workers) running jobs over one store."""

    kind: str  # "embedded" or "rq"
    url: str
    database_url: str
    media_dir: Path
    storage_dir: Path
    admin_key: str
    storage_options: list[str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def http(self, key: str | None = None) -> httpx.Client:
        headers = {"X-API-Key": self.admin_key if key is None else key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def client(self) -> labelport.Client:
        return labelport.Client(self.database_url, ADMIN, media_dir=self.media_dir, disable_tqdm=True)

    def start(self, project_id: str, **options: Any) -> dict[str, Any]:
        with self.http() as http:
            answer = http.post("/api/exports", json={"project_id": project_id, **options})
        assert answer.status_code == 202, answer.text
        return answer.json()

    def job(self, job_id: str) -> dict[str, Any]:
        with self.http() as http:
            answer = http.get(f"/api/exports/{job_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def wait(
        self, job_id: str, until: Callable[[dict[str, Any]], bool], what: str, seconds: float = 120
    ) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            job = self.job(job_id)
            if until(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} never became {what}: {job}\n{self.log_tail()}")
            time.sleep(0.1)

    def wait_finished(self, job_id: str) -> dict[str, Any]:
        return self.wait(job_id, lambda job: job["finished_at"] is not None, "finished")

    def wait_progress(self, job_id: str, done: int) -> dict[str, Any]:
        return self.wait(job_id, lambda job: job["state"] == "running" and job["progress"]["done"] >= done, "running")

    def kill(self, job: dict[str, Any]) -> None:
        """SIGKILL the process running the job; with RQ, its worker too (the job must finish elsewhere)."""
        pid = int(job["worker"].rsplit(":", 1)[1])
        parent = _parent(pid)
        os.kill(pid, signal.SIGKILL)
        if self.kind == "rq":
            for process in self.workers:
                if process.pid == parent:
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)

    def staged(self) -> list[str]:
        staging = self.storage_dir / ".staging"
        return sorted(path.name for path in staging.iterdir()) if staging.is_dir() else []

    def archives(self) -> list[str]:
        folder = self.storage_dir / "exports"
        return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []

    def log_tail(self) -> str:
        return "\n".join(f"--- {log}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs if log.exists())


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def start_worker(runner: JobRunner, tmp_path: Path, slow: bool, name: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABELPORT_")}
    log = tmp_path / f"worker-{name}.log"
    command = [sys.executable, "-m", "labelport", "worker", "--broker", REDIS_URL, "--db", runner.database_url]
    command += ["--media-dir", str(runner.media_dir), *runner.storage_options, "--name", name]
    command += ["--job-heartbeat", HEARTBEAT, "--job-test-delay", SLOW if slow else "0"]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    runner.workers.append(process)
    runner.logs.append(log)


@contextlib.contextmanager
def job_runner(
    kind: str,
    database_url: str,
    tmp_path: Path,
    *,
    slow: bool = False,
    workers: int = 2,
    broker: str = REDIS_URL,
    s3: tuple[str, str] | None = None,
) -> Iterator[JobRunner]:
    """A server (and, for "rq", ``workers`` workers) over the store; archives in ``tmp_path/storage``, or with
    ``s3`` = (URL, endpoint) in that S3 storage."""
    media, storage = tmp_path / "media", tmp_path / "storage"
    storage_options = ["--storage", str(storage)] if s3 is None else ["--storage", s3[0], "--storage-endpoint", s3[1]]
    with labelport.Client(database_url, ADMIN, media_dir=media, disable_tqdm=True) as admin:
        key = admin.create_api_key(ADMIN, name="tests")
    log = tmp_path / "server.log"
    extra = [*storage_options, "--job-heartbeat", HEARTBEAT, "--job-stale-after", STALE_AFTER]
    extra += ["--job-test-delay", SLOW if slow else "0"]
    queue = f"labelport-test-{os.getpid()}-{time.monotonic_ns()}"  # a queue of its own: runs may share the Redis
    if kind == "rq":
        extra += ["--broker", broker, "--queue", queue]
    with serving(database_url, media, log, *extra) as url:
        runner = JobRunner(
            kind, url, database_url, media, storage, key, [*storage_options, "--queue", queue], logs=[log]
        )
        try:
            if kind == "rq" and broker == REDIS_URL:
                for index in range(workers):
                    start_worker(runner, tmp_path, slow, f"w{index}-{os.getpid()}-{time.monotonic_ns()}")
            yield runner
        finally:
            for process in runner.workers:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in runner.workers:
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)


@pytest.fixture(params=["embedded", "rq"])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "rq":
        redis_or_skip()
    return str(request.param)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3-compatible server on a free loopback port, with a bucket ``jobs`` (credentials
    for it in this process's environment, which the servers and workers started by the tests inherit)."""
    from moto.server import ThreadedMotoServer

    from tests.server.conftest import free_port

    with pytest.MonkeyPatch.context() as patch:
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
            patch.setenv(name, value)
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="jobs")
        try:
            yield endpoint
        finally:
            server.stop()
