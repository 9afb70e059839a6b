"""The server's time limit per GraphQL request: past it, the answer is a GraphQL error with
``extensions.code`` TimeLimitExceeded (HTTP 200, which the kili SDK raises as its GraphQLError: it would
send a 503 or 504 again, up to ten times) and what the request was writing is rolled back; work stuck
between statements is abandoned after a grace period, a commit under way is waited for."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from labelport.errors import TimeLimitExceeded
from labelport.server.app import LIMIT_VARIABLES, _within, limits_from_environment
from labelport.store import deadline, schema
from labelport.store.deadline import Deadline
from labelport.store.engine import Store
from tests import factories
from tests.server.inprocess import assert_clean_error, running


def test_an_operation_past_the_time_limit_answers_a_clear_error_and_writes_nothing(database_url, tmp_path):
    with running(database_url, tmp_path, request_timeout=1e-9) as served:
        answer = served.post(orjson.dumps({"query": "{ projects(where: {}) { id title } }"}))
        error = assert_clean_error(answer, 200)
        assert error["extensions"] == {"code": "TimeLimitExceeded", "context": {}}
        assert error["path"] == ["projects"]
        assert error["message"].startswith("This request ran past its time limit of 1e-09 s and was stopped;")
        create = """mutation create($data: CreateProjectData!) { data: createProject(data: $data) { id } }"""
        variables = {
            "data": {
                "title": "Too slow",
                "inputType": "IMAGE",
                "jsonInterface": orjson.dumps(factories.image_interface()).decode(),
            }
        }
        answer = served.post(orjson.dumps({"query": create, "variables": variables}))
        assert assert_clean_error(answer, 200)["extensions"]["code"] == "TimeLimitExceeded"
        with served.client() as client:
            assert [project["title"] for project in client.projects(fields=["title"])] == ["Seed"]


def test_an_operation_within_the_time_limit_is_answered(database_url, tmp_path):
    with running(database_url, tmp_path, request_timeout=600) as served:
        answer = served.post(orjson.dumps({"query": "{ projects(where: {}) { title } }"}))
        assert answer.json() == {"data": {"projects": [{"title": "Seed"}]}}


def test_work_stuck_between_statements_is_abandoned_and_then_cannot_write(database_url, tmp_path):
    store = Store(database_url, tmp_path / "media")
    release, finished = threading.Event(), threading.Event()
    outcome: list[Any] = []

    def stuck() -> dict[str, Any]:
        try:
            release.wait(30)  # Python work that no statement interrupts
            with store.write() as conn:
                conn.execute(schema.meta.insert().values(key="after-the-answer", value="1"))
            outcome.append("committed")
        except TimeLimitExceeded as error:
            outcome.append(error)
        finally:
            finished.set()
        return {"data": "late"}

    async def scenario() -> dict[str, Any]:
        answer = await _within(Deadline(0.05), 0.05, stuck)
        release.set()
        await asyncio.to_thread(finished.wait, 30)
        return answer

    try:
        answer = asyncio.run(scenario())
        assert answer["data"] is None
        assert answer["errors"][0]["extensions"] == {"code": "TimeLimitExceeded", "context": {}}
        assert len(outcome) == 1 and isinstance(outcome[0], TimeLimitExceeded), outcome
        with store.read() as conn:
            assert "after-the-answer" not in set(conn.execute(schema.meta.select()).scalars())
    finally:
        store.close()


def test_a_commit_under_way_at_the_time_limit_is_waited_for():
    calls: list[bool] = []
    asked, in_commit, release = threading.Event(), threading.Event(), threading.Event()

    class Recording(Deadline):
        """A deadline the server gives up on at once, while the work is in its commit (whenever its thread
        gets there): the order is fixed, whatever the machine's load."""

        def remaining(self) -> float:
            return 0.0

        def abandon(self) -> bool:
            in_commit.wait(30)
            given_up = super().abandon()
            calls.append(given_up)
            asked.set()
            return given_up

    limit = Recording(3600)

    def committing() -> dict[str, Any]:
        assert deadline.current() is limit
        with limit.committing():
            in_commit.set()
            release.wait(30)
        return {"data": "committed"}

    async def scenario() -> dict[str, Any]:
        task = asyncio.ensure_future(_within(limit, 0.01, committing))
        await asyncio.to_thread(asked.wait, 30)
        release.set()
        return await task

    assert asyncio.run(scenario()) == {"data": "committed"}
    assert calls == [False]
    assert in_commit.is_set()


def test_limits_from_the_environment():
    environment = {LIMIT_VARIABLES["request_timeout"]: "12.5", LIMIT_VARIABLES["max_page_size"]: "100", "OTHER": "1"}
    assert limits_from_environment(environment) == {"request_timeout": 12.5, "max_page_size": 100}
    with pytest.raises(ValueError, match=r"^LABELPORT_MAX_PAGE_SIZE='lots' is not a int\.$"):
        limits_from_environment({"LABELPORT_MAX_PAGE_SIZE": "lots"})
    with pytest.raises(ValueError, match=r"^LABELPORT_REQUEST_TIMEOUT='0' must be above 0\.$"):
        limits_from_environment({"LABELPORT_REQUEST_TIMEOUT": "0"})


def test_serve_passes_its_limits_to_the_workers(tmp_path: Path):
    from click.testing import CliRunner

    from labelport.cli import serve as serve_module

    seen: dict[str, Any] = {}

    def fake_run(app: str, **options: Any) -> None:  # uvicorn.run, recorded rather than run
        import os

        seen.update(options)
        seen["environment"] = {
            name: os.environ.get(name) for name in (*LIMIT_VARIABLES.values(), "LABELPORT_HEADER_TIMEOUT")
        }

    import uvicorn

    original = uvicorn.run
    uvicorn.run = fake_run  # type: ignore[assignment]
    try:
        result = CliRunner().invoke(
            serve_module.serve,
            [
                "--db",
                f"sqlite:///{tmp_path / 's.db'}",
                "--request-timeout",
                "7",
                "--max-page-size",
                "100",
                "--keep-alive-timeout",
                "30",
            ],
            env={  # restored afterwards: serve sets them for its workers
                name: None
                for name in (
                    *LIMIT_VARIABLES.values(),
                    "LABELPORT_HEADER_TIMEOUT",
                    "LABELPORT_DATABASE_URL",
                    "LABELPORT_MEDIA_DIR",
                )
            },
        )
    finally:
        uvicorn.run = original  # type: ignore[assignment]
    assert result.exit_code == 0, result.output
    assert seen["http"] == "labelport.server.protocol:LimitedH11Protocol"
    assert seen["timeout_keep_alive"] == 30
    assert seen["limit_concurrency"] == 1000
    assert seen["environment"]["LABELPORT_REQUEST_TIMEOUT"] == "7.0"
    assert seen["environment"]["LABELPORT_MAX_PAGE_SIZE"] == "100"
    assert seen["environment"]["LABELPORT_HEADER_TIMEOUT"] == "20.0"
    assert seen["environment"]["LABELPORT_MAX_BODY_BYTES"] is None


def test_serve_closes_connections_idle_from_the_start_or_slow_with_their_headers(tmp_path: Path):
    """``labelport serve`` on a free port: a connection that sends nothing, one that sends half its headers,
    and one idle after a whole request are closed (the socket reads its end); a whole request is answered."""
    import socket

    from tests.server.conftest import serving

    database = f"sqlite:///{tmp_path / 'store.db'}"
    options = ("--header-timeout", "0.5", "--keep-alive-timeout", "1")
    with serving(database, tmp_path / "media", tmp_path / "server.log", *options) as url:
        port = int(url.rsplit(":", 1)[1])

        def connect() -> socket.socket:
            connection = socket.create_connection(("127.0.0.1", port), timeout=30)  # a bound, never reached
            return connection

        with connect() as idle:
            assert idle.recv(100) == b""
        with connect() as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # no blank line: headers never end
            assert slow.recv(100) == b""
        with connect() as kept:
            kept.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while b'{"status":"ok"}' not in answer:
                answer += kept.recv(1000)
            assert answer.startswith(b"HTTP/1.1 200 OK")
            assert kept.recv(100) == b""  # then closed once idle for the keep-alive timeout


def test_the_kili_sdk_raises_the_time_limit_error_with_its_message(kili_python: Path, tmp_path: Path):
    """The unmodified SDK against a server whose time limit nothing can meet: its call raises its
    GraphQLError with labelport's message (HTTP 200: no retries, no traceback)."""
    import json

    import labelport
    from tests.server.conftest import ADMIN, RunningServer, run_kili, serving

    database, media = f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "media"
    with labelport.Client(database, ADMIN, media_dir=media, disable_tqdm=True) as admin:
        key = admin.create_api_key(ADMIN, name="tests")
    log = tmp_path / "server.log"
    with serving(database, media, log, "--request-timeout", "0.000001") as url:
        server = RunningServer(url, database, media, key, log)
        script = (
            "import json, os\nos.environ['KILI_SDK_SKIP_CHECKS'] = '1'\nfrom kili.client import Kili\n"
            "try:\n    Kili().count_projects()\nexcept Exception as error:\n"
            "    print(json.dumps([type(error).__name__, str(error)]))\n"
        )
        done = run_kili(kili_python, server, key, ["-c", script], tmp_path / "home")
    assert done.returncode == 0, done.stderr[-3000:]
    kind, message = json.loads(done.stdout.strip().splitlines()[-1])
    assert kind == "GraphQLError"
    assert message.startswith('GraphQL error: "This request ran past its time limit of 1e-06 s and was stopped;')
