"""Export jobs end to end, on each runner (the server's embedded pool; RQ workers on Redis) and each
backend: the archive read back equals the in-process export, cancelling, killing the process mid-export."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from tests.jobs.conftest import ASSETS, build_project, job_runner, members


def test_an_export_job_runs_and_its_archive_equals_the_in_process_export(kind, database_url, tmp_path):
    with job_runner(kind, database_url, tmp_path) as runner:
        with runner.client() as client:
            project = build_project(client)
            client.export_labels(project, tmp_path / "direct.zip", "coco", with_assets=False, split="train=0.8,val=0.2")
        job = runner.start(project, fmt="coco", with_assets=False, split="train=0.8,val=0.2")
        assert (job["state"], job["kind"], job["project_id"], job["requested_by"]) == (
            "queued",
            "export",
            project,
            "admin@example.com",
        )
        assert job["options"] == {"fmt": "coco", "with_assets": False, "split": "train=0.8,val=0.2"}
        done = runner.wait_finished(job["id"])
        assert done["state"] == "succeeded", runner.log_tail()
        assert (done["progress"], done["attempts"], done["error"]) == ({"done": ASSETS, "total": ASSETS}, 1, None)
        assert done["report"]["assets_exported"] == ASSETS
        assert done["report"]["path"] == f"exports/{job['id']}.zip"
        assert done["archive"] == f"/api/exports/{job['id']}/archive"
        with runner.http() as http:
            answer = http.get(done["archive"])
            listed = http.get("/api/exports", params={"project_id": project}).json()["jobs"]
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/zip"
        assert answer.headers["content-disposition"] == f'attachment; filename="{project}-coco-{job["id"][:8]}.zip"'
        assert int(answer.headers["content-length"]) == len(answer.content) == done["archive_size"]
        assert members(answer.content) == members((tmp_path / "direct.zip").read_bytes())
        assert [item["id"] for item in listed] == [job["id"]]
        assert runner.archives() == [f"{job['id']}.zip"] and runner.staged() == []


def test_the_events_stream_follows_the_job_to_its_end(database_url, tmp_path):
    with job_runner("embedded", database_url, tmp_path) as runner:
        with runner.client() as client:
            project = build_project(client, 30)
        job = runner.start(project, fmt="kili", with_assets=False)
        with runner.http() as http, http.stream("GET", f"/api/exports/{job['id']}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = [line for line in stream.iter_lines() if line.startswith("data: ")]
        states = [orjson.loads(line[len("data: ") :])["state"] for line in events]
        assert states[-1] == "succeeded"
        assert set(states) <= {"queued", "running", "succeeded"}
        assert orjson.loads(events[-1][len("data: ") :])["progress"] == {"done": 30, "total": 30}


def test_a_cancelled_job_stops_and_leaves_nothing(kind, database_url, tmp_path):
    with job_runner(kind, database_url, tmp_path, slow=True, workers=1) as runner:
        with runner.client() as client:
            project = build_project(client)
        job = runner.start(project, fmt="yolo_v8", with_assets=False)
        running = runner.wait_progress(job["id"], 10)
        assert running["progress"]["total"] == ASSETS
        with runner.http() as http:
            cancelled = http.post(f"/api/exports/{job['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        stopped = runner.wait_finished(job["id"])
        assert stopped["state"] == "cancelled"
        assert stopped["error"].startswith("cancelled by admin@example.com (stopped after ")
        assert stopped["progress"]["done"] < ASSETS
        assert runner.archives() == [] and runner.staged() == []
        with runner.http() as http:
            archive = http.get(f"/api/exports/{job['id']}/archive")
            again = http.post(f"/api/exports/{job['id']}/cancel")
        assert archive.status_code == 409
        assert (
            archive.json()["errors"][0]["message"]
            == f"Job {job['id']!r} is cancelled: only a succeeded job has an archive."
        )
        assert again.status_code == 400
        assert again.json()["errors"][0]["message"] == (
            f"Job {job['id']!r} is cancelled already; only a queued or running job can be cancelled."
        )


def test_a_queued_job_cancelled_never_runs(database_url, tmp_path):
    with job_runner("embedded", database_url, tmp_path, slow=True) as runner:
        with runner.client() as client:
            project = build_project(client, 60)
        first, second = (runner.start(project, fmt="kili", with_assets=False) for _ in range(2))
        third = runner.start(project, fmt="kili", with_assets=False)  # two slots: the third waits
        with runner.http() as http:
            answer = http.post(f"/api/exports/{third['id']}/cancel")
        assert answer.status_code == 200
        cancelled = answer.json()
        assert cancelled["state"] == "cancelled" or cancelled["started_at"] is not None
        for job in (first, second):
            assert runner.wait_finished(job["id"])["state"] == "succeeded"
        final = runner.wait_finished(third["id"])
        assert final["state"] == "cancelled"
        assert runner.archives() == sorted(f"{job['id']}.zip" for job in (first, second))


def test_a_job_whose_process_is_killed_runs_again_and_succeeds(kind, database_url, tmp_path):
    with job_runner(kind, database_url, tmp_path, slow=True) as runner:
        with runner.client() as client:
            project = build_project(client)
            client.export_labels(project, tmp_path / "direct.zip", "kili", with_assets=False)
        job = runner.start(project, fmt="kili", with_assets=False)
        first = runner.wait_progress(job["id"], 20)
        runner.kill(first)
        again = runner.wait(job["id"], lambda j: j["attempts"] == 2 or j["finished_at"] is not None, "re-run")
        assert runner.archives() == []
        done = runner.wait_finished(job["id"])
        assert done["state"] == "succeeded", runner.log_tail()
        assert done["attempts"] == 2 and done["worker"] != first["worker"]
        assert again["attempts"] == 2
        with runner.http() as http:
            archive = http.get(f"/api/exports/{job['id']}/archive").content
        assert members(archive) == members((tmp_path / "direct.zip").read_bytes())
        assert runner.archives() == [f"{job['id']}.zip"]


def test_a_job_killed_on_each_attempt_fails_with_a_clear_error(database_url, tmp_path):
    with job_runner("embedded", database_url, tmp_path, slow=True) as runner:
        with runner.client() as client:
            project = build_project(client)
        job = runner.start(project, fmt="kili", with_assets=False)
        runner.kill(runner.wait_progress(job["id"], 10))
        second = runner.wait(job["id"], lambda j: j["attempts"] == 2 and j["state"] == "running", "run again")
        assert second["error"].startswith("attempt 1 stopped: its process exited with code -9; queued again")
        runner.kill(runner.wait_progress(job["id"], 10))
        failed = runner.wait_finished(job["id"])
        assert failed["state"] == "failed"
        assert failed["error"] == (
            "The export stopped without finishing on each of its 2 attempts (last: its process exited with code -9); "
            "nothing was kept. Check the workers' logs and memory, then start it again."
        )
        assert runner.archives() == []


def test_a_broker_that_cannot_be_reached_refuses_the_job_and_records_it_failed(database_url, tmp_path):
    from tests.server.conftest import free_port

    broker = f"redis://127.0.0.1:{free_port()}/0"
    with job_runner("rq", database_url, tmp_path, broker=broker) as runner:
        with runner.client() as client:
            project = build_project(client, 3)
        with runner.http() as http:
            answer = http.post("/api/exports", json={"project_id": project, "fmt": "kili"})
            listed = http.get("/api/exports", params={"project_id": project}).json()["jobs"]
        assert answer.status_code == 503
        message = answer.json()["errors"][0]["message"]
        assert message.startswith(f"The job broker at {broker} cannot take the job: ")
        assert message.endswith(
            "Check that Redis runs there (or start labelport serve without --broker to run jobs in the server)."
        )
        assert [(job["state"], job["error"]) for job in listed] == [("failed", message)]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"fmt": "kili"}, 400, "The request body needs a 'project_id' string and 'fmt'."),
        (
            {"project_id": "P", "fmt": "kili", "filename": "x.zip"},
            400,
            "Unknown export options ['filename']; an export job takes fmt and these export_labels arguments: "
            "asset_ids, layout, single_file, with_assets, external_ids, asset_filter_kwargs, normalized_coordinates, "
            "label_type_in, include_sent_back_labels, export_type, strict, split, split_seed, split_stratify, "
            "dataset_root, dataset_layout, workers.",
        ),
        (
            {"project_id": "P"},
            400,
            "An export job needs fmt, the format to export to (e.g. 'coco', 'yolo_v8', 'kili').",
        ),
        (
            {"project_id": "nope", "fmt": "kili"},
            404,
            "Project 'nope' does not exist in this store; list the projects with client.projects() or `labelport project list`.",
        ),
    ],
)
def test_bad_requests_are_refused_naming_what_is_wrong(tmp_path: Path, body, status, message):
    with job_runner("embedded", f"sqlite:///{tmp_path / 'store.db'}", tmp_path) as runner:
        with runner.client() as client:
            project = build_project(client, 2)
        if body.get("project_id") == "P":
            body = {**body, "project_id": project}
        with runner.http() as http:
            answer = http.post("/api/exports", json=body)
        assert answer.status_code == status
        assert answer.json()["errors"][0]["message"] == message


def test_keys_and_roles_guard_the_jobs(database_url, tmp_path):
    with job_runner("embedded", database_url, tmp_path) as runner:
        with runner.client() as client:
            project = build_project(client, 5)
            labeler = client.create_api_key("labeler@example.com")
            client.append_to_roles(project, "labeler@example.com", "LABELER")
            manager = client.create_api_key("manager@example.com")
            client.append_to_roles(project, "manager@example.com", "TEAM_MANAGER")
            outsider = client.create_api_key("outsider@example.com")
        job = runner.start(project, fmt="kili", with_assets=False)
        runner.wait_finished(job["id"])
        with runner.http("wrong") as http:
            unauthorized = http.get(f"/api/exports/{job['id']}")
            assert unauthorized.status_code == 401
            assert unauthorized.json()["errors"][0]["message"] == (
                "Invalid API key: send a valid one as 'X-API-Key: <key>' or 'Authorization: X-API-Key: <key>' "
                "(create one with `labelport api-key create EMAIL`), or sign in to the web UI (a POST from its pages carries the session's CSRF token)."
            )
        kili_form = httpx.get(
            f"{runner.url}/api/exports/{job['id']}", headers={"Authorization": f"X-API-Key: {runner.admin_key}"}
        )
        assert kili_form.status_code == 200 and kili_form.json()["id"] == job["id"]
        with runner.http(labeler) as http:
            refused = http.post("/api/exports", json={"project_id": project, "fmt": "kili"})
            assert refused.status_code == 403
            assert refused.json()["errors"][0]["message"] == (
                f"User 'labeler@example.com' is a LABELER of project {project!r}; exporting it needs the TEAM_MANAGER "
                "role or higher (or an organization ADMIN): ask a project ADMIN."
            )
            assert http.get(f"/api/exports/{job['id']}").json()["state"] == "succeeded"  # members may read
            assert http.get(f"/api/exports/{job['id']}/archive").status_code == 200
        with runner.http(outsider) as http:
            assert http.get(f"/api/exports/{job['id']}").status_code == 403
            assert http.get("/api/exports", params={"project_id": project}).status_code == 403
        with runner.http(manager) as http:
            started = http.post("/api/exports", json={"project_id": project, "format": "kili", "with_assets": False})
            assert started.status_code == 202 and started.json()["requested_by"] == "manager@example.com"
        assert runner.wait_finished(started.json()["id"])["state"] == "succeeded"


def test_archives_go_to_s3_compatible_storage(kind, database_url, tmp_path, s3_endpoint):
    """moto's S3 server as the storage: the archive appears there only once complete, and is served from it."""
    import boto3

    prefix = f"run-{tmp_path.name}"
    with job_runner(kind, database_url, tmp_path, s3=(f"s3://jobs/{prefix}", s3_endpoint)) as runner:
        with runner.client() as client:
            project = build_project(client, 50)
            client.export_labels(project, tmp_path / "direct.zip", "yolo_v8", with_assets=False)
        job = runner.start(project, fmt="yolo_v8", with_assets=False)
        done = runner.wait_finished(job["id"])
        assert done["state"] == "succeeded", runner.log_tail()
        with runner.http() as http:
            answer = http.get(done["archive"])
        assert answer.status_code == 200 and int(answer.headers["content-length"]) == done["archive_size"]
        assert members(answer.content) == members((tmp_path / "direct.zip").read_bytes())
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    listed = s3.list_objects_v2(Bucket="jobs", Prefix=prefix + "/")
    assert [(item["Key"], item["Size"]) for item in listed["Contents"]] == [
        (f"{prefix}/exports/{job['id']}.zip", done["archive_size"])
    ]


def test_the_export_job_commands_start_follow_download_and_cancel(tmp_path):
    import json

    from click.testing import CliRunner

    from labelport.cli import main

    with job_runner("embedded", f"sqlite:///{tmp_path / 'store.db'}", tmp_path) as runner:
        with runner.client() as client:
            project = build_project(client, 20)
            client.export_labels(project, tmp_path / "direct.zip", "pascal_voc", with_assets=False)
        cli = CliRunner(env={"LABELPORT_SERVER_URL": runner.url, "LABELPORT_API_KEY": runner.admin_key})
        started = cli.invoke(
            main,
            ["export-job", "start", "--project-id", project, "--format", "pascal_voc", "--option", "with_assets=false"],
        )
        assert started.exit_code == 0, started.output
        job = json.loads(started.stdout)
        assert (job["state"], job["options"]) == ("queued", {"fmt": "pascal_voc", "with_assets": False})
        runner.wait_finished(job["id"])
        status = cli.invoke(main, ["export-job", "status", job["id"]])
        assert json.loads(status.stdout)["state"] == "succeeded"
        target = tmp_path / "down" / "archive.zip"
        target.parent.mkdir()
        downloaded = cli.invoke(main, ["export-job", "download", job["id"], "-o", str(target)])
        assert downloaded.exit_code == 0, downloaded.output
        assert downloaded.stdout == f"{target} ({target.stat().st_size} bytes)\n"
        assert members(target.read_bytes()) == members((tmp_path / "direct.zip").read_bytes())
        assert sorted(path.name for path in target.parent.iterdir()) == ["archive.zip"]
        waited = cli.invoke(main, ["export-job", "start", "--project-id", project, "--format", "kili", "--wait"])
        assert waited.exit_code == 0, waited.output
        assert json.loads(waited.stdout)["state"] == "succeeded"
        refused = cli.invoke(main, ["export-job", "cancel", job["id"]])
        assert refused.exit_code == 1
        assert refused.output == (
            f"Error: HTTP 400: Job {job['id']!r} is succeeded already; only a queued or running job can be cancelled.\n"
        )
        unreachable = cli.invoke(main, ["export-job", "status", job["id"], "--server", "http://127.0.0.1:9"])
        assert unreachable.exit_code == 1
        assert (
            unreachable.output
            == "Error: Cannot reach the server at http://127.0.0.1:9: [Errno 111] Connection refused.\n"
        )


def test_a_job_running_when_the_server_stops_runs_when_it_starts_again(database_url, tmp_path):
    from labelport.services import jobs

    with job_runner("embedded", database_url, tmp_path, slow=True) as runner:
        with runner.client() as client:
            project = build_project(client, 60)
        job = runner.start(project, fmt="kili", with_assets=False)
        runner.wait_progress(job["id"], 5)
    with runner.client() as client:
        stopped = jobs.load(client.store, job["id"])
    assert (stopped.state, stopped.attempts, stopped.worker) == ("queued", 0, None)
    assert stopped.error is not None and stopped.error.startswith("attempt 1 stopped: the server stopped while it ran")
    assert runner.archives() == [] and runner.staged() == []
    with job_runner("embedded", database_url, tmp_path) as again:
        done = again.wait_finished(job["id"])
        assert (done["state"], done["attempts"], done["error"]) == ("succeeded", 1, None)
        assert again.archives() == [f"{job['id']}.zip"]


def test_a_job_whose_broker_message_was_lost_is_enqueued_again(database_url, tmp_path):
    """Redis restarted without its data: the job queued in the store is enqueued again, never lost."""
    import redis

    from tests.jobs.conftest import REDIS_URL, redis_or_skip, start_worker

    redis_or_skip()
    with job_runner("rq", database_url, tmp_path, workers=0) as runner:
        with runner.client() as client:
            project = build_project(client, 5)
        job = runner.start(project, fmt="kili", with_assets=False)
        queue = runner.storage_options[-1]
        connection = redis.Redis.from_url(REDIS_URL)
        assert connection.delete(f"rq:queue:{queue}", f"rq:job:labelport-{job['id']}-0") == 2
        connection.close()
        start_worker(runner, tmp_path, slow=False, name=f"late-{tmp_path.name}")
        done = runner.wait_finished(job["id"])
        assert (done["state"], done["attempts"]) == ("succeeded", 1)
