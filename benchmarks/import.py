"""COCO import throughput: a 10,000-image COCO file with 100,000 boxes, into a new SQLite project.

    python benchmarks/import.py            # 10,000 images, 100,000 boxes, images as URLs
    python benchmarks/import.py --files    # the same with tiny generated PNG files (copied into the store)
    python benchmarks/import.py --quick    # 1,000 images, 10,000 boxes

The COCO file is generated first (not timed): 640×480 images with 10 boxes each over 10
categories, ``segmentation: []`` (boxes only). By default every image is a ``coco_url`` (URLs are
kept as references and never fetched, so nothing but the JSON is read); with ``--files`` each image
is an 8×8 PNG next to the file, opened to check it and copied into the store. The baseline row
reads and parses the same file with ``orjson`` in the same process: the ratio says how much the
import (parsing, conversion to normalized Kili annotations, validation of every label against the
ontology, and the writes with derived flags and statuses, in one transaction) costs over
reading the JSON.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import labelport
from _common import machine, peak_rss_mb, print_table, timer
from labelport._gc import gc_paused
from labelport.importers import formats
from labelport.importers.dataset import ImportOptions
from labelport.importers.report import ImportReport
from labelport.importers.source import open_source

WIDTH, HEIGHT = 640, 480
CATEGORIES = 10


def coco_file(folder: Path, images: int, boxes_per_image: int, files: bool) -> Path:
    """Write the COCO file (and, with ``files``, one tiny PNG per image) into ``folder``."""
    rng = random.Random(0)
    records = []
    annotations: list[dict[str, Any]] = []
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for index in range(images):
        name = f"img_{index:05d}.png"
        record: dict[str, Any] = {"id": index + 1, "file_name": f"images/{name}", "width": WIDTH, "height": HEIGHT}
        if files:
            Image.new("RGB", (8, 8), (index % 256, 40, 90)).save(folder / "images" / name)
        else:
            record["coco_url"] = f"https://images.example.com/{name}"
        records.append(record)
        for _ in range(boxes_per_image):
            w, h = rng.uniform(10, 200), rng.uniform(10, 200)
            x, y = rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": index + 1,
                    "category_id": rng.randrange(CATEGORIES) + 1,
                    "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "area": round(w * h, 2),
                    "segmentation": [],
                    "iscrowd": 0,
                }
            )
    data = {
        "images": records,
        "annotations": annotations,
        "categories": [{"id": i + 1, "name": f"class_{i}", "supercategory": "object"} for i in range(CATEGORIES)],
    }
    path = folder / "instances.json"
    path.write_bytes(orjson.dumps(data))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 images and 10,000 boxes")
    parser.add_argument("--files", action="store_true", help="tiny PNG files instead of URLs")
    parser.add_argument("--db", default=None, help="database URL (default: a SQLite file in a temporary folder)")
    args = parser.parse_args()
    images = 1_000 if args.quick else 10_000
    boxes = images * 10
    folder = Path(tempfile.mkdtemp(prefix="labelport-bench-import-"))
    path = coco_file(folder / "coco", images, 10, args.files)
    size_mb = path.stat().st_size / 1e6

    with timer() as baseline:
        parsed = orjson.loads(path.read_bytes())
    assert len(parsed["annotations"]) == boxes
    del parsed

    with timer() as reading, gc_paused(), open_source(path) as source:  # as import_dataset reads
        report = ImportReport("coco", str(path))
        formats.get("coco").read(source, "coco", ImportOptions(), report)

    database = args.db or f"sqlite:///{folder / 'bench.db'}"
    client = labelport.Client(database, user_email="bench@labelport.local", media_dir=folder / "media")
    with timer() as total:
        result = client.import_dataset(path, "coco", title="COCO benchmark", disable_tqdm=True)
    assert result.assets_imported == images and sum(result.annotations_read.values()) == boxes
    assert client.count_labels(result.project_id) == images

    steps = [
        ("baseline: read + orjson.loads of the file", baseline["seconds"]),
        ("read and convert (coco reader, no store)", reading["seconds"]),
        ("import_dataset (read, validate, write)", total["seconds"]),
    ]
    table = [
        (name, images, boxes, seconds, images / seconds, boxes / seconds, f"{seconds / baseline['seconds']:.1f}×")
        for name, seconds in steps
    ]
    media = "tiny PNG files, copied into the store" if args.files else "URLs (coco_url), not fetched"
    print_table(
        f"COCO import: {images:,} images ({media}), {boxes:,} boxes, {size_mb:.1f} MB of JSON; "
        f"{client.store.dialect}; {machine()}",
        ["step", "images", "boxes", "seconds", "images/s", "annotations/s", "ratio"],
        table,
    )
    print(f"\npeak RSS of the process: {peak_rss_mb():.0f} MB")
    client.close()


if __name__ == "__main__":
    main()
