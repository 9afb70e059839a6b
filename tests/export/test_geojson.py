"""The GeoJSON format: golden trees (merged and split) on a GEOSPATIAL project, georeferenced IMAGE
assets, RFC 7946 geometry checks, refused options, the report and determinism."""

from __future__ import annotations

import importlib
import re
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from shapely.geometry import LinearRing, shape

from labelport.errors import ExportError, IncompatibleFormatError
from labelport.export import formats
from labelport.ontology import Ontology
from tests.export import geo_projects
from tests.export.projects import normalize_ids
from tests.golden import assert_matches_golden, read_archive

JOB_NOT_EXPORTED = (
    "job not exported: GeoJSON takes OBJECT_DETECTION jobs with rectangle, polygon, semantic, marker or "
    "polyline tools, CLASSIFICATION and TRANSCRIPTION jobs"
)
NOT_GEOREFERENCED = (
    "not georeferenced: GeoJSON needs map coordinates; the asset's jsonContent must be a list whose "
    "first item has 'epsg' (not 'TiledImage') and 'useClassicCoordinates': false"
)
JSON_CONTENT_URL = (
    "not georeferenced: the asset's jsonContent is a URL, which labelport does not download; "
    "store the georeference itself as jsonContent"
)
ZERO_AREA_POLYGON = "polygon with zero area skipped: a GeoJSON polygon ring must enclose an area"
ZERO_AREA_HOLE = "semantic hole with zero area skipped: a GeoJSON polygon ring must enclose an area"
VECTOR = "tool 'vector' skipped: it has no GeoJSON geometry (GeoJSON takes rectangle, polygon, semantic, marker and polyline)"
#: What the GEOSPATIAL fixture reports, whatever the layout (field_1.tif holds every case).
GEO_SKIPPED = [
    {"external_id": "field_1.tif", "job": "SHAPES", "reason": JOB_NOT_EXPORTED},
    {"external_id": "field_1.tif", "job": "PARCELS", "reason": ZERO_AREA_POLYGON},
    {"external_id": "field_1.tif", "job": "LAND", "reason": ZERO_AREA_HOLE},
    {"external_id": "field_1.tif", "job": "POINTS", "reason": VECTOR},
]
GEO_COUNTS = {"LAND": 3, "NOTES": 1, "PARCELS": 4, "POINTS": 3, "SEASON": 1}
EXPORTED_JOBS = ["PARCELS", "LAND", "POINTS", "SEASON", "NOTES"]


@pytest.fixture(scope="module")
def geojson():
    """The writer module, for its helpers. Imported after the registry has loaded every format: importing
    it first would register it alone, and the registry would then skip loading the others."""
    formats.names()
    return importlib.import_module("labelport.export.formats.geojson")


@pytest.fixture
def geo(client, tmp_path):
    return geo_projects.build_geospatial_project(client, tmp_path / "images")


@pytest.fixture
def geotiff(client, kili_fixture):
    _project, [asset] = kili_fixture("image_geotiff_geojson")
    return geo_projects.build_georeferenced_image_project(client, asset), asset


def features_of(members: dict[str, bytes], name: str) -> list[dict[str, Any]]:
    collection = orjson.loads(members[name])
    assert list(collection) == ["type", "features"] and collection["type"] == "FeatureCollection"
    return collection["features"]


def by_id(features: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {feature.get("id", feature["properties"]["kili"]["job"]): feature for feature in features}


# -- RFC 7946 -------------------------------------------------------------------------------------


def assert_polygon(rings: list[list[list[float]]]) -> None:
    for index, ring in enumerate(rings):
        assert len(ring) >= 4 and ring[0] == ring[-1], ring
        # exterior counter-clockwise, holes clockwise (RFC 7946 §3.1.6)
        assert LinearRing(ring).is_ccw is (index == 0), ring


def assert_rfc7946(feature: dict[str, Any]) -> None:
    assert feature["type"] == "Feature" and isinstance(feature["properties"], dict)
    geometry = feature["geometry"]
    if geometry is None:
        return
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Point":
        assert len(coordinates) == 2 and all(isinstance(c, float) for c in coordinates)
    elif geometry["type"] == "LineString":
        assert len(coordinates) >= 2
    elif geometry["type"] == "Polygon":
        assert_polygon(coordinates)
    else:
        assert geometry["type"] == "MultiPolygon" and len(coordinates) >= 2
        for polygon in coordinates:
            assert_polygon(polygon)
    assert shape(geometry).is_valid


def assert_valid_archive(members: dict[str, bytes]) -> int:
    checked = 0
    for name in members:
        if name.endswith(".geojson"):
            for feature in features_of(members, name):
                assert_rfc7946(feature)
                checked += 1
    return checked


# -- GEOSPATIAL project: golden trees -------------------------------------------------------------


def test_merged_golden_tree_and_report(client, geo, tmp_path):
    report = client.export_labels(geo.project_id, tmp_path / "out.zip", "geojson", layout="merged", with_assets=False)
    members = assert_matches_golden(tmp_path / "out.zip", "geojson/geospatial_merged", normalize_ids)
    assert sorted(members) == [
        "README.kili.txt",
        "labels/field_1.tif.geojson",
        "labels/field_2.geojson",
        "labels/field_4.png.geojson",
    ]
    summary = report.as_dict()
    assert summary["annotations"] == GEO_COUNTS
    assert summary["skipped"] == GEO_SKIPPED
    assert (report.assets_matched, report.assets_exported, report.assets_without_labels, report.files) == (4, 3, 1, 4)
    assert report.notes == [] and report.renamed == []
    assert assert_valid_archive(members) == 11


def test_split_golden_tree_and_report(client, geo, tmp_path):
    report = client.export_labels(geo.project_id, tmp_path / "out.zip", "geojson", layout="split", with_assets=False)
    members = assert_matches_golden(tmp_path / "out.zip", "geojson/geospatial_split", normalize_ids)
    assert sorted(members) == sorted(
        ["README.kili.txt"]
        + [
            f"{job}/labels/{name}.geojson"
            for job in EXPORTED_JOBS
            for name in ("field_1.tif", "field_2", "field_4.png")
        ]
    )
    assert report.as_dict()["annotations"] == GEO_COUNTS
    assert report.as_dict()["skipped"] == GEO_SKIPPED
    assert report.files == 16
    assert assert_valid_archive(members) == 11
    # each job folder holds that job's features only; together they are the merged file's features
    merged = read_archive(export(client, geo.project_id, tmp_path / "merged.zip", layout="merged"))
    split_features = [f for job in EXPORTED_JOBS for f in features_of(members, f"{job}/labels/field_1.tif.geojson")]
    assert split_features == features_of(merged, "labels/field_1.tif.geojson")
    for job in EXPORTED_JOBS:
        assert {f["properties"]["kili"]["job"] for f in features_of(members, f"{job}/labels/field_1.tif.geojson")} == {
            job
        }
        assert features_of(members, f"{job}/labels/field_2.geojson") == []


def export(client, project_id: str, path: Path, **options: Any) -> Path:
    client.export_labels(project_id, path, "geojson", **{"with_assets": False, **options})
    return path


# -- GEOSPATIAL project: the features one by one ----------------------------------------------------


@pytest.fixture
def field_1(client, geo, tmp_path):
    members = read_archive(export(client, geo.project_id, tmp_path / "out.zip", layout="merged"))
    return by_id(features_of(members, "labels/field_1.tif.geojson"))


def test_rectangles_are_counter_clockwise_rings_from_kili_corners(field_1):
    # Kili's map corners BL, TL, TR, BR are written [BL, BR, TR, TL, BL]: counter-clockwise already
    assert field_1["rect-sw"]["geometry"] == {
        "type": "Polygon",
        "coordinates": [[[2.30, 48.80], [2.33, 48.80], [2.33, 48.82], [2.30, 48.82], [2.30, 48.80]]],
    }
    # corners stored top-left first (image order, y down) would give a clockwise ring: it is turned
    assert field_1["rect-img"]["geometry"]["coordinates"] == [
        [[2.34, 48.81], [2.34, 48.80], [2.36, 48.80], [2.36, 48.81], [2.34, 48.81]]
    ]


def test_polygons_are_closed_and_counter_clockwise(field_1):
    assert field_1["poly-ccw"]["geometry"]["coordinates"] == [
        [[2.31, 48.83], [2.33, 48.83], [2.32, 48.85], [2.31, 48.83]]
    ]
    assert field_1["poly-cw"]["geometry"]["coordinates"] == [
        [[2.34, 48.83], [2.36, 48.83], [2.35, 48.85], [2.34, 48.83]]
    ]
    assert "poly-flat" not in field_1


def test_semantic_holes_and_parts(field_1):
    assert field_1["lake-1"]["geometry"] == {
        "type": "Polygon",
        "coordinates": [
            [[2.37, 48.80], [2.40, 48.80], [2.40, 48.83], [2.37, 48.83], [2.37, 48.80]],
            [[2.38, 48.81], [2.38, 48.82], [2.39, 48.82], [2.39, 48.81], [2.38, 48.81]],
        ],
    }
    assert field_1["forest-1"]["geometry"] == {
        "type": "MultiPolygon",
        "coordinates": [
            [[[2.37, 48.84], [2.39, 48.84], [2.39, 48.86], [2.37, 48.86], [2.37, 48.84]]],
            [[[2.395, 48.84], [2.40, 48.84], [2.40, 48.85], [2.395, 48.84]]],
        ],
    }


def test_points_lines_and_rotation_ignored(field_1):
    # ROTATION_JOB (90) is not applied: map coordinates are written as stored
    assert field_1["well-1"]["geometry"] == {"type": "Point", "coordinates": [2.305, 48.875]}
    assert field_1["road-1"]["geometry"] == {
        "type": "LineString",
        "coordinates": [[2.30, 48.89], [2.35, 48.895], [2.40, 48.89]],
    }
    assert "arrow-1" not in field_1 and "pose-1" not in field_1


def test_properties_flattened_and_kili(field_1):
    assert field_1["rect-sw"]["properties"] == {
        "class": "Field",
        "parcels": "Field",  # exportName first
        "parcels.Field.Crop": "Wheat",  # children in ontology order, whatever the stored order
        "parcels.Field.Owner": "Martin",
        "kili": {
            "categories": [{"name": "FIELD"}],
            "children": {"CROP": {"categories": [{"name": "WHEAT"}]}, "OWNER": {"text": "Martin"}},
            "job": "PARCELS",
            "type": "rectangle",
        },
    }
    assert list(field_1["rect-sw"]) == ["type", "id", "geometry", "properties"]
    assert field_1["lake-1"]["properties"]["Land cover"] == "Water"  # instruction when there is no exportName


def test_classification_and_transcription_have_no_geometry(field_1):
    assert field_1["SEASON"] == {
        "type": "Feature",
        "geometry": None,
        "properties": {
            "class": "Summer",
            "Season": ["Summer", "Winter"],  # a checkbox job: every display name
            "kili": {"categories": [{"name": "SUMMER"}, {"name": "WINTER"}], "job": "SEASON"},
        },
    }
    assert field_1["NOTES"] == {
        "type": "Feature",
        "geometry": None,
        "properties": {"Notes": "Flooded in spring", "kili": {"job": "NOTES", "text": "Flooded in spring"}},
    }
    assert list(field_1) == [
        "rect-sw",
        "rect-img",
        "poly-ccw",
        "poly-cw",
        "lake-1",
        "forest-1",
        "well-1",
        "road-1",
        "SEASON",
        "NOTES",
    ]


def test_media_are_copied_and_failures_reported(client, geo, tmp_path):
    report = client.export_labels(geo.project_id, tmp_path / "out.zip", "geojson", layout="merged")
    members = read_archive(tmp_path / "out.zip")
    assert sorted(name for name in members if name.startswith("images/")) == ["images/field_4.png"]
    assert members["images/field_4.png"] == geo.image.read_bytes()
    media = [s for s in report.as_dict()["skipped"] if s["reason"].startswith("media not included")]
    assert [(s["external_id"], s["job"]) for s in media] == [("field_1.tif", None)]
    assert media[0]["reason"].startswith("media not included: download of https://tiles.invalid/field_1.tif failed")
    assert report.files == 5  # 3 label files, 1 image, README; "field 2" has no file to include


def test_several_labels_give_one_file_each(client, geo, tmp_path):
    well = {"mid": "well-9", "type": "marker", "categories": [{"name": "WELL"}], "point": {"x": 2.31, "y": 48.81}}
    client.append_labels(
        project_id=geo.project_id,
        asset_external_id_array=["field_4.png"],
        json_response_array=[{"POINTS": {"annotations": [well]}}],
        created_at_array=["2024-07-01T10:00:00.000Z"],
    )
    members = read_archive(export(client, geo.project_id, tmp_path / "out.zip", layout="merged", export_type="normal"))
    assert [f["id"] for f in features_of(members, "labels/field_4_label1.png.geojson")] == ["well-4"]
    assert [f["id"] for f in features_of(members, "labels/field_4_label2.png.geojson")] == ["well-9"]


def test_same_store_same_bytes(client, geo, tmp_path):
    for layout in ("merged", "split"):
        first = read_archive(export(client, geo.project_id, tmp_path / f"{layout}_1.zip", layout=layout))
        second = read_archive(export(client, geo.project_id, tmp_path / f"{layout}_2.zip", layout=layout))
        first.pop("README.kili.txt"), second.pop("README.kili.txt")
        assert first == second and len(first) > 1


def test_annotation_modifier_is_not_called_and_says_so(client, geo, tmp_path):
    def modifier(annotation, image, kili):
        raise AssertionError("GeoJSON must not call the COCO annotation_modifier")

    report = client.export_labels(
        geo.project_id,
        tmp_path / "out.zip",
        "geojson",
        layout="merged",
        with_assets=False,
        annotation_modifier=modifier,
    )
    assert report.notes == ["annotation_modifier is a COCO option: geojson does not call it"]


def test_strict_export_stops_at_the_first_skip(client, geo, tmp_path):
    with pytest.raises(ExportError) as error:
        client.export_labels(geo.project_id, tmp_path / "out.zip", "geojson", layout="merged", strict=True)
    assert (
        str(error.value)
        == f"Asset 'field_1.tif', job 'SHAPES': {JOB_NOT_EXPORTED} (strict export: nothing was written)."
    )
    assert not (tmp_path / "out.zip").exists()


# -- IMAGE project: georeferenced assets only ----------------------------------------------------


def test_image_project_exports_georeferenced_assets_as_stored(client, geotiff, tmp_path):
    project_id, asset = geotiff
    report = client.export_labels(project_id, tmp_path / "out.zip", "geojson", layout="merged", with_assets=False)
    members = assert_matches_golden(tmp_path / "out.zip", "geojson/image_georeferenced", normalize_ids)
    assert sorted(members) == ["README.kili.txt", "labels/sample.geojson"]
    assert report.as_dict()["skipped"] == [
        {"external_id": "plain.png", "job": None, "reason": NOT_GEOREFERENCED},
        {"external_id": "tiled.png", "job": None, "reason": NOT_GEOREFERENCED},
        {"external_id": "classic.png", "job": None, "reason": NOT_GEOREFERENCED},
        {"external_id": "remote_layers.png", "job": None, "reason": JSON_CONTENT_URL},
    ]
    assert report.notes == [
        "4 asset(s) of this IMAGE project are not georeferenced and were not exported: GeoJSON needs map coordinates"
    ]
    assert report.as_dict()["annotations"] == {
        "LINE_DETECTION_JOB": 1,
        "POINT_DETECTION_JOB": 1,
        "POLYGON_DETECTION_JOB": 3,
    }
    features = features_of(members, "labels/sample.geojson")
    assert assert_valid_archive(members) == 5
    # longitudes and latitudes are written exactly as Kili stored them
    response = asset["latestLabel"]["jsonResponse"]
    line = response["LINE_DETECTION_JOB"]["annotations"][0]
    assert features[0]["id"] == 1
    assert features[0]["geometry"]["coordinates"] == [[p["x"], p["y"]] for p in line["polyline"]]
    point = response["POINT_DETECTION_JOB"]["annotations"][0]["point"]
    assert features[1]["geometry"] == {"type": "Point", "coordinates": [point["x"], point["y"]]}
    for feature, polygon in zip(features[2:], response["POLYGON_DETECTION_JOB"]["annotations"], strict=True):
        stored = {(v["x"], v["y"]) for v in polygon["boundingPoly"][0]["normalizedVertices"]}
        ring = feature["geometry"]["coordinates"][0]
        assert {tuple(p) for p in ring} == stored and len(ring) == len(stored) + 1


# -- options and registration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"normalized_coordinates": True},
            "Option normalized_coordinates=True cannot be used with format 'geojson': GeoJSON coordinates are "
            "longitudes and latitudes, written as stored (never normalized, never pixels). "
            "Leave normalized_coordinates=None (the default).",
        ),
        (
            {"normalized_coordinates": False},
            "Option normalized_coordinates=False cannot be used with format 'geojson': GeoJSON coordinates are "
            "longitudes and latitudes, written as stored (never normalized, never pixels). "
            "Leave normalized_coordinates=None (the default).",
        ),
        (
            {"single_file": True},
            "Option single_file=True cannot be used with format 'geojson': GeoJSON writes one FeatureCollection "
            "per asset. Use single_file=False (the default).",
        ),
    ],
)
def test_refused_options(client, geo, tmp_path, options, message):
    with pytest.raises(IncompatibleFormatError) as error:
        client.export_labels(geo.project_id, tmp_path / "out.zip", "geojson", layout="merged", **options)
    assert str(error.value) == message
    assert not (tmp_path / "out.zip").exists()


def test_other_input_types_are_refused(client, tmp_path):
    project_id = client.create_project("Mails", "TEXT", geo_projects.KILI_GEO_INTERFACE)["id"]
    with pytest.raises(IncompatibleFormatError, match=re.escape("which format 'geojson' cannot export")):
        client.export_labels(project_id, tmp_path / "out.zip", "geojson")


def test_registration(geojson):
    spec = formats.get("geojson")
    assert spec.input_types == {"IMAGE", "GEOSPATIAL"}
    assert spec.media_folder == "images" and spec.one_label_per_output is True
    ontology = Ontology.from_json(geo_projects.GEO_INTERFACE)
    # jobs with geometry make a project exportable; classifications and transcriptions are written with them
    assert [job.name for job in spec.compatible_jobs(ontology.root_jobs)] == ["PARCELS", "LAND", "POINTS"]
    assert [job.name for job in ontology.root_jobs if geojson.exported(job)] == EXPORTED_JOBS


def test_a_project_without_geometry_jobs_is_refused(client, tmp_path):
    interface = {"jobs": {"SEASON": geo_projects.GEO_INTERFACE["jobs"]["SEASON"]}}
    project_id = client.create_project("Seasons", "GEOSPATIAL", interface)["id"]
    with pytest.raises(IncompatibleFormatError) as error:
        client.export_labels(project_id, tmp_path / "out.zip", "geojson")
    assert str(error.value) == (
        f"Project {project_id!r} has no job that format 'geojson' can export (it needs an OBJECT_DETECTION job "
        "with rectangle, polygon, semantic, marker or polyline tools). Jobs: SEASON (CLASSIFICATION). "
        "Formats that can export this project: kili, raw, simple."
    )


# -- geometry helpers ----------------------------------------------------------------------------------


def test_flat_rings_are_found_despite_large_coordinates(geojson):
    collinear = [(4.4, 52.2), (4.41, 52.21), (4.42, 52.22)]
    with pytest.raises(geojson.Skip) as error:
        geojson.closed_ring(collinear, clockwise=False, what="polygon")
    assert str(error.value) == ZERO_AREA_POLYGON
    tiny = [(4.4, 52.2), (4.4000001, 52.2), (4.4, 52.2000001)]
    assert geojson.closed_ring(tiny, clockwise=False, what="polygon") == [[x, y] for x, y in [*tiny, tiny[0]]]
    assert geojson.closed_ring(tiny, clockwise=True, what="hole") == [
        [4.4, 52.2],
        [4.4, 52.2000001],
        [4.4000001, 52.2],
        [4.4, 52.2],
    ]


def test_degenerate_rectangles_and_lines(geojson):
    three = [{"normalizedVertices": [{"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.1}, {"x": 0.2, "y": 0.2}]}]
    with pytest.raises(geojson.Skip) as error:
        geojson.rectangle_ring(three)
    assert str(error.value) == "rectangle with 3 vertices skipped: a rectangle needs 4"
    with pytest.raises(geojson.Skip) as error:
        geojson.line_geometry({"polyline": [{"x": 0.1, "y": 0.1}]})
    assert str(error.value) == "polyline with fewer than 2 points skipped: a GeoJSON LineString needs 2 positions"


def test_georeference_problem(geojson):
    assert geojson.georeference_problem(orjson.dumps(geo_projects.GEO_LAYER).decode()) is None
    assert geojson.georeference_problem("") == NOT_GEOREFERENCED
    assert geojson.georeference_problem(" https://tiles.invalid/layers.json") == JSON_CONTENT_URL


def test_job_names_never_overwrite_class_or_kili(client, tmp_path):
    interface = {
        "jobs": {
            "TREES": geo_projects._job(
                "OBJECT_DETECTION", "class", {"OAK": {"name": "Oak"}}, tools=["marker"], exportName="kili"
            )
        }
    }
    project_id = client.create_project("Trees", "GEOSPATIAL", interface)["id"]
    client.append_many_to_dataset(project_id, content_array=["https://tiles.invalid/t.tif"], external_id_array=["t"])
    oak = {"mid": "oak-1", "type": "marker", "categories": [{"name": "OAK"}], "point": {"x": 2.3, "y": 48.8}}
    client.append_labels(
        project_id=project_id, asset_external_id_array=["t"], json_response_array=[{"TREES": {"annotations": [oak]}}]
    )
    members = read_archive(export(client, project_id, tmp_path / "out.zip", layout="merged"))
    [feature] = features_of(members, "labels/t.geojson")
    assert feature["properties"] == {
        "class": "Oak",
        "TREES": "Oak",
        "kili": {"categories": [{"name": "OAK"}], "job": "TREES", "type": "marker"},
    }


def test_an_image_project_without_a_georeferenced_asset_is_refused_up_front(client, tmp_path):
    project_id = client.create_project("Plain", "IMAGE", geo_projects.KILI_GEO_INTERFACE)["id"]
    others = list(geo_projects.NOT_GEOREFERENCED)
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://images.invalid/{name}" for name in others],
        external_id_array=others,
        json_content_array=list(geo_projects.NOT_GEOREFERENCED.values()),
    )
    point = {"mid": "p", "type": "marker", "categories": [{"name": "POINT_A"}], "point": {"x": 0.5, "y": 0.5}}
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=others,
        json_response_array=[{"POINT_DETECTION_JOB": {"annotations": [point]}}] * len(others),
    )
    out = tmp_path / "out" / "geo.zip"
    with pytest.raises(IncompatibleFormatError) as error:
        client.export_labels(project_id, out, "geojson")
    ontology = Ontology.from_json(geo_projects.KILI_GEO_INTERFACE)
    able = sorted(
        name
        for name, spec in formats.all_specs().items()
        if name != "geojson" and "IMAGE" in spec.input_types and spec.compatible_jobs(ontology.root_jobs)
    )
    assert able[:3] == ["coco", "kili", "pascal_voc"]
    assert str(error.value) == (
        f"Project {project_id!r}: none of the 4 assets selected is georeferenced, and format 'geojson' exports "
        "georeferenced assets only (a jsonContent list whose first item has 'epsg', not 'TiledImage', and "
        f"'useClassicCoordinates': false). Formats that can export this project: {', '.join(able)}."
    )
    assert not (tmp_path / "out").exists()


def test_a_selection_with_one_georeferenced_asset_is_exported(client, geotiff, tmp_path):
    project_id, asset = geotiff
    with pytest.raises(IncompatibleFormatError, match="none of the 2 assets selected is georeferenced"):
        client.export_labels(project_id, tmp_path / "a.zip", "geojson", external_ids=["plain.png", "tiled.png"])
    report = client.export_labels(
        project_id,
        tmp_path / "b.zip",
        "geojson",
        external_ids=["plain.png", asset["externalId"]],
        with_assets=False,
        layout="merged",
    )
    assert [s.external_id for s in report.skipped] == ["plain.png"]
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        assert sorted(archive.namelist()) == ["README.kili.txt", f"labels/{asset['externalId']}.geojson"]
