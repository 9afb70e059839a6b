"""Shared by the YOLO and Pascal VOC tests: export helpers, the expected boxes of the image project,
a writer harness for data the API refuses to store, and the rules YOLO training code applies."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from labelport import Client
from labelport.export import formats
from labelport.export.archive import atomic_archive
from labelport.export.model import ExportAsset, ExportContext, ExportLabel, ExportOptions, Frame
from labelport.export.report import ExportReport
from labelport.ontology import Ontology
from tests.export.projects import normalize_ids
from tests.golden import default_normalize, read_archive

#: Image sizes of the image project (width, height), by label stem.
SIZES: dict[str, tuple[int, int]] = {
    "img_1": (200, 100),
    "img_2": (80, 160),
    "folder/img_3": (64, 64),
    "remote_4": (400, 300),
}

#: The pixel boxes (xmin, ymin, xmax, ymax) of the image project, by stem and job, computed by hand from
#: IMAGE_LABELS: img_2's label was drawn on a view turned by 90°, its box on the image is x 0.1–0.5, y 0.7–0.9.
#: The 2-vertex polygon of img_1 is degenerate and never written.
EXPECTED_BOXES: dict[str, dict[str, list[tuple[str, tuple[int, int, int, int]]]]] = {
    "img_1": {
        "BOXES": [("CAR", (20, 20, 100, 60)), ("PERSON", (120, 10, 140, 90))],
        "REGIONS": [("ROAD", (0, 70, 200, 100)), ("SKY", (0, 0, 200, 40))],
        "MIXED": [("TREE", (160, 50, 180, 80)), ("SIGN", (140, 10, 160, 20))],
    },
    "img_2": {"BOXES": [("PERSON", (8, 112, 40, 144))], "REGIONS": [], "MIXED": []},
    "folder/img_3": {"BOXES": [], "REGIONS": [], "MIXED": []},
    "remote_4": {"BOXES": [("CAR", (100, 75, 300, 225))], "REGIONS": [], "MIXED": []},
}
JOBS = ("BOXES", "REGIONS", "MIXED")

_STORED = re.compile(rb"/media/[0-9a-f]{2}/[0-9a-f]{64}")


def export(client: Client, project_id: str, path: Path, fmt: str, **options: Any) -> ExportReport:
    options.setdefault("disable_tqdm", True)
    return client.export_labels(project_id, str(path), fmt, **options)


def normalizer(tmp_path: Path) -> Any:
    """Golden normalization: the README's ids and date, the store's paths in remote_assets.csv."""

    def normalize(name: str, data: bytes) -> bytes:
        if name.endswith("README.kili.txt"):
            return normalize_ids(name, data)
        return _STORED.sub(b"/media/<sha256>", default_normalize(name, data).replace(str(tmp_path).encode(), b"<tmp>"))

    return normalize


def extract(archive: Path, folder: Path) -> Path:
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
    return folder


def label_members(members: dict[str, bytes]) -> dict[str, bytes]:
    """Every member but the README (whose date changes) and the media."""
    return {name: data for name, data in members.items() if name != "README.kili.txt"}


# -- the rules YOLO training code applies to a label file --------------------------------------------


def yolo_row_kind(line: str, classes: int) -> str:
    """``box`` or ``segment``; fails when Ultralytics-style checks would reject the row."""
    cls, *values = line.split(" ")
    assert cls.isdigit() and int(cls) < classes, line
    numbers = [float(value) for value in values]
    assert all(0.0 <= number <= 1.0 for number in numbers), line
    if len(numbers) == 4:
        assert numbers[2] > 0 and numbers[3] > 0, line
        return "box"
    assert len(numbers) >= 6 and len(numbers) % 2 == 0, line
    return "segment"


def check_yolo_file(text: str, classes: int) -> set[str]:
    """The kinds of rows of one label file, which must not mix boxes and segments."""
    assert text == "" or text.endswith("\n")
    kinds = {yolo_row_kind(line, classes) for line in text.splitlines()}
    assert len(kinds) <= 1, f"a label file mixes box and segment rows: {text!r}"
    return kinds


# -- a writer run on hand-made assets (data the API refuses to store) ------------------------------


def make_asset(
    external_id: str,
    response: dict[str, Any],
    resolution: tuple[int, int] | None = (100, 100),
    frames: list[Frame] | None = None,
) -> ExportAsset:
    label = ExportLabel(
        id="label",
        label_type="DEFAULT",
        created_at="2024-05-01T10:00:00.000Z",
        author={"email": "a@example.com"},
        json_response=response,
        is_latest_for_user=True,
        is_sent_back_to_queue=False,
        model_name=None,
        seconds_to_label=None,
    )
    return ExportAsset(
        id="asset",
        external_id=external_id,
        content=f"https://images.invalid/{external_id}.jpg",
        media_path=None,
        json_content="",
        json_metadata={},
        status="LABELED",
        resolution=resolution,
        page_resolutions=[],
        frames=frames or [],
        labels=[label],
    )


def run_writer(
    tmp_path: Path,
    fmt: str,
    interface: dict[str, Any],
    assets: list[ExportAsset],
    input_type: str = "IMAGE",
    **options: Any,
) -> tuple[ExportReport, dict[str, bytes]]:
    """Run a format's writer directly, as the pipeline does, on assets built in the test."""
    spec = formats.get(fmt)
    ontology = Ontology.from_json(interface)
    report = ExportReport(project_id="project", fmt=fmt)
    path = tmp_path / f"{fmt}-writer.zip"
    with atomic_archive(path) as archive:
        ctx = ExportContext(
            project_id="project",
            title="t",
            description="",
            input_type=input_type,
            ontology=ontology,
            jobs=spec.compatible_jobs(ontology.root_jobs),
            options=ExportOptions(fmt=fmt, **{"with_assets": False, **options}),
            archive=archive,
            report=report,
            media_folder=spec.media_folder,
        )
        writer = spec.writer(ctx)
        writer.open()
        for asset in assets:
            writer.write_asset(asset)
        writer.close()
        report.renamed.extend(ctx.extras.get("renamed", []))
    return report, read_archive(path)


def od_interface(tools: list[str], categories: tuple[str, ...] = ("A", "B"), name: str = "JOB") -> dict[str, Any]:
    return {
        "jobs": {
            name: {
                "mlTask": "OBJECT_DETECTION",
                "tools": tools,
                "instruction": "Objects",
                "required": 0,
                "isChild": False,
                "content": {"input": "radio", "categories": {key: {"name": key.title()} for key in categories}},
            }
        }
    }


def vertices(*points: tuple[float, float]) -> list[dict[str, float]]:
    return [{"x": x, "y": y} for x, y in points]


def shape(tool: str, category: str, *rings: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "mid": f"{tool}-{category}",
        "type": tool,
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": ring} for ring in rings],
    }
