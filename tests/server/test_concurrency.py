"""Several server processes (uvicorn workers) writing one store at once, on SQLite and PostgreSQL: every
label appended by concurrent labelers is stored once, with exact flags, statuses and marks.

Bounded: 4 labelers × 6 labels each, through a 2-worker server, as the SDK sends them
(``appendManyLabels`` with one label per request).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx

import labelport
from tests import factories
from tests.server.conftest import ADMIN, serving

LABELERS = [f"labeler{index}@example.com" for index in range(4)]
ROUNDS = 6
APPEND = """mutation appendManyLabels($data: AppendManyLabelsData!, $where: AssetWhere!) {
  data: appendManyLabels(data: $data, where: $where) { id }
}"""


def test_concurrent_labelers_through_two_workers_keep_every_label_and_exact_marks(database_url, tmp_path: Path):
    media = tmp_path / "media"
    with labelport.Client(database_url, ADMIN, media_dir=media, disable_tqdm=True) as admin:
        project_id = admin.create_project("Busy", "IMAGE", factories.image_interface())["id"]
        admin.update_properties_in_project(project_id, consensus_tot_coverage=100, min_consensus_size=2)
        urls = [f"https://example.com/{index}.png" for index in range(ROUNDS)]
        sizes = [{"width": 640, "height": 480}] * ROUNDS
        asset_ids = admin.append_many_to_dataset(project_id, urls, resolution_array=sizes)["asset_ids"]
        keys = {}
        for email in LABELERS:
            admin.append_to_roles(project_id, email, "LABELER")
            keys[email] = admin.create_api_key(email)
    errors: list[str] = []
    stored: list[str] = []
    lock = threading.Lock()

    def label(email: str, url: str, start: threading.Barrier) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"X-API-Key: {keys[email]}"}, timeout=60) as http:
            for round_, asset_id in enumerate(asset_ids):
                start.wait()
                shift = 0.01 * LABELERS.index(email) + 0.001 * round_
                response = factories.boxes(factories.box("OBJECT_B", 0.1 + shift, 0.1, 0.5, 0.5))
                variables = {
                    "data": {
                        "labelType": "DEFAULT",
                        "labelsData": [{"assetID": asset_id, "jsonResponse": json.dumps(response)}],
                    },
                    "where": {"idIn": [asset_id]},
                }
                answer = http.post("/api/label/v2/graphql", json={"query": APPEND, "variables": variables})
                body = answer.json()
                with lock:
                    if answer.status_code != 200 or "errors" in body:
                        errors.append(f"{answer.status_code} {body}")
                    else:
                        stored.extend(label["id"] for label in body["data"]["data"])

    with serving(database_url, media, tmp_path / "server.log", "--workers", "2") as url:
        start = threading.Barrier(len(LABELERS), timeout=120)
        threads = [threading.Thread(target=label, args=(email, url, start)) for email in LABELERS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(stored) == len(set(stored)) == len(LABELERS) * ROUNDS
    with labelport.Client(database_url, ADMIN, media_dir=media, disable_tqdm=True) as admin:
        assert sorted(row["id"] for row in admin.labels(project_id, fields=["id"])) == sorted(stored)
        fields = ["id", "status", "consensusMark", "labels.id", "labels.consensusMark", "labels.isLatestLabelForUser"]
        before = admin.assets(project_id, fields=fields)
        assert {row["status"] for row in before} == {"LABELED"}
        assert all(sum(label["isLatestLabelForUser"] for label in row["labels"]) == len(LABELERS) for row in before)
        admin.recompute_marks(project_id)
        assert admin.assets(project_id, fields=fields) == before  # the marks kept on each write are exact
