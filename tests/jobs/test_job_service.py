"""The job record's rules in-process (services/jobs.py): claiming, heartbeats, reaping lost jobs, pruning."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from labelport.cli import main
from labelport.errors import PermissionDenied, ValidationError
from labelport.services import jobs
from labelport.services.context import ActingContext
from labelport.storage import LocalStorage
from labelport.store import schema
from labelport.timeutil import format_ts
from tests.jobs.conftest import build_project


def _ctx(client, email="admin@example.com"):
    return ActingContext(client.store, email, new_user_role=None, disable_tqdm=True)


def _age(store, job_id, **columns):
    """Move the job's timestamps into the past: column=days ago."""
    values = {name: format_ts(datetime.now(UTC) - timedelta(days=days)) for name, days in columns.items()}
    with store.write() as conn:
        conn.execute(update(schema.jobs).where(schema.jobs.c.id == job_id).values(**values))


def test_one_process_claims_a_job_and_only_its_own_heartbeats_count(client):
    project = build_project(client, 3)
    job = jobs.create_export(_ctx(client), project, {"fmt": "kili", "with_assets": False})
    assert (job.state, job.attempts, job.worker) == ("queued", 0, None)
    assert jobs.queued(client.store, 10) == [job.id]
    claimed = jobs.claim(client.store, job.id, "host:1")
    assert claimed is not None and (claimed.state, claimed.attempts, claimed.worker) == ("running", 1, "host:1")
    assert jobs.claim(client.store, job.id, "host:2") is None
    assert jobs.heartbeat(client.store, job.id, "host:1", 2, 3) is True
    assert jobs.heartbeat(client.store, job.id, "host:2", 3, 3) is False
    assert (jobs.load(client.store, job.id).done, jobs.load(client.store, job.id).total) == (2, 3)
    jobs.cancel(_ctx(client), job.id)
    assert jobs.heartbeat(client.store, job.id, "host:1", 3, 3) is False  # its runner is told to stop
    assert jobs.load(client.store, job.id).finished_at is None  # until the runner has stopped
    jobs.stopped(client.store, job.id, "host:1", 3)
    stopped = jobs.load(client.store, job.id)
    assert (stopped.state, stopped.error) == ("cancelled", "cancelled by admin@example.com (stopped after 3 assets)")
    assert stopped.finished_at is not None


def test_a_job_whose_heartbeat_stopped_is_queued_again_once_then_failed(client):
    project = build_project(client, 3)
    job = jobs.create_export(_ctx(client), project, {"fmt": "kili"})
    jobs.claim(client.store, job.id, "host:1")
    assert jobs.reap(client.store, stale_after=60) == []  # a fresh heartbeat
    _age(client.store, job.id, heartbeat_at=1)
    assert jobs.reap(client.store, stale_after=60) == [(job.id, "queued")]
    again = jobs.load(client.store, job.id)
    assert (again.state, again.worker, again.attempts) == ("queued", None, 1)
    assert again.error.startswith("attempt 1 stopped: its worker host:1 stopped heart-beating (last heartbeat ")
    jobs.claim(client.store, job.id, "host:2")
    _age(client.store, job.id, heartbeat_at=1)
    assert jobs.reap(client.store, stale_after=60) == [(job.id, "failed")]
    failed = jobs.load(client.store, job.id)
    assert failed.state == "failed" and failed.finished_at is not None
    assert failed.error.startswith(
        "The export stopped without finishing on each of its 2 attempts (last: its worker host:2"
    )


def test_starting_a_job_checks_the_options_and_the_role_at_once(client):
    project = build_project(client, 2)
    client.create_user("rev@example.com")
    client.append_to_roles(project, "rev@example.com", "REVIEWER")
    with pytest.raises(PermissionDenied, match="exporting it needs the TEAM_MANAGER role or higher"):
        jobs.create_export(_ctx(client, "rev@example.com"), project, {"fmt": "kili"})
    with pytest.raises(ValidationError, match="layout must be 'split' or 'merged', not 'flat'"):
        jobs.create_export(_ctx(client), project, {"fmt": "kili", "layout": "flat"})
    with pytest.raises(ValidationError, match="Unknown asset filter arguments"):
        jobs.create_export(_ctx(client), project, {"fmt": "kili", "asset_filter_kwargs": {"nope": 1}})
    assert jobs.list_jobs(_ctx(client), project) == []


def test_prune_removes_old_finished_jobs_their_archives_and_orphans(client, tmp_path):
    storage = LocalStorage(tmp_path / "archives")
    project = build_project(client, 2)
    ctx = _ctx(client)
    old, recent, running = (jobs.create_export(ctx, project, {"fmt": "kili"}) for _ in range(3))
    for job in (old, recent):
        jobs.claim(client.store, job.id, "h:1")
        staged = storage.staging_dir() / f"{job.id}.zip"
        staged.write_bytes(b"zip")
        storage.put(jobs.archive_key(job.id), staged)
        assert jobs.finish(client.store, job.id, "h:1", {"assets_matched": 2}, jobs.archive_key(job.id), 3)
    jobs.claim(client.store, running.id, "h:1")
    _age(client.store, old.id, finished_at=8)
    _age(client.store, running.id, started_at=30)
    orphan = storage.staging_dir() / "orphan.zip"
    orphan.write_bytes(b"left by a worker killed between its upload and its record")
    storage.put("exports/orphan.zip", orphan)
    partial = storage.staging_dir() / ".x.zip.ab12.partial"
    partial.write_bytes(b"half")
    past = (datetime.now(UTC) - timedelta(days=8)).timestamp()
    for path in (storage.root / "exports" / "orphan.zip", storage.root / "exports" / f"{old.id}.zip", partial):
        os.utime(path, (past, past))
    env = {"LABELPORT_DATABASE_URL": client.store.url, "LABELPORT_MEDIA_DIR": str(client.store.media_dir)}
    result = CliRunner(env=env).invoke(
        main, ["jobs", "prune", "--older-than", "7d", "--storage", str(storage.root)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"Removed 1 jobs and 3 files older than 7d from {storage.root}.\n"
    assert sorted(job.id for job in jobs.list_jobs(ctx, project)) == sorted([recent.id, running.id])
    assert sorted(path.name for path in (storage.root / "exports").iterdir()) == [f"{recent.id}.zip"]
    assert list(storage.staging_dir().iterdir()) == []


def test_prune_wants_a_duration(client):
    env = {"LABELPORT_DATABASE_URL": client.store.url, "LABELPORT_MEDIA_DIR": str(client.store.media_dir)}
    result = CliRunner(env=env).invoke(main, ["jobs", "prune", "--older-than", "a week"])
    assert result.exit_code == 2
    assert "Invalid value for --older-than: 'a week' is not a duration such as 7d, 12h, 30m or 90s." in result.output


def test_a_job_takes_every_option_of_export_labels_by_its_name():
    import dataclasses

    from labelport.services.exports import ExportRequest
    from labelport.services.jobs import EXPORT_OPTIONS

    # annotation_modifier is a Python callable: it cannot travel in a job's JSON
    names = {field.name for field in dataclasses.fields(ExportRequest)} - {"fmt", "annotation_modifier"}
    assert sorted(EXPORT_OPTIONS) == sorted(names)
