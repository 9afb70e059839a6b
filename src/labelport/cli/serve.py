"""``labelport serve``: Kili's GraphQL API over a labelport store, for the unmodified kili SDK and CLI."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from labelport.cli.common import database_option
from labelport.cli.jobs import job_options
from labelport.errors import front_door


@click.command("serve")
@database_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="The address to listen on (0.0.0.0: every interface)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=4000, show_default=True, help="The port to listen on.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (each opens the store: SQLite in WAL mode or PostgreSQL).",
)
@click.option(
    "--media-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where media files are stored; default $LABELPORT_MEDIA_DIR, else media/ next to a SQLite file.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"], case_sensitive=False),
    default="info",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=50.0,
    show_default=True,
    help="Seconds one GraphQL request may run; past it the answer is a TimeLimitExceeded error and what it "
    "was writing is rolled back.",
)
@click.option(
    "--read-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the next part of a request body (GraphQL or upload) before answering 408.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=20.0,
    show_default=True,
    help="Seconds from a request's first byte to the end of its headers before the connection is closed.",
)
@click.option(
    "--keep-alive-timeout",
    type=click.IntRange(min=1),
    default=65,
    show_default=True,
    help="Seconds an idle connection stays open (above a reverse proxy's own idle timeout, often 60).",
)
@click.option(
    "--limit-concurrency",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Connections and requests one worker takes at once; beyond it, HTTP 503.",
)
@click.option("--max-body-bytes", type=click.IntRange(min=1), default=None, help="Largest GraphQL body, decompressed.")
@click.option("--max-upload-bytes", type=click.IntRange(min=1), default=None, help="Largest uploaded file.")
@click.option("--max-page-size", type=click.IntRange(min=1), default=None, help="Largest `first` of a page.")
@click.option("--max-depth", type=click.IntRange(min=1), default=None, help="Deepest nesting of fields in a query.")
@click.option("--max-fields", type=click.IntRange(min=1), default=None, help="Most fields one query selects.")
@click.option(
    "--broker",
    default=None,
    metavar="redis://HOST:PORT/DB",
    help="Run export jobs on `labelport worker` processes through this Redis (RQ); default: in a pool of the "
    "server's own processes (--job-workers).",
)
@click.option(
    "--job-workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Without --broker: export jobs run at once per server process.",
)
@job_options
def serve(
    database: str | None,
    host: str,
    port: int,
    workers: int,
    media_dir: Path | None,
    log_level: str,
    request_timeout: float,
    read_timeout: float,
    header_timeout: float,
    keep_alive_timeout: int,
    limit_concurrency: int,
    max_body_bytes: int | None,
    max_upload_bytes: int | None,
    max_page_size: int | None,
    max_depth: int | None,
    max_fields: int | None,
    broker: str | None,
    job_workers: int,
    storage: str | None,
    storage_endpoint: str | None,
    queue: str,
    job_heartbeat: float,
    job_stale_after: float,
    job_test_delay: float,
) -> None:
    """Serve Kili's GraphQL API (and media, uploads) over the store, so that the kili SDK and CLI work
    against it: set KILI_API_ENDPOINT=http://HOST:PORT/api/label/v2/graphql and KILI_API_KEY to a key
    from `labelport api-key create EMAIL`. Stop it with Ctrl-C. See docs/server.md.

    \b
    Example:
      labelport serve --db sqlite:///labelport-demo/demo.db --port 4000
    """
    try:
        import uvicorn  # noqa: F401 (checked here, used by _run)
    except ImportError:
        raise click.ClickException(
            "The server needs its dependencies: pip install 'labelport[server]' (or '.[dev]' in a checkout)."
        ) from None
    from labelport import settings

    url = settings.database_url(database)
    chosen = settings.media_dir(media_dir, url)
    # The worker processes read the store from the environment (labelport.server.app.app_from_environment).
    os.environ["LABELPORT_DATABASE_URL"] = url
    if chosen is not None:
        os.environ["LABELPORT_MEDIA_DIR"] = str(chosen)
    from labelport.server.app import LIMIT_VARIABLES

    limits = {
        "request_timeout": request_timeout,
        "read_timeout": read_timeout,
        "max_body_bytes": max_body_bytes,
        "max_upload_bytes": max_upload_bytes,
        "max_page_size": max_page_size,
        "max_depth": max_depth,
        "max_fields": max_fields,
    }
    for name, value in limits.items():
        if value is not None:
            os.environ[LIMIT_VARIABLES[name]] = str(value)
    os.environ["LABELPORT_HEADER_TIMEOUT"] = str(header_timeout)
    jobs_environment = {
        "LABELPORT_BROKER_URL": broker or "",
        "LABELPORT_STORAGE_URL": storage or "",
        "LABELPORT_STORAGE_ENDPOINT": storage_endpoint or "",
        "LABELPORT_BROKER_QUEUE": queue,
        "LABELPORT_JOB_WORKERS": str(job_workers),
        "LABELPORT_JOB_HEARTBEAT": str(job_heartbeat),
        "LABELPORT_JOB_STALE_AFTER": str(job_stale_after),
        "LABELPORT_JOB_TEST_DELAY": str(job_test_delay),
    }
    os.environ.update(jobs_environment)
    if not _loopback(host):
        click.echo(
            f"Warning: listening on {host}: API keys travel in every request; put a reverse proxy with TLS in front.",
            err=True,
        )
    click.echo(f"labelport: Kili's API at http://{host}:{port}/api/label/v2/graphql, store {url}", err=True)
    # The server answers API clients, not this command line: its messages use the library's words.
    with front_door("server"):
        _run(host, port, workers, log_level, keep_alive_timeout, limit_concurrency)


def _run(host: str, port: int, workers: int, log_level: str, keep_alive_timeout: int, limit_concurrency: int) -> None:
    import uvicorn

    uvicorn.run(
        "labelport.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        http="labelport.server.protocol:LimitedH11Protocol",
        timeout_keep_alive=keep_alive_timeout,
        limit_concurrency=limit_concurrency,
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
