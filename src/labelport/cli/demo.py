"""``labelport demo``."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("demo")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("labelport-demo"),
    show_default=True,
    help="Where the demo database, images, exports and preview go (its demo.db is replaced).",
)
@click.option(
    "--scenes", type=click.IntRange(2, 1000), default=40, show_default=True, help="How many scenes to generate."
)
def demo(output_dir: Path, scenes: int) -> None:
    """Build a sample IMAGE project in a fresh database, query it, export it to every format and
    draw a preview; print what was done and where every file is.

    The project: generated scenes whose true boxes and polygons are known; a rectangle, a polygon,
    a semantic and a classification job (with a child job); two labelers who disagree a little, a
    reviewer, consensus on every asset and a honeypot. A small GEOSPATIAL project is added for
    the GeoJSON export.

    \b
    Example:
      labelport demo --output-dir /tmp/demo
    """
    from labelport.demo import run_demo

    run_demo(output_dir, scenes, click.echo)
    sys.stdout.flush()
