"""A contact sheet of a project's images with their latest labels drawn on them.

The quickest way to see that labels (and the exports made from them) sit where they should:
boxes and polygons are outlined in their category's colour, semantic regions are filled
semi-transparent, markers are dots, polylines are lines, and each object carries its category name
(and the answers of its child jobs). Classification answers go under the image. A rotation recorded
in ``ROTATION_JOB`` is undone as the exports undo it, so the drawing is in the image's own axes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError
from tqdm import tqdm

from labelport.client import Client
from labelport.colors import PALETTE
from labelport.colors import category_colors as hex_colors
from labelport.enums import SPECIAL_RESPONSE_KEYS, InputType, MLTask, Tool
from labelport.errors import NotFound, ValidationError, a_or_an
from labelport.export.geometry import Point, bounds, ring, rotation_of, unrotate
from labelport.ontology import Job, Ontology

RGB = tuple[int, int, int]

LINE_WIDTH = 2
MARKER_RADIUS = 4
FILL_ALPHA = 96
PAD = 8
BACKGROUND: RGB = (32, 32, 36)
TEXT: RGB = (230, 230, 230)
SUPPORTED_SUFFIXES = (".png", ".jpg", ".jpeg")
_FIELDS = ["externalId", "content", "status", "latestLabel.jsonResponse"]


@dataclass(frozen=True)
class Tile:
    """One image of the sheet: where it was pasted (left, top, width, height) and what was drawn."""

    external_id: str
    box: tuple[int, int, int, int]
    annotations: int
    labeled: bool


@dataclass
class PreviewReport:
    """What ``render_preview`` drew; ``str(report)`` is the text the CLI prints."""

    project_id: str
    path: Path
    tiles: list[Tile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        drawn = sum(tile.annotations for tile in self.tiles)
        unlabeled = sum(not tile.labeled for tile in self.tiles)
        lines = [
            f"Wrote {self.path}: {len(self.tiles)} image(s) of project {self.project_id}, "
            f"{drawn} annotation(s) drawn from their latest labels"
            + (f" ({unlabeled} image(s) without a label)." if unlabeled else ".")
        ]
        lines += [f"  skipped {external_id}: {reason}" for external_id, reason in self.skipped]
        return "\n".join(lines)


def hex_to_rgb(color: str) -> RGB:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def category_colors(ontology: Ontology) -> dict[tuple[str, str], RGB]:
    """The colour of every (job, category) of the object jobs (:func:`labelport.colors.category_colors`, as RGB)."""
    return {key: hex_to_rgb(color) for key, color in hex_colors(ontology).items()}


# -- what a label asks to draw ------------------------------------------------------------------------


@dataclass
class Mark:
    """One annotation, in normalized image coordinates (rotation undone).

    ``rings``: for a rectangle, its vertices (their bounds are drawn); for a polygon or a semantic
    region, the outer ring then the holes; for a polyline or a vector, its vertices; for a marker or
    a pose, its points (one ring each time, except polygons and regions)."""

    tool: str
    color: RGB
    text: str
    rings: list[list[Point]]


def _category_names(job: Job, entries: Any) -> list[str]:
    names = []
    for entry in entries if isinstance(entries, list) else []:
        key = entry.get("name") if isinstance(entry, dict) else None
        category = job.categories.get(key) if isinstance(key, str) else None
        names.append(category.name if category else str(key))
    return names


def _child_answers(ontology: Ontology, children: Any) -> list[str]:
    """The category names chosen in child classification jobs, e.g. ``["Red"]``."""
    answers = []
    for child_name, value in (children or {}).items() if isinstance(children, dict) else ():
        child = ontology.jobs.get(child_name)
        if child is not None and isinstance(value, dict):
            answers += _category_names(child, value.get("categories"))
    return answers


def _points(vertices: Any, rotation: int) -> list[Point]:
    return ring(vertices, rotation) if isinstance(vertices, list) else []


def _annotation_rings(annotation: dict[str, Any], tool: str, rotation: int) -> list[list[Point]]:
    if tool in (Tool.RECTANGLE, Tool.POLYGON, Tool.SEMANTIC):
        polys = annotation.get("boundingPoly") or []
        return [_points(poly.get("normalizedVertices"), rotation) for poly in polys if isinstance(poly, dict)]
    if tool == Tool.MARKER:
        point = annotation.get("point") or {}
        return [[unrotate(float(point["x"]), float(point["y"]), rotation)]] if "x" in point else []
    if tool in (Tool.POLYLINE, Tool.VECTOR):
        return [_points(annotation.get("polyline"), rotation)]
    if tool == Tool.POSE:
        points = [p.get("point") for p in annotation.get("points") or [] if isinstance(p, dict)]
        return [_points([p for p in points if isinstance(p, dict)], rotation)]
    return []


def marks_of(response: dict[str, Any], ontology: Ontology, colors: dict[tuple[str, str], RGB]) -> list[Mark]:
    """The objects of a jsonResponse's object-detection and pose jobs, in response order."""
    rotation = rotation_of(response)
    marks = []
    for job_name, value in response.items():
        job = ontology.jobs.get(job_name)
        if job_name in SPECIAL_RESPONSE_KEYS or job is None or not job.is_object_job or not isinstance(value, dict):
            continue
        for annotation in value.get("annotations") or []:
            categories = annotation.get("categories") or [{}]
            key = categories[0].get("name")
            tool = str(annotation.get("type"))
            rings = [r for r in _annotation_rings(annotation, tool, rotation) if r]
            if not rings:
                continue
            names = _category_names(job, categories[:1])
            answers = _child_answers(ontology, annotation.get("children"))
            text = names[0] + (f" ({', '.join(answers)})" if answers else "")
            marks.append(Mark(tool, colors.get((job_name, key), hex_to_rgb(PALETTE[0])), text, rings))
    return marks


def classification_text(response: dict[str, Any], ontology: Ontology) -> str:
    """The answers of root classification jobs, e.g. ``"Striped (Vertical)"``."""
    parts = []
    for job_name, value in response.items():
        job = ontology.jobs.get(job_name)
        if job is None or job.is_child or job.ml_task != MLTask.CLASSIFICATION or not isinstance(value, dict):
            continue
        for entry in value.get("categories") or []:
            names = _category_names(job, [entry])
            answers = _child_answers(ontology, entry.get("children") if isinstance(entry, dict) else None)
            parts.append(names[0] + (f" ({', '.join(answers)})" if answers else ""))
    return ", ".join(parts)


# -- drawing ------------------------------------------------------------------------------------------


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()


def _text_size(font: Any, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text or " ")
    return int(right - left), int(bottom - min(top, 0))


def _fit(font: Any, text: str, width: int) -> str:
    """``text`` cut with ``...`` to fit ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _contrast(color: RGB) -> RGB:
    red, green, blue = color
    return (0, 0, 0) if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else (255, 255, 255)


def _pixels(points: Sequence[Point], size: tuple[int, int]) -> list[tuple[float, float]]:
    width, height = size
    return [(x * width, y * height) for x, y in points]


def _rectangle(points: Sequence[Point], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixels a normalized box covers: from round(x0·w) to round(x1·w) − 1 (and the same in y)."""
    x0, y0, x1, y1 = bounds(points)
    width, height = size
    left, top = round(x0 * width), round(y0 * height)
    return left, top, max(left, round(x1 * width) - 1), max(top, round(y1 * height) - 1)


def _fill_region(image: Image.Image, mark: Mark) -> Image.Image:
    """Composite a semantic region (outer ring minus holes) in its colour, semi-transparent."""
    mask = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(mask)
    outer, *holes = [_pixels(r, image.size) for r in mark.rings]
    if len(outer) >= 3:
        draw.polygon(outer, fill=FILL_ALPHA)
    for hole in holes:
        if len(hole) >= 3:
            draw.polygon(hole, fill=0)
    layer = Image.new("RGBA", image.size, (*mark.color, 0))
    layer.putalpha(mask)
    return Image.alpha_composite(image, layer)


def _draw_mark(draw: ImageDraw.ImageDraw, mark: Mark, size: tuple[int, int]) -> tuple[float, float]:
    """Draw one mark's outline, line or dots; return where its name goes (top-left of its bounds)."""
    if mark.tool == Tool.RECTANGLE:
        box = _rectangle(mark.rings[0], size)
        draw.rectangle(box, outline=mark.color, width=LINE_WIDTH)
        return box[0], box[1]
    pixel_rings = [_pixels(r, size) for r in mark.rings]
    if mark.tool in (Tool.POLYGON, Tool.SEMANTIC):
        for pixels in pixel_rings:
            if len(pixels) >= 3:
                draw.polygon(pixels, outline=mark.color, width=LINE_WIDTH)
            else:
                draw.line(pixels, fill=mark.color, width=LINE_WIDTH)
    elif mark.tool in (Tool.POLYLINE, Tool.VECTOR):
        draw.line(pixel_rings[0], fill=mark.color, width=LINE_WIDTH, joint="curve")
    else:  # marker, pose points
        for x, y in pixel_rings[0]:
            r = MARKER_RADIUS
            draw.ellipse((x - r, y - r, x + r, y + r), fill=mark.color, outline=(255, 255, 255))
    x0, y0, _x1, _y1 = bounds([point for pixels in pixel_rings for point in pixels])
    return x0, y0


def _draw_text(draw: ImageDraw.ImageDraw, font: Any, mark: Mark, at: tuple[float, float], width: int) -> None:
    """A name on a patch of its category's colour, above the object when there is room, else inside."""
    text, color = mark.text, mark.color
    text_w, text_h = _text_size(font, text)
    x = min(max(0, int(at[0])), max(0, width - text_w - 4))
    y = int(at[1]) - text_h - 4 - LINE_WIDTH
    if y < 0:
        y = int(at[1]) + LINE_WIDTH + 1
    draw.rectangle((x, y, x + text_w + 3, y + text_h + 2), fill=color)
    draw.text((x + 2, y + 1), text, fill=_contrast(color), font=font)


def draw_marks(image: Image.Image, marks: Sequence[Mark], font: Any) -> Image.Image:
    """The image with the marks drawn: region fills first, then outlines, lines and dots, then names."""
    canvas = image.convert("RGBA")
    for mark in marks:
        if mark.tool == Tool.SEMANTIC:
            canvas = _fill_region(canvas, mark)
    draw = ImageDraw.Draw(canvas)
    anchors = [_draw_mark(draw, mark, canvas.size) for mark in marks]
    for mark, anchor in zip(marks, anchors, strict=True):
        _draw_text(draw, font, mark, anchor, canvas.width)
    return canvas.convert("RGB")


# -- choosing the assets ------------------------------------------------------------------------------


def _selected_assets(client: Client, project_id: str, external_ids: Sequence[str] | None) -> Iterator[dict[str, Any]]:
    if external_ids is None:
        yield from client.assets(project_id, fields=_FIELDS, as_generator=True)
        return
    wanted = list(dict.fromkeys(external_ids))
    found = {
        row["externalId"]: row
        for row in client.assets(project_id, fields=_FIELDS, external_id_strictly_in=wanted, disable_tqdm=True)
    }
    missing = [value for value in wanted if value not in found]
    if missing:
        raise NotFound(
            f"No asset with external id {missing[0]!r} in project {project_id!r}; "
            f"list them with `labelport asset list --project-id {project_id}`."
        )
    yield from (found[value] for value in wanted)


def _open_image(asset: dict[str, Any]) -> tuple[Image.Image | None, str]:
    """The asset's stored image (EXIF orientation applied), or None and why it cannot be drawn."""
    content = str(asset.get("content") or "")
    if content.startswith(("http://", "https://")):
        return None, "its content is a URL; the preview draws stored files only"
    path = Path(content)
    if not content or not path.is_file():
        return None, f"its file {content or '(none)'} is missing"
    try:
        with Image.open(path) as opened:
            return ImageOps.exif_transpose(opened).convert("RGB"), ""
    except (UnidentifiedImageError, OSError) as error:
        return None, f"{path} is not an image Pillow can read ({error})"


def _thumbnail(image: Image.Image, thumb: int) -> Image.Image:
    scale = min(thumb / image.width, thumb / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)


@dataclass
class _Drawn:
    external_id: str
    image: Image.Image
    caption: str
    annotations: int
    labeled: bool


def _draw_asset(
    asset: dict[str, Any], image: Image.Image, ontology: Ontology, colors: dict[tuple[str, str], RGB], thumb: int
) -> _Drawn:
    label = asset.get("latestLabel") or None
    response = label.get("jsonResponse") if isinstance(label, dict) else None
    response = response if isinstance(response, dict) else {}
    marks = marks_of(response, ontology, colors)
    picture = draw_marks(_thumbnail(image, thumb), marks, _font())
    answers = classification_text(response, ontology)
    caption = answers if label else "no label"
    return _Drawn(str(asset["externalId"]), picture, caption, len(marks), bool(label))


# -- the sheet ----------------------------------------------------------------------------------------


def _legend_entries(ontology: Ontology, colors: dict[tuple[str, str], RGB]) -> list[tuple[str, RGB]]:
    return [
        (category.name, colors[(job.name, category.key)])
        for job in ontology
        if job.is_object_job
        for category in job.categories.values()
    ]


def _legend_lines(font: Any, entries: Sequence[tuple[str, RGB]], width: int) -> list[list[tuple[str, RGB, int]]]:
    """Legend entries flowed into lines of at most ``width`` pixels: (name, colour, x)."""
    lines: list[list[tuple[str, RGB, int]]] = [[]]
    x = PAD
    for name, color in entries:
        entry_width = 14 + int(font.getlength(name)) + 16
        if lines[-1] and x + entry_width > width:
            lines.append([])
            x = PAD
        lines[-1].append((name, color, x))
        x += entry_width
    return lines if lines[0] else []


def compose_sheet(
    drawn: Sequence[_Drawn], thumb: int, legend: Sequence[tuple[str, RGB]]
) -> tuple[Image.Image, list[Tile]]:
    """Lay the drawn images out in a grid with captions, and a legend of the category colours below."""
    font = _font()
    line_h = _text_size(font, "Ag")[1] + 3
    columns = max(1, math.ceil(math.sqrt(len(drawn))))
    rows = math.ceil(len(drawn) / columns)
    cell_w, cell_h = thumb + 2 * PAD, thumb + 2 * PAD + 2 * line_h
    width = columns * cell_w
    legend_lines = _legend_lines(font, legend, width)
    height = rows * cell_h + len(legend_lines) * line_h + (PAD if legend_lines else 0)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    tiles = []
    for index, item in enumerate(drawn):
        cell_x, cell_y = (index % columns) * cell_w, (index // columns) * cell_h
        left = cell_x + PAD + (thumb - item.image.width) // 2
        top = cell_y + PAD + (thumb - item.image.height) // 2
        sheet.paste(item.image, (left, top))
        caption_y = top + item.image.height + 2
        draw.text((cell_x + PAD, caption_y), _fit(font, item.external_id, thumb), fill=TEXT, font=font)
        draw.text((cell_x + PAD, caption_y + line_h), _fit(font, item.caption, thumb), fill=TEXT, font=font)
        tiles.append(
            Tile(item.external_id, (left, top, item.image.width, item.image.height), item.annotations, item.labeled)
        )
    for number, line in enumerate(legend_lines):
        y = rows * cell_h + PAD // 2 + number * line_h
        for name, color, x in line:
            draw.rectangle((x, y + 1, x + 9, y + 10), fill=color)
            draw.text((x + 14, y), name, fill=TEXT, font=font)
    return sheet, tiles


def _check_output(output: Path) -> None:
    if output.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValidationError(
            f"Cannot write the preview to {output}: give a file name ending with .png or .jpg, e.g. preview.png."
        )


def render_preview(
    client: Client,
    project_id: str,
    output: str | Path,
    external_ids: Sequence[str] | None = None,
    max_images: int = 16,
    thumb: int = 256,
    *,
    disable_tqdm: bool | None = None,
) -> PreviewReport:
    """Draw the latest label of up to ``max_images`` stored images of an IMAGE project on a contact
    sheet written to ``output`` (PNG or JPEG); return what was drawn and what was skipped.

    Assets are taken in creation order, or in the order of ``external_ids`` (unknown ones are an
    error). Assets whose content is a URL, or whose file is missing or unreadable, are skipped and
    reported. ``thumb`` is the side, in pixels, of the square each image is fitted into."""
    output = Path(output)
    _check_output(output)
    if max_images < 1 or thumb < 16:
        raise ValidationError(f"max_images must be ≥ 1 and thumb ≥ 16 pixels (got {max_images} and {thumb}).")
    project = client.projects(project_id=project_id, fields=["inputType", "jsonInterface"], disable_tqdm=True)
    if not project:
        client.count_assets(project_id)  # raises the store's NotFound
    if project[0]["inputType"] != InputType.IMAGE:
        raise ValidationError(
            f"Project {project_id!r} is {a_or_an(project[0]['inputType'])} project; the preview draws IMAGE "
            "projects only."
        )
    ontology = Ontology.from_json(project[0]["jsonInterface"])
    colors = category_colors(ontology)
    report = PreviewReport(project_id, output)
    drawn: list[_Drawn] = []
    with tqdm(total=max_images, desc="preview", unit=" images", disable=disable_tqdm, leave=False) as bar:
        for asset in _selected_assets(client, project_id, external_ids):
            if len(drawn) == max_images:
                break
            image, reason = _open_image(asset)
            if image is None:
                report.skipped.append((str(asset["externalId"]), reason))
                continue
            drawn.append(_draw_asset(asset, image, ontology, colors, thumb))
            bar.update(1)
    if not drawn:
        raise ValidationError(
            f"Nothing to preview in project {project_id!r}: no asset has a stored image"
            + (f" ({len(report.skipped)} skipped: {report.skipped[0][1]})." if report.skipped else ".")
        )
    sheet, report.tiles = compose_sheet(drawn, thumb, _legend_entries(ontology, colors))
    output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(output)
    return report
