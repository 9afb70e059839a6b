"""The demo: a sample IMAGE project built from generated scenes whose true shapes are known.

Each scene (Pillow, 320×240) holds squares and discs (a rectangle job), triangles (a polygon job),
sometimes a lake (a semantic job), on a plain or striped background (a classification job whose
STRIPED answer has a child job for the stripes' direction). Two labelers label every scene and
disagree a little (they draw a few pixels apart, and the second one sometimes misses a triangle or
reads the stripes wrong); a reviewer reviews every fifth scene with the exact shapes; the first
scene is a honeypot whose ground truth is the exact shapes. Consensus covers every asset with two
labelers, so every asset gets a consensus mark.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from labelport.client import Client
from labelport.export.geometry import Point

WIDTH, HEIGHT = 320, 240
CELL = 80  # scenes are laid out on a grid of 4 × 3 cells, one shape per cell
LIGHT, STRIPE = (228, 228, 218), (196, 198, 186)
FILLS = {"SQUARE": (229, 57, 53), "DISC": (30, 136, 229), "TRIANGLE": (67, 160, 71), "LAKE": (80, 170, 200)}

DEMO_INTERFACE: dict[str, Any] = {
    "jobs": {
        "SHAPES": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Draw a box around each square and disc",
            "required": 1,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {
                    "SQUARE": {"name": "Square", "children": [], "color": "#FFD600"},
                    "DISC": {"name": "Disc", "children": [], "color": "#FF6D00"},
                },
            },
        },
        "TRIANGLES": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["polygon"],
            "instruction": "Outline each triangle",
            "required": 0,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {"TRIANGLE": {"name": "Triangle", "children": [], "color": "#D500F9"}},
            },
        },
        "WATER": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["semantic"],
            "instruction": "Paint the lake",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"LAKE": {"name": "Lake", "children": [], "color": "#1A237E"}}},
        },
        "BACKGROUND": {
            "mlTask": "CLASSIFICATION",
            "instruction": "Background",
            "required": 1,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {
                    "PLAIN": {"name": "Plain", "children": []},
                    "STRIPED": {"name": "Striped", "children": ["STRIPES"]},
                },
            },
        },
        "STRIPES": {
            "mlTask": "CLASSIFICATION",
            "instruction": "Direction of the stripes",
            "required": 1,
            "isChild": True,
            "content": {
                "input": "radio",
                "categories": {"HORIZONTAL": {"name": "Horizontal"}, "VERTICAL": {"name": "Vertical"}},
            },
        },
    }
}

#: Who works on the demo project: (email, first name, last name, role).
MEMBERS = [
    ("alice@demo.labelport", "Alice", "Martin", "LABELER"),
    ("bob@demo.labelport", "Bob", "Durand", "LABELER"),
    ("carol@demo.labelport", "Carol", "Petit", "REVIEWER"),
]
ADMIN_EMAIL = "admin@demo.labelport"


@dataclass
class Scene:
    """A generated image and its true shapes, in normalized coordinates."""

    external_id: str
    path: Path
    boxes: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)  # x0, y0, x1, y1
    triangles: list[list[Point]] = field(default_factory=list)
    lake: list[Point] | None = None
    stripes: str | None = None  # None (plain), "HORIZONTAL" or "VERTICAL"


def _background(draw: ImageDraw.ImageDraw, stripes: str | None) -> None:
    draw.rectangle((0, 0, WIDTH - 1, HEIGHT - 1), fill=LIGHT)
    if stripes is None:
        return
    for start in range(0, max(WIDTH, HEIGHT), 32):
        if stripes == "HORIZONTAL":
            draw.rectangle((0, start, WIDTH - 1, start + 15), fill=STRIPE)
        else:
            draw.rectangle((start, 0, start + 15, HEIGHT - 1), fill=STRIPE)


def _lake(draw: ImageDraw.ImageDraw, rng: random.Random, column: int) -> list[Point]:
    """An irregular 14-gon over two cells of the bottom row; returns its normalized vertices."""
    cx, cy = (column + 1) * CELL, 2 * CELL + CELL / 2
    rx, ry = rng.uniform(55, 72), rng.uniform(24, 34)
    pixels = []
    for index in range(14):
        angle = 2 * math.pi * index / 14
        wobble = rng.uniform(0.85, 1.0)
        pixels.append((round(cx + rx * wobble * math.cos(angle)), round(cy + ry * wobble * math.sin(angle))))
    draw.polygon(pixels, fill=FILLS["LAKE"])
    return [(x / WIDTH, y / HEIGHT) for x, y in pixels]


def _box_shape(
    draw: ImageDraw.ImageDraw, rng: random.Random, cell: tuple[int, int], category: str
) -> tuple[float, float, float, float]:
    size = rng.randint(30, 64)
    x0 = cell[0] * CELL + rng.randint(4, CELL - size - 4)
    y0 = cell[1] * CELL + rng.randint(4, CELL - size - 4)
    corners = (x0, y0, x0 + size - 1, y0 + size - 1)  # Pillow includes the last pixel
    if category == "SQUARE":
        draw.rectangle(corners, fill=FILLS["SQUARE"])
    else:
        draw.ellipse(corners, fill=FILLS["DISC"])
    return x0 / WIDTH, y0 / HEIGHT, (x0 + size) / WIDTH, (y0 + size) / HEIGHT


def _triangle(draw: ImageDraw.ImageDraw, rng: random.Random, cell: tuple[int, int]) -> list[Point]:
    left, top = cell[0] * CELL, cell[1] * CELL
    pixels = [
        (left + rng.randint(30, 50), top + rng.randint(6, 20)),
        (left + rng.randint(6, 24), top + rng.randint(56, 74)),
        (left + rng.randint(56, 74), top + rng.randint(56, 74)),
    ]
    draw.polygon(pixels, fill=FILLS["TRIANGLE"])
    return [(x / WIDTH, y / HEIGHT) for x, y in pixels]


def make_scene(path: Path, rng: random.Random) -> Scene:
    """Draw one scene and return its true shapes."""
    scene = Scene(path.stem, path, stripes=rng.choice([None, None, "HORIZONTAL", "VERTICAL"]))
    image = Image.new("RGB", (WIDTH, HEIGHT), LIGHT)
    draw = ImageDraw.Draw(image)
    _background(draw, scene.stripes)
    cells = [(column, row) for row in range(3) for column in range(4)]
    if rng.random() < 0.5:
        column = rng.randint(0, 2)
        scene.lake = _lake(draw, rng, column)
        cells = [cell for cell in cells if not (cell[1] == 2 and cell[0] in (column, column + 1))]
    rng.shuffle(cells)
    for _ in range(rng.randint(1, 3)):
        category = rng.choice(["SQUARE", "DISC"])
        scene.boxes.append((category, _box_shape(draw, rng, cells.pop(), category)))
    for _ in range(rng.randint(0, 2)):
        scene.triangles.append(_triangle(draw, rng, cells.pop()))
    image.save(path)
    return scene


# -- labels -------------------------------------------------------------------------------------------


def _vertices(points: list[Point]) -> list[dict[str, float]]:
    return [{"x": round(x, 6), "y": round(y, 6)} for x, y in points]


def _moved(points: list[Point], rng: random.Random, jitter: float) -> list[Point]:
    def clamp(value: float) -> float:
        return min(1.0, max(0.0, value))

    return [(clamp(x + rng.uniform(-jitter, jitter)), clamp(y + rng.uniform(-jitter, jitter))) for x, y in points]


def _object(mid: str, tool: str, category: str, points: list[Point]) -> dict[str, Any]:
    return {
        "mid": mid,
        "type": tool,
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": _vertices(points)}],
        "children": {},
    }


def scene_response(
    scene: Scene, rng: random.Random | None = None, jitter: float = 0.0, slips: float = 0.0
) -> dict[str, Any]:
    """A jsonResponse for the scene: the exact shapes without ``rng``; else every vertex moved by up
    to ``jitter``, and with probability ``slips`` a triangle missed or the stripes read wrong."""

    def moved(points: list[Point]) -> list[Point]:
        return points if rng is None else _moved(points, rng, jitter)

    def slip() -> bool:
        return rng is not None and rng.random() < slips

    boxes = []
    for index, (category, (x0, y0, x1, y1)) in enumerate(scene.boxes):
        (a, b), (c, d) = moved([(x0, y0), (x1, y1)])
        corners = [(a, d), (a, b), (c, b), (c, d)]  # Kili's order: bottom-left first
        boxes.append(_object(f"{scene.external_id}-box-{index}", "rectangle", category, corners))
    triangles = [
        _object(f"{scene.external_id}-tri-{index}", "polygon", "TRIANGLE", moved(points))
        for index, points in enumerate(scene.triangles)
        if not slip()
    ]
    response: dict[str, Any] = {"SHAPES": {"annotations": boxes}, "TRIANGLES": {"annotations": triangles}}
    if scene.lake is not None:
        lake = moved(scene.lake)
        response["WATER"] = {"annotations": [_object(f"{scene.external_id}-lake", "semantic", "LAKE", lake)]}
    if scene.stripes is None:
        response["BACKGROUND"] = {"categories": [{"name": "PLAIN"}]}
    else:
        direction = scene.stripes
        if slip():
            direction = "VERTICAL" if direction == "HORIZONTAL" else "HORIZONTAL"
        children = {"STRIPES": {"categories": [{"name": direction}]}}
        response["BACKGROUND"] = {"categories": [{"name": "STRIPED", "children": children}]}
    return response


@dataclass
class DemoProject:
    """What :func:`build_demo_project` made."""

    project_id: str
    scenes: list[Scene]
    honeypot: str  # external id
    reviewed: list[str]  # external ids
    labels: dict[str, int]  # label type → count


def _add_members(client: Client, project_id: str) -> dict[str, str]:
    ids = {}
    for email, first, last, role in MEMBERS:
        ids[email] = client.create_user(email, firstname=first, lastname=last)["id"]
        client.append_to_roles(project_id, email, role)
    return ids


def build_demo_project(client: Client, folder: Path, scenes: int = 40, seed: int = 0) -> DemoProject:
    """Create the demo project in ``client``'s store, with its images in ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    project_id = client.create_project(
        "Shapes demo", "IMAGE", DEMO_INTERFACE, "Generated scenes whose true boxes and polygons are known."
    )["id"]
    client.update_properties_in_project(project_id, consensus_tot_coverage=100, min_consensus_size=2, use_honeypot=True)
    made = [make_scene(folder / f"scene_{index:03d}.png", rng) for index in range(scenes)]
    client.append_many_to_dataset(
        project_id,
        content_array=[str(scene.path) for scene in made],
        external_id_array=[scene.external_id for scene in made],
        json_metadata_array=[{"shapes": len(s.boxes) + len(s.triangles), "lake": s.lake is not None} for s in made],
    )
    members = _add_members(client, project_id)
    honeypot = made[0].external_id
    client.create_honeypot(scene_response(made[0]), asset_external_id=honeypot, project_id=project_id)
    external_ids = [scene.external_id for scene in made]
    for (email, *_rest), (jitter, slips) in zip(MEMBERS[:2], ((0.004, 0.0), (0.012, 0.12)), strict=True):
        client.append_labels(
            project_id=project_id,
            asset_external_id_array=external_ids,
            json_response_array=[scene_response(scene, rng, jitter, slips) for scene in made],
            author_id_array=[members[email]] * len(made),
            seconds_to_label_array=[rng.randint(20, 90) for _ in made],
        )
    reviewed = external_ids[1::5]
    client.add_to_review(external_ids=reviewed, project_id=project_id)
    by_id = {scene.external_id: scene for scene in made}
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=reviewed,
        json_response_array=[scene_response(by_id[external_id]) for external_id in reviewed],
        author_id_array=[members[MEMBERS[2][0]]] * len(reviewed),
        label_type="REVIEW",
    )
    labels = {"DEFAULT": 2 * len(made), "REVIEW": len(reviewed) + 1}
    return DemoProject(project_id, made, honeypot, reviewed, labels)


GEO_INTERFACE: dict[str, Any] = {
    "jobs": {
        "FIELDS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["polygon", "marker"],
            "instruction": "Fields and wells",
            "required": 0,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {"FIELD": {"name": "Field", "children": []}, "WELL": {"name": "Well", "children": []}},
            },
        }
    }
}


def build_geo_demo_project(client: Client, seed: int = 0) -> str:
    """A small GEOSPATIAL project: fields (polygons) and wells (points) in longitude/latitude."""
    rng = random.Random(seed)
    project_id = client.create_project("Fields demo", "GEOSPATIAL", GEO_INTERFACE, "Parcels near Paris.")["id"]
    external_ids = [f"tile_{index}" for index in range(3)]
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://tiles.example.com/{e}.tif" for e in external_ids],
        external_id_array=external_ids,
    )
    responses = []
    for index in range(3):
        lon, lat = 2.30 + 0.01 * index, 48.85 + 0.005 * rng.random()
        field_ring = [(lon, lat), (lon + 0.004, lat), (lon + 0.004, lat + 0.003), (lon, lat + 0.003)]
        responses.append(
            {
                "FIELDS": {
                    "annotations": [
                        {
                            "mid": f"field-{index}",
                            "type": "polygon",
                            "categories": [{"name": "FIELD"}],
                            "boundingPoly": [{"normalizedVertices": [{"x": x, "y": y} for x, y in field_ring]}],
                        },
                        {
                            "mid": f"well-{index}",
                            "type": "marker",
                            "categories": [{"name": "WELL"}],
                            "point": {"x": lon + 0.002, "y": lat + 0.001},
                        },
                    ]
                }
            }
        )
    client.append_labels(project_id=project_id, asset_external_id_array=external_ids, json_response_array=responses)
    return project_id


#: (archive name, format, options) of the demo's exports: every format, once.
DEMO_EXPORTS: list[tuple[str, str, dict[str, Any]]] = [
    ("kili.zip", "kili", {}),
    ("kili_single_file.zip", "kili", {"single_file": True, "with_assets": False}),
    ("coco.zip", "coco", {}),
    ("yolo_v4.zip", "yolo_v4", {"layout": "merged"}),
    ("yolo_v5.zip", "yolo_v5", {"layout": "merged"}),
    ("yolo_v7.zip", "yolo_v7", {"layout": "merged"}),
    ("yolo_v8.zip", "yolo_v8", {"layout": "merged"}),
    ("pascal_voc.zip", "pascal_voc", {"layout": "merged"}),
]


# -- the whole demo -----------------------------------------------------------------------------------


@dataclass
class DemoResult:
    """Where the demo put everything."""

    database: Path
    images: Path
    project_id: str
    geo_project_id: str
    exports: dict[str, Path] = field(default_factory=dict)  # archive name → path
    preview: Path | None = None


def _fresh_database(output_dir: Path) -> Path:
    database = output_dir / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return database


def _describe(client: Client, built: DemoProject, echo: Callable[[str], None]) -> None:
    project_id = built.project_id
    statuses = {
        status: client.count_assets(project_id, status_in=[status]) for status in ("LABELED", "REVIEWED", "ONGOING")
    }
    project = client.projects(project_id=project_id, fields=["consensusMark", "honeypotMark"], disable_tqdm=True)[0]
    echo(
        f"  labels: {built.labels['DEFAULT']} by the two labelers (alice, bob), {len(built.reviewed)} reviews "
        f"(carol), 1 honeypot ground truth ({built.honeypot})"
    )
    echo(f"  statuses: {', '.join(f'{name} {count}' for name, count in statuses.items() if count)}")
    echo(f"  project consensus mark {project['consensusMark']:.3f}, honeypot mark {project['honeypotMark']:.3f}")


def _queries(client: Client, project_id: str, echo: Callable[[str], None]) -> None:
    """A few queries of Kili's export tutorial, and what they return here."""
    echo("\nQueries, as in Kili's export tutorial:")
    rows = client.assets(project_id, fields=["externalId", "latestLabel.jsonResponse"], first=3, disable_tqdm=True)
    for row in rows:
        annotations = row["latestLabel"]["jsonResponse"]["SHAPES"]["annotations"]
        echo(f"  {row['externalId']}: first shape {annotations[0]['categories'][0]['name']}")
    agreed = client.count_assets(project_id, consensus_mark_gte=0.8)
    echo(f"  assets(consensus_mark_gte=0.8): {agreed} of {client.count_assets(project_id)} assets")
    honeypot = client.labels(
        project_id, fields=["labelOf.externalId", "author.email", "honeypotMark"], honeypot_mark_gte=0.1
    )
    for label in honeypot:
        echo(
            f"  labels(honeypot_mark_gte=0.1): {label['labelOf']['externalId']} by {label['author']['email']}, "
            f"honeypot mark {label['honeypotMark']:.3f}"
        )
    bobs = client.count_labels(project_id, author_in=["Bob"])
    echo(f"  labels(author_in=['Bob']): {bobs} labels")


def run_demo(output_dir: Path, scenes: int = 40, echo: Callable[[str], None] = print) -> DemoResult:
    """Build the demo project in a fresh database under ``output_dir``, query it, export it to every
    format and draw a preview; ``echo`` receives what it did and where every file is."""
    from labelport.preview import render_preview

    output_dir.mkdir(parents=True, exist_ok=True)
    database = _fresh_database(output_dir)
    url = f"sqlite:///{database.resolve()}"
    with Client(url, user_email=ADMIN_EMAIL, disable_tqdm=True) as client:
        built = build_demo_project(client, output_dir / "images", scenes=scenes)
        echo(f"Generated {scenes} scenes with known shapes in {output_dir / 'images'}")
        echo(f"Created project 'Shapes demo' ({built.project_id}) with {scenes} assets in {database}")
        echo("  jobs: SHAPES (rectangle), TRIANGLES (polygon), WATER (semantic), BACKGROUND (classification,")
        echo("        child job STRIPES); consensus on every asset with 2 labelers; honeypot on")
        _describe(client, built, echo)
        _queries(client, built.project_id, echo)
        geo_id = build_geo_demo_project(client)
        result = DemoResult(database, output_dir / "images", built.project_id, geo_id)
        echo(f"\nExports in {output_dir / 'exports'}:")
        exports = [(name, fmt, options, built.project_id) for name, fmt, options in DEMO_EXPORTS]
        exports.append(("geojson.zip", "geojson", {"layout": "merged"}, geo_id))
        for name, fmt, options, project_id in exports:
            path = output_dir / "exports" / name
            report = client.export_labels(project_id, path, fmt, **options)
            result.exports[name] = path
            note = "; the GEOSPATIAL project 'Fields demo'" if project_id == geo_id else ""
            if options.get("single_file") and not options.get("with_assets", True):
                note = (
                    "; one data.json and no images: each record's content is the image's path in the store, "
                    f"under {output_dir / 'media'}"
                )
            written = sum(report.annotations.values())
            echo(f"  {fmt:<10} {path}  ({report.assets_exported} assets, {written} annotations{note})")
        result.preview = output_dir / "preview.png"
        preview = render_preview(client, built.project_id, result.preview, disable_tqdm=True)
        echo(f"\nPreview: {result.preview} ({len(preview.tiles)} scenes with their latest labels drawn)")
    echo("\nNext, from the command line:")
    echo(f"  labelport project describe --project-id {built.project_id} --db {url}")
    echo(f"  labelport asset list --project-id {built.project_id} --filter consensus_mark_lte=0.8 --db {url}")
    return result
