"""Kili's export tutorial, run by the unmodified ``kili`` SDK against ``labelport serve``.

Run with the Python of the kili virtual environment (tests/server/conftest.py: ``kili_python``), with
``KILI_API_KEY`` and ``KILI_API_ENDPOINT`` set, and the folder of the tutorial's images and the folder for
the exports as arguments. It prints one JSON object: what every call returned (the project id, the
queries' answers, the export archives' member names and sizes), for the test to compare with labelport's
own Client on the same store.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

from kili.client import Kili

INTERFACE = {
    "jobs": {
        "JOB_0": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Categories",
            "required": 1,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {
                    "OBJECT_A": {"name": "Object A", "children": []},
                    "OBJECT_B": {"name": "Object B", "children": []},
                },
            },
        }
    }
}


def rect(x0: float, y0: float, x1: float, y1: float) -> list[dict[str, float]]:
    return [{"x": x0, "y": y1}, {"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}]


def response(x0: float, y0: float, x1: float, y1: float, mid: str) -> dict:
    return {
        "JOB_0": {
            "annotations": [
                {
                    "categories": [{"name": "OBJECT_A"}],
                    "mid": mid,
                    "type": "rectangle",
                    "boundingPoly": [{"normalizedVertices": rect(x0, y0, x1, y1)}],
                    "children": {},
                }
            ]
        }
    }


def main(images: Path, out: Path) -> dict:
    warnings.simplefilter("ignore")
    kili = Kili()  # KILI_API_KEY and KILI_API_ENDPOINT: the tutorial's two environment variables
    seen: dict = {"viewer": kili.get_current_user(fields=["email", "organizationRole"])}
    seen["endpoint"] = os.environ["KILI_API_ENDPOINT"]
    project_id = kili.create_project(title="Export tutorial", input_type="IMAGE", json_interface=INTERFACE)["id"]
    seen["project_id"] = project_id
    kili.update_properties_in_project(project_id, use_honeypot=True, consensus_tot_coverage=100, min_consensus_size=2)
    appended = kili.append_many_to_dataset(
        project_id,
        content_array=[str(images / "car_1.jpg"), str(images / "car_2.jpg")],
        external_id_array=["car_1", "car_2"],
        is_honeypot_array=[True, False],
    )
    seen["asset_ids"] = appended["asset_ids"]
    kili.update_properties_in_assets(
        external_ids=["car_1", "car_2"], project_id=project_id, is_used_for_consensus_array=[True, True]
    )
    kili.append_to_roles(project_id, "john.doe@kili-technology.com", "LABELER")
    kili.append_to_roles(project_id, "john.smith@kili-technology.com", "LABELER")
    roles = kili.projects(project_id=project_id, fields=["roles.user.email", "roles.user.id", "roles.role"])[0]["roles"]
    users = {role["user"]["email"]: role["user"]["id"] for role in roles}
    doe, smith = users["john.doe@kili-technology.com"], users["john.smith@kili-technology.com"]
    kili.create_honeypot(response(0.6, 0.4, 0.9, 0.8, "gt"), asset_external_id="car_1", project_id=project_id)
    kili.append_labels(
        project_id=project_id,
        asset_external_id_array=["car_1", "car_1"],
        author_id_array=[doe, smith],
        json_response_array=[response(0.5, 0.4, 0.8, 0.8, "doe"), response(0.5, 0.45, 0.8, 0.8, "smith")],
    )
    seen["doe"] = doe
    # The tutorial's queries
    parsed = kili.assets(
        project_id, fields=["externalId", "latestLabel.jsonResponse"], label_output_format="parsed_label"
    )
    seen["parsed_categories"] = [
        asset["latestLabel"].jobs["JOB_0"].annotations[0].category.name if asset["latestLabel"] else None
        for asset in parsed
    ]
    seen["latest"] = kili.assets(project_id, fields=["externalId", "latestLabel.jsonResponse"])
    seen["consensus_gt"] = kili.assets(
        project_id, fields=["externalId", "id", "consensusMark"], consensus_mark_gte=0.5
    )  # the tutorial's consensus_mark_gt, which 26.2 removed
    seen["honeypot_labels"] = kili.labels(
        project_id, fields=["labelOf.externalId", "honeypotMark", "author.email", "id"], honeypot_mark_gte=0.1
    )
    seen["labels_of_doe"] = kili.labels(project_id, fields=["labelOf.externalId", "author.email", "id"], user_id=doe)
    seen["review_flags"] = kili.assets(
        project_id, fields=["externalId", "labels.jsonResponse", "labels.isLatestReviewLabelForUser"]
    )
    seen["all_labels"] = kili.assets(
        project_id,
        fields=["externalId", "labels.author.email", "labels.createdAt", "labels.labelType", "labels.jsonResponse"],
    )
    seen["counts"] = {
        "projects": kili.count_projects(),
        "assets": kili.count_assets(project_id),
        "labels": kili.count_labels(project_id),
        "default_labels": kili.count_labels(project_id, type_in=["DEFAULT"]),
    }
    # The tutorial's exports
    seen["exports"] = {}
    for name, fmt, options in [
        ("kili", "kili", {}),
        ("kili_single_file", "kili", {"single_file": True}),
        ("yolo_v5", "yolo_v5", {}),
        ("coco", "coco", {}),
        ("pascal_voc", "pascal_voc", {"layout": "merged"}),
    ]:
        path = out / f"{name}.zip"
        kili.export_labels(project_id, str(path), fmt, disable_tqdm=True, **options)
        seen["exports"][name] = str(path)
    return seen


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), default=str))
