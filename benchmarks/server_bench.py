"""``labelport serve`` under concurrent clients, on loopback, with SQLite (WAL) and PostgreSQL.

    python benchmarks/server_bench.py --quick                 # 1,000 assets, 4 clients, 2 workers
    python benchmarks/server_bench.py                         # 10,000 assets, 8 clients, workers 1 and 2
    python benchmarks/server_bench.py --postgres postgresql+psycopg://user@127.0.0.1/db   # + PostgreSQL
    python benchmarks/server_bench.py --assets 10000 --clients 8 --workers 2 --seconds 20

For each store (a fresh SQLite file; with ``--postgres URL``, also a fresh schema of that database) and
each ``--workers`` count: an IMAGE project of ``--assets`` assets (URLs with a resolution; boxes and a
classification, ``_common.BOX_INTERFACE``), consensus on every asset (``minConsensusSize`` 2), one
honeypot in 50 (its ground truth written by the admin), a DEFAULT label by a "seed" labeler on every
asset, and ``--clients`` labelers, project members each with an API key (on PostgreSQL, then
``ANALYZE``, as autovacuum would soon after the load). ``labelport serve`` then runs
with ``--workers`` uvicorn workers on 127.0.0.1 (a free port), and:

1. the kili SDK (``.venv-kili``, a separate process: ``_server_sdk.py``) records the HTTP requests it
   sends for ``kili.assets(project, fields=FIELDS, first=100, skip=100)`` and for ``kili.append_labels``
   of one DEFAULT label; the load phases replay exactly those (headers and GraphQL), changing only the
   variables: ``skip``, the asset, the jsonResponse, the API key;
2. ``kili.assets(project, fields=FIELDS)`` over every asset through the server, timed in the SDK's
   process around the call, against labelport's ``Client.assets(project, fields=FIELDS)`` in this
   process (best of 2) on the same store; both answers must be equal (FIELDS: the SDK's default fields
   of a workflow-V1 project). Target: within 3× the time;
3. phases, each bounded in requests and in time (``--seconds``), ``--clients`` concurrent clients with
   one keep-alive connection each:
   (a) ``assets`` pages: each client sweeps the project's pages of 100 from its own offset;
   (b) ``appendManyLabels`` of one DEFAULT label per request (3 boxes near the seed's, and a
       classification): clients go in pairs through the assets, both labelers of a pair on the same
       asset at the same moment, so consensus marks are computed under contention;
   (c) one ``kili.export_labels(project, …, fmt="kili", with_assets=False)`` through the SDK while the
       clients of (a) keep paging (until the export ends);
   each prints requests, seconds, requests/s, p50 and p99 latency, and errors (any answer but HTTP 200
   without GraphQL ``errors``; the target is 0);
4. checks: every label (b) appended is stored, with the ids the server answered and the jsonResponse
   sent, and no other; the export holds every asset; the marks stored after the load (assets, labels,
   members, project) equal those ``Client.recompute_marks`` computes afterwards, exactly.

Every process started is stopped at the end, also on errors and Ctrl-C. The kili venv is built when
missing (``python -m venv`` and pip, the requirement of tests/server/conftest.py), or pass
``--kili-python``. Results: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _common import BOX_INTERFACE, box_response, boxes_of, machine, print_table  # noqa: E402
from _server_sdk import digest, picked  # noqa: E402

OUT = HERE / "out"
GRAPHQL_PATH = "/api/label/v2/graphql"
#: The SDK's default fields of ``kili.assets`` on a workflow-V1 project (kili 26.2), ``skipped`` aside
#: (labelport has no skipping).
FIELDS = [
    "content",
    "createdAt",
    "externalId",
    "id",
    "isHoneypot",
    "jsonMetadata",
    "labels.author.id",
    "labels.author.email",
    "labels.createdAt",
    "labels.id",
    "labels.jsonResponse",
    "status",
]
MIN_ASSETS = 200  # two pages of the SDK's size at least
ADMIN = "admin@bench.local"
SEED = "seed@bench.local"
HONEYPOT_EVERY = 50
BOXES = 3
WIDTH, HEIGHT = 1280, 720


def seed_response(asset: int) -> dict[str, Any]:
    return box_response(random.Random(asset), BOXES, f"s{asset}")


def labeler_response(asset: int, client: int) -> dict[str, Any]:
    """A labeler's label of an asset: the seed's boxes moved by up to 2 % (so consensus marks vary)."""
    rng = random.Random(asset * 1_000 + client + 1)
    return box_response(rng, BOXES, f"c{client}a{asset}", jitter=0.02, base=boxes_of(seed_response(asset)))


# -- the project ----------------------------------------------------------------------------------------


@dataclass
class Built:
    database_url: str
    media_dir: Path
    project_id: str
    asset_ids: list[str]
    admin_key: str
    #: (email, user id, API key) of each labeler client
    labelers: list[tuple[str, str, str]]
    seconds: float


def build(database_url: str, media_dir: Path, assets: int, clients: int) -> Built:
    import labelport

    start = time.perf_counter()
    with labelport.Client(database_url, ADMIN, media_dir=media_dir, disable_tqdm=True) as admin:
        admin_key = admin.create_api_key(ADMIN, name="bench")
        project = admin.create_project("Server benchmark", "IMAGE", BOX_INTERFACE)["id"]
        admin.update_properties_in_project(project, consensus_tot_coverage=100, min_consensus_size=2, use_honeypot=True)
        external_ids = [f"img_{i:06d}.jpg" for i in range(assets)]
        asset_ids: list[str] = []
        for first in range(0, assets, 10_000):
            chunk = external_ids[first : first + 10_000]
            asset_ids += admin.append_many_to_dataset(
                project,
                content_array=[f"https://images.example.com/{e}" for e in chunk],
                external_id_array=chunk,
                json_metadata_array=[{"camera": f"cam{i % 4}"} for i in range(first, first + len(chunk))],
                resolution_array=[{"width": WIDTH, "height": HEIGHT}] * len(chunk),
            )["asset_ids"]
        for index in range(0, assets, HONEYPOT_EVERY):
            admin.create_honeypot(seed_response(index), asset_id=asset_ids[index])
        seed_id = admin.create_user(SEED, firstname="Seed")["id"]
        admin.append_to_roles(project, SEED, "LABELER")
        for first in range(0, assets, 5_000):
            indexes = range(first, min(assets, first + 5_000))
            admin.append_labels(
                asset_id_array=[asset_ids[i] for i in indexes],
                json_response_array=[seed_response(i) for i in indexes],
                author_id_array=[seed_id] * len(indexes),
                label_type="DEFAULT",
            )
        labelers = []
        for client in range(clients):
            email = f"labeler{client}@bench.local"
            key = admin.create_api_key(email, name="bench")
            admin.append_to_roles(project, email, "LABELER")
            user_id = admin.users(email=email, fields=["id"])[0]["id"]
            labelers.append((email, user_id, key))
    if database_url.startswith("postgresql"):
        analyze(database_url)
    return Built(database_url, media_dir, project, asset_ids, admin_key, labelers, time.perf_counter() - start)


def analyze(database_url: str) -> None:
    """PostgreSQL's statistics of labelport's tables, as autovacuum gathers them within a minute or so of
    a bulk load: without them, the planner of a freshly filled schema expects a few rows per project and
    scans (a page of ``assets`` took 2–3× longer in the first runs of this benchmark)."""
    from sqlalchemy import create_engine, text

    from labelport.store import schema

    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            for table in schema.metadata.sorted_tables:
                conn.execute(text(f'ANALYZE "{table.name}"'))
    finally:
        engine.dispose()


@contextlib.contextmanager
def sqlite_store(name: str) -> Iterator[str]:
    OUT.mkdir(exist_ok=True)
    database = OUT / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    yield f"sqlite:///{database}"


@contextlib.contextmanager
def postgres_store(base_url: str) -> Iterator[str]:
    """A fresh schema of the PostgreSQL database, dropped at the end."""
    from sqlalchemy import create_engine, make_url, text

    from labelport.store.engine import ensure_postgres_database, normalize_database_url

    base = make_url(normalize_database_url(base_url))
    ensure_postgres_database(base)
    name = f"lp_server_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


# -- the server and the kili SDK ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[Any], grace: float) -> None:
    """Stop a child started in its own session: SIGTERM, then SIGKILL to its process group."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # the group of this child only: its uvicorn workers
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


@contextlib.contextmanager
def serving(built: Built, workers: int, log: Path) -> Iterator[int]:
    """``labelport serve --workers N`` on 127.0.0.1 until the block ends; yields the port once every
    worker answers."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABELPORT_")}
    command = [sys.executable, "-m", "labelport", "serve", "--db", built.database_url, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--media-dir", str(built.media_dir)]
    command += ["--log-level", "warning"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline, answered = time.monotonic() + 90, 0
        while answered < 4 * workers:  # every worker imported and opened the store (they share the socket)
            if process.poll() is not None:
                raise RuntimeError(f"labelport serve stopped at start-up:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"labelport serve did not answer in 90 s:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                    answered += answer.status == 200
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        _stop(process, 20)


def kili_python(given: str | None) -> Path:
    """The Python of the kili venv: ``--kili-python``, else ``<repo>/.venv-kili`` (built when missing)."""
    if given:
        return Path(given)
    sys.path.insert(0, str(REPO))
    from tests.server.conftest import KILI_REQUIREMENT, KILI_VENV, MARKER

    python = KILI_VENV / "bin" / "python"
    if not (MARKER.is_file() and MARKER.read_text(encoding="utf-8").strip() == KILI_REQUIREMENT):
        print(f"building {KILI_VENV} ({KILI_REQUIREMENT})…", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(KILI_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", KILI_REQUIREMENT]
        subprocess.run(pip, check=True, timeout=1800)
        MARKER.write_text(KILI_REQUIREMENT + "\n", encoding="utf-8")
    return python


@dataclass
class Sdk:
    python: Path
    home: Path

    def command(
        self, port: int, key: str, args: list[str], extra: dict[str, str] | None = None
    ) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KILI_", "LABELPORT_"))}
        env.update(extra or {})
        env.update(
            {
                "KILI_API_KEY": key,
                "KILI_API_ENDPOINT": f"http://127.0.0.1:{port}{GRAPHQL_PATH}",
                "HOME": str(self.home),
                "NO_COLOR": "1",
            }
        )
        return [str(self.python), str(HERE / "_server_sdk.py"), *args], env

    def run(
        self, port: int, key: str, args: list[str], timeout: float, extra: dict[str, str] | None = None
    ) -> dict[str, Any]:
        command, env = self.command(port, key, args, extra)
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
        )
        try:
            out, err = process.communicate(timeout=timeout)
        finally:
            _stop(process, 5)
        if process.returncode != 0:
            raise RuntimeError(f"the kili SDK failed ({' '.join(args[:1])}):\n{err[-4000:]}")
        return json.loads(out.strip().splitlines()[-1])


class ReplayProxy:
    """An HTTP proxy on 127.0.0.1 in front of the server. Recording, it forwards every request and keeps
    each answer by (method, path, body); replaying, it answers those from memory without the server.
    The SDK's call replayed this way measures the SDK's own cost: the floor of any server."""

    def __init__(self, port: int) -> None:
        import http.server

        self.replaying = False
        self.kept: dict[tuple[str, str, bytes], tuple[int, bytes]] = {}
        self.missed = 0
        proxy, local = self, threading.local()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                key = (self.command, self.path, body)
                found = proxy.kept.get(key) if proxy.replaying else None
                if found is None:
                    if proxy.replaying:
                        proxy.missed += 1
                    if getattr(local, "connection", None) is None:
                        local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                    headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
                    local.connection.request(self.command, self.path, body or None, headers)
                    answer = local.connection.getresponse()
                    found = (answer.status, answer.read())
                    proxy.kept[key] = found
                self.send_response(found[0])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(found[1])))
                self.end_headers()
                self.wfile.write(found[1])

            do_GET = do_POST = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- load -----------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def row(self) -> list[Any]:
        ordered = sorted(self.latencies)

        def quantile(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

        rate = self.requests / self.seconds if self.seconds else 0.0
        return [self.name, self.requests, self.seconds, rate, quantile(0.50), quantile(0.99), self.errors]


HEADERS = ["phase", "requests", "seconds", "requests/s", "p50 ms", "p99 ms", "errors"]


def replace(value: Any, swaps: dict[str, Any]) -> Any:
    """``value`` with every string equal to a key of ``swaps`` replaced by its value."""
    if isinstance(value, str):
        return swaps.get(value, value)
    if isinstance(value, list):
        return [replace(item, swaps) for item in value]
    if isinstance(value, dict):
        return {key: replace(item, swaps) for key, item in value.items()}
    return value


Request = Callable[[int], bytes | None]  # the body of a client's i-th request, None when it is done
Answer = Callable[[int, dict[str, Any]], None]  # what a client does with the i-th answer (data)


def run_clients(
    phase: Phase,
    port: int,
    clients: list[tuple[dict[str, str], Request, Answer | None]],
    seconds: float,
    stop: threading.Event,
) -> Phase:
    """Each client (headers, its requests, what to do with an answer) sends requests one after the other
    on its own keep-alive connection until it is done, ``seconds`` have passed or ``stop`` is set."""
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(headers: dict[str, str], body_of: Request, answer: Answer | None) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        index = 0
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                body = body_of(index)
                if body is None:
                    return
                start = time.perf_counter()
                try:
                    connection.request("POST", GRAPHQL_PATH, body, headers)
                    response = connection.getresponse()
                    data = response.read()
                    elapsed = time.perf_counter() - start
                    payload = orjson.loads(data) if data else {}
                    error = (
                        f"HTTP {response.status}: {data[:300]!r}"
                        if response.status != 200
                        else json.dumps(payload["errors"])[:300]
                        if payload.get("errors")
                        else None
                    )
                except (OSError, http.client.HTTPException, orjson.JSONDecodeError) as failure:
                    elapsed = time.perf_counter() - start
                    error, payload = f"{type(failure).__name__}: {failure}", {}
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                if error is None and answer is not None:
                    try:
                        answer(index, payload["data"])
                    except (KeyError, TypeError, RuntimeError) as failure:
                        error = f"unexpected answer: {type(failure).__name__}: {failure}"
                with lock:
                    phase.requests += 1
                    phase.latencies.append(elapsed)
                    if error is not None:
                        phase.errors += 1
                        if len(phase.samples) < 5:
                            phase.samples.append(error)
                index += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=spec, daemon=True) for spec in clients]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        stop.set()  # the clients stop before the server does
        raise
    phase.seconds = time.perf_counter() - start
    return phase


def _headers(recorded: dict[str, Any], key: str) -> dict[str, str]:
    headers = {name: value for name, value in recorded["headers"].items() if name.lower() != "authorization"}
    headers["Authorization"] = f"X-API-Key: {key}"
    headers["Content-Type"] = "application/json"
    return headers


def page_clients(
    recorded: dict[str, Any], keys: list[str], assets: int, sweeps: int = 1
) -> list[tuple[dict[str, str], Request, Answer | None]]:
    """Each client sweeps every page of the project ``sweeps`` times, starting at its own page; pages of
    the size the SDK asked for (it pages by 50 when ``labels.jsonResponse`` is asked for, whatever
    ``first``)."""
    body = recorded["body"]
    size = int(body["variables"]["first"])
    pages = (assets + size - 1) // size
    specs: list[tuple[dict[str, str], Request, Answer | None]] = []
    for number, key in enumerate(keys):
        offset = number * pages // len(keys)

        def body_of(index: int, offset: int = offset) -> bytes | None:
            if index >= pages * sweeps:
                return None
            variables = {**body["variables"], "skip": (offset + index) % pages * size}
            return orjson.dumps({**body, "variables": variables})

        def answer(index: int, data: dict[str, Any], offset: int = offset) -> None:
            expected = min(size, assets - (offset + index) % pages * size)
            if len(data["data"]) != expected:
                raise RuntimeError(f"a page of {len(data['data'])} assets, {expected} expected")

        specs.append((_headers(recorded, key), body_of, answer))
    return specs


@dataclass
class Appended:
    """What the labelers of phase (b) sent and what the server answered."""

    sent: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)  # label id → (asset, author, json)
    lock: threading.Lock = field(default_factory=threading.Lock)


def label_clients(
    recorded: dict[str, Any], record: tuple[str, str, dict[str, Any]], built: Built, appended: Appended
) -> list[tuple[dict[str, str], Request, Answer | None]]:
    """Clients 2p and 2p+1 label the same assets, in the same order: asset p, p + pairs, p + 2·pairs…
    (the first asset aside: the recording's)."""
    recorded_asset, recorded_author, recorded_response = record
    pairs = (len(built.labelers) + 1) // 2
    usable = len(built.asset_ids) - 1
    specs: list[tuple[dict[str, str], Request, Answer | None]] = []
    for number, (_email, user_id, key) in enumerate(built.labelers):
        pair = number // 2
        current: dict[int, tuple[str, dict[str, Any]]] = {}

        def body_of(
            index: int, number: int = number, pair: int = pair, user_id: str = user_id, current: Any = current
        ) -> bytes | None:
            position = pair + index * pairs
            if position >= usable:
                return None
            asset = 1 + position
            response = labeler_response(asset, number)
            current[index] = (built.asset_ids[asset], response)
            swaps = {recorded_asset: built.asset_ids[asset], recorded_author: user_id}
            variables = replace(recorded["body"]["variables"], swaps)
            variables = _with_response(variables, recorded_response, response)
            return orjson.dumps({**recorded["body"], "variables": variables})

        def answer(index: int, data: dict[str, Any], user_id: str = user_id, current: Any = current) -> None:
            asset_id, response = current.pop(index)
            labels = data["data"]
            if len(labels) != 1:
                raise RuntimeError(f"appendManyLabels answered {len(labels)} labels for one")
            with appended.lock:
                appended.sent[labels[0]["id"]] = (asset_id, user_id, response)

        specs.append((_headers(recorded, key), body_of, answer))
    return specs


def _with_response(variables: Any, recorded: dict[str, Any], response: dict[str, Any]) -> Any:
    """The variables with the recorded jsonResponse (a JSON string, or an object) replaced."""
    if isinstance(variables, dict):
        return {key: _with_response(value, recorded, response) for key, value in variables.items()}
    if isinstance(variables, list):
        return [_with_response(value, recorded, response) for value in variables]
    if isinstance(variables, str) and variables.startswith("{"):
        with contextlib.suppress(ValueError):
            if json.loads(variables) == recorded:
                return json.dumps(response)
    if variables == recorded:
        return response
    return variables


# -- one configuration ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    load: float  # the machine's 1-minute load average when the load phases started
    phases: list[Phase]
    sdk_seconds: float
    floor_seconds: float
    client_seconds: float
    checks: list[tuple[str, bool, str]]

    @property
    def ratio(self) -> float:
        return self.sdk_seconds / self.client_seconds


def marks_snapshot(database_url: str, media_dir: Path, project_id: str) -> dict[str, Any]:
    import labelport

    with labelport.Client(database_url, ADMIN, media_dir=media_dir, disable_tqdm=True) as client:
        return {
            "assets": client.assets(project_id, fields=["id", "consensusMark", "honeypotMark", "inferenceMark"]),
            "labels": client.labels(project_id, fields=["id", "consensusMark", "honeypotMark", "inferenceMark"]),
            "members": client.project_users(project_id, fields=["id", "consensusMark", "honeypotMark"]),
            "project": client.projects(project_id, fields=["consensusMark", "honeypotMark"]),
        }


def _differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = []
    for kind in before:
        old = {row.get("id", kind): row for row in before[kind]}
        new = {row.get("id", kind): row for row in after[kind]}
        if old.keys() != new.keys():
            out.append(f"{kind}: rows differ")
            continue
        for key, row in old.items():
            if row != new[key]:
                out.append(f"{kind} {key}: stored {row}, recomputed {new[key]}")
    return out


def run_configuration(
    label: str, built: Built, workers: int, args: argparse.Namespace, sdk: Sdk, stop: threading.Event
) -> Outcome:
    import labelport

    assets = len(built.asset_ids)
    log = OUT / f"server-{label.replace(' ', '-').replace(',', '')}.log"
    keys = [key for _email, _id, key in built.labelers]
    phases: list[Phase] = []
    checks: list[tuple[str, bool, str]] = []
    with serving(built, workers, log) as port:
        # 1. what the SDK sends (the labeler 0 labels asset 0: not one of phase (b)'s)
        record_response = labeler_response(0, 0)
        recorded = sdk.run(
            port,
            keys[0],
            ["record", built.project_id, built.asset_ids[0], json.dumps(FIELDS), json.dumps(record_response)],
            timeout=300,
        )
        # 2. kili.assets through the server against Client.assets in this process
        through = sdk.run(port, built.admin_key, ["assets", built.project_id, json.dumps(FIELDS)], timeout=900)
        # the same call, its answers replayed from memory: the SDK's own time. The SDK orders some fields
        # of its query by a set's order, so both runs take the same hash seed (the same query text).
        proxy, same_query = ReplayProxy(port), {"PYTHONHASHSEED": "0"}
        try:
            sdk.run(proxy.port, built.admin_key, ["assets", built.project_id, json.dumps(FIELDS)], 900, same_query)
            proxy.replaying = True
            floor = sdk.run(
                proxy.port, built.admin_key, ["assets", built.project_id, json.dumps(FIELDS)], 900, same_query
            )
        finally:
            proxy.close()
        checks.append(
            (
                "the SDK alone: every answer replayed from memory, the same assets",
                proxy.missed == 0 and floor["digest"] == through["digest"],
                f"{len(proxy.kept)} answers kept, {proxy.missed} not found",
            )
        )
        with labelport.Client(built.database_url, ADMIN, media_dir=built.media_dir, disable_tqdm=True) as client:
            times = []
            for _ in range(2):
                start = time.perf_counter()
                rows = client.assets(built.project_id, fields=FIELDS)
                times.append(time.perf_counter() - start)
            same = through["count"] == len(rows) == assets and through["digest"] == digest(picked(rows, FIELDS))
            checks.append(("kili.assets answers as Client.assets", same, f"{through['count']:,} assets"))
            before = {row["id"] for row in client.labels(built.project_id, fields=["id"], type_in=["DEFAULT"])}
        # 3. load
        load = os.getloadavg()[0]
        phases.append(
            run_clients(
                Phase("(a) assets pages"), port, page_clients(recorded["assets"], keys, assets), args.seconds, stop
            )
        )
        appended = Appended()
        record = (built.asset_ids[0], built.labelers[0][1], record_response)
        phases.append(
            run_clients(
                Phase("(b) appendManyLabels, 1 label"),
                port,
                label_clients(recorded["append"], record, built, appended),
                args.seconds,
                stop,
            )
        )
        export_dir = Path(tempfile.mkdtemp(prefix="server-bench-"))
        export_file = export_dir / "export.zip"
        command, env = sdk.command(port, built.admin_key, ["export", built.project_id, str(export_file)])
        exporting = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
        )
        try:
            exported: dict[str, str] = {}
            export_done = threading.Event()

            def watch() -> None:  # reads the export's output (so that it never blocks on a full pipe)
                try:
                    exported["out"], exported["err"] = exporting.communicate(timeout=900)
                finally:
                    export_done.set()

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            during = threading.Event()

            def relay() -> None:
                while not (export_done.wait(0.1) or stop.is_set()):
                    pass
                during.set()

            threading.Thread(target=relay, daemon=True).start()
            phases.append(
                run_clients(
                    Phase("(c) assets pages during the export"),
                    port,
                    page_clients(recorded["assets"], keys, assets, sweeps=10),
                    max(args.seconds, 600),
                    during,
                )
            )
            while watcher.is_alive():
                watcher.join(0.2)
            export = Phase("(c) kili.export_labels (SDK), kili format", requests=1)
            if exporting.returncode == 0 and "out" in exported:
                export.seconds = json.loads(exported["out"].strip().splitlines()[-1])["seconds"]
                export.latencies = [export.seconds]
                with zipfile.ZipFile(export_file) as archive:
                    names = [name for name in archive.namelist() if name.endswith(".json")]
                checks.append(("the export holds every asset", len(names) == assets, f"{len(names):,} JSON members"))
            else:
                export.errors, export.samples = 1, [exported.get("err", "the export did not end in 900 s")[-2000:]]
        finally:
            _stop(exporting, 5)
            shutil.rmtree(export_dir, ignore_errors=True)
        phases.append(export)
    # 4. checks, the server stopped
    with labelport.Client(built.database_url, ADMIN, media_dir=built.media_dir, disable_tqdm=True) as client:
        stored = {
            row["id"]: row
            for row in client.labels(
                built.project_id, fields=["id", "labelOf.id", "author.id", "jsonResponse"], type_in=["DEFAULT"]
            )
            if row["id"] not in before
        }
        same_ids = stored.keys() == appended.sent.keys()
        exact = same_ids and all(
            (row["labelOf"]["id"], row["author"]["id"], row["jsonResponse"]) == appended.sent[label_id]
            for label_id, row in stored.items()
        )
        checks.append(
            (
                "every appended label stored (ids, asset, author, jsonResponse), no other",
                exact,
                f"{len(appended.sent):,} answered, {len(stored):,} new in the store",
            )
        )
        stored_marks = marks_snapshot(built.database_url, built.media_dir, built.project_id)
        client.recompute_marks(built.project_id)
    recomputed = marks_snapshot(built.database_url, built.media_dir, built.project_id)
    differences = _differences(stored_marks, recomputed)
    counted = sum(len(rows) for rows in stored_marks.values())
    checks.append(
        (
            "stored marks == Client.recompute_marks, exactly",
            not differences,
            f"{counted:,} rows compared"
            + (f"; {len(differences)} differ, e.g. {differences[:2]}" if differences else ""),
        )
    )
    return Outcome(label, load, phases, through["seconds"], floor["seconds"], min(times), checks)


def report(outcome: Outcome, assets: int, clients: int) -> None:
    print_table(
        f"{outcome.label}: {assets:,} assets, {clients} concurrent clients — {machine()}, {os.cpu_count()} cores, "
        f"load average {outcome.load:.1f} at the start of the phases",
        HEADERS,
        [phase.row() for phase in outcome.phases],
    )
    for phase in outcome.phases:
        for sample in phase.samples:
            print(f"  error in {phase.name}: {sample}")
    print(
        f"kili.assets(project, fields=<the SDK's {len(FIELDS)} default fields>) over {assets:,} assets: "
        f"{outcome.sdk_seconds:.2f} s through the server, {outcome.client_seconds:.2f} s with Client.assets "
        f"in process: {outcome.ratio:.2f}× (target ≤ 3×); the SDK alone, every answer replayed from memory "
        f"(no server): {outcome.floor_seconds:.2f} s, {outcome.floor_seconds / outcome.client_seconds:.2f}×"
    )
    for name, passed, detail in outcome.checks:
        print(f"check: {name}: {'ok' if passed else 'FAILED'} ({detail})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 assets, 4 clients, 2 workers, 5 s phases")
    parser.add_argument("--assets", type=int, default=None, help="assets in the project (default 10,000)")
    parser.add_argument("--clients", type=int, default=None, help="concurrent clients (default 8)")
    parser.add_argument("--workers", type=int, nargs="+", default=None, help="uvicorn workers (default 1 2)")
    parser.add_argument("--seconds", type=float, default=None, help="the time bound of a phase (default 20)")
    parser.add_argument("--postgres", metavar="URL", default=None, help="also run on a fresh schema of this database")
    parser.add_argument("--kili-python", default=None, help="the Python of a venv with the kili SDK")
    args = parser.parse_args()
    args.assets = args.assets or (1_000 if args.quick else 10_000)
    args.clients = args.clients or (4 if args.quick else 8)
    args.workers = args.workers or ([2] if args.quick else [1, 2])
    args.seconds = args.seconds or (5.0 if args.quick else 20.0)
    if args.assets < MIN_ASSETS or args.clients < 1 or min(args.workers) < 1:
        parser.error(f"--assets takes at least {MIN_ASSETS}, --clients and --workers at least 1")
    sdk = Sdk(kili_python(args.kili_python), Path(tempfile.mkdtemp(prefix="server-bench-home-")))
    stop = threading.Event()
    stores: list[tuple[str, Callable[[], contextlib.AbstractContextManager[str]]]] = [
        ("SQLite", lambda: sqlite_store(f"server-{args.assets}"))
    ]
    if args.postgres:
        stores.append(("PostgreSQL", lambda: postgres_store(args.postgres)))
    outcomes = []
    try:
        for backend, store in stores:
            for workers in args.workers:
                with store() as url:
                    media = OUT / "server-media"
                    built = build(url, media, args.assets, args.clients)
                    print(f"\n{backend}: built the project in {built.seconds:.1f} s", flush=True)
                    outcome = run_configuration(
                        f"{backend}, {workers} worker{'s' if workers > 1 else ''}", built, workers, args, sdk, stop
                    )
                report(outcome, args.assets, args.clients)
                outcomes.append(outcome)
    except KeyboardInterrupt:
        stop.set()
        print("\ninterrupted: every process started was stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(sdk.home, ignore_errors=True)
    rows = []
    for outcome in outcomes:
        for phase in outcome.phases:
            rows.append([outcome.label, *phase.row()])
    print_table(f"summary — {args.assets:,} assets, {args.clients} clients — {machine()}", ["store", *HEADERS], rows)
    for outcome in outcomes:
        print(
            f"{outcome.label}: kili.assets through the server {outcome.ratio:.2f}× Client.assets in process, "
            f"the SDK alone {outcome.floor_seconds / outcome.client_seconds:.2f}× (load average {outcome.load:.1f})"
        )
    failed = [(outcome.label, name) for outcome in outcomes for name, passed, _ in outcome.checks if not passed] + [
        (outcome.label, phase.name) for outcome in outcomes for phase in outcome.phases if phase.errors
    ]
    for label, name in failed:
        print(f"FAILED: {label}: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
