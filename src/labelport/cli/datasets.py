"""``labelport project import-dataset``: a labeled dataset (Kili, COCO, YOLO, Pascal VOC) into a project."""

from __future__ import annotations

from pathlib import Path

import click

from labelport.cli.common import database_option, open_client, progress, verbose_option
from labelport.enums import InputType, LabelType
from labelport.importers import formats as import_formats


@click.command("import-dataset")
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="The dataset: a folder, a zip archive or a single file (a COCO JSON, a Kili data.json).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(import_formats.names(), case_sensitive=False),
    default=None,
    help="The dataset's format; detected from the files when not given.",
)
@click.option("--project-id", default=None, help="Import into this existing project (its ontology must fit).")
@click.option(
    "--title",
    default=None,
    help="The new project's title (default: the export's README.kili.txt, else the input's name).",
)
@click.option("--description", default=None, help="The new project's description.")
@click.option(
    "--interface",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A jsonInterface file for the new project, instead of inferring one from the labels.",
)
@click.option(
    "--input-type",
    type=click.Choice([t.value for t in InputType]),
    default=None,
    help="The new project's input type (inferred when not given).",
)
@click.option("--job-name", default=None, help="The job that receives COCO/YOLO/VOC annotations.")
@click.option(
    "--label-type",
    type=click.Choice([t.value for t in LabelType]),
    default=LabelType.DEFAULT.value,
    show_default=True,
    help="The type of the labels written (COCO, YOLO and VOC carry none).",
)
@click.option("--model-name", default=None, help="The model name, for PREDICTION and INFERENCE labels.")
@click.option(
    "--media-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Where the images live when the dataset holds only annotations.",
)
@click.option(
    "--missing-media",
    type=click.Choice(["error", "skip"], case_sensitive=False),
    default="error",
    show_default=True,
    help="What to do with an image that cannot be found: fail, or skip it (listed in the report).",
)
@verbose_option
@database_option
def import_dataset(
    input_path: Path,
    fmt: str | None,
    project_id: str | None,
    title: str | None,
    description: str | None,
    interface: Path | None,
    input_type: str | None,
    job_name: str | None,
    label_type: str,
    model_name: str | None,
    media_root: Path | None,
    missing_media: str,
    verbose: bool,
    database: str | None,
) -> None:
    """Import a labeled dataset into a project, in one transaction, and print the report.

    Give --project-id to add to an existing project; without it a new project is created (its
    ontology inferred from the labels unless --interface is given). Nothing is stored
    unless the whole dataset imports. See docs/import.md for how each format maps to labels.

    \b
    Example:
      labelport project import-dataset --input coco.zip --format coco --title "Cars from COCO"
      labelport project import-dataset --input yolo_export/ --project-id 01a2… --job-name DETECTION
    """
    if project_id is not None and title is not None:
        raise click.UsageError("--title names a new project: give --project-id ID or --title TITLE, not both.")
    with open_client(database) as client:
        report = client.import_dataset(
            input_path,
            fmt,
            project_id,
            title,
            interface=interface,
            input_type=input_type,
            description=description,
            job_name=job_name,
            label_type=label_type,
            model_name=model_name,
            media_root=media_root,
            missing_media=missing_media,  # type: ignore[arg-type]
            disable_tqdm=progress(verbose),
        )
    click.echo(str(report))
