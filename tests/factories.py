"""Builders for test data: ontologies, jsonResponses and real image files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PIL import Image


def image_interface() -> dict[str, Any]:
    """An IMAGE ontology: boxes with a child classification, polygons, semantic, points, lines,
    a multiple-choice classification and a transcription."""
    return copy.deepcopy(
        {
            "jobs": {
                "JOB_0": {
                    "mlTask": "OBJECT_DETECTION",
                    "tools": ["rectangle"],
                    "instruction": "Boxes",
                    "required": 1,
                    "isChild": False,
                    "content": {
                        "input": "radio",
                        "categories": {
                            "OBJECT_A": {
                                "name": "Object A",
                                "children": ["CLASSIF_CHILD"],
                                "color": "#472CED",
                            },
                            "OBJECT_B": {"name": "Object B", "children": [], "color": "#5CE7B7"},
                        },
                    },
                },
                "CLASSIF_CHILD": {
                    "mlTask": "CLASSIFICATION",
                    "instruction": "Colour",
                    "required": 0,
                    "isChild": True,
                    "content": {
                        "input": "radio",
                        "categories": {"RED": {"name": "Red"}, "BLUE": {"name": "Blue"}},
                    },
                },
                "POLY": {
                    "mlTask": "OBJECT_DETECTION",
                    "tools": ["polygon", "semantic"],
                    "instruction": "Regions",
                    "required": 0,
                    "isChild": False,
                    "content": {
                        "input": "radio",
                        "categories": {"ROAD": {"name": "Road"}, "SKY": {"name": "Sky"}},
                    },
                },
                "POINTS": {
                    "mlTask": "OBJECT_DETECTION",
                    "tools": ["marker", "polyline"],
                    "instruction": "Points and lines",
                    "required": 0,
                    "isChild": False,
                    "content": {"input": "radio", "categories": {"KEY": {"name": "Key"}}},
                },
                "TAGS": {
                    "mlTask": "CLASSIFICATION",
                    "instruction": "Tags",
                    "required": 0,
                    "isChild": False,
                    "content": {
                        "input": "checkbox",
                        "categories": {
                            "DAY": {"name": "Day"},
                            "NIGHT": {"name": "Night"},
                            "RAIN": {"name": "Rain"},
                        },
                    },
                },
                "CAPTION": {
                    "mlTask": "TRANSCRIPTION",
                    "instruction": "Caption",
                    "required": 0,
                    "isChild": False,
                    "content": {"input": "textField"},
                },
            }
        }
    )


def rect(x0: float, y0: float, x1: float, y1: float) -> list[dict[str, float]]:
    """Kili's four vertices of a box, bottom-left first."""
    return [{"x": x0, "y": y1}, {"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}]


def box(
    category: str,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    mid: str = "m1",
    child: str | None = None,
) -> dict[str, Any]:
    annotation: dict[str, Any] = {
        "categories": [{"name": category}],
        "mid": mid,
        "type": "rectangle",
        "boundingPoly": [{"normalizedVertices": rect(x0, y0, x1, y1)}],
        "children": {},
    }
    if child is not None:
        annotation["children"] = {"CLASSIF_CHILD": {"categories": [{"name": child}]}}
    return annotation


def boxes(*annotations: dict[str, Any]) -> dict[str, Any]:
    return {"JOB_0": {"annotations": list(annotations)}}


class ImageFactory:
    """Writes real image files (PNG or JPEG, optionally with an EXIF orientation)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def make(
        self,
        name: str,
        width: int = 64,
        height: int = 48,
        color: tuple[int, int, int] = (200, 30, 30),
        orientation: int | None = None,
    ) -> Path:
        path = self.folder / name
        image = Image.new("RGB", (width, height), color)
        if orientation is None:
            image.save(path)
        else:
            exif = Image.Exif()
            exif[0x0112] = orientation
            image.save(path, exif=exif)
        return path
