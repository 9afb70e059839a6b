"""Georeferenced assets: images whose labels are drawn in longitude and latitude."""

from __future__ import annotations

from typing import Any

import orjson


def georeferenced(json_content: Any) -> bool:
    """Whether an asset's jsonContent describes a georeferenced image (Kili's geotiff layers).

    That is a list whose first item names an ``epsg`` other than ``TiledImage`` and has
    ``useClassicCoordinates: false``: its labels' coordinates are longitudes and latitudes.
    """
    if isinstance(json_content, str):
        if "epsg" not in json_content:
            return False
        try:
            json_content = orjson.loads(json_content)
        except orjson.JSONDecodeError:
            return False
    if not isinstance(json_content, list) or not json_content or not isinstance(json_content[0], dict):
        return False
    layer = json_content[0]
    return "epsg" in layer and layer.get("epsg") != "TiledImage" and layer.get("useClassicCoordinates") is False
