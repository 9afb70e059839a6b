"""The export jobs' HTTP API, behind the same API keys and roles as the GraphQL (see docs/server.md):

- ``POST /api/exports``: JSON ``{"project_id": …, "fmt": …, <export_labels' options>}`` → 202 and the job;
- ``GET /api/exports?project_id=…``: the project's jobs, newest first;
- ``GET /api/exports/{id}``: the job (state, progress, report, error);
- ``GET /api/exports/{id}/events``: server-sent events, one ``job`` event each time the job changes, until
  it has finished;
- ``GET /api/exports/{id}/archive``: the archive of a succeeded job, streamed (Content-Length,
  Content-Disposition);
- ``POST /api/exports/{id}/cancel``: cancel a queued or running job.

Jobs run in the server's own pool of processes (the embedded runner), or, with a broker
(``labelport serve --broker redis://…``), on ``labelport worker`` processes
(:mod:`labelport.services.job_runner`). When the broker cannot be reached, ``POST`` answers 503 and the
job is recorded failed with the broker's error: never left queued.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from labelport.errors import LabelportError, NotFound, PermissionDenied
from labelport.server.web import auth as web_auth
from labelport.services import api_keys, jobs
from labelport.services.context import ActingContext
from labelport.services.job_runner import QUEUE_NAME, BrokerQueue, BrokerUnavailable, Dispatcher, RunnerConfig
from labelport.storage import Storage, default_storage_url, reading
from labelport.store.engine import Store

PREFIX = "/api/exports"
#: Seconds between two looks at a job while streaming its events.
EVENT_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class JobsConfig:
    """How the server runs jobs (``labelport serve``'s options)."""

    #: ``redis://…``: enqueue jobs for ``labelport worker`` processes; None: run them in the server's pool.
    broker_url: str | None = None
    #: The RQ queue's name.
    queue: str = QUEUE_NAME
    #: Where archives go: a folder or ``s3://bucket/prefix``; None: ``archives/`` next to the media folder.
    storage_url: str | None = None
    storage_endpoint: str | None = None
    #: Job processes of the embedded pool (per server process).
    slots: int = 2
    heartbeat_seconds: float = 5.0
    #: Seconds without a heartbeat after which a running job counts as lost (queued again once, or failed).
    stale_after: float = 60.0
    #: Seconds a job process sleeps after each asset (the fault tests only).
    test_delay: float = 0.0


def config_from_environment() -> JobsConfig:
    """The settings ``labelport serve`` passes to its worker processes through the environment."""
    env = os.environ
    return JobsConfig(
        broker_url=env.get("LABELPORT_BROKER_URL") or None,
        queue=env.get("LABELPORT_BROKER_QUEUE") or QUEUE_NAME,
        storage_url=env.get("LABELPORT_STORAGE_URL") or None,
        storage_endpoint=env.get("LABELPORT_STORAGE_ENDPOINT") or None,
        slots=int(env.get("LABELPORT_JOB_WORKERS", "2")),
        heartbeat_seconds=float(env.get("LABELPORT_JOB_HEARTBEAT", "5")),
        stale_after=float(env.get("LABELPORT_JOB_STALE_AFTER", "60")),
        test_delay=float(env.get("LABELPORT_JOB_TEST_DELAY", "0")),
    )


@dataclass
class JobsApi:
    """The routes and the dispatcher of one server process."""

    config: JobsConfig
    store: Store | None = None
    storage: Storage | None = None
    dispatcher: Dispatcher | None = None

    def start(self, store: Store) -> None:
        self.store = store
        url = self.config.storage_url or default_storage_url(store.media_dir)
        runner = RunnerConfig(
            database_url=store.engine.url.render_as_string(hide_password=False),
            media_dir=str(store.media_dir),
            storage_url=url,
            storage_endpoint=self.config.storage_endpoint,
            heartbeat_seconds=self.config.heartbeat_seconds,
            test_delay=self.config.test_delay,
        )
        self.storage = runner.storage()
        broker = None if self.config.broker_url is None else BrokerQueue(self.config.broker_url, self.config.queue)
        self.dispatcher = Dispatcher(store, runner, self.config.slots, broker, self.config.stale_after)
        self.dispatcher.start()

    def stop(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop()

    def routes(self) -> list[Route]:
        return [
            Route(PREFIX, self._create_or_list, methods=["GET", "POST"]),
            Route(PREFIX + "/{job_id}", self._get, methods=["GET"]),
            Route(PREFIX + "/{job_id}/events", self._events, methods=["GET"]),
            Route(PREFIX + "/{job_id}/archive", self._archive, methods=["GET"]),
            Route(PREFIX + "/{job_id}/cancel", self._cancel, methods=["POST"]),
        ]

    # -- helpers --

    async def _acting(self, request: Request) -> ActingContext | None:
        assert self.store is not None
        found = await run_in_threadpool(api_keys.authenticate, self.store, request.headers.items())
        if found is not None:
            email: str | None = found.email
        else:  # the web UI's pages: the session cookie, and for a POST the session's CSRF token
            email = await run_in_threadpool(
                web_auth.session_email, self.store, request.method, request.cookies, request.headers
            )
        if email is None:
            return None
        return ActingContext(self.store, email, new_user_role=None, disable_tqdm=True)

    async def _call(self, request: Request, action: Callable[[ActingContext], Any], status: int = 200) -> Response:
        acting = await self._acting(request)
        if acting is None:
            return _error(
                401,
                "UNAUTHENTICATED",
                "Invalid API key: send a valid one as 'X-API-Key: <key>' or 'Authorization: X-API-Key: <key>' "
                "(create one with `labelport api-key create EMAIL`), or sign in to the web UI (a POST from its "
                "pages carries the session's CSRF token).",
            )
        try:
            result = await run_in_threadpool(action, acting)
        except BrokerUnavailable as error:
            return _error(503, "BROKER_UNAVAILABLE", str(error))
        except NotFound as error:
            return _error(404, "NotFound", str(error))
        except PermissionDenied as error:
            return _error(403, "PermissionDenied", str(error))
        except LabelportError as error:
            return _error(400, type(error).__name__, str(error))
        if isinstance(result, Response):
            return result
        return Response(orjson.dumps(result), status_code=status, media_type="application/json")

    # -- routes --

    async def _create_or_list(self, request: Request) -> Response:
        if request.method == "GET":
            project_id = request.query_params.get("project_id")
            if not project_id:
                return _error(400, "BAD_REQUEST", "GET /api/exports needs ?project_id=<the project's id>.")
            return await self._call(
                request, lambda ctx: {"jobs": [_shown(job) for job in jobs.list_jobs(ctx, project_id)]}
            )
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, "BAD_REQUEST", 'The request body is not JSON: send {"project_id": …, "fmt": …}.')
        if not isinstance(body, dict) or not isinstance(body.get("project_id"), str):
            return _error(400, "BAD_REQUEST", "The request body needs a 'project_id' string and 'fmt'.")
        options = {key: value for key, value in body.items() if key != "project_id"}
        if "format" in options and "fmt" not in options:
            options["fmt"] = options.pop("format")

        def create(ctx: ActingContext) -> dict[str, Any]:
            job = jobs.create_export(ctx, body["project_id"], options)
            assert self.dispatcher is not None
            self.dispatcher.submit(job.id)
            return _shown(job)

        return await self._call(request, create, status=202)

    async def _get(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        return await self._call(request, lambda ctx: _shown(jobs.get_job(ctx, job_id)))

    async def _cancel(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        return await self._call(request, lambda ctx: _shown(jobs.cancel(ctx, job_id)))

    async def _archive(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        storage = self.storage
        assert storage is not None

        def answer(ctx: ActingContext) -> Response:
            job = jobs.get_job(ctx, job_id)
            if job.state != jobs.SUCCEEDED or job.archive_key is None:
                return _error(409, "NOT_READY", f"Job {job_id!r} is {job.state}: only a succeeded job has an archive.")
            try:
                size = storage.size(job.archive_key)
            except FileNotFoundError:
                return _error(
                    410, "GONE", f"The archive of job {job_id!r} is no longer stored (pruned); start the export again."
                )
            headers = {
                "Content-Length": str(size),
                "Content-Disposition": f'attachment; filename="{job.archive_name}"',
            }
            return StreamingResponse(_stream(storage, job.archive_key), media_type="application/zip", headers=headers)

        return await self._call(request, answer)

    async def _events(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        first = await self._call(request, lambda ctx: _shown(jobs.get_job(ctx, job_id)))
        if first.status_code != 200:
            return first
        acting = await self._acting(request)
        assert acting is not None

        async def events() -> AsyncIterator[bytes]:
            last: dict[str, Any] | None = None
            while True:
                job = await run_in_threadpool(jobs.get_job, acting, job_id)
                shown = _shown(job)
                if shown != last:
                    yield b"event: job\ndata: " + orjson.dumps(shown) + b"\n\n"
                    last = shown
                if job.state in jobs.FINISHED and job.finished_at is not None:
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(EVENT_POLL_SECONDS)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def _stream(storage: Storage, key: str) -> AsyncIterator[bytes]:
    with reading(storage, key) as chunks:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk


def _shown(job: jobs.JobInfo) -> dict[str, Any]:
    shown = job.as_dict()
    shown["progress"] = {"done": job.done, "total": job.total}
    shown["archive"] = f"{PREFIX}/{job.id}/archive" if job.state == jobs.SUCCEEDED else None
    return shown


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)
