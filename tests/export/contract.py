"""The contract every export format keeps, and what each registered format is expected to do under it.

tests/export/test_contract.py runs every registered format (``formats.specs()``) on the representative
projects below and checks it against :data:`CONTRACTS`: the exact report of each export (or the exact
error when the format refuses the project's input type or ontology, with nothing written), the same
bytes from two exports of the same store state, the exact error for each option value the format
refuses, the note for each option it accepts without using, and nothing left behind (no archive, no
temporary file) when an export fails half-way. A format added to the registry without an entry here
fails those tests, which name it: add its :class:`Contract` below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelport import Client
from tests.export import geo_projects, projects

# -- the representative projects ------------------------------------------------------------------------


def _image(client: Client, folder: Path) -> str:
    return projects.build_image_project(client, folder).project_id


def _video(client: Client, folder: Path) -> str:
    return projects.build_video_project(client, folder).project_id


def _text(client: Client, folder: Path) -> str:
    del folder
    return projects.build_text_project(client).project_id


def _pdf(client: Client, folder: Path) -> str:
    """The PDF project with its page resolutions removed: pixel coordinates cannot be added."""
    project_id = projects.build_pdf_project(client, folder).project_id
    client.update_properties_in_assets(external_ids=["invoice.pdf"], project_id=project_id, page_resolutions_array=[[]])
    return project_id


def _geospatial(client: Client, folder: Path) -> str:
    return geo_projects.build_geospatial_project(client, folder).project_id


def _classes_only(client: Client, folder: Path) -> str:
    """An IMAGE project whose only job is a classification: an ontology detection formats cannot hold."""
    del folder
    interface = {"jobs": {"WEATHER": projects.IMAGE_INTERFACE["jobs"]["WEATHER"]}}
    project_id = client.create_project("Weather", "IMAGE", interface)["id"]
    client.append_many_to_dataset(
        project_id,
        content_array=["https://images.invalid/sky.jpg"],
        external_id_array=["sky.jpg"],
        resolution_array=[{"width": 40, "height": 30}],
    )
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=["sky.jpg"],
        json_response_array=[{"WEATHER": {"categories": [{"name": "RAINY"}]}}],
    )
    return project_id


#: Each representative project, by name: how to build it through the public API.
PROJECTS: dict[str, Callable[[Client, Path], str]] = {
    "image": _image,
    "video": _video,
    "text": _text,
    "pdf": _pdf,
    "geospatial": _geospatial,
    "classes_only": _classes_only,
}

#: The options of the contract's exports (media would make them download URLs).
EXPORT_OPTIONS: dict[str, Any] = {"with_assets": False}


def modifier_never_called(annotation: Any, image: Any, kili_annotation: Any) -> Any:
    raise AssertionError("annotation_modifier was called by a format that says it does not call it")


#: A value of each option other than its default, for the notes of the options a format does not use.
GIVEN: dict[str, Any] = {
    "layout": "merged",
    "single_file": True,
    "normalized_coordinates": True,
    "annotation_modifier": modifier_never_called,
    "split": "train=0.8,val=0.2",
    "dataset_root": "/data/street",
    "dataset_layout": "standard",
}

# -- expectations ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    """The report of an export of a representative project (``EXPORT_OPTIONS``), field by field."""

    matched: int
    exported: int
    without_labels: int
    labels: int
    files: int
    annotations: dict[str, int]
    skipped: list[tuple[str, str | None, str]] = field(default_factory=list)  # (external id, job, reason)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Refused:
    """An export refused before anything is written: the exact message (``<project>``: the project id)."""

    message: str


@dataclass(frozen=True)
class Failure:
    """An export that fails half-way (``strict``, on its first skipped item): the exact message, or with
    ``varying``, the message up to the part the platform words (a failed download's resolver error)."""

    project: str
    options: dict[str, Any]
    message: str
    varying: tuple[str, str] | None = None  # (what comes before it, what comes after it)


@dataclass(frozen=True)
class Contract:
    """What one format does under the contract."""

    #: Each of :data:`PROJECTS`: what exporting it reports, or the refusal.
    exports: dict[str, Exported | Refused]
    #: The project the option checks run on.
    project: str
    #: Each option the format refuses some values of: the options of a refused export, and the message.
    refused: dict[str, tuple[dict[str, Any], str]]
    #: Each option the format accepts without using it, and says so: the note (the option given as in GIVEN).
    noted: dict[str, str]
    failure: Failure


def input_type_refused(fmt: str, input_type: str, able: str) -> Refused:
    return Refused(
        f"Project <project> has input type {input_type}, which format '{fmt}' cannot export; "
        f"formats for {input_type} projects: {able}."
    )


def no_job_refused(fmt: str, needs: str) -> Refused:
    return Refused(
        f"Project <project> has no job that format '{fmt}' can export (it needs {needs}). "
        "Jobs: WEATHER (CLASSIFICATION). Formats that can export this project: kili, raw, simple."
    )


def option_refused(option: str, value: str, fmt: str, words: str) -> str:
    return f"Option {option}={value} cannot be used with format '{fmt}': {words}"


DETECTION_FORMATS = "coco, kili, pascal_voc, raw, yolo_v4, yolo_v5, yolo_v7, yolo_v8"
SPLIT_SHOWN = "{'train': 0.8, 'val': 0.2}"
NO_SPLIT = (
    "the format has no train/val/test layout. Use a format that writes splits (coco, yolo_v5, yolo_v7, yolo_v8), "
    "or leave split out."
)
OWN_LAYOUT = (
    "the format has one layout, its own. Use a format that writes a standard dataset layout (coco, pascal_voc, "
    "yolo_v5, yolo_v7, yolo_v8), or leave dataset_layout out."
)
NO_DATASET_ROOT = (
    "only YOLO split exports write a data.yaml, whose path it sets. Use it with yolo_v5, yolo_v7 or yolo_v8 and "
    "split=..., or leave dataset_root out."
)
MODIFIER_NOTE = "annotation_modifier is a COCO option: {fmt} does not call it"
#: Strict exports of the image project stop at img_1.png's polygon of 2 vertices in REGIONS.
STRICT_IMAGE = {"strict": True}
STRICT_SUFFIX = " (strict export: nothing was written)."

# The image project (projects.IMAGE_LABELS): 5 assets, 4 labeled; one label each.
UNEXPORTED_DETECTION = "KEYPOINTS (OBJECT_DETECTION, marker/polyline), WEATHER (CLASSIFICATION)"
VIDEO_TRACK = {"TRACK": 3}


def _coco() -> Contract:
    return Contract(
        exports={
            "image": Exported(
                5,
                4,
                1,
                4,
                4,
                {"BOXES": 4, "MIXED": 2, "REGIONS": 2},
                [
                    (
                        "img_1.png",
                        "REGIONS",
                        "polygon not written: its outer ring has fewer than 3 vertices (degenerate)",
                    )
                ],
                [
                    "jobs not exported (COCO takes OBJECT_DETECTION jobs with rectangle, polygon or semantic tools): "
                    + UNEXPORTED_DETECTION,
                    "job REGIONS: regions with holes are written as uncompressed RLE masks (iscrowd 0), since a COCO "
                    "polygon cannot hold a hole",
                ],
            ),
            "video": Exported(1, 1, 0, 1, 2, VIDEO_TRACK),
            "text": input_type_refused("coco", "TEXT", "kili, raw, simple"),
            "pdf": input_type_refused("coco", "PDF", "kili, raw, simple"),
            "geospatial": input_type_refused("coco", "GEOSPATIAL", "geojson, kili, raw, simple"),
            "classes_only": no_job_refused("coco", "an OBJECT_DETECTION job with rectangle, polygon or semantic tools"),
        },
        project="image",
        refused={
            "normalized_coordinates": (
                {"normalized_coordinates": True},
                option_refused(
                    "normalized_coordinates",
                    "True",
                    "coco",
                    "COCO coordinates are in pixels. Use normalized_coordinates=None (the default) or False.",
                ),
            ),
            "dataset_root": (
                {"dataset_root": "/data/street", "split": "train=0.8,val=0.2"},
                option_refused(
                    "dataset_root",
                    "'/data/street'",
                    "coco",
                    "COCO files name their images relative to the archive root (data/<name>) and hold no dataset "
                    "path. Leave dataset_root out, and give the unzipped folder as the image root to the training "
                    "code.",
                ),
            ),
        },
        noted={},
        failure=Failure(
            "image",
            STRICT_IMAGE,
            "Asset 'img_1.png', job 'REGIONS': polygon not written: its outer ring has fewer than 3 vertices "
            "(degenerate)" + STRICT_SUFFIX,
        ),
    )


#: yolo_v4 (Darknet) writes boxes only: the regions of the representative project become their boxes.
_DARKNET_NOTES = [
    "yolo_v4, job REGIONS: 2 polygons/semantic regions written as their bounding boxes: yolo_v4 is Darknet's format, "
    "whose label reader takes box rows only (5 values); use yolo_v8 for segments",
    "yolo_v4, job MIXED: 1 polygon/semantic region written as its bounding box: yolo_v4 is Darknet's format, whose "
    "label reader takes box rows only (5 values); use yolo_v8 for segments",
]


def _segment_notes(fmt: str) -> list[str]:
    return [
        f"{fmt}, job MIXED: rectangles written as 4-point polygons, because rectangles and polygons/semantic regions "
        "can meet in one label file and YOLO training code rejects files that mix box rows and segment rows",
        "job REGIONS: holes dropped from 1 region; a YOLO segment has one ring, so only the outer ring is written",
    ]


def _yolo(fmt: str) -> Contract:
    refused = {
        "single_file": (
            {"single_file": True},
            option_refused(
                "single_file",
                "True",
                fmt,
                "YOLO writes one label file per image or video frame. Use single_file=False (the default).",
            ),
        ),
        "normalized_coordinates": (
            {"normalized_coordinates": False},
            option_refused(
                "normalized_coordinates",
                "False",
                fmt,
                "YOLO coordinates are always normalized to [0, 1]. Use normalized_coordinates=None (the default) or "
                "True.",
            ),
        ),
    }
    if fmt == "yolo_v4":
        refused["split"] = (
            {"split": "train=0.8,val=0.2"},
            option_refused(
                "split",
                SPLIT_SHOWN,
                fmt,
                "Darknet (YOLOv4) lists the images of each split in train.txt and valid.txt files, which this export "
                "does not write. Use yolo_v5, yolo_v7 or yolo_v8: they write the same label files, in images/<split> "
                "and labels/<split> folders with a data.yaml.",
            ),
        )
        refused["dataset_root"] = (
            {"dataset_root": "/data/street"},
            option_refused("dataset_root", "'/data/street'", fmt, NO_DATASET_ROOT),
        )
        refused["dataset_layout"] = (
            {"dataset_layout": "standard"},
            option_refused("dataset_layout", "'standard'", fmt, OWN_LAYOUT),
        )
    return Contract(
        exports={
            "image": Exported(
                5,
                4,
                1,
                4,
                17,  # 3 job folders × (4 label files + classes.txt or data.yaml), remote_assets.csv, README
                {"BOXES": 4, "MIXED": 2, "REGIONS": 2},
                [("img_1.png", "REGIONS", "polygon with fewer than 3 vertices")],
                [
                    "jobs not exported (YOLO takes OBJECT_DETECTION jobs whose tools are all among rectangle, polygon "
                    "and semantic): " + UNEXPORTED_DETECTION,
                    *(_DARKNET_NOTES if fmt == "yolo_v4" else _segment_notes(fmt)),
                ],
            ),
            # 2 annotated frames, classes.txt or data.yaml, video_meta.json, remote_assets.csv, README
            "video": Exported(1, 1, 0, 1, 6, VIDEO_TRACK),
            "text": input_type_refused(fmt, "TEXT", "kili, raw, simple"),
            "pdf": input_type_refused(fmt, "PDF", "kili, raw, simple"),
            "geospatial": input_type_refused(fmt, "GEOSPATIAL", "geojson, kili, raw, simple"),
            "classes_only": no_job_refused(
                fmt, "an OBJECT_DETECTION job whose tools are all among rectangle, polygon and semantic"
            ),
        },
        project="image",
        refused=refused,
        noted={"annotation_modifier": MODIFIER_NOTE.format(fmt=fmt)},
        failure=Failure(
            "image",
            STRICT_IMAGE,
            "Asset 'img_1.png', job 'REGIONS': polygon with fewer than 3 vertices" + STRICT_SUFFIX,
        ),
    )


def _pascal_voc() -> Contract:
    fmt = "pascal_voc"
    return Contract(
        exports={
            "image": Exported(
                5,
                4,
                1,
                4,
                13,  # 3 job folders × 4 XML files, README
                {"BOXES": 4, "MIXED": 2, "REGIONS": 2},
                [("img_1.png", "REGIONS", "polygon with fewer than 3 vertices")],
                [
                    "jobs not exported (Pascal VOC takes OBJECT_DETECTION jobs with a rectangle, polygon or semantic "
                    "tool): " + UNEXPORTED_DETECTION,
                    "job REGIONS: 2 polygons written as bounding boxes (Pascal VOC has boxes only)",
                    "job MIXED: 1 polygon written as bounding boxes (Pascal VOC has boxes only)",
                ],
            ),
            "video": Exported(1, 1, 0, 1, 4, VIDEO_TRACK),  # one XML file per frame, README
            "text": input_type_refused(fmt, "TEXT", "kili, raw, simple"),
            "pdf": input_type_refused(fmt, "PDF", "kili, raw, simple"),
            "geospatial": input_type_refused(fmt, "GEOSPATIAL", "geojson, kili, raw, simple"),
            "classes_only": no_job_refused(fmt, "an OBJECT_DETECTION job with a rectangle, polygon or semantic tool"),
        },
        project="image",
        refused={
            "single_file": (
                {"single_file": True},
                option_refused(
                    "single_file",
                    "True",
                    fmt,
                    "Pascal VOC writes one XML file per image or video frame. Use single_file=False (the default).",
                ),
            ),
            "normalized_coordinates": (
                {"normalized_coordinates": True},
                option_refused(
                    "normalized_coordinates",
                    "True",
                    fmt,
                    "Pascal VOC boxes are in whole pixels. Use normalized_coordinates=None (the default) or False.",
                ),
            ),
            "split": ({"split": "train=0.8,val=0.2"}, option_refused("split", SPLIT_SHOWN, fmt, NO_SPLIT)),
            "dataset_root": (
                {"dataset_root": "/data/street"},
                option_refused("dataset_root", "'/data/street'", fmt, NO_DATASET_ROOT),
            ),
        },
        noted={"annotation_modifier": MODIFIER_NOTE.format(fmt=fmt)},
        failure=Failure(
            "image",
            STRICT_IMAGE,
            "Asset 'img_1.png', job 'REGIONS': polygon with fewer than 3 vertices" + STRICT_SUFFIX,
        ),
    )


def _kili() -> Contract:
    fmt = "kili"
    return Contract(
        exports={
            # one label file per exported asset, README
            "image": Exported(5, 4, 1, 4, 5, {"BOXES": 4, "KEYPOINTS": 2, "MIXED": 2, "REGIONS": 3, "WEATHER": 1}),
            "video": Exported(1, 1, 0, 1, 2, VIDEO_TRACK),
            "text": Exported(1, 1, 0, 1, 2, {"NER": 2, "TOPIC": 1}),
            "pdf": Exported(1, 1, 0, 1, 2, {"NER": 1}),
            "geospatial": Exported(
                4, 3, 1, 3, 4, {"LAND": 3, "NOTES": 1, "PARCELS": 5, "POINTS": 4, "SEASON": 1, "SHAPES": 1}
            ),
            "classes_only": Exported(1, 1, 0, 1, 2, {"WEATHER": 1}),
        },
        project="image",
        refused={
            "split": ({"split": "train=0.8,val=0.2"}, option_refused("split", SPLIT_SHOWN, fmt, NO_SPLIT)),
            "dataset_root": (
                {"dataset_root": "/data/street"},
                option_refused("dataset_root", "'/data/street'", fmt, NO_DATASET_ROOT),
            ),
            "dataset_layout": (
                {"dataset_layout": "standard"},
                option_refused("dataset_layout", "'standard'", fmt, OWN_LAYOUT),
            ),
        },
        noted={"annotation_modifier": MODIFIER_NOTE.format(fmt=fmt)},
        failure=Failure(
            "pdf",
            {"strict": True, "normalized_coordinates": False},
            "Asset 'invoice.pdf': pixel coordinates not added: the PDF has no pageResolutions; set them with "
            "update_properties_in_assets(page_resolutions_array=...)" + STRICT_SUFFIX,
        ),
    )


GEO_JOB_NOT_EXPORTED = (
    "job not exported: GeoJSON takes OBJECT_DETECTION jobs with rectangle, polygon, semantic, marker or polyline "
    "tools, CLASSIFICATION and TRANSCRIPTION jobs"
)


def _geojson() -> Contract:
    fmt = "geojson"
    return Contract(
        exports={
            # none of the image project's assets is georeferenced: refused before anything is written
            "image": Refused(
                "Project <project>: none of the 5 assets selected is georeferenced, and format 'geojson' exports "
                "georeferenced assets only (a jsonContent list whose first item has 'epsg', not 'TiledImage', and "
                "'useClassicCoordinates': false). Formats that can export this project: coco, kili, pascal_voc, "
                "raw, simple, yolo_v4, yolo_v5, yolo_v7, yolo_v8."
            ),
            "video": input_type_refused(fmt, "VIDEO", DETECTION_FORMATS),
            "text": input_type_refused(fmt, "TEXT", "kili, raw, simple"),
            "pdf": input_type_refused(fmt, "PDF", "kili, raw, simple"),
            # 3 assets × 5 job folders (PARCELS, LAND, POINTS, SEASON, NOTES), README
            "geospatial": Exported(
                4,
                3,
                1,
                3,
                16,
                {"LAND": 3, "NOTES": 1, "PARCELS": 4, "POINTS": 3, "SEASON": 1},
                [
                    ("field_1.tif", "SHAPES", GEO_JOB_NOT_EXPORTED),
                    (
                        "field_1.tif",
                        "PARCELS",
                        "polygon with zero area skipped: a GeoJSON polygon ring must enclose an area",
                    ),
                    (
                        "field_1.tif",
                        "LAND",
                        "semantic hole with zero area skipped: a GeoJSON polygon ring must enclose an area",
                    ),
                    (
                        "field_1.tif",
                        "POINTS",
                        "tool 'vector' skipped: it has no GeoJSON geometry (GeoJSON takes rectangle, polygon, "
                        "semantic, marker and polyline)",
                    ),
                ],
            ),
            "classes_only": no_job_refused(
                fmt, "an OBJECT_DETECTION job with rectangle, polygon, semantic, marker or polyline tools"
            ),
        },
        project="geospatial",
        refused={
            "single_file": (
                {"single_file": True},
                option_refused(
                    "single_file",
                    "True",
                    fmt,
                    "GeoJSON writes one FeatureCollection per asset. Use single_file=False (the default).",
                ),
            ),
            "normalized_coordinates": (
                {"normalized_coordinates": False},
                option_refused(
                    "normalized_coordinates",
                    "False",
                    fmt,
                    "GeoJSON coordinates are longitudes and latitudes, written as stored (never normalized, never "
                    "pixels). Leave normalized_coordinates=None (the default).",
                ),
            ),
            "split": ({"split": "train=0.8,val=0.2"}, option_refused("split", SPLIT_SHOWN, fmt, NO_SPLIT)),
            "dataset_root": (
                {"dataset_root": "/data/street"},
                option_refused("dataset_root", "'/data/street'", fmt, NO_DATASET_ROOT),
            ),
            "dataset_layout": (
                {"dataset_layout": "standard"},
                option_refused("dataset_layout", "'standard'", fmt, OWN_LAYOUT),
            ),
        },
        noted={"annotation_modifier": MODIFIER_NOTE.format(fmt=fmt)},
        failure=Failure(
            "geospatial", {"strict": True}, f"Asset 'field_1.tif', job 'SHAPES': {GEO_JOB_NOT_EXPORTED}{STRICT_SUFFIX}"
        ),
    )


def one_job_refused(jobs: str, able: str) -> Refused:
    return Refused(
        f"Project <project> has {jobs}: format 'simple' holds the answer of a single job in each label, so it "
        f"exports only projects with one job. Formats that can export this project: {able}."
    )


def _simple() -> Contract:
    fmt = "simple"
    return Contract(
        exports={
            "image": one_job_refused(
                "5 jobs (BOXES (OBJECT_DETECTION, rectangle), REGIONS (OBJECT_DETECTION, polygon/semantic), MIXED "
                "(OBJECT_DETECTION, rectangle/polygon), KEYPOINTS (OBJECT_DETECTION, marker/polyline), WEATHER "
                "(CLASSIFICATION))",
                "coco, geojson, kili, pascal_voc, raw, yolo_v4, yolo_v5, yolo_v7, yolo_v8",
            ),
            "video": input_type_refused(fmt, "VIDEO", DETECTION_FORMATS),
            "text": one_job_refused("2 jobs (NER (NAMED_ENTITIES_RECOGNITION), TOPIC (CLASSIFICATION))", "kili, raw"),
            "pdf": Exported(1, 1, 0, 1, 2, {"NER": 1}),  # one label file, README
            "geospatial": one_job_refused(GEO_JOBS, "geojson, kili, raw"),
            "classes_only": Exported(1, 1, 0, 1, 2, {"WEATHER": 1}),
        },
        project="classes_only",
        refused={
            "normalized_coordinates": (
                {"normalized_coordinates": False},
                option_refused(
                    "normalized_coordinates",
                    "False",
                    fmt,
                    "the simple format holds normalized vertices only. Use normalized_coordinates=None (the default) "
                    "or True, or the kili format for pixel coordinates.",
                ),
            ),
            "split": ({"split": "train=0.8,val=0.2"}, option_refused("split", SPLIT_SHOWN, fmt, NO_SPLIT)),
            "dataset_root": (
                {"dataset_root": "/data/street"},
                option_refused("dataset_root", "'/data/street'", fmt, NO_DATASET_ROOT),
            ),
            "dataset_layout": (
                {"dataset_layout": "standard"},
                option_refused("dataset_layout", "'standard'", fmt, OWN_LAYOUT),
            ),
        },
        noted={"annotation_modifier": MODIFIER_NOTE.format(fmt=fmt)},
        # its one skippable item: media that cannot be fetched (a URL of the .invalid domain, offline)
        failure=Failure(
            "classes_only",
            {"strict": True, "with_assets": True},
            "",
            (
                "Asset 'sky.jpg': media not included: download of https://images.invalid/sky.jpg failed (",
                ")" + STRICT_SUFFIX,
            ),
        ),
    )


GEO_JOBS = (
    "6 jobs (PARCELS (OBJECT_DETECTION, rectangle/polygon), LAND (OBJECT_DETECTION, semantic), POINTS "
    "(OBJECT_DETECTION, marker/polyline/vector), SEASON (CLASSIFICATION), NOTES (TRANSCRIPTION), SHAPES "
    "(OBJECT_DETECTION, pose))"
)


#: The contract of every export format, by name. A format registered without one fails the contract tests.
CONTRACTS: dict[str, Contract] = {
    "coco": _coco(),
    "geojson": _geojson(),
    "kili": _kili(),
    "pascal_voc": _pascal_voc(),
    "simple": _simple(),
    **{fmt: _yolo(fmt) for fmt in ("yolo_v4", "yolo_v5", "yolo_v7", "yolo_v8")},
}


def missing_contracts(registered: list[str]) -> list[str]:
    """The registered formats without a contract, by name."""
    return [name for name in registered if name not in CONTRACTS]


# -- comparing archives ---------------------------------------------------------------------------------

#: What differs between two exports of the same store state by design: the export date in README.kili.txt
#: and COCO's ``info.date_created``.
_DATES = re.compile(rb'("date_created":"|- Export date: )[^"\n]*')


def without_dates(members: dict[str, bytes]) -> dict[str, bytes]:
    return {name: _DATES.sub(rb"\1<date>", data) for name, data in members.items()}
