"""The writers' quick path for plain boxes (``geometry.plain_box``) writes the same bytes as their
general path: each export runs twice, the second time with the quick path turned off, and every file
of the two archives must be equal (export dates aside). The boxes are drawn to reach the edge
cases: outside the image (clamped), thinner than a pixel or than YOLO's tolerance, in any corner
order, with integer coordinates, under a rotation."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import orjson
import pytest

from labelport.export import geometry
from labelport.export.geometry import bounds, plain_box, ring
from tests.factories import image_interface

FORMATS = [("coco", "split"), ("coco", "merged"), ("yolo_v8", "split"), ("yolo_v4", "merged"), ("pascal_voc", "split")]


def _coordinate(rng: random.Random) -> float:
    return rng.choice([rng.uniform(-0.01, 1.01), rng.uniform(0.0, 1.0), 0.0, 1.0, -0.005, 1.005, 0.5])


def _box(rng: random.Random, index: int) -> dict:
    x0, y0 = _coordinate(rng), _coordinate(rng)
    thin = rng.random() < 0.2
    x1 = x0 + (rng.choice([0.0, 1e-7, 4e-4]) if thin else rng.uniform(-0.3, 0.3))
    y1 = y0 + rng.uniform(-0.3, 0.3)
    x1, y1 = min(max(x1, -0.01), 1.01), min(max(y1, -0.01), 1.01)
    corners = [(x0, y1), (x0, y0), (x1, y0), (x1, y1)]
    rng.shuffle(corners) if rng.random() < 0.2 else None
    vertices = [{"x": x, "y": y} for x, y in corners]
    if rng.random() < 0.05:
        vertices = [{"x": round(v["x"]), "y": round(v["y"])} for v in vertices]  # integers: the general path
    category = rng.choice(["OBJECT_A", "OBJECT_B"])
    return {
        "mid": f"m{index}",
        "type": "rectangle",
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": vertices}],
    }


def _response(rng: random.Random) -> dict:
    response: dict = {"JOB_0": {"annotations": [_box(rng, k) for k in range(rng.randint(0, 8))]}}
    if rng.random() < 0.2:
        response["ROTATION_JOB"] = {"rotation": rng.choice([90, 180, 270])}
    return response


def test_plain_box_gives_the_bounds_of_the_ring():
    rng = random.Random(3)
    for index in range(2000):
        annotation = _box(rng, index)
        found = plain_box(annotation)
        vertices = annotation["boundingPoly"][0]["normalizedVertices"]
        if any(type(v["x"]) is not float or type(v["y"]) is not float for v in vertices):
            assert found is None
        else:
            assert found == (annotation["categories"][0]["name"], *bounds(ring(vertices)))
    assert plain_box({"type": "polygon", "categories": [{"name": "A"}], "boundingPoly": []}) is None
    two_rings = _box(rng, 0)
    two_rings["boundingPoly"] *= 2
    assert plain_box(two_rings) is None


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name, data in members.items():
        if name.endswith("README.kili.txt"):  # the export date differs between the two runs
            members[name] = b"".join(line for line in data.splitlines(True) if not line.startswith(b"- Export date:"))
        if name.endswith("labels.json"):  # COCO: the creation date differs between the two runs
            document = orjson.loads(data)
            document["info"].pop("date_created")
            members[name] = orjson.dumps(document)
    return members


@pytest.mark.parametrize(("fmt", "layout"), FORMATS)
def test_quick_path_writes_what_the_general_path_writes(client, tmp_path, monkeypatch, fmt, layout):
    project_id = client.create_project("Quick", "IMAGE", image_interface())["id"]
    rng = random.Random(11)
    external_ids = [f"img_{n:03d}" for n in range(60)]
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.example.com/{e}.jpg" for e in external_ids],
        external_id_array=external_ids,
    )
    client.update_properties_in_assets(
        external_ids=external_ids,
        project_id=project_id,
        resolution_array=[
            {"width": rng.choice([640, 1280, 333]), "height": rng.choice([480, 720, 101])} for _ in external_ids
        ],
    )
    responses = [_response(rng) for _ in external_ids]
    client.append_labels(project_id=project_id, asset_external_id_array=external_ids, json_response_array=responses)

    quick = client.export_labels(project_id, tmp_path / "quick.zip", fmt, layout=layout, with_assets=False)
    monkeypatch.setattr(geometry, "plain_box", lambda annotation: None)
    general = client.export_labels(project_id, tmp_path / "general.zip", fmt, layout=layout, with_assets=False)
    assert quick.annotations == general.annotations
    assert quick.skipped == general.skipped
    assert quick.notes == general.notes
    assert _members(tmp_path / "quick.zip") == _members(tmp_path / "general.zip")
