"""Running jobs: one function, :func:`run_job`, that every runner calls in a process of its own.

Two runners start it:

- **embedded** (:class:`Dispatcher` without a broker): ``labelport serve`` keeps a bounded pool of job
  processes (``multiprocessing``, *spawn*: a fresh interpreter per job, never a fork of the threaded
  server). A dispatcher thread takes queued jobs from the ``jobs`` table, starts a process for each while
  a slot is free, and sees a process that exits without finishing its job (killed): the job is queued
  again once, else failed (:func:`labelport.services.jobs.lost`). Because the table is the queue, jobs
  queued or running when ``serve`` stops are found again when it starts.
- **distributed** (:class:`Dispatcher` with a :class:`BrokerQueue`): ``serve`` enqueues each job on RQ
  (Redis); ``labelport worker`` processes (:func:`run_worker`) run them, each job in a forked work horse.
  The dispatcher thread only reaps: jobs whose heartbeat stopped are queued again and re-enqueued.

Either way the job process claims its job (one process wins), exports with the services'
:func:`~labelport.services.exports.export_project` into the storage's staging folder, beating its
heartbeat every few seconds from a thread, and publishes the archive to the storage only once whole.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from labelport.errors import LabelportError
from labelport.services import jobs
from labelport.services.context import ActingContext
from labelport.services.exports import export_project
from labelport.storage import Storage, open_storage
from labelport.store.engine import Store

log = logging.getLogger("labelport.jobs")

#: RQ's queue name for labelport's jobs.
QUEUE_NAME = "labelport-jobs"
#: The longest an RQ job may run (RQ kills a work horse past it): a day.
RQ_JOB_TIMEOUT = 24 * 3600


@dataclass(frozen=True)
class RunnerConfig:
    """What a job process needs: the store, the job storage, and its timings."""

    database_url: str
    media_dir: str | None
    storage_url: str
    storage_endpoint: str | None = None
    #: Seconds between heartbeats of a running job.
    heartbeat_seconds: float = 5.0
    #: Seconds slept after each asset: slows exports down for the fault tests (never set in production).
    test_delay: float = 0.0

    def storage(self) -> Storage:
        return open_storage(self.storage_url, self.storage_endpoint)


class Cancelled(Exception):
    """Raised by the progress callback of a job that should stop (cancelled, or given to another worker)."""


def worker_name(pid: int | None = None) -> str:
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


@dataclass
class _Tracker:
    """A running job's heartbeat (a thread) and progress (the export's callback)."""

    store: Store
    job_id: str
    worker: str
    interval: float
    delay: float
    done: int = 0
    total: int | None = None
    stop_asked: bool = False
    _ended: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {self.job_id}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._ended.wait(self.interval):
            try:
                if not jobs.heartbeat(self.store, self.job_id, self.worker, self.done, self.total):
                    self.stop_asked = True
            except Exception:  # the database away for a moment: the next beat tries again
                log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self.delay:
            time.sleep(self.delay)
        if self.stop_asked:
            raise Cancelled

    def end(self) -> None:
        self._ended.set()
        if self._thread is not None:
            self._thread.join()


def run_job(config: RunnerConfig, job_id: str) -> str:
    """Run the job in this process if it is still queued; return its final state (``skipped``: another
    process has it, or it was cancelled before it started)."""
    store = Store(config.database_url, config.media_dir)
    try:
        return _run(store, config, job_id)
    finally:
        store.close()


def _run(store: Store, config: RunnerConfig, job_id: str) -> str:
    worker = worker_name()
    jobs.load(store, job_id)  # NotFound when this process is not on the server's database
    job = jobs.claim(store, job_id, worker)
    if job is None:
        return "skipped"
    log.info("job %s: started by %s (attempt %d)", job_id, worker, job.attempts)
    storage = config.storage()
    staging = storage.staging_dir()
    for stale in staging.glob(f".{job_id}.zip.*.partial"):  # an earlier attempt's, killed mid-write
        stale.unlink(missing_ok=True)
    target = staging / f"{job_id}.zip"
    tracker = _Tracker(store, job_id, worker, config.heartbeat_seconds, config.test_delay)
    tracker.start()
    try:
        ctx = ActingContext(store, job.requested_by, new_user_role=None, disable_tqdm=True)
        try:
            report = export_project(
                ctx, job.project_id, target, jobs.export_request(job.options), progress=tracker.progress
            )
        except Cancelled:
            target.unlink(missing_ok=True)
            jobs.stopped(store, job_id, worker, tracker.done)
            log.info("job %s: stopped after %d assets", job_id, tracker.done)
            return jobs.CANCELLED
        except LabelportError as error:
            jobs.fail(store, job_id, worker, str(error))
            return jobs.FAILED
        except Exception as error:
            log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            jobs.fail(store, job_id, worker, f"Internal error: {type(error).__name__}: {error}; see the worker's log.")
            return jobs.FAILED
        return _publish(store, storage, job_id, worker, target, report.as_dict(), tracker)
    finally:
        tracker.end()
        target.unlink(missing_ok=True)


def _publish(
    store: Store, storage: Storage, job_id: str, worker: str, target: Path, report: dict[str, Any], tracker: _Tracker
) -> str:
    key = jobs.archive_key(job_id)
    report["path"] = key
    size = target.stat().st_size
    if tracker.stop_asked:
        jobs.stopped(store, job_id, worker, tracker.done)
        return jobs.CANCELLED
    try:
        storage.put(key, target)
    except Exception as error:
        jobs.fail(store, job_id, worker, f"The archive could not be stored in {storage.url}: {error}.")
        return jobs.FAILED
    if not jobs.finish(store, job_id, worker, report, key, size):  # cancelled while it was stored
        storage.delete(key)
        jobs.stopped(store, job_id, worker, tracker.done)
        return jobs.CANCELLED
    log.info("job %s: succeeded (%d bytes)", job_id, size)
    return jobs.SUCCEEDED


# -- the embedded runner --------------------------------------------------------------------------------------


def _process_main(config: RunnerConfig, job_id: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Stopped by the server (SIGTERM): unwind, so that the export removes its temporary file.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(128 + signal.SIGTERM))
    run_job(config, job_id)


class BrokerUnavailable(Exception):
    """The broker (Redis) cannot take a job: the server answers 503, the worker command says so."""


class BrokerQueue:
    """RQ's queue on a Redis server."""

    def __init__(self, url: str, name: str = QUEUE_NAME) -> None:
        try:
            import redis
            import rq
        except ImportError:
            raise LabelportError("A broker needs RQ and redis: pip install 'labelport[jobs]'.") from None
        self.url = url
        self.connection = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        self.queue = rq.Queue(name, connection=self.connection)

    @staticmethod
    def message_id(job_id: str, attempts: int) -> str:
        """The RQ job that runs attempt ``attempts + 1`` of the job."""
        return f"labelport-{job_id}-{attempts}"

    def has(self, job_id: str, attempts: int) -> bool:
        """Whether Redis still holds the message for that attempt (queued, started or finished)."""
        import rq

        return bool(rq.job.Job.exists(self.message_id(job_id, attempts), connection=self.connection))

    def enqueue(self, job_id: str, attempts: int = 0) -> None:
        import redis

        try:
            self.queue.enqueue(
                "labelport.services.job_runner.rq_run",
                job_id,
                job_id=self.message_id(job_id, attempts),
                job_timeout=RQ_JOB_TIMEOUT,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                description=f"labelport job {job_id}",
            )
        except redis.RedisError as error:
            raise BrokerUnavailable(
                f"The job broker at {_shown_url(self.url)} cannot take the job: {error}. Check that Redis runs "
                "there (or start labelport serve without --broker to run jobs in the server)."
            ) from None


def _shown_url(url: str) -> str:
    """A broker URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest


@dataclass
class Dispatcher:
    """The server's side of jobs: starts them (embedded pool or broker) and reaps the ones whose process died."""

    store: Store
    config: RunnerConfig
    slots: int = 2
    broker: BrokerQueue | None = None
    #: Seconds without a heartbeat after which a running job counts as lost.
    stale_after: float = 60.0
    poll_seconds: float = 1.0
    _running: dict[str, BaseProcess] = field(default_factory=dict)
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _checked: float = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="labelport jobs", daemon=True)
        self._thread.start()

    def submit(self, job_id: str) -> None:
        """A job was created: enqueue it on the broker (BrokerUnavailable: it is failed, never left queued),
        or wake the embedded pool."""
        if self.broker is None:
            self._wake.set()
            return
        try:
            self.broker.enqueue(job_id)
        except BrokerUnavailable as error:
            jobs.enqueue_failed(self.store, job_id, str(error))
            raise

    def stop(self) -> None:
        """Stop dispatching; the job processes still running are stopped and their jobs queued again (the
        attempt not counted), to be run when a server starts again."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        for process in self._running.values():
            process.terminate()
        for job_id, process in list(self._running.items()):
            process.join(10)
            with contextlib.suppress(Exception):
                jobs.lost(
                    self.store, job_id, worker_name(process.pid), "the server stopped while it ran", counted=False
                )
        self._running.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                log.warning("job dispatcher: an error, trying again", exc_info=True)
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _tick(self) -> None:
        for job_id, state in jobs.reap(self.store, self.stale_after):
            log.warning("job %s: its worker stopped heart-beating; now %s", job_id, state)
            if state == jobs.QUEUED and self.broker is not None:
                self._enqueue_again(job_id, jobs.load(self.store, job_id).attempts)
        if self.broker is not None:
            if time.monotonic() - self._checked >= self.stale_after:
                self._checked = time.monotonic()
                self._recover_messages(self.broker)
            return
        for job_id, process in list(self._running.items()):
            if process.is_alive():
                continue
            process.join()
            del self._running[job_id]
            if process.exitcode:
                now = jobs.lost(
                    self.store, job_id, worker_name(process.pid), f"its process exited with code {process.exitcode}"
                )
                log.warning("job %s: its process exited with code %s; now %s", job_id, process.exitcode, now)
        free = self.slots - len(self._running)
        if free <= 0:
            return
        context = multiprocessing.get_context("spawn")
        for job_id in jobs.queued(self.store, free + len(self._running)):
            if job_id in self._running or len(self._running) >= self.slots:
                continue
            process = context.Process(target=_process_main, args=(self.config, job_id), name=f"labelport job {job_id}")
            process.start()
            self._running[job_id] = process

    def _enqueue_again(self, job_id: str, attempts: int) -> None:
        assert self.broker is not None
        try:
            self.broker.enqueue(job_id, attempts)
        except BrokerUnavailable as error:
            jobs.enqueue_failed(self.store, job_id, str(error))

    def _recover_messages(self, broker: BrokerQueue) -> None:
        """Jobs queued for a while whose message Redis no longer holds (Redis restarted without its data):
        enqueued again, so that no job waits forever."""
        for job_id, attempts in jobs.queued_before(self.store, self.stale_after):
            if not broker.has(job_id, attempts):
                log.warning("job %s: the broker lost its message; enqueued again", job_id)
                self._enqueue_again(job_id, attempts)

    def wait_idle(self) -> None:  # pragma: no cover - a helper for benchmarks
        while self._running:
            time.sleep(0.1)


# -- the RQ worker ----------------------------------------------------------------------------------------------

_worker_config: RunnerConfig | None = None


def rq_run(job_id: str) -> str:
    """RQ's entry point (in a work horse of ``labelport worker``)."""
    if _worker_config is None:
        raise LabelportError("This RQ worker was not started by `labelport worker`: it has no store configured.")
    return run_job(_worker_config, job_id)


def run_worker(
    config: RunnerConfig, broker_url: str, queue_name: str = QUEUE_NAME, *, burst: bool = False, name: str | None = None
) -> None:
    """Run an RQ worker on labelport's queue until stopped (``burst``: until the queue is empty)."""
    global _worker_config
    import rq

    _worker_config = config
    queue = BrokerQueue(broker_url, queue_name)
    try:
        queue.connection.ping()
    except Exception as error:
        raise BrokerUnavailable(f"The job broker at {_shown_url(broker_url)} cannot be reached: {error}.") from None
    worker = rq.Worker([queue.queue], connection=queue.connection, name=name)
    worker.work(burst=burst, with_scheduler=False, logging_level="INFO")
