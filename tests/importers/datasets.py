"""Datasets written for the import tests by independent writers: plain JSON/XML/text, pycocotools, globox.

Nothing here uses labelport's exporters: these are the files another tool would hand over.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as coco_mask

from tests.factories import ImageFactory

#: COCO categories listed out of id order: the ontology takes them in id order (car, person, road).
COCO_CATEGORIES = [
    {"id": 3, "name": "person", "supercategory": "human"},
    {"id": 1, "name": "car", "supercategory": "vehicle"},
    {"id": 7, "name": "road", "supercategory": "ground"},
]


def ring_mask(height: int, width: int) -> np.ndarray:
    """A square ring: pixels x 2..9, y 1..8 set, with a hole at x 4..6, y 3..5."""
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[1:9, 2:10] = 1
    mask[3:6, 4:7] = 0
    return mask


def two_blobs(height: int, width: int) -> np.ndarray:
    """Two separate blocks: x 0..2 y 0..1, and x 20..23 y 30..39 (an L shape with the block below it)."""
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[0:2, 0:3] = 1
    mask[30:40, 20:24] = 1
    mask[38:40, 24:30] = 1
    return mask


def uncompressed_counts(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE counts, column by column, starting with a run of zeros (hand-written)."""
    flat = mask.flatten(order="F")
    counts, current, run = [], 0, 0
    for value in flat:
        if value != current:
            counts.append(run)
            current, run = value, 0
        run += 1
    counts.append(run)
    return counts


def write_coco(folder: Path) -> Path:
    """``instances.json`` and its three images; see the comments for what each annotation is."""
    images = ImageFactory(folder / "images")
    images.make("img_a.png", 200, 100)
    images.make("img_b.png", 64, 48)
    images.make("neg.png", 32, 32)
    compressed = coco_mask.encode(np.asfortranarray(ring_mask(48, 64)))
    data: dict[str, Any] = {
        "info": {"description": "written by hand"},
        "images": [
            {"id": 10, "file_name": "img_a.png", "width": 200, "height": 100, "license": 1},
            {"id": 11, "file_name": "img_b.png", "width": 64, "height": 48},
            {"id": 12, "file_name": "neg.png", "width": 32, "height": 32},
        ],
        "categories": COCO_CATEGORIES,
        "annotations": [
            # a box without segmentation
            {"id": 1, "image_id": 10, "category_id": 1, "bbox": [20, 10, 100, 50], "segmentation": [], "iscrowd": 0},
            # a triangle
            {
                "id": 2,
                "image_id": 10,
                "category_id": 3,
                "bbox": [150, 20, 30, 70],
                "segmentation": [[150, 20, 180, 20, 170, 90]],
            },
            # a polygon with a hole written as a second polygon inside the first (as Kili writes holes)
            {
                "id": 3,
                "image_id": 10,
                "category_id": 7,
                "bbox": [0, 50, 100, 50],
                "segmentation": [[0, 50, 100, 50, 100, 100, 0, 100], [20, 60, 40, 60, 40, 80, 20, 80]],
            },
            # a box written as its 4 corners
            {
                "id": 4,
                "image_id": 10,
                "category_id": 1,
                "bbox": [120, 60, 40, 30],
                "segmentation": [[120, 60, 160, 60, 160, 90, 120, 90]],
            },
            # two disjoint polygons: one object in two parts
            {
                "id": 5,
                "image_id": 10,
                "category_id": 3,
                "bbox": [0, 0, 60, 30],
                "segmentation": [[0, 0, 10, 0, 10, 10], [50, 20, 60, 20, 60, 30]],
            },
            # a compressed RLE mask with a hole (pycocotools.mask.encode)
            {
                "id": 6,
                "image_id": 11,
                "category_id": 1,
                "bbox": [2, 1, 8, 8],
                "segmentation": {"size": compressed["size"], "counts": compressed["counts"].decode()},
                "iscrowd": 1,
            },
            # an uncompressed RLE mask of two separate regions
            {
                "id": 7,
                "image_id": 11,
                "category_id": 3,
                "bbox": [0, 0, 30, 40],
                "segmentation": {"size": [48, 64], "counts": uncompressed_counts(two_blobs(48, 64))},
                "iscrowd": 1,
            },
            # a box of zero width: reported, not imported
            {"id": 8, "image_id": 11, "category_id": 7, "bbox": [5, 5, 0, 10], "segmentation": []},
        ],
    }
    path = folder / "instances.json"
    path.write_text(json.dumps(data))
    return path


def write_yolo_folder(folder: Path, class_file: str = "classes.txt", class_text: str = "car\nperson\n") -> Path:
    """A YOLO folder: images/, labels/ (hand-written rows) and a class file."""
    images = ImageFactory(folder / "images")
    images.make("a.png", 200, 100)
    images.make("b.jpg", 64, 48)
    (folder / "images" / "sub").mkdir()
    images.make("sub/c.png", 32, 32)
    images.make("unlabeled.png", 16, 16)
    labels = folder / "labels"
    (labels / "sub").mkdir(parents=True)
    (labels / "a.txt").write_text("0 0.35 0.35 0.5 0.5\n1 0.8 0.5 0.2 0.4\n")
    (labels / "b.txt").write_text("1 0.1 0.1 0.5 0.1 0.3 0.6\n0 0.2 0.2 0.6 0.2 0.6 0.7 0.2 0.7\n")
    (labels / "sub" / "c.txt").write_text("")
    (folder / class_file).write_text(class_text)
    return folder


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def voc_xml(filename: str, size: tuple[int, int] | None, objects: list[tuple[str, int, int, int, int]]) -> str:
    """A Pascal VOC document written by hand, one element a line."""
    lines = ["<annotation>", "  <folder>JPEGImages</folder>", f"  <filename>{filename}</filename>"]
    if size is not None:
        lines += [
            "  <size>",
            f"    <width>{size[0]}</width>",
            f"    <height>{size[1]}</height>",
            "    <depth>3</depth>",
            "  </size>",
        ]
    for name, xmin, ymin, xmax, ymax in objects:
        lines += [
            "  <object>",
            f"    <name>{name}</name>",
            "    <difficult>0</difficult>",
            "    <bndbox>",
            f"      <xmin>{xmin}</xmin>",
            f"      <ymin>{ymin}</ymin>",
            f"      <xmax>{xmax}</xmax>",
            f"      <ymax>{ymax}</ymax>",
            "    </bndbox>",
            "  </object>",
        ]
    lines.append("</annotation>")
    return "\n".join(lines) + "\n"
