"""``labelport preview``."""

from __future__ import annotations

from pathlib import Path

import click

from labelport.cli.common import (
    database_option,
    open_client,
    progress,
    project_id_option,
    split_values,
    verbose_option,
)


@click.command("preview")
@project_id_option
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The image to write (.png or .jpg).",
)
@click.option(
    "--external-ids", multiple=True, help="Draw these assets, in this order (repeat or separate with commas)."
)
@click.option(
    "--max", "max_images", type=click.IntRange(1, 1000), default=16, show_default=True, help="At most this many images."
)
@click.option(
    "--thumb",
    type=click.IntRange(16, 4096),
    default=256,
    show_default=True,
    help="Each image is fitted in a square of this many pixels.",
)
@verbose_option
@database_option
def preview(
    project_id: str,
    output: Path,
    external_ids: tuple[str, ...],
    max_images: int,
    thumb: int,
    verbose: bool,
    database: str | None,
) -> None:
    """Draw images of an IMAGE project with their latest labels on one contact sheet.

    Boxes and polygons are outlined in their category's colour (from the ontology, else a fixed
    palette), semantic regions are filled semi-transparent, markers are dots, polylines are
    lines; each object is named, and classification answers are written under the image. A
    ROTATION_JOB is undone as in the exports. Assets stored as URLs are skipped and listed.

    \b
    Example:
      labelport preview --project-id 01a2… --output preview.png
      labelport preview --project-id 01a2… --output cars.png --external-ids car_1,car_7 --thumb 512
    """
    from labelport.preview import render_preview

    with open_client(database) as client:
        report = render_preview(
            client,
            project_id,
            output,
            external_ids=split_values(external_ids),
            max_images=max_images,
            thumb=thumb,
            disable_tqdm=progress(verbose),
        )
    click.echo(str(report))
