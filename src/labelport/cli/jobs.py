"""Export jobs on the command line: ``labelport worker`` (an RQ worker), ``labelport jobs prune``, and
``labelport export-job start|status|download|cancel`` (a client of a server's ``/api/exports``)."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from labelport.cli.common import database_option
from labelport.errors import front_door

F = TypeVar("F", bound=Callable[..., Any])


def job_options(command: F) -> F:
    """The options ``serve`` and ``worker`` share: the job storage and the jobs' timings."""
    for option in reversed(
        [
            click.option(
                "--storage",
                default=None,
                envvar="LABELPORT_STORAGE_URL",
                help="Where export archives go: a folder (shared by every server and worker) or s3://bucket/prefix; "
                "default $LABELPORT_STORAGE_URL, else archives/ next to the media folder.",
            ),
            click.option(
                "--storage-endpoint",
                default=None,
                envvar="LABELPORT_STORAGE_ENDPOINT",
                help="The endpoint URL of an S3-compatible server (MinIO, Ceph…) for an s3:// storage.",
            ),
            click.option(
                "--queue",
                default="labelport-jobs",
                show_default=True,
                help="With a broker: the RQ queue's name (servers and workers of one deployment use the same).",
            ),
            click.option(
                "--job-heartbeat",
                type=click.FloatRange(0.1, 600),
                default=5.0,
                show_default=True,
                help="Seconds between the heartbeats of a running job.",
            ),
            click.option(
                "--job-stale-after",
                type=click.FloatRange(0.5, 86400),
                default=60.0,
                show_default=True,
                help="Seconds without a heartbeat after which a running job counts as lost: queued again once, "
                "then failed.",
            ),
            click.option("--job-test-delay", type=float, default=0.0, hidden=True),  # the fault tests: slow exports
        ]
    ):
        command = option(command)
    return command


@click.command("worker")
@click.option("--broker", required=True, metavar="redis://HOST:PORT/DB", help="The Redis that `serve --broker` uses.")
@database_option
@click.option(
    "--media-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="LABELPORT_MEDIA_DIR",
    help="The store's media folder (shared with the servers); default $LABELPORT_MEDIA_DIR, else media/ next to a "
    "SQLite file.",
)
@click.option("--name", default=None, help="The worker's name in RQ (default: RQ's, host and pid based).")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (default: run until stopped).")
@job_options
def worker(
    broker: str,
    database: str | None,
    media_dir: Path | None,
    name: str | None,
    burst: bool,
    storage: str | None,
    storage_endpoint: str | None,
    queue: str,
    job_heartbeat: float,
    job_stale_after: float,
    job_test_delay: float,
) -> None:
    """Run export jobs that `labelport serve --broker URL` enqueues, on this or another machine: an RQ
    worker on the same Redis, with the same database and the same storage as the servers. Each job runs in
    a process of its own (RQ's work horse). Stop it with Ctrl-C (a warm shutdown: the job at hand finishes).
    See docs/server.md, "Scaling out".

    \b
    Example:
      labelport worker --broker redis://10.0.0.5:6379/0 --db postgresql://… --media-dir /shared/media
    """
    del job_stale_after  # the servers reap lost jobs
    from labelport import settings
    from labelport.services.job_runner import BrokerUnavailable, RunnerConfig, run_worker
    from labelport.storage import default_storage_url
    from labelport.store.engine import Store

    url = settings.database_url(database)
    store = Store(url, settings.media_dir(media_dir, url))  # checks the database and the media folder now
    try:
        config = RunnerConfig(
            database_url=url,
            media_dir=str(store.media_dir),
            storage_url=storage or default_storage_url(store.media_dir),
            storage_endpoint=storage_endpoint,
            heartbeat_seconds=job_heartbeat,
            test_delay=job_test_delay,
        )
    finally:
        store.close()
    click.echo(
        f"labelport worker: jobs from {broker} (queue {queue}), store {url}, archives in {config.storage_url}", err=True
    )
    try:
        with front_door("server"):  # a job's error is read through the HTTP API: in the library's words
            run_worker(config, broker, queue, burst=burst, name=name)
    except BrokerUnavailable as error:
        raise click.ClickException(str(error)) from None


@click.group("jobs")
def jobs_group() -> None:
    """Maintain the export jobs of a store."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a duration such as 7d, 12h, 30m or 90s.", param_hint="--older-than")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


@jobs_group.command("prune")
@click.option("--older-than", required=True, help="Retention: remove jobs finished longer ago than this (7d, 12h…).")
@database_option
@click.option(
    "--media-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="LABELPORT_MEDIA_DIR",
    help="The store's media folder; default $LABELPORT_MEDIA_DIR, else media/ next to a SQLite file.",
)
@click.option("--storage", default=None, envvar="LABELPORT_STORAGE_URL", help="The job storage (as for serve).")
@click.option("--storage-endpoint", default=None, envvar="LABELPORT_STORAGE_ENDPOINT", help="An S3 endpoint URL.")
def prune(
    older_than: str, database: str | None, media_dir: Path | None, storage: str | None, storage_endpoint: str | None
) -> None:
    """Remove finished export jobs (succeeded, failed, cancelled) older than the retention period, with
    their archives, and archives or staged files left without a job (a worker killed mid-upload).

    \b
    Example:
      labelport jobs prune --older-than 7d --db postgresql://… --media-dir /shared/media
    """
    from labelport import settings
    from labelport.services import jobs
    from labelport.storage import default_storage_url, open_storage
    from labelport.store.engine import Store

    retention = parse_duration(older_than)
    url = settings.database_url(database)
    store = Store(url, settings.media_dir(media_dir, url))
    try:
        place = open_storage(storage or default_storage_url(store.media_dir), storage_endpoint)
        removed, files = jobs.prune(store, place, retention)
    finally:
        store.close()
    click.echo(f"Removed {removed} jobs and {files} files older than {older_than} from {place.url}.")


# -- export-job: a client of /api/exports --------------------------------------------------------------------

server_option = click.option(
    "--server",
    "server_url",
    envvar="LABELPORT_SERVER_URL",
    required=True,
    help="The server's base URL, e.g. http://127.0.0.1:4000 (default $LABELPORT_SERVER_URL).",
)
key_option = click.option(
    "--api-key", envvar="LABELPORT_API_KEY", required=True, help="An API key (default $LABELPORT_API_KEY)."
)


def _request(server_url: str, api_key: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else orjson.dumps(body)
    request = urllib.request.Request(server_url.rstrip("/") + path, data=data, method=method)
    request.add_header("X-API-Key", api_key)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return orjson.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise click.ClickException(_message(error)) from None
    except urllib.error.URLError as error:
        raise click.ClickException(f"Cannot reach the server at {server_url}: {error.reason}.") from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return f"HTTP {error.code}: {orjson.loads(error.read())['errors'][0]['message']}"
    except (ValueError, KeyError, IndexError, TypeError):
        return f"HTTP {error.code}: {error.reason}"


def _option_value(raw: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


@click.group("export-job")
def export_job() -> None:
    """Start, follow, download and cancel export jobs on a server (`labelport serve`)."""


@export_job.command("start")
@server_option
@key_option
@click.option("--project-id", required=True, help="The project to export.")
@click.option("--format", "fmt", required=True, help="The format: kili, coco, yolo_v8, pascal_voc, geojson…")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="NAME=VALUE",
    help='An export_labels option, e.g. split=\'{"train":0.8,"val":0.2}\' or with_assets=false; VALUE is read as '
    "JSON when it parses, else as text; repeat.",
)
@click.option("--wait", is_flag=True, help="Follow the job until it ends; exit 1 unless it succeeded.")
def start(server_url: str, api_key: str, project_id: str, fmt: str, options: tuple[str, ...], wait: bool) -> None:
    """Start an export job; print it as JSON (with --wait, once it has ended).

    \b
    Example:
      labelport export-job start --server http://127.0.0.1:4000 --api-key KEY --project-id P --format coco --wait
    """
    body: dict[str, Any] = {"project_id": project_id, "fmt": fmt}
    for option in options:
        name, equals, raw = option.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{option!r} is not NAME=VALUE, e.g. with_assets=false", param_hint="--option")
        body[name.strip()] = _option_value(raw)
    job = _request(server_url, api_key, "POST", "/api/exports", body)
    if wait:
        job = _wait(server_url, api_key, job["id"])
    click.echo(json.dumps(job, indent=2))
    if wait and job["state"] != "succeeded":
        raise SystemExit(1)


def _wait(server_url: str, api_key: str, job_id: str) -> Any:
    shown = -1
    while True:
        job = _request(server_url, api_key, "GET", f"/api/exports/{urllib.parse.quote(job_id)}")
        if job["progress"]["done"] != shown:
            shown = job["progress"]["done"]
            click.echo(f"{job['state']}: {shown}/{job['progress']['total'] or '?'} assets", err=True)
        if job["state"] in ("succeeded", "failed", "cancelled") and job["finished_at"]:
            return job
        time.sleep(1)


@export_job.command("status")
@server_option
@key_option
@click.argument("job_id")
def status(server_url: str, api_key: str, job_id: str) -> None:
    """Print the job as JSON: state, progress, report, error.

    \b
    Example:
      labelport export-job status --server http://127.0.0.1:4000 --api-key KEY JOB_ID
    """
    click.echo(json.dumps(_request(server_url, api_key, "GET", f"/api/exports/{urllib.parse.quote(job_id)}"), indent=2))


@export_job.command("cancel")
@server_option
@key_option
@click.argument("job_id")
def cancel(server_url: str, api_key: str, job_id: str) -> None:
    """Cancel a queued or running job.

    \b
    Example:
      labelport export-job cancel --server http://127.0.0.1:4000 --api-key KEY JOB_ID
    """
    path = f"/api/exports/{urllib.parse.quote(job_id)}/cancel"
    click.echo(json.dumps(_request(server_url, api_key, "POST", path), indent=2))


@export_job.command("download")
@server_option
@key_option
@click.argument("job_id")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Default: its name."
)
def download(server_url: str, api_key: str, job_id: str, output: Path | None) -> None:
    """Download a succeeded job's archive (written to a temporary file, renamed once complete).

    \b
    Example:
      labelport export-job download --server http://127.0.0.1:4000 --api-key KEY JOB_ID -o export.zip
    """
    request = urllib.request.Request(f"{server_url.rstrip('/')}/api/exports/{urllib.parse.quote(job_id)}/archive")
    request.add_header("X-API-Key", api_key)
    try:
        answer = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        raise click.ClickException(_message(error)) from None
    except urllib.error.URLError as error:
        raise click.ClickException(f"Cannot reach the server at {server_url}: {error.reason}.") from None
    with answer:
        disposition = answer.headers.get("Content-Disposition", "")
        found = re.search(r'filename="([^"]+)"', disposition)
        target = output or Path(found.group(1) if found else f"{job_id}.zip")
        expected = int(answer.headers.get("Content-Length", "-1"))
        partial = target.with_name(f".{target.name}.partial")
        written = 0
        try:
            with partial.open("wb") as out:
                while chunk := answer.read(1 << 20):
                    out.write(chunk)
                    written += len(chunk)
            if expected >= 0 and written != expected:
                raise click.ClickException(f"The download stopped at {written} of {expected} bytes; try again.")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    click.echo(f"{target} ({written} bytes)")
