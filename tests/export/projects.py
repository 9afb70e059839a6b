"""Projects built through the public API for the export tests: known images, labels and answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelport import Client
from tests.factories import ImageFactory, rect

_ID = re.compile(rb"[0-9a-f]{32}")


def normalize_ids(name: str, data: bytes) -> bytes:
    """Golden-file normalization: ids (which differ per run) become ``<id>``."""
    from tests.golden import default_normalize

    return _ID.sub(b"<id>", default_normalize(name, data))


IMAGE_INTERFACE: dict[str, Any] = {
    "jobs": {
        "BOXES": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Vehicles and people",
            "required": 0,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {
                    "CAR": {"name": "Car", "children": ["COLOR"], "color": "#E53935"},
                    "PERSON": {"name": "Person", "children": [], "color": "#1E88E5"},
                },
            },
        },
        "COLOR": {
            "mlTask": "CLASSIFICATION",
            "instruction": "Colour",
            "required": 0,
            "isChild": True,
            "content": {"input": "radio", "categories": {"RED": {"name": "Red"}, "BLUE": {"name": "Blue"}}},
        },
        "REGIONS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["polygon", "semantic"],
            "instruction": "Regions",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"ROAD": {"name": "Road"}, "SKY": {"name": "Sky"}}},
        },
        "MIXED": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle", "polygon"],
            "instruction": "Trees and signs",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"TREE": {"name": "Tree"}, "SIGN": {"name": "Sign"}}},
        },
        "KEYPOINTS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["marker", "polyline"],
            "instruction": "Points and lines",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"KEY": {"name": "Key"}}},
        },
        "WEATHER": {
            "mlTask": "CLASSIFICATION",
            "instruction": "Weather",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"SUNNY": {"name": "Sunny"}, "RAINY": {"name": "Rainy"}}},
        },
    }
}


def _box(category: str, x0: float, y0: float, x1: float, y1: float, mid: str, **extra: Any) -> dict[str, Any]:
    return {
        "mid": mid,
        "type": "rectangle",
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": rect(x0, y0, x1, y1)}],
        "children": {},
        **extra,
    }


def _poly(category: str, tool: str, rings: list[list[tuple[float, float]]], mid: str) -> dict[str, Any]:
    return {
        "mid": mid,
        "type": tool,
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": [{"x": x, "y": y} for x, y in ring]} for ring in rings],
        "children": {},
    }


#: The labels of the image project, by external id; boxes as (x0, y0, x1, y1) normalized.
IMAGE_LABELS: dict[str, dict[str, Any]] = {
    "img_1.png": {
        "BOXES": {
            "annotations": [
                _box("CAR", 0.1, 0.2, 0.5, 0.6, "car-1", children={"COLOR": {"categories": [{"name": "RED"}]}}),
                _box("PERSON", 0.6, 0.1, 0.7, 0.9, "person-1"),
            ]
        },
        "REGIONS": {
            "annotations": [
                _poly("ROAD", "polygon", [[(0.0, 1.0), (0.5, 0.7), (1.0, 1.0)]], "road-1"),
                _poly(
                    "SKY",
                    "semantic",
                    [
                        [(0.0, 0.0), (1.0, 0.0), (1.0, 0.4), (0.0, 0.4)],
                        [(0.4, 0.1), (0.6, 0.1), (0.6, 0.3), (0.4, 0.3)],
                    ],
                    "sky-1",
                ),
                _poly("ROAD", "polygon", [[(0.2, 0.2), (0.3, 0.3)]], "degenerate-1"),
            ]
        },
        "MIXED": {
            "annotations": [
                _box("TREE", 0.8, 0.5, 0.9, 0.8, "tree-1"),
                _poly("SIGN", "polygon", [[(0.7, 0.1), (0.8, 0.1), (0.75, 0.2)]], "sign-1"),
            ]
        },
        "KEYPOINTS": {
            "annotations": [
                {"mid": "key-1", "type": "marker", "categories": [{"name": "KEY"}], "point": {"x": 0.25, "y": 0.75}},
                {
                    "mid": "line-1",
                    "type": "polyline",
                    "categories": [{"name": "KEY"}],
                    "polyline": [{"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.3}, {"x": 0.4, "y": 0.2}],
                },
            ]
        },
        "WEATHER": {"categories": [{"name": "SUNNY"}]},
    },
    "img_2.jpg": {
        "BOXES": {"annotations": [_box("PERSON", 0.1, 0.1, 0.3, 0.5, "person-2")]},
        "ROTATION_JOB": {"rotation": 90},
    },
    "folder/img 3.png": {},
    "remote_4": {"BOXES": {"annotations": [_box("CAR", 0.25, 0.25, 0.75, 0.75, "car-4")]}},
}


@dataclass
class Built:
    project_id: str
    images: dict[str, Path]


def build_image_project(client: Client, folder: Path) -> Built:
    """An IMAGE project: 3 stored images and 1 URL image, 4 labeled, 1 not labeled."""
    project_id = client.create_project("Street scenes", "IMAGE", IMAGE_INTERFACE, "export fixtures")["id"]
    factory = ImageFactory(folder)
    images = {
        "img_1.png": factory.make("img_1.png", 200, 100, (10, 120, 30)),
        "img_2.jpg": factory.make("img_2.jpg", 80, 160, (200, 200, 10)),
        "folder/img 3.png": factory.make("img_3.png", 64, 64, (90, 90, 90)),
    }
    external_ids = [*images, "remote_4", "unlabeled_5"]
    client.append_many_to_dataset(
        project_id,
        content_array=[str(p) for p in images.values()]
        + ["https://images.invalid/remote_4.jpg", "https://images.invalid/5.jpg"],
        external_id_array=external_ids,
        resolution_array=[None, None, None, {"width": 400, "height": 300}, {"width": 400, "height": 300}],
    )
    labeler = client.create_user("ann.lee@example.com", firstname="Ann", lastname="Lee")["id"]
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=list(IMAGE_LABELS),
        json_response_array=list(IMAGE_LABELS.values()),
        author_id_array=[labeler] * len(IMAGE_LABELS),
        created_at_array=[f"2024-05-0{i + 1}T10:00:00.000Z" for i in range(len(IMAGE_LABELS))],
        seconds_to_label_array=[30] * len(IMAGE_LABELS),
    )
    return Built(project_id, images)


VIDEO_INTERFACE: dict[str, Any] = {
    "jobs": {
        "TRACK": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Track",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"BALL": {"name": "Ball"}, "PLAYER": {"name": "Player"}}},
        }
    }
}


def build_video_project(client: Client, folder: Path) -> Built:
    """A VIDEO project whose asset is a list of 3 stored frames; frames 0 and 2 are annotated."""
    project_id = client.create_project("Match", "VIDEO", VIDEO_INTERFACE)["id"]
    factory = ImageFactory(folder)
    frames = [factory.make(f"frame_{i}.jpg", 120, 90, (i * 60, 20, 20)) for i in range(3)]
    client.append_many_to_dataset(project_id, json_content_array=[[str(f) for f in frames]], external_id_array=["clip"])
    response = {
        "0": {"TRACK": {"annotations": [_box("BALL", 0.1, 0.1, 0.2, 0.2, "ball", isKeyFrame=True)]}},
        "1": {},
        "2": {
            "TRACK": {
                "annotations": [_box("BALL", 0.3, 0.3, 0.4, 0.4, "ball"), _box("PLAYER", 0.5, 0.2, 0.9, 0.9, "p1")]
            }
        },
    }
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["clip"],
        json_response_array=[response],
        created_at_array=["2024-05-01T10:00:00.000Z"],
    )
    return Built(project_id, {"clip": frames[0]})


TEXT_INTERFACE: dict[str, Any] = {
    "jobs": {
        "NER": {
            "mlTask": "NAMED_ENTITIES_RECOGNITION",
            "instruction": "Entities",
            "required": 0,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {"PERSON": {"name": "Person"}, "ORG": {"name": "Organization"}},
            },
        },
        "TOPIC": {
            "mlTask": "CLASSIFICATION",
            "instruction": "Topic",
            "required": 0,
            "isChild": False,
            "content": {"input": "checkbox", "categories": {"WORK": {"name": "Work"}, "SPORT": {"name": "Sport"}}},
        },
    }
}


def build_text_project(client: Client) -> Built:
    project_id = client.create_project("Mails", "TEXT", TEXT_INTERFACE)["id"]
    client.append_many_to_dataset(project_id, content_array=["Alice works at Kili."], external_id_array=["mail_1"])
    response = {
        "NER": {
            "annotations": [
                {"mid": "e1", "categories": [{"name": "PERSON"}], "beginOffset": 0, "endOffset": 5, "content": "Alice"},
                {"mid": "e2", "categories": [{"name": "ORG"}], "beginOffset": 15, "endOffset": 19, "content": "Kili"},
            ]
        },
        "TOPIC": {"categories": [{"name": "WORK"}]},
    }
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["mail_1"],
        json_response_array=[response],
        created_at_array=["2024-05-01T10:00:00.000Z"],
    )
    return Built(project_id, {})


PDF_INTERFACE: dict[str, Any] = {
    "jobs": {
        "NER": {
            "mlTask": "NAMED_ENTITIES_RECOGNITION",
            "tools": ["rectangle"],
            "instruction": "Entities",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"AMOUNT": {"name": "Amount"}}},
        }
    }
}


def build_pdf_project(client: Client, folder: Path) -> Built:
    project_id = client.create_project("Invoices", "PDF", PDF_INTERFACE)["id"]
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "invoice.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% labelport test document\n%%EOF\n")
    client.append_many_to_dataset(project_id, content_array=[str(pdf)], external_id_array=["invoice.pdf"])
    client.update_properties_in_assets(
        external_ids=["invoice.pdf"],
        project_id=project_id,
        page_resolutions_array=[
            [{"pageNumber": 1, "width": 600, "height": 800}, {"pageNumber": 2, "width": 800, "height": 600}]
        ],
    )
    entity = {
        "mid": "amount-1",
        "categories": [{"name": "AMOUNT"}],
        "content": "42.00",
        "annotations": [
            {
                "pageNumberArray": [2],
                "boundingPoly": [
                    {
                        "normalizedVertices": [
                            [{"x": 0.1, "y": 0.5}, {"x": 0.1, "y": 0.4}, {"x": 0.3, "y": 0.4}, {"x": 0.3, "y": 0.5}]
                        ]
                    }
                ],
                "polys": [
                    {
                        "normalizedVertices": [
                            [{"x": 0.1, "y": 0.5}, {"x": 0.1, "y": 0.4}, {"x": 0.3, "y": 0.4}, {"x": 0.3, "y": 0.5}]
                        ]
                    }
                ],
            }
        ],
    }
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["invoice.pdf"],
        json_response_array=[{"NER": {"annotations": [entity]}}],
        created_at_array=["2024-05-01T10:00:00.000Z"],
    )
    return Built(project_id, {"invoice.pdf": pdf})
