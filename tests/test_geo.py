"""Georeferenced images and GEOSPATIAL projects: labels in longitude/latitude are accepted."""

from __future__ import annotations

import pytest

from labelport.errors import JsonResponseError
from labelport.geo import georeferenced

GEO_INTERFACE = {
    "jobs": {
        name: {
            "mlTask": "OBJECT_DETECTION",
            "tools": [tool],
            "instruction": name,
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {category: {"name": category}}},
        }
        for name, tool, category in (
            ("LINE_DETECTION_JOB", "polyline", "LINE_A"),
            ("POINT_DETECTION_JOB", "marker", "POINT_A"),
            ("POLYGON_DETECTION_JOB", "polygon", "POLYGON_A"),
        )
    }
}


def test_georeferenced_json_content():
    layer = {"bounds": [[4.4, 52.1], [4.3, 52.2]], "epsg": "EPSG4326", "useClassicCoordinates": False}
    assert georeferenced([layer]) is True
    assert georeferenced('[{"epsg": "EPSG4326", "useClassicCoordinates": false}]') is True
    assert georeferenced([{**layer, "useClassicCoordinates": True}]) is False
    assert georeferenced([{**layer, "epsg": "TiledImage"}]) is False
    assert georeferenced("") is False and georeferenced("{not json") is False and georeferenced({"epsg": 1}) is False


def test_the_kili_geotiff_fixture_imports_with_its_longitude_latitude_labels(client, kili_fixture):
    _project, [asset] = kili_fixture("image_geotiff_geojson")
    project_id = client.create_project("Geo", "IMAGE", GEO_INTERFACE)["id"]
    client.append_many_to_dataset(
        project_id,
        content_array=[asset["content"]],
        external_id_array=[asset["externalId"]],
        json_content_array=[asset["jsonContent"]],
    )
    response = asset["latestLabel"]["jsonResponse"]
    client.append_labels(project_id=project_id, asset_external_id_array=["sample"], json_response_array=[response])
    [stored] = client.assets(project_id, fields=["latestLabel.jsonResponse", "latestLabel.numberOfAnnotations"])
    assert stored["latestLabel"] == {"jsonResponse": response, "numberOfAnnotations": 5}


def test_geographic_ranges_are_checked(client):
    project_id = client.create_project("Geo", "GEOSPATIAL", GEO_INTERFACE)["id"]
    client.append_many_to_dataset(project_id, content_array=["https://tiles.invalid/a.tif"], external_id_array=["a"])
    point = {
        "POINT_DETECTION_JOB": {
            "annotations": [
                {"mid": "p", "type": "marker", "categories": [{"name": "POINT_A"}], "point": {"x": 4.4, "y": 52.2}}
            ]
        }
    }
    client.append_labels(project_id=project_id, asset_external_id_array=["a"], json_response_array=[point])
    point["POINT_DETECTION_JOB"]["annotations"][0]["point"]["y"] = 95.0
    with pytest.raises(JsonResponseError) as error:
        client.append_labels(project_id=project_id, asset_external_id_array=["a"], json_response_array=[point])
    assert str(error.value) == (
        "Asset 'a', job 'POINT_DETECTION_JOB', category 'POINT_A': marker 'point': y=95.0 is not a latitude; "
        "geographic coordinates are (longitude, latitude) in degrees."
    )


def test_plain_images_keep_normalized_coordinates(client):
    project_id = client.create_project("Geo", "IMAGE", GEO_INTERFACE)["id"]
    client.append_many_to_dataset(project_id, content_array=["https://h/a.png"], external_id_array=["a"])
    point = {
        "POINT_DETECTION_JOB": {
            "annotations": [
                {"mid": "p", "type": "marker", "categories": [{"name": "POINT_A"}], "point": {"x": 4.4, "y": 0.2}}
            ]
        }
    }
    with pytest.raises(JsonResponseError, match=r"x=4.4 is outside 0..1"):
        client.append_labels(project_id=project_id, asset_external_id_array=["a"], json_response_array=[point])
