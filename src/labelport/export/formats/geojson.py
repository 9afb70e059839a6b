"""The GeoJSON format (``geojson``): one RFC 7946 FeatureCollection per asset, in map coordinates.

Layouts: ``merged`` writes ``labels/<externalId>.geojson`` with the features of every job; ``split``
writes ``<JOB>/labels/<externalId>.geojson`` per exported job (Kili refuses split; labelport has it).
Media go to ``images/`` with ``with_assets=True``.

Assets: every asset of a GEOSPATIAL project; in an IMAGE project only georeferenced assets (a
``jsonContent`` list whose first item has ``epsg``, not ``TiledImage``, and ``useClassicCoordinates``
false): the others are skipped and reported. Coordinates are written as stored (longitude,
latitude): no pixels, no normalization, no rotation (``ROTATION_JOB`` is ignored).

Jobs: a project needs an OBJECT_DETECTION job with a GeoJSON tool (the spec's ``job_filter``); its
CLASSIFICATION and TRANSCRIPTION root jobs are written too. Other jobs are reported per asset.

Features: rectangle and polygon → Polygon (exterior counter-clockwise, holes clockwise, rings
closed); semantic → Polygon with holes, or MultiPolygon for several annotations sharing a ``mid``;
marker → Point; polyline → LineString; classification and transcription → ``geometry: null``.
Other tools (pose, vector) and zero-area shapes are skipped and reported. See docs/export/geojson.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import orjson

from labelport.enums import SPECIAL_RESPONSE_KEYS, InputType, MLTask, Tool
from labelport.export import geometry
from labelport.export.formats import register
from labelport.export.formats.base import (
    HONOURED,
    MODIFIER_NOT_CALLED,
    NO_DATASET_ROOT,
    NO_SPLIT,
    OWN_LAYOUT_ONLY,
    AssetRule,
    FormatSpec,
    OptionRule,
    Refused,
    Writer,
    object_job,
)
from labelport.export.media import add_media
from labelport.export.model import ExportAsset
from labelport.export.names import NameAllocator, safe_path
from labelport.geo import georeferenced
from labelport.ontology import Job

Feature = dict[str, Any]
Ring = list[list[float]]

GEOMETRY_TOOLS = frozenset({Tool.RECTANGLE, Tool.POLYGON, Tool.SEMANTIC, Tool.MARKER, Tool.POLYLINE})
#: Annotation keys left out of the ``kili`` property: the geometry (written as such) and the mid (the id).
_NOT_IN_KILI = frozenset({"boundingPoly", "point", "polyline", "points", "mid"})
_RESERVED_PROPERTIES = frozenset({"class", "kili"})
#: A ring whose |area| is below this fraction of its bounding box diagonal squared is a line.
_FLAT = 1e-12

NOT_GEOREFERENCED = (
    "not georeferenced: GeoJSON needs map coordinates; the asset's jsonContent must be a list whose "
    "first item has 'epsg' (not 'TiledImage') and 'useClassicCoordinates': false"
)
JSON_CONTENT_URL = (
    "not georeferenced: the asset's jsonContent is a URL, which labelport does not download; "
    "store the georeference itself as jsonContent"
)
JOB_NOT_EXPORTED = (
    "job not exported: GeoJSON takes OBJECT_DETECTION jobs with rectangle, polygon, semantic, marker or "
    "polyline tools, CLASSIFICATION and TRANSCRIPTION jobs"
)
POLYLINE_TOO_SHORT = "polyline with fewer than 2 points skipped: a GeoJSON LineString needs 2 positions"
MARKER_WITHOUT_POINT = "marker without a 'point' skipped"


class Skip(Exception):
    """An annotation (or a ring of it) that has no valid GeoJSON geometry; the message says why."""


# -- georeferencing ------------------------------------------------------------------------------


def georeference_problem(json_content: str) -> str | None:
    """Why an IMAGE asset's ``jsonContent`` does not georeference it (None when it does)."""
    if json_content.strip().startswith(("http://", "https://")):
        return JSON_CONTENT_URL
    return None if georeferenced(json_content) else NOT_GEOREFERENCED


# -- geometry --------------------------------------------------------------------------------------


def positions(vertices: object) -> list[tuple[float, float]]:
    """``[{x, y}, …]`` as (x, y) floats; anything malformed is an empty list."""
    if not isinstance(vertices, list):
        return []
    try:
        return [(float(v["x"]), float(v["y"])) for v in vertices]
    except (KeyError, TypeError, ValueError):
        return []


def signed_area(points: list[tuple[float, float]]) -> float:
    """Shoelace area (positive counter-clockwise, y up), computed around the first point for precision."""
    x0, y0 = points[0]
    return geometry.shoelace([(x - x0, y - y0) for x, y in points])


def closed_ring(points: list[tuple[float, float]], clockwise: bool, what: str) -> Ring:
    """A closed ring (first position repeated last) turned the required way; zero area → :class:`Skip`."""
    if len(points) > 1 and points[-1] == points[0]:
        points = points[:-1]
    area = signed_area(points) if len(points) >= 3 else 0.0
    low_x, low_y, high_x, high_y = geometry.bounds(points) if points else (0.0, 0.0, 0.0, 0.0)
    diagonal = (high_x - low_x) ** 2 + (high_y - low_y) ** 2
    if len(set(points)) < 3 or not math.isfinite(area) or abs(area) <= _FLAT * diagonal:
        raise Skip(f"{what} with zero area skipped: a GeoJSON polygon ring must enclose an area")
    if (area < 0) != clockwise:
        points = [points[0], *reversed(points[1:])]
    return [[x, y] for x, y in (*points, points[0])]


def polygon_rings(polys: object, what: str) -> tuple[list[Ring], list[str]]:
    """Exterior (counter-clockwise) then holes (clockwise) from ``boundingPoly``, and why flat holes were dropped."""
    entries = polys if isinstance(polys, list) else []
    rings = [positions(poly.get("normalizedVertices") if isinstance(poly, dict) else None) for poly in entries]
    if not rings:
        raise Skip(f"{what} without a boundingPoly skipped")
    exterior = closed_ring(rings[0], clockwise=False, what=what)
    holes, dropped = [], []
    for hole in rings[1:]:
        try:
            holes.append(closed_ring(hole, clockwise=True, what=f"{what} hole"))
        except Skip as problem:
            dropped.append(str(problem))
    return [exterior, *holes], dropped


def rectangle_ring(polys: object) -> Ring:
    """Kili's corners (bottom-left, top-left, top-right, bottom-right) as [BL, BR, TR, TL, BL]."""
    first = polys[0] if isinstance(polys, list) and polys and isinstance(polys[0], dict) else {}
    corners = positions(first.get("normalizedVertices"))
    if len(corners) != 4:
        raise Skip(f"rectangle with {len(corners)} vertices skipped: a rectangle needs 4")
    bottom_left, top_left, top_right, bottom_right = corners
    return closed_ring([bottom_left, bottom_right, top_right, top_left], clockwise=False, what="rectangle")


def point_geometry(annotation: dict[str, Any]) -> dict[str, Any]:
    found = positions([annotation.get("point")])
    if not found:
        raise Skip(MARKER_WITHOUT_POINT)
    return {"type": "Point", "coordinates": list(found[0])}


def line_geometry(annotation: dict[str, Any]) -> dict[str, Any]:
    line = positions(annotation.get("polyline"))
    if len(line) < 2:
        raise Skip(POLYLINE_TOO_SHORT)
    return {"type": "LineString", "coordinates": [list(p) for p in line]}


def sorted_keys(value: Any) -> Any:
    """A copy with every object's keys sorted: the ``kili`` property reads the same whatever the input order."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def feature_collection(features: list[Feature]) -> bytes:
    """The collection, one feature per line (compact, and easy to diff)."""
    if not features:
        return b'{"type":"FeatureCollection","features":[]}\n'
    body = b",\n".join(orjson.dumps(feature) for feature in features)
    return b'{"type":"FeatureCollection","features":[\n' + body + b"\n]}\n"


# -- the writer ------------------------------------------------------------------------------------


class GeoJsonWriter(Writer):
    def open(self) -> None:
        self.names = NameAllocator()  # labels/<name>.geojson
        self.media_names = NameAllocator(self.names.renamed)  # <media folder>/<name><suffix>, renames reported alike
        self.not_georeferenced = 0
        # ctx.jobs holds the jobs with geometry (what makes a project exportable); classification and
        # transcription answers ride along as features without geometry
        self.jobs = [job for job in self.ctx.ontology.root_jobs if exported(job)]
        self.exported_jobs = {job.name for job in self.jobs}
        self.asset = ""

    def write_asset(self, asset: ExportAsset) -> None:
        self.asset = asset.external_id
        if self.ctx.input_type == InputType.IMAGE:
            problem = georeference_problem(asset.json_content)
            if problem is not None:
                self.not_georeferenced += 1
                self.ctx.report.skip(asset.external_id, problem)
                return
        response = asset.labels[0].json_response if asset.labels else {}
        self._report_other_jobs(response)
        per_job = [(job, self._job_features(job, response.get(job.name))) for job in self.jobs]
        name = self.names.allocate(asset.external_id, safe_path(asset.external_id), (".geojson",))
        if self.ctx.options.layout == "merged":
            self._write(f"labels/{name}.geojson", [f for _, features in per_job for f in features])
        else:
            for job, features in per_job:
                self._write(f"{safe_path(job.name)}/labels/{name}.geojson", features)
        if self.ctx.options.with_assets:
            self._media(asset)

    def close(self) -> None:
        if self.not_georeferenced:
            self.ctx.report.note(
                f"{self.not_georeferenced} asset(s) of this IMAGE project are not georeferenced and were not "
                "exported: GeoJSON needs map coordinates"
            )
        self.ctx.extras["renamed"] = self.names.renamed

    def _write(self, member: str, features: list[Feature]) -> None:
        self.ctx.archive.write_bytes(member, feature_collection(features))
        self.ctx.report.files += 1

    def _media(self, asset: ExportAsset) -> None:
        if asset.media_path is None and not asset.content:
            return  # a GEOSPATIAL asset given by its jsonContent only: there is no file to include
        member = self.media_names.media(
            asset.external_id,
            safe_path(asset.external_id),
            asset.external_id.replace(" ", "_"),
            asset.media_suffix,
            self.ctx.media_folder,
        )
        url = None if asset.media_path is not None else asset.content
        add_media(self.ctx, asset.external_id, member, asset.media_path, url)

    def _report_other_jobs(self, response: dict[str, Any]) -> None:
        for name, value in response.items():
            if name in SPECIAL_RESPONSE_KEYS or name in self.exported_jobs:
                continue
            if isinstance(value, dict) and any(value.values()):
                self.ctx.report.skip(self.asset, JOB_NOT_EXPORTED, job=name)

    # -- features of one job -------------------------------------------------------------------

    def _job_features(self, job: Job, value: object) -> list[Feature]:
        if not isinstance(value, dict):
            return []
        if job.ml_task not in (MLTask.CLASSIFICATION, MLTask.TRANSCRIPTION):
            return self._objects(job, value.get("annotations") or [])  # counts each annotation it writes
        features = (
            self._classification(job, value)
            if job.ml_task == MLTask.CLASSIFICATION
            else self._transcription(job, value)
        )
        if features:
            self.ctx.report.wrote(job.name, len(features))
        return features

    def _classification(self, job: Job, value: dict[str, Any]) -> list[Feature]:
        entries = [c for c in value.get("categories") or [] if isinstance(c, dict)]
        if not entries:
            return []
        properties = self._category_properties(job, entries)
        properties["kili"] = sorted_keys({**value, "job": job.name})
        return [{"type": "Feature", "geometry": None, "properties": properties}]

    def _transcription(self, job: Job, value: dict[str, Any]) -> list[Feature]:
        text = value.get("text")
        if not isinstance(text, str) or not text:
            return []
        properties = {self._friendly(job): text, "kili": sorted_keys({**value, "job": job.name})}
        return [{"type": "Feature", "geometry": None, "properties": properties}]

    def _objects(self, job: Job, annotations: list[Any]) -> list[Feature]:
        parts: dict[Any, list[dict[str, Any]]] = {}
        for annotation in annotations:
            if isinstance(annotation, dict) and annotation.get("type") == Tool.SEMANTIC and "mid" in annotation:
                parts.setdefault(annotation["mid"], []).append(annotation)
        features: list[Feature] = []
        done: set[Any] = set()
        for annotation in annotations:
            if not isinstance(annotation, dict):
                continue
            mid = annotation.get("mid")
            if annotation.get("type") == Tool.SEMANTIC and mid in parts:
                if mid in done:
                    continue
                done.add(mid)
                group = parts[mid]
            else:
                group = [annotation]
            geometry_, written = self._geometry(job, group)
            if geometry_ is not None:
                features.append(self._object_feature(job, group[0], geometry_))
                self.ctx.report.wrote(job.name, written)
        return features

    def _geometry(self, job: Job, group: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, int]:
        """The geometry of one annotation (or of the parts of a semantic object) and how many were used."""
        polygons = []
        for annotation in group:
            try:
                shape = self._shape(job, annotation)
            except Skip as problem:
                self.ctx.report.skip(self.asset, str(problem), job=job.name)
                continue
            if shape["type"] != "Polygon":
                return shape, 1
            polygons.append(shape["coordinates"])
        if not polygons:
            return None, 0
        if len(polygons) == 1:
            return {"type": "Polygon", "coordinates": polygons[0]}, 1
        return {"type": "MultiPolygon", "coordinates": polygons}, len(polygons)

    def _shape(self, job: Job, annotation: dict[str, Any]) -> dict[str, Any]:
        tool = annotation.get("type")
        if tool == Tool.RECTANGLE:
            return {"type": "Polygon", "coordinates": [rectangle_ring(annotation.get("boundingPoly"))]}
        if tool in (Tool.POLYGON, Tool.SEMANTIC):
            rings, dropped = polygon_rings(annotation.get("boundingPoly"), tool)
            for reason in dropped:
                self.ctx.report.skip(self.asset, reason, job=job.name)
            return {"type": "Polygon", "coordinates": rings}
        if tool == Tool.MARKER:
            return point_geometry(annotation)
        if tool == Tool.POLYLINE:
            return line_geometry(annotation)
        raise Skip(
            f"tool {tool!r} skipped: it has no GeoJSON geometry (GeoJSON takes rectangle, polygon, semantic, "
            "marker and polyline)"
        )

    def _object_feature(self, job: Job, annotation: dict[str, Any], shape: dict[str, Any]) -> Feature:
        feature: Feature = {"type": "Feature"}
        if annotation.get("mid") is not None:
            feature["id"] = annotation["mid"]
        feature["geometry"] = shape
        entries = [c for c in annotation.get("categories") or [] if isinstance(c, dict)]
        properties = self._category_properties(job, entries)
        children = annotation.get("children")
        if entries and isinstance(children, dict):
            first = self._display(job, entries[0].get("name"))
            self._flatten(f"{self._friendly(job)}.{first}", children, properties)
        kili = {key: value for key, value in annotation.items() if key not in _NOT_IN_KILI}
        properties["kili"] = sorted_keys({**kili, "job": job.name})
        feature["properties"] = properties
        return feature

    # -- flattened properties --------------------------------------------------------------------

    def _category_properties(self, job: Job, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """``class`` (first category's display name), the job's friendly name → name(s), flattened children."""
        names = [self._display(job, entry.get("name")) for entry in entries]
        if not names:
            return {}
        properties: dict[str, Any] = {"class": names[0]}
        properties[self._friendly(job)] = names if job.is_multiple_choice else names[0]
        if job.ml_task == MLTask.CLASSIFICATION:
            for entry, name in zip(entries, names, strict=True):
                if isinstance(entry.get("children"), dict):
                    self._flatten(f"{self._friendly(job)}.{name}", entry["children"], properties)
        return properties

    def _flatten(self, prefix: str, children: dict[str, Any], out: dict[str, Any]) -> None:
        """Child classifications and transcriptions as ``<prefix>.<child job>`` keys (ontology order)."""
        for child in self._in_ontology_order(children):
            value = children[child.name]
            if not isinstance(value, dict):
                continue
            key = f"{prefix}.{self._friendly(child)}"
            if child.ml_task == MLTask.TRANSCRIPTION and isinstance(value.get("text"), str) and value["text"]:
                out[key] = value["text"]
            elif child.ml_task == MLTask.CLASSIFICATION:
                entries = [c for c in value.get("categories") or [] if isinstance(c, dict)]
                names = [self._display(child, entry.get("name")) for entry in entries]
                if names:
                    out[key] = names if child.is_multiple_choice else names[0]
                for entry, name in zip(entries, names, strict=True):
                    if isinstance(entry.get("children"), dict):
                        self._flatten(f"{key}.{name}", entry["children"], out)

    def _in_ontology_order(self, children: Iterable[str]) -> list[Job]:
        wanted = set(children)
        return [job for name, job in self.ctx.ontology.jobs.items() if name in wanted]

    def _display(self, job: Job, key: object) -> str:
        category = job.categories.get(key) if isinstance(key, str) else None
        return category.name if category is not None else str(key)

    def _friendly(self, job: Job) -> str:
        """The job's name in properties: ``exportName``, else ``instruction``, else the job id."""
        raw = self.ctx.ontology.raw.get("jobs", {}).get(job.name, {})
        export_name = raw.get("exportName") if isinstance(raw, dict) else None
        for candidate in (export_name, job.instruction):
            if isinstance(candidate, str) and candidate and candidate not in _RESERVED_PROPERTIES:
                return candidate
        return job.name


# -- registration ----------------------------------------------------------------------------------


#: How GeoJSON takes each option (checked by the pipeline before anything is written).
OPTIONS: dict[str, OptionRule] = {
    "layout": HONOURED,
    "single_file": Refused(
        "GeoJSON writes one FeatureCollection per asset", "Use single_file=False (the default)", (True,)
    ),
    "with_assets": HONOURED,
    "normalized_coordinates": Refused(
        "GeoJSON coordinates are longitudes and latitudes, written as stored (never normalized, never pixels)",
        "Leave normalized_coordinates=None (the default)",
    ),
    "annotation_modifier": MODIFIER_NOT_CALLED,
    "split": NO_SPLIT,
    "dataset_root": NO_DATASET_ROOT,
    "dataset_layout": OWN_LAYOUT_ONLY,
}


geometry_job = object_job(GEOMETRY_TOOLS, all_tools=False)


def exported(job: Job) -> bool:
    """The root jobs written: those with geometry, and CLASSIFICATION and TRANSCRIPTION jobs."""
    return job.ml_task in (MLTask.CLASSIFICATION, MLTask.TRANSCRIPTION) or geometry_job(job)


SPEC = register(
    FormatSpec(
        name="geojson",
        writer=GeoJsonWriter,
        input_types=frozenset({InputType.IMAGE, InputType.GEOSPATIAL}),
        media_folder="images",
        job_filter=geometry_job,
        needs="an OBJECT_DETECTION job with rectangle, polygon, semantic, marker or polyline tools",
        options=OPTIONS,
        one_label_per_output=True,
        image_asset_rule=AssetRule(
            accepts=georeferenced,
            adjective="georeferenced",
            needs="exports georeferenced assets only (a jsonContent list whose first item has 'epsg', not "
            "'TiledImage', and 'useClassicCoordinates': false)",
        ),
    )
)
