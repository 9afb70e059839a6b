"""Labels as SVG shapes over an image: boxes, polygons, semantic regions with holes, points, lines.

The SVG's ``viewBox`` is the image's pixel size (its ``resolution``; 1×1 when unknown), so a shape's
coordinates are the label's normalized ones times the size, and the SVG scales with the image. Each
shape carries ``data-mid``, ``data-job`` and ``data-category``, in its category's colour from the
ontology (else a fixed palette, in ontology order, like ``labelport preview``). A rotation recorded in
``ROTATION_JOB`` is undone, as the exports undo it. Answers of classification and transcription jobs
are listed as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from labelport.colors import PALETTE, category_colors
from labelport.enums import SPECIAL_RESPONSE_KEYS, MLTask, Tool
from labelport.export.geometry import Point, ring, rotation_of, unrotate
from labelport.ontology import Job, Ontology

#: An SVG element before its styling: the tag, its geometric attributes, whether it is filled.
_Drawn = tuple[str, tuple[tuple[str, str], ...], bool]


@dataclass(frozen=True)
class Shape:
    """One SVG element: ``tag`` (rect, polygon, path, polyline, circle) and its geometry attributes."""

    tag: str
    attrs: tuple[tuple[str, str], ...]
    mid: str
    job: str
    category: str
    name: str
    color: str
    filled: bool

    def svg(self) -> Markup:
        """The element, every value escaped."""
        attrs = "".join(f' {name}="{escape(value)}"' for name, value in self.attrs)
        css = "shape filled" if self.filled else "shape"
        return Markup(
            f'<{self.tag}{attrs} class="{css}" stroke="{escape(self.color)}" '
            f'fill="{escape(self.color) if self.filled else "none"}" data-mid="{escape(self.mid)}" '
            f'data-job="{escape(self.job)}" data-category="{escape(self.category)}">'
            f"<title>{escape(self.name)}</title></{self.tag}>"
        )


@dataclass(frozen=True)
class Answer:
    """A classification or transcription answer, as text."""

    job: str
    instruction: str
    text: str


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _points_attr(points: Iterable[Point], width: float, height: float) -> str:
    return " ".join(f"{_num(x * width)},{_num(y * height)}" for x, y in points)


def _vertices(value: Any, rotation: int) -> list[Point]:
    if not isinstance(value, list):
        return []
    try:
        return ring([v for v in value if isinstance(v, dict)], rotation)
    except (KeyError, TypeError, ValueError):
        return []


def _annotation_shapes(
    annotation: dict[str, Any], job: Job, color: str, width: float, height: float, rotation: int
) -> list[_Drawn]:
    tool = str(annotation.get("type") or (job.tools[0] if job.tools else ""))
    polys = [p for p in annotation.get("boundingPoly") or [] if isinstance(p, dict)]
    if tool == Tool.RECTANGLE:
        out: list[_Drawn] = []
        for poly in polys:
            points = _vertices(poly.get("normalizedVertices"), rotation)
            if points:
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                x, y = min(xs) * width, min(ys) * height
                attrs = (
                    ("x", _num(x)),
                    ("y", _num(y)),
                    ("width", _num(max(xs) * width - x)),
                    ("height", _num(max(ys) * height - y)),
                )
                out.append(("rect", attrs, False))
        return out
    if tool == Tool.POLYGON:
        rings = [_vertices(poly.get("normalizedVertices"), rotation) for poly in polys]
        return [("polygon", (("points", _points_attr(r, width, height)),), True) for r in rings if r]
    if tool == Tool.SEMANTIC:
        # one path per region: its outer ring then its holes, filled even-odd so the holes stay open
        rings = [_vertices(poly.get("normalizedVertices"), rotation) for poly in polys]
        d = " ".join("M" + " L".join(f"{_num(x * width)},{_num(y * height)}" for x, y in r) + " Z" for r in rings if r)
        return [("path", (("d", d), ("fill-rule", "evenodd")), True)] if d else []
    if tool in (Tool.POLYLINE, Tool.VECTOR):
        points = _vertices(annotation.get("polyline"), rotation)
        return [("polyline", (("points", _points_attr(points, width, height)),), False)] if points else []
    if tool in (Tool.MARKER, Tool.POSE):
        found = []
        point = annotation.get("point")
        if isinstance(point, dict) and "x" in point and "y" in point:
            found.append(point)
        found += [p["point"] for p in annotation.get("points") or [] if isinstance(p, dict) and "point" in p]
        radius = _num(max(width, height) / 160)
        out = []
        for item in found:
            try:
                x, y = unrotate(float(item["x"]), float(item["y"]), rotation)
            except (KeyError, TypeError, ValueError):
                continue
            out.append(("circle", (("cx", _num(x * width)), ("cy", _num(y * height)), ("r", radius)), True))
        return out
    return []


def shapes(response: Any, ontology: Ontology, width: int | None, height: int | None) -> list[Shape]:
    """The SVG shapes of a jsonResponse's object jobs (child jobs' objects included), in response order."""
    if not isinstance(response, dict):
        return []
    w, h = float(width or 1), float(height or 1)
    colors = category_colors(ontology)
    rotation = rotation_of(response)
    found: list[Shape] = []
    for job_name, value in response.items():
        job = ontology.jobs.get(job_name)
        if job_name in SPECIAL_RESPONSE_KEYS or job is None or not job.is_object_job or not isinstance(value, dict):
            continue
        for index, annotation in enumerate(value.get("annotations") or []):
            if not isinstance(annotation, dict):
                continue
            categories = annotation.get("categories") or [{}]
            key = str(categories[0].get("name", "")) if isinstance(categories[0], dict) else ""
            category = job.categories.get(key)
            color = colors.get((job_name, key), PALETTE[0])
            mid = str(annotation.get("mid") or f"{job_name}-{index}")
            for tag, attrs, filled in _annotation_shapes(annotation, job, color, w, h, rotation):
                name = category.name if category else key
                found.append(Shape(tag, attrs, mid, job_name, key, name, color, filled))
    return found


def answers(response: Any, ontology: Ontology) -> list[Answer]:
    """The classification answers (child answers in parentheses) and transcriptions of a jsonResponse,
    also those nested under objects."""
    found: list[Answer] = []

    def walk(value: Any) -> None:
        if not isinstance(value, dict):
            return
        for job_name, entry in value.items():
            job = ontology.jobs.get(job_name)
            if job is None or not isinstance(entry, dict):
                continue
            if job.ml_task == MLTask.CLASSIFICATION:
                names = []
                for chosen in entry.get("categories") or []:
                    if isinstance(chosen, dict):
                        category = job.categories.get(str(chosen.get("name")))
                        names.append(category.name if category else str(chosen.get("name")))
                        walk(chosen.get("children"))
                if names:
                    found.append(Answer(job_name, job.instruction or job_name, ", ".join(names)))
            elif job.ml_task == MLTask.TRANSCRIPTION and isinstance(entry.get("text"), str):
                found.append(Answer(job_name, job.instruction or job_name, entry["text"]))
            for annotation in entry.get("annotations") or []:
                if isinstance(annotation, dict):
                    walk(annotation.get("children"))

    walk(response)
    return found


def frames_of(response: Any) -> dict[int, Any] | None:
    """A video label's responses per frame (its keys are frame numbers), else None."""
    if not isinstance(response, dict) or not response:
        return None
    keys = [key for key in response if key not in SPECIAL_RESPONSE_KEYS]
    if not keys or not all(isinstance(key, str) and key.isdigit() for key in keys):
        return None
    return {int(key): response[key] for key in keys}
