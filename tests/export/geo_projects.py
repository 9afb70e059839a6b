"""Projects with map coordinates for the GeoJSON tests, built through the public API.

Coordinates are longitudes (x) and latitudes (y) around Paris (2.30–2.40 E, 48.80–48.90 N), chosen
so that every expected ring can be checked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelport import Client
from tests.factories import ImageFactory, rect

GEO_LAYER: list[dict[str, Any]] = [
    {
        "bounds": [[2.40, 48.80], [2.30, 48.90]],
        "epsg": "EPSG4326",
        "initEpsg": 4326,
        "useClassicCoordinates": False,
    }
]


def _category(name: str, children: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "children": children or []}


def _job(task: str, instruction: str, categories: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"input": extra.pop("input", "radio")}
    if categories is not None:
        content["categories"] = categories
    return {"mlTask": task, "instruction": instruction, "required": 0, "isChild": False, "content": content, **extra}


GEO_INTERFACE: dict[str, Any] = {
    "jobs": {
        "PARCELS": _job(
            "OBJECT_DETECTION",
            "Parcels and buildings",
            {"FIELD": _category("Field", ["CROP", "OWNER"]), "BUILDING": _category("Building")},
            tools=["rectangle", "polygon"],
            exportName="parcels",
        ),
        "CROP": _job("CLASSIFICATION", "Crop", {"WHEAT": _category("Wheat"), "CORN": _category("Corn")}, isChild=True),
        "OWNER": _job("TRANSCRIPTION", "Owner", None, input="textField", isChild=True),
        "LAND": _job(
            "OBJECT_DETECTION",
            "Land cover",
            {"WATER": _category("Water"), "FOREST": _category("Forest")},
            tools=["semantic"],
        ),
        "POINTS": _job(
            "OBJECT_DETECTION",
            "Wells and roads",
            {"WELL": _category("Well"), "ROAD": _category("Road")},
            tools=["marker", "polyline", "vector"],
        ),
        "SEASON": _job(
            "CLASSIFICATION",
            "Season",
            {"SUMMER": _category("Summer"), "WINTER": _category("Winter")},
            input="checkbox",
        ),
        "NOTES": _job("TRANSCRIPTION", "Notes", None, input="textField"),
        "SHAPES": _job(
            "OBJECT_DETECTION",
            "Shapes",
            {"BODY": {"name": "Body", "points": [{"code": "HEAD", "name": "Head"}]}},
            tools=["pose"],
        ),
    }
}


def vertices(points: list[tuple[float, float]]) -> list[dict[str, float]]:
    return [{"x": x, "y": y} for x, y in points]


def region(category: str, tool: str, rings: list[list[tuple[float, float]]], mid: str) -> dict[str, Any]:
    return {
        "mid": mid,
        "type": tool,
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": vertices(ring)} for ring in rings],
        "children": {},
    }


#: Kili's map rectangle: bottom-left (south-west) first, then top-left, top-right, bottom-right.
RECT_SW = [(2.30, 48.80), (2.30, 48.82), (2.33, 48.82), (2.33, 48.80)]

FIELD_1_LABEL: dict[str, Any] = {
    "SHAPES": {
        "annotations": [
            {
                "mid": "pose-1",
                "type": "pose",
                "categories": [{"name": "BODY"}],
                "points": [{"code": "HEAD", "point": {"x": 2.33, "y": 48.87}}],
            }
        ]
    },
    "PARCELS": {
        "annotations": [
            {
                **region("FIELD", "rectangle", [RECT_SW], "rect-sw"),
                "children": {"OWNER": {"text": "Martin"}, "CROP": {"categories": [{"name": "WHEAT"}]}},
            },
            {
                "mid": "rect-img",
                "type": "rectangle",
                "categories": [{"name": "BUILDING"}],
                "boundingPoly": [{"normalizedVertices": rect(2.34, 48.80, 2.36, 48.81)}],
                "children": {},
            },
            region("BUILDING", "polygon", [[(2.31, 48.83), (2.33, 48.83), (2.32, 48.85)]], "poly-ccw"),
            region("BUILDING", "polygon", [[(2.34, 48.83), (2.35, 48.85), (2.36, 48.83)]], "poly-cw"),
            region("BUILDING", "polygon", [[(2.30, 48.86), (2.31, 48.86), (2.32, 48.86)]], "poly-flat"),
        ]
    },
    "LAND": {
        "annotations": [
            region(
                "WATER",
                "semantic",
                [
                    [(2.37, 48.80), (2.40, 48.80), (2.40, 48.83), (2.37, 48.83)],
                    [(2.38, 48.81), (2.39, 48.81), (2.39, 48.82), (2.38, 48.82)],
                    [(2.375, 48.825), (2.376, 48.825)],
                ],
                "lake-1",
            ),
            region("FOREST", "semantic", [[(2.37, 48.84), (2.37, 48.86), (2.39, 48.86), (2.39, 48.84)]], "forest-1"),
            region("FOREST", "semantic", [[(2.395, 48.84), (2.40, 48.84), (2.40, 48.85), (2.395, 48.84)]], "forest-1"),
        ]
    },
    "POINTS": {
        "annotations": [
            {"mid": "well-1", "type": "marker", "categories": [{"name": "WELL"}], "point": {"x": 2.305, "y": 48.875}},
            {
                "mid": "road-1",
                "type": "polyline",
                "categories": [{"name": "ROAD"}],
                "polyline": vertices([(2.30, 48.89), (2.35, 48.895), (2.40, 48.89)]),
            },
            {
                "mid": "arrow-1",
                "type": "vector",
                "categories": [{"name": "ROAD"}],
                "polyline": vertices([(2.31, 48.88), (2.32, 48.885)]),
            },
        ]
    },
    "SEASON": {"categories": [{"name": "SUMMER"}, {"name": "WINTER"}]},
    "NOTES": {"text": "Flooded in spring"},
    "ROTATION_JOB": {"rotation": 90},
}

GEO_LABELS: dict[str, dict[str, Any]] = {
    "field_1.tif": FIELD_1_LABEL,
    "field 2": {},
    "field_4.png": {
        "POINTS": {
            "annotations": [
                {"mid": "well-4", "type": "marker", "categories": [{"name": "WELL"}], "point": {"x": 2.36, "y": 48.86}}
            ]
        }
    },
}


@dataclass
class GeoBuilt:
    project_id: str
    image: Path


def build_geospatial_project(client: Client, folder: Path) -> GeoBuilt:
    """A GEOSPATIAL project: a URL asset, a jsonContent-only asset, a stored image, an unlabeled asset."""
    project_id = client.create_project("Fields", "GEOSPATIAL", GEO_INTERFACE, "geo fixtures")["id"]
    image = ImageFactory(folder).make("field_4.png", 32, 16, (40, 160, 40))
    client.append_many_to_dataset(
        project_id,
        content_array=["https://tiles.invalid/field_1.tif", None, str(image), "https://tiles.invalid/field_3.tif"],
        external_id_array=["field_1.tif", "field 2", "field_4.png", "field_3"],
        json_content_array=[GEO_LAYER, GEO_LAYER, None, GEO_LAYER],
    )
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=list(GEO_LABELS),
        json_response_array=list(GEO_LABELS.values()),
        created_at_array=[f"2024-06-0{i + 1}T10:00:00.000Z" for i in range(len(GEO_LABELS))],
    )
    return GeoBuilt(project_id, image)


KILI_GEO_INTERFACE: dict[str, Any] = {
    "jobs": {
        name: _job("OBJECT_DETECTION", instruction, {category: _category(category)}, tools=[tool])
        for name, instruction, tool, category in (
            ("LINE_DETECTION_JOB", "Lines", "polyline", "LINE_A"),
            ("POINT_DETECTION_JOB", "Points", "marker", "POINT_A"),
            ("POLYGON_DETECTION_JOB", "Polygons", "polygon", "POLYGON_A"),
        )
    }
}

#: IMAGE assets that are not georeferenced, by external id: their jsonContent.
NOT_GEOREFERENCED: dict[str, Any] = {
    "plain.png": None,
    "tiled.png": [{"epsg": "TiledImage", "useClassicCoordinates": False}],
    "classic.png": [{**GEO_LAYER[0], "useClassicCoordinates": True}],
    "remote_layers.png": "https://tiles.invalid/layers.json",
}


def build_georeferenced_image_project(client: Client, kili_asset: dict[str, Any]) -> str:
    """An IMAGE project: Kili's geotiff asset (labels in lon/lat) and four images that are not georeferenced."""
    project_id = client.create_project("Geotiff", "IMAGE", KILI_GEO_INTERFACE)["id"]
    others = list(NOT_GEOREFERENCED)
    client.append_many_to_dataset(
        project_id,
        content_array=[kili_asset["content"]] + [f"https://images.invalid/{name}" for name in others],
        external_id_array=[kili_asset["externalId"], *others],
        json_content_array=[kili_asset["jsonContent"], *NOT_GEOREFERENCED.values()],
    )
    point = {"mid": "p", "type": "marker", "categories": [{"name": "POINT_A"}], "point": {"x": 0.5, "y": 0.5}}
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=[kili_asset["externalId"], *others],
        json_response_array=[kili_asset["latestLabel"]["jsonResponse"]]
        + [{"POINT_DETECTION_JOB": {"annotations": [point]}}] * len(others),
        created_at_array=["2023-07-18T09:54:07.421Z"] * (1 + len(others)),
    )
    return project_id
