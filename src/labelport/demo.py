"""A sample project built from generated scenes whose true boxes are known."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from labelport.client import Client

DEMO_INTERFACE: dict[str, Any] = {
    "jobs": {
        "JOB_0": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Draw a box around each shape",
            "required": 1,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {
                    "SQUARE": {"name": "Square", "children": [], "color": "#E53935"},
                    "DISC": {"name": "Disc", "children": [], "color": "#1E88E5"},
                },
            },
        },
        "WEATHER": {
            "mlTask": "CLASSIFICATION",
            "instruction": "Background",
            "required": 1,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {"LIGHT": {"name": "Light"}, "DARK": {"name": "Dark"}},
            },
        },
    }
}


@dataclass
class Shape:
    category: str
    box: tuple[float, float, float, float]  # normalized x0, y0, x1, y1


def make_scene(path: Path, rng: random.Random, width: int = 320, height: int = 240) -> tuple[list[Shape], str]:
    """Draw a scene with 1–3 shapes; return the true normalized boxes and the background class."""
    dark = rng.random() < 0.5
    image = Image.new("RGB", (width, height), (40, 40, 48) if dark else (235, 235, 225))
    draw = ImageDraw.Draw(image)
    shapes = []
    for _ in range(rng.randint(1, 3)):
        size = rng.randint(30, 80)
        x0, y0 = rng.randint(0, width - size), rng.randint(0, height - size)
        category = rng.choice(["SQUARE", "DISC"])
        corners = (x0, y0, x0 + size, y0 + size)
        if category == "SQUARE":
            draw.rectangle(corners, fill=(229, 57, 53))
        else:
            draw.ellipse(corners, fill=(30, 136, 229))
        shapes.append(Shape(category, (x0 / width, y0 / height, (x0 + size) / width, (y0 + size) / height)))
    image.save(path)
    return shapes, "DARK" if dark else "LIGHT"


def _response(shapes: list[Shape], background: str, rng: random.Random, jitter: float, prefix: str) -> dict[str, Any]:
    annotations = []
    for index, shape in enumerate(shapes):
        x0, y0, x1, y1 = (min(1.0, max(0.0, v + rng.uniform(-jitter, jitter))) for v in shape.box)
        annotations.append(
            {
                "mid": f"{prefix}-{index}",
                "type": "rectangle",
                "categories": [{"name": shape.category}],
                "boundingPoly": [
                    {
                        "normalizedVertices": [
                            {"x": x0, "y": y1},
                            {"x": x0, "y": y0},
                            {"x": x1, "y": y0},
                            {"x": x1, "y": y1},
                        ]
                    }
                ],
                "children": {},
            }
        )
    return {
        "JOB_0": {"annotations": annotations},
        "WEATHER": {"categories": [{"name": background}]},
    }


def build_demo_project(client: Client, folder: Path, scenes: int = 12, seed: int = 0) -> str:
    """Create the demo project in ``client``'s store; return its id."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    project_id = client.create_project("Shapes demo", "IMAGE", DEMO_INTERFACE, "Generated scenes with known boxes.")[
        "id"
    ]
    client.update_properties_in_project(project_id, consensus_tot_coverage=100, min_consensus_size=2)
    truths = []
    paths = []
    for index in range(scenes):
        path = folder / f"scene_{index:03d}.png"
        truths.append(make_scene(path, rng))
        paths.append(str(path))
    external_ids = [Path(p).stem for p in paths]
    client.append_many_to_dataset(project_id, content_array=paths, external_id_array=external_ids)
    labelers = []
    for email in ("alice@demo.labelport", "bob@demo.labelport"):
        client.append_to_roles(project_id, email, "LABELER")
        labelers.append(client.users(email=email, disable_tqdm=True)[0]["id"])
    for labeler, jitter in zip(labelers, (0.01, 0.03), strict=True):
        client.append_labels(
            project_id=project_id,
            asset_external_id_array=external_ids,
            json_response_array=[_response(s, bg, rng, jitter, labeler[-4:]) for s, bg in truths],
            author_id_array=[labeler] * len(external_ids),
        )
    return project_id


GEO_INTERFACE: dict[str, Any] = {
    "jobs": {
        "FIELDS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["polygon", "marker"],
            "instruction": "Fields and wells",
            "required": 0,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {"FIELD": {"name": "Field", "children": []}, "WELL": {"name": "Well", "children": []}},
            },
        }
    }
}


def build_geo_demo_project(client: Client, seed: int = 0) -> str:
    """A small GEOSPATIAL project: fields (polygons) and wells (points) in longitude/latitude."""
    rng = random.Random(seed)
    project_id = client.create_project("Fields demo", "GEOSPATIAL", GEO_INTERFACE, "Parcels near Paris.")["id"]
    external_ids = [f"tile_{index}" for index in range(3)]
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://tiles.example.com/{e}.tif" for e in external_ids],
        external_id_array=external_ids,
    )
    responses = []
    for index in range(3):
        lon, lat = 2.30 + 0.01 * index, 48.85 + 0.005 * rng.random()
        field = [(lon, lat), (lon + 0.004, lat), (lon + 0.004, lat + 0.003), (lon, lat + 0.003)]
        responses.append(
            {
                "FIELDS": {
                    "annotations": [
                        {
                            "mid": f"field-{index}",
                            "type": "polygon",
                            "categories": [{"name": "FIELD"}],
                            "boundingPoly": [{"normalizedVertices": [{"x": x, "y": y} for x, y in field]}],
                        },
                        {
                            "mid": f"well-{index}",
                            "type": "marker",
                            "categories": [{"name": "WELL"}],
                            "point": {"x": lon + 0.002, "y": lat + 0.001},
                        },
                    ]
                }
            }
        )
    client.append_labels(project_id=project_id, asset_external_id_array=external_ids, json_response_array=responses)
    return project_id


#: (archive name, format, options) of the demo's exports: every format, once.
DEMO_EXPORTS: list[tuple[str, str, dict[str, Any]]] = [
    ("kili.zip", "kili", {}),
    ("kili_single_file.zip", "kili", {"single_file": True, "with_assets": False}),
    ("coco.zip", "coco", {}),
    ("yolo_v4.zip", "yolo_v4", {"layout": "merged"}),
    ("yolo_v5.zip", "yolo_v5", {"layout": "merged"}),
    ("yolo_v7.zip", "yolo_v7", {"layout": "merged"}),
    ("yolo_v8.zip", "yolo_v8", {"layout": "merged"}),
    ("pascal_voc.zip", "pascal_voc", {"layout": "merged"}),
]
