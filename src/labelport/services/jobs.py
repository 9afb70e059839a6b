"""Background jobs (exports): the durable record in the ``jobs`` table, and the rules every runner follows.

A job is created ``queued`` by :func:`create_export` (the caller needs the export permission on the
project), taken by exactly one process with :func:`claim` (``running``, ``attempts`` + 1), kept alive by
:func:`heartbeat` (which also reports progress and tells the runner whether the job was cancelled), and
ended by :func:`finish` (``succeeded`` with its report and archive) or :func:`fail`. :func:`cancel` ends a
queued job at once and asks a running one to stop (its runner sees it at its next heartbeat).

A process that dies mid-job (SIGKILL, a lost machine) stops heart-beating: :func:`reap` finds running
jobs whose heartbeat is older than a limit and queues them again once (``attempts`` < :data:`MAX_ATTEMPTS`),
else marks them failed with an error saying what happened. :func:`prune` removes finished jobs older
than a retention period, with their archives. Running jobs is :mod:`labelport.services.job_runner`'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, delete, select, update

from labelport.errors import NotFound, ValidationError
from labelport.services import permissions
from labelport.services.context import ActingContext
from labelport.services.exports import ExportRequest, check_export
from labelport.services.lookups import get_project
from labelport.services.permissions import Action
from labelport.storage import Storage
from labelport.store import schema
from labelport.store.engine import Store
from labelport.timeutil import format_ts, now_ts

J = schema.jobs

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
KIND_EXPORT = "export"
#: How many times a job may be started: a job whose process died is queued again once, then failed.
MAX_ATTEMPTS = 2
#: The prefix of export archives in the job storage.
ARCHIVES = "exports"

#: The options a job takes: ``export_labels``' arguments, by the same names (a job has no
#: ``annotation_modifier``, a Python function, nor ``filename``: the archive goes to the job storage).
EXPORT_OPTIONS = (
    "asset_ids",
    "layout",
    "single_file",
    "with_assets",
    "external_ids",
    "asset_filter_kwargs",
    "normalized_coordinates",
    "label_type_in",
    "include_sent_back_labels",
    "export_type",
    "strict",
    "split",
    "split_seed",
    "split_stratify",
    "dataset_root",
    "dataset_layout",
    "workers",
)


@dataclass(frozen=True)
class JobInfo:
    """One job as the API shows it."""

    id: str
    kind: str
    project_id: str
    requested_by: str
    options: dict[str, Any]
    state: str
    done: int
    total: int | None
    report: dict[str, Any] | None
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    heartbeat_at: str | None
    attempts: int
    worker: str | None
    archive_key: str | None
    archive_size: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def archive_name(self) -> str:
        """The file name a download gets."""
        return f"{self.project_id}-{self.options.get('fmt', 'export').replace('/', '_')}-{self.id[:8]}.zip"


def _info(row: RowMapping) -> JobInfo:
    return JobInfo(
        id=row["id"],
        kind=row["kind"],
        project_id=row["project_id"],
        requested_by=row["requested_by"],
        options=orjson.loads(row["options"]),
        state=row["state"],
        done=row["done"],
        total=row["total"],
        report=None if row["report"] is None else orjson.loads(row["report"]),
        error=row["error"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        heartbeat_at=row["heartbeat_at"],
        attempts=row["attempts"],
        worker=row["worker"],
        archive_key=row["archive_key"],
        archive_size=row["archive_size"],
    )


_COLUMNS = [column for column in J.c if column.name != "pk"]


def _row(conn: Connection, job_id: str) -> JobInfo | None:
    row = conn.execute(select(*_COLUMNS).where(J.c.id == job_id)).mappings().one_or_none()
    return None if row is None else _info(row)


def export_request(options: Mapping[str, Any]) -> ExportRequest:
    """A job's options (``fmt`` and :data:`EXPORT_OPTIONS`) as the export service's request; unknown names
    are refused, naming them and the ones a job takes."""
    if not isinstance(options, Mapping):
        raise ValidationError("The export options must be a JSON object (fmt and export_labels' arguments).")
    unknown = sorted(set(options) - {"fmt", *EXPORT_OPTIONS})
    if unknown:
        raise ValidationError(
            f"Unknown export options {unknown}; an export job takes fmt and these export_labels arguments: "
            f"{', '.join(EXPORT_OPTIONS)}."
        )
    fmt = options.get("fmt")
    if not isinstance(fmt, str) or not fmt:
        raise ValidationError("An export job needs fmt, the format to export to (e.g. 'coco', 'yolo_v8', 'kili').")
    given = {name: options[name] for name in EXPORT_OPTIONS if name in options and options[name] is not None}
    try:
        return ExportRequest(fmt=fmt, **given)
    except TypeError as error:  # pragma: no cover - names are checked above
        raise ValidationError(f"Invalid export options: {error}.") from None


def _find(ctx: ActingContext, conn: Connection, job_id: str) -> JobInfo:
    """The job, if the acting user may read its project (else NotFound, as for a job that does not exist)."""
    if not isinstance(job_id, str) or not job_id:
        raise ValidationError(f"job_id must be a job id string, got {job_id!r}.")
    job = _row(conn, job_id)
    missing = NotFound(f"Job {job_id!r} does not exist; list a project's jobs with GET /api/exports?project_id=….")
    if job is None:
        raise missing
    try:
        project = get_project(conn, job.project_id)
    except NotFound:
        permissions.require_organization_admin(ctx, conn, f"reading job {job_id!r} of a deleted project")
        return job
    permissions.require(ctx, conn, project, Action.READ)
    return job


# -- what users do ------------------------------------------------------------------------------------------


def create_export(ctx: ActingContext, project_id: str, options: Mapping[str, Any]) -> JobInfo:
    """A new export job, queued: the options are checked now (the caller's export permission included), so
    that a job that cannot run is refused when it is started rather than failing later."""
    request = export_request(options)
    check_export(ctx, project_id, request)
    job_id = str(uuid.uuid4())
    stored = {"fmt": request.fmt, **{name: options[name] for name in EXPORT_OPTIONS if options.get(name) is not None}}
    with ctx.write() as tx:
        tx.conn.execute(
            J.insert().values(
                id=job_id,
                kind=KIND_EXPORT,
                project_id=project_id,
                requested_by=ctx.user_email,
                options=orjson.dumps(stored).decode(),
                state=QUEUED,
                done=0,
                created_at=now_ts(),
                attempts=0,
            )
        )
        job = _row(tx.conn, job_id)
    assert job is not None
    return job


def get_job(ctx: ActingContext, job_id: str) -> JobInfo:
    with ctx.read() as conn:
        return _find(ctx, conn, job_id)


def list_jobs(ctx: ActingContext, project_id: str, limit: int = 100) -> list[JobInfo]:
    """The project's jobs, newest first (members of the project, and organization ADMINs)."""
    with ctx.read() as conn:
        project = get_project(conn, project_id)
        permissions.require(ctx, conn, project, Action.READ)
        rows = conn.execute(select(*_COLUMNS).where(J.c.project_id == project_id).order_by(J.c.pk.desc()).limit(limit))
        return [_info(row) for row in rows.mappings()]


def cancel(ctx: ActingContext, job_id: str) -> JobInfo:
    """Cancel the job: a queued one ends at once; a running one is marked cancelled and its runner stops at
    its next heartbeat, removing what it wrote (``finished_at`` is set once it has). Cancelling a finished
    job is refused, naming its state."""
    with ctx.write() as tx:
        job = _find(ctx, tx.conn, job_id)
        try:
            project = get_project(tx.conn, job.project_id)
            permissions.require(ctx, tx.conn, project, Action.EXPORT)
        except NotFound:
            permissions.require_organization_admin(ctx, tx.conn, f"cancelling job {job_id!r}")
        if job.state in FINISHED:
            raise ValidationError(
                f"Job {job_id!r} is {job.state} already; only a queued or running job can be cancelled."
            )
        values: dict[str, Any] = {"state": CANCELLED, "error": f"cancelled by {ctx.user_email}"}
        if job.state == QUEUED:
            values["finished_at"] = now_ts()
        tx.conn.execute(update(J).where(J.c.id == job_id, J.c.state == job.state).values(**values))
        changed = _row(tx.conn, job_id)
    assert changed is not None
    return changed


def enqueue_failed(store: Store, job_id: str, error: str) -> None:
    """A job the broker could not take: failed at once, with the broker's error (never left queued)."""
    with store.write() as conn:
        conn.execute(
            update(J)
            .where(J.c.id == job_id, J.c.state == QUEUED)
            .values(state=FAILED, error=error, finished_at=now_ts())
        )


# -- what runners do (no acting user: the runner acts as the job's requester) --------------------------------


def load(store: Store, job_id: str) -> JobInfo:
    with store.read() as conn:
        job = _row(conn, job_id)
    if job is None:
        raise NotFound(f"Job {job_id!r} does not exist (pruned, or a store other than the server's?).")
    return job


def queued(store: Store, limit: int) -> list[str]:
    """The oldest queued jobs' ids."""
    with store.read() as conn:
        return list(conn.execute(select(J.c.id).where(J.c.state == QUEUED).order_by(J.c.pk).limit(limit)).scalars())


def queued_before(store: Store, seconds: float) -> list[tuple[str, int]]:
    """Jobs queued (created or queued again) more than ``seconds`` ago: ``(id, attempts)``, oldest first."""
    cutoff = format_ts(datetime.now(UTC) - timedelta(seconds=seconds))
    with store.read() as conn:
        rows = conn.execute(
            select(J.c.id, J.c.attempts).where(J.c.state == QUEUED, J.c.created_at < cutoff).order_by(J.c.pk)
        )
        return [(row.id, row.attempts) for row in rows]


def claim(store: Store, job_id: str, worker: str) -> JobInfo | None:
    """Take the queued job for ``worker``; None when it is not queued (taken by another, cancelled)."""
    now = now_ts()
    with store.write() as conn:
        taken = conn.execute(
            update(J)
            .where(J.c.id == job_id, J.c.state == QUEUED)
            .values(state=RUNNING, worker=worker, attempts=J.c.attempts + 1, started_at=now, heartbeat_at=now)
        ).rowcount
        return _row(conn, job_id) if taken else None


def heartbeat(store: Store, job_id: str, worker: str, done: int, total: int | None) -> bool:
    """Record that ``worker`` is alive on the job, and its progress; False when it should stop (the job was
    cancelled, or reaped and given to another worker)."""
    with store.write() as conn:
        alive = conn.execute(
            update(J)
            .where(J.c.id == job_id, J.c.state == RUNNING, J.c.worker == worker)
            .values(heartbeat_at=now_ts(), done=done, total=total)
        ).rowcount
    return bool(alive)


def finish(store: Store, job_id: str, worker: str, report: dict[str, Any], archive_key: str, size: int) -> bool:
    """The job succeeded; False when it was no longer this worker's (cancelled meanwhile: the caller removes
    the archive)."""
    with store.write() as conn:
        done = report.get("assets_matched", 0)
        return bool(
            conn.execute(
                update(J)
                .where(J.c.id == job_id, J.c.state == RUNNING, J.c.worker == worker)
                .values(
                    state=SUCCEEDED,
                    report=orjson.dumps(report).decode(),
                    archive_key=archive_key,
                    archive_size=size,
                    done=done,
                    total=done,
                    finished_at=now_ts(),
                    heartbeat_at=now_ts(),
                    error=None,
                )
            ).rowcount
        )


def fail(store: Store, job_id: str, worker: str, error: str) -> None:
    with store.write() as conn:
        conn.execute(
            update(J)
            .where(J.c.id == job_id, J.c.state == RUNNING, J.c.worker == worker)
            .values(state=FAILED, error=error, finished_at=now_ts())
        )


def stopped(store: Store, job_id: str, worker: str, done: int) -> None:
    """A cancelled job's runner has stopped and removed what it wrote."""
    with store.write() as conn:
        conn.execute(
            update(J)
            .where(J.c.id == job_id, J.c.state == CANCELLED, J.c.worker == worker, J.c.finished_at.is_(None))
            .values(finished_at=now_ts(), done=done, error=J.c.error + f" (stopped after {done} assets)")
        )


def lost(store: Store, job_id: str, worker: str, reason: str, *, counted: bool = True) -> str | None:
    """The process running the job (``worker``) died: queue the job again if it may be retried, else fail
    it. ``counted=False``: the process was stopped on purpose (the server shutting down): the attempt is
    given back. Returns the job's new state (None: it was not that worker's running job any more)."""
    with store.write() as conn:
        row = conn.execute(select(J.c.attempts, J.c.state).where(J.c.id == job_id, J.c.worker == worker)).one_or_none()
        if row is None:
            return None
        if row.state == CANCELLED:  # its runner died while stopping: nothing more will come
            conn.execute(update(J).where(J.c.id == job_id, J.c.finished_at.is_(None)).values(finished_at=now_ts()))
            return CANCELLED
        if row.state != RUNNING:
            return None
        if not counted or row.attempts < MAX_ATTEMPTS:
            values: dict[str, Any] = {
                "state": QUEUED,
                "worker": None,
                "heartbeat_at": None,
                "error": f"attempt {row.attempts} stopped: {reason}; queued again",
            }
            if not counted:
                values["attempts"] = row.attempts - 1
        else:
            values = {
                "state": FAILED,
                "finished_at": now_ts(),
                "error": f"The export stopped without finishing on each of its {row.attempts} attempts (last: "
                f"{reason}); nothing was kept. Check the workers' logs and memory, then start it again.",
            }
        changed = conn.execute(
            update(J).where(J.c.id == job_id, J.c.state == RUNNING, J.c.worker == worker).values(**values)
        ).rowcount
        return str(values["state"]) if changed else None  # another server reaped it first


def reap(store: Store, stale_after: float) -> list[tuple[str, str]]:
    """Running jobs whose heartbeat is older than ``stale_after`` seconds: each queued again or failed
    (:func:`lost`). Returns ``(job id, new state)`` pairs."""
    cutoff = format_ts(datetime.now(UTC) - timedelta(seconds=stale_after))
    with store.read() as conn:
        stale = conn.execute(
            select(J.c.id, J.c.worker, J.c.heartbeat_at).where(
                J.c.state.in_((RUNNING, CANCELLED)), J.c.finished_at.is_(None), J.c.heartbeat_at < cutoff
            )
        ).all()
    changed = []
    for job_id, worker, beat in stale:
        state = lost(store, job_id, worker, f"its worker {worker} stopped heart-beating (last heartbeat {beat})")
        if state is not None:
            changed.append((job_id, state))
    return changed


def prune(store: Store, storage: Storage, older_than: timedelta) -> tuple[int, int]:
    """Remove finished jobs that ended more than ``older_than`` ago, with their archives, and archives (and
    staged files) left in the storage without a job. Returns (jobs removed, files removed)."""
    cutoff = datetime.now(UTC) - older_than
    with store.read() as conn:
        old = conn.execute(
            select(J.c.id, J.c.archive_key).where(J.c.state.in_(FINISHED), J.c.finished_at < format_ts(cutoff))
        ).all()
    files = 0
    for _job_id, key in old:
        if key is not None and storage.exists(key):
            storage.delete(key)
            files += 1
    if old:
        with store.write() as conn:
            for start in range(0, len(old), 500):
                conn.execute(delete(J).where(J.c.id.in_([job_id for job_id, _ in old[start : start + 500]])))
    with store.read() as conn:
        kept = set(conn.execute(select(J.c.archive_key).where(J.c.archive_key.is_not(None))).scalars())
    for key in storage.older_than(ARCHIVES, cutoff):
        if key not in kept:
            storage.delete(key)
            files += 1
    staging = storage.staging_dir()
    for path in staging.glob("*.partial"):
        if path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
            files += 1
    return len(old), files


def archive_key(job_id: str) -> str:
    return f"{ARCHIVES}/{job_id}.zip"
