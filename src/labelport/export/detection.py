"""What the detection formats share (COCO, YOLO, Pascal VOC): the shapes read from annotations, the frames
of a video label, the names of label files and the words of the report.

Coordinates stay normalized here: each format turns a :class:`Shape` into its own numbers (YOLO rows,
Pascal VOC whole pixels). No format module imports another (tests/export/test_format_imports.py): what
two of them need lives in a module like this one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from labelport.enums import Tool
from labelport.export import geometry
from labelport.export.geometry import Point
from labelport.export.model import ExportAsset, ExportContext, Frame
from labelport.export.names import safe_path, strip_image_suffix
from labelport.ontology import Job

#: The tools whose annotations have a ``boundingPoly`` that YOLO and Pascal VOC can write.
SHAPE_TOOLS = frozenset({Tool.RECTANGLE, Tool.POLYGON, Tool.SEMANTIC})


@dataclass(frozen=True)
class Shape:
    """The geometry and categories of one rectangle/polygon/semantic annotation, rotation undone."""

    tool: str
    outer: list[Point]
    holes: int
    categories: list[str]


def read_shape(annotation: dict[str, Any], rotation: int, fmt: str) -> Shape | str:
    """The shape of an annotation, or the reason it has none (a tool that ``fmt``, named in the reason,
    cannot write; a malformed ring; no category)."""
    tool = annotation.get("type")
    if tool not in SHAPE_TOOLS:
        return f"{tool!r} annotations cannot be written in {fmt} (rectangle, polygon and semantic only)"
    polys = annotation.get("boundingPoly")
    if not isinstance(polys, list) or not polys or not isinstance(polys[0], dict):
        return "the annotation has no boundingPoly"
    vertices = polys[0].get("normalizedVertices")
    if not isinstance(vertices, list) or not vertices:
        return "the annotation has no normalizedVertices"
    try:
        outer = geometry.ring(vertices, rotation)
    except (KeyError, TypeError, ValueError):
        return "the annotation has malformed vertices (each needs numeric x and y)"
    categories = [c["name"] for c in annotation.get("categories") or [] if isinstance(c, dict) and "name" in c]
    if not categories:
        return "the annotation has no category"
    return Shape(str(tool), outer, len(polys) - 1, categories)


def annotations_of(response: dict[str, Any], job_name: str) -> list[dict[str, Any]]:
    value = response.get(job_name)
    annotations = value.get("annotations") if isinstance(value, dict) else None
    return [a for a in annotations if isinstance(a, dict)] if isinstance(annotations, list) else []


def frame_responses(response: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The frames of a VIDEO label (``{"0": {...}, "1": {...}}``) as ``(index, response)``, by index."""
    return sorted((int(key), value) for key, value in response.items() if key.isdigit() and isinstance(value, dict))


def frame_count(asset: ExportAsset, frames: Sequence[tuple[int, Any]]) -> int:
    """The number of frames of a video: its frame list, else what its label covers."""
    return len(asset.frames) if asset.frames else max((index for index, _ in frames), default=-1) + 1


def frame_stem(name: str, index: int, count: int) -> str:
    """``clip`` frame 0 of 12 → ``clip_01``: 1-based, zero-padded to the digits of the frame count."""
    return f"{name}_{index + 1:0{len(str(count))}d}"


def frame_at(asset: ExportAsset, index: int) -> Frame | None:
    return asset.frames[index] if 0 <= index < len(asset.frames) and asset.frames[index].index == index else None


def frame_endings(
    asset: ExportAsset, indexes: Iterable[int], count: int, label: str, default_suffix: str | None = None
) -> list[str]:
    """What follows a video's name in the names of its frames' files, for ``NameAllocator``: ``_01.txt`` and
    ``_01.jpg`` for frame 0 of 12 (the frame's image suffix; ``default_suffix`` when it has no media, else no
    image file)."""
    endings = []
    for index in indexes:
        number = frame_stem("", index, count)
        endings.append(number + label)
        media = frame_at(asset, index)
        suffix = media.suffix if media is not None else default_suffix
        if suffix is not None:
            endings.append(number + suffix)
    return endings


def plural(number: int, noun: str) -> str:
    """``1 polygon``, ``2 polygons``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def note_unexported(ctx: ExportContext, takes: str) -> None:
    """Say which root jobs the format leaves out (``takes``: which jobs it takes, in words)."""
    exported = {job.name for job in ctx.jobs}
    left = [job for job in ctx.ontology.root_jobs if job.name not in exported]
    if left:
        described = ", ".join(
            f"{job.name} ({job.ml_task}{', ' + '/'.join(job.tools) if job.tools else ''})" for job in left
        )
        ctx.report.note(f"jobs not exported ({takes}): {described}")


def missing_frames(number: int) -> str:
    """The reason frames of a video have no media in the archive."""
    return (
        f"media not included: {plural(number, 'frame')} without a stored image or URL "
        "(labelport does not cut video files into frames; import videos as frame lists)"
    )


def job_folder(job: Job) -> str:
    """The folder of a job in the split layout."""
    return safe_path(job.name).replace("/", "_")


def asset_stem(external_id: str) -> str:
    """``folder/img 3.png`` → ``folder/img_3``: the name of an asset's label file, without extension."""
    return strip_image_suffix(safe_path(external_id))
