from __future__ import annotations

import random
import subprocess
import sys
import zipfile
from pathlib import Path

from PIL import Image

from labelport.demo import FILLS, HEIGHT, LIGHT, STRIPE, WIDTH, build_demo_project, make_scene, scene_response


def _script() -> list[str]:
    """``labelport`` as the README runs it: the console script next to this Python, else ``-m``."""
    script = Path(sys.executable).with_name("labelport")
    return [str(script)] if script.exists() else [sys.executable, "-m", "labelport"]


def test_scenes_hold_their_true_shapes(tmp_path):
    rng = random.Random(7)
    for index in range(12):
        scene = make_scene(tmp_path / f"s{index}.png", rng)
        with Image.open(scene.path) as opened:
            image = opened.convert("RGB")
        assert image.size == (WIDTH, HEIGHT)
        for category, (x0, y0, x1, y1) in scene.boxes:
            left, top, right, bottom = round(x0 * WIDTH), round(y0 * HEIGHT), round(x1 * WIDTH), round(y1 * HEIGHT)
            fill = FILLS[category]
            middle_x, middle_y = (left + right) // 2, (top + bottom) // 2
            assert image.getpixel((middle_x, middle_y)) == fill
            # the box is tight: its first and last rows and columns touch the shape, the next ones do not
            assert image.getpixel((middle_x, top)) == fill and image.getpixel((middle_x, top - 1)) != fill
            assert image.getpixel((middle_x, bottom - 1)) == fill and image.getpixel((middle_x, bottom)) != fill
            assert image.getpixel((left, middle_y)) == fill and image.getpixel((left - 1, middle_y)) != fill
            assert image.getpixel((right - 1, middle_y)) == fill and image.getpixel((right, middle_y)) != fill
        for triangle in scene.triangles:
            centre = (sum(x for x, _ in triangle) / 3 * WIDTH, sum(y for _, y in triangle) / 3 * HEIGHT)
            assert image.getpixel((round(centre[0]), round(centre[1]))) == FILLS["TRIANGLE"]
        if scene.lake is not None:
            centre_x = sum(x for x, _ in scene.lake) / len(scene.lake) * WIDTH
            centre_y = sum(y for _, y in scene.lake) / len(scene.lake) * HEIGHT
            assert image.getpixel((round(centre_x), round(centre_y))) == FILLS["LAKE"]
        corner, below, right_of = image.getpixel((0, 0)), image.getpixel((0, 20)), image.getpixel((20, 0))
        expected = {
            None: (LIGHT, LIGHT, LIGHT),
            "HORIZONTAL": (STRIPE, LIGHT, STRIPE),
            "VERTICAL": (STRIPE, STRIPE, LIGHT),
        }[scene.stripes]
        assert (corner, below, right_of) == expected


def test_the_exact_response_is_the_truth(tmp_path):
    scene = make_scene(tmp_path / "s.png", random.Random(3))
    response = scene_response(scene)
    boxes = response["SHAPES"]["annotations"]
    assert [(b["categories"][0]["name"], b["type"]) for b in boxes] == [(c, "rectangle") for c, _ in scene.boxes]
    vertices = boxes[0]["boundingPoly"][0]["normalizedVertices"]
    x0, y0, x1, y1 = scene.boxes[0][1]
    assert [(v["x"], v["y"]) for v in vertices] == [
        (round(x0, 6), round(y1, 6)),
        (round(x0, 6), round(y0, 6)),
        (round(x1, 6), round(y0, 6)),
        (round(x1, 6), round(y1, 6)),
    ]
    assert len(response["TRIANGLES"]["annotations"]) == len(scene.triangles)
    assert ("WATER" in response) == (scene.lake is not None)


def test_the_demo_project(client, tmp_path):
    built = build_demo_project(client, tmp_path / "images", scenes=10)
    project = built.project_id
    statuses = {row["externalId"]: row["status"] for row in client.assets(project, fields=["externalId", "status"])}
    assert {key for key, value in statuses.items() if value == "REVIEWED"} == {"scene_001", "scene_006"}
    assert sum(value == "LABELED" for value in statuses.values()) == 8
    assert client.count_labels(project, type_in=["DEFAULT"]) == 20
    assert client.count_labels(project, type_in=["REVIEW"]) == 3  # two reviews and the honeypot's ground truth
    honeypot = client.assets(project, fields=["externalId", "honeypotMark"], is_honeypot=True)
    assert len(honeypot) == 1 and honeypot[0]["externalId"] == "scene_000" and 0.5 < honeypot[0]["honeypotMark"] < 1
    marks = [row["consensusMark"] for row in client.assets(project, fields=["consensusMark"])]
    assert all(mark is not None for mark in marks) and min(marks) < 1 and max(marks) <= 1  # they disagree a little
    roles = sorted(
        (row["user"]["email"], row["role"]) for row in client.project_users(project, fields=["role", "user.email"])
    )
    assert roles == [
        ("admin@example.com", "ADMIN"),
        ("alice@demo.labelport", "LABELER"),
        ("bob@demo.labelport", "LABELER"),
        ("carol@demo.labelport", "REVIEWER"),
    ]
    settings = client.projects(project_id=project, fields=["consensusTotCoverage", "minConsensusSize", "useHoneyPot"])
    assert settings == [{"consensusTotCoverage": 100, "minConsensusSize": 2, "useHoneyPot": True}]


def test_labelport_demo_runs_to_the_end_in_a_subprocess(tmp_path):
    completed = subprocess.run(
        [*_script(), "demo"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300
    )
    assert completed.returncode == 0, completed.stderr
    out = tmp_path / "labelport-demo"
    lines = completed.stdout.splitlines()
    assert lines[0] == f"Generated 40 scenes with known shapes in {Path('labelport-demo') / 'images'}"
    assert lines[1].startswith("Created project 'Shapes demo' (") and lines[1].endswith(
        f") with 40 assets in {Path('labelport-demo') / 'demo.db'}"
    )
    assert "  statuses: LABELED 32, REVIEWED 8" in lines
    assert "  labels(author_in=['Bob']): 40 labels" in lines
    exports = Path("labelport-demo") / "exports"
    assert (
        f"  geojson    {exports / 'geojson.zip'}  (3 assets, 6 annotations; the GEOSPATIAL project 'Fields demo')"
        in lines
    )
    assert (
        f"  kili       {exports / 'kili_single_file.zip'}  (40 assets, 169 annotations; one data.json and no images: "
        f"each record's content is the image's path in the store, under {Path('labelport-demo') / 'media'})" in lines
    )
    assert f"Preview: {Path('labelport-demo') / 'preview.png'} (16 scenes with their latest labels drawn)" in lines
    assert sorted(path.name for path in (out / "exports").iterdir()) == [
        "coco.zip",
        "geojson.zip",
        "kili.zip",
        "kili_single_file.zip",
        "pascal_voc.zip",
        "yolo_v4.zip",
        "yolo_v5.zip",
        "yolo_v7.zip",
        "yolo_v8.zip",
    ]
    assert len(list((out / "images").glob("scene_*.png"))) == 40
    with zipfile.ZipFile(out / "exports" / "yolo_v8.zip") as archive:
        names = archive.namelist()
        assert "data.yaml" in names
        assert sum(n.startswith("labels/") for n in names) == 40 and sum(n.startswith("images/") for n in names) == 40
    with Image.open(out / "preview.png") as preview:
        assert preview.format == "PNG" and preview.width == 4 * (256 + 16)
    again = subprocess.run(
        [*_script(), "demo", "--scenes", "4"], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300
    )
    assert again.returncode == 0, again.stderr  # a second run starts from a fresh database
    assert f"with 4 assets in {Path('labelport-demo') / 'demo.db'}" in again.stdout
