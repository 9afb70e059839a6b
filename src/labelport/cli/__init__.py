"""The ``labelport`` command line: thin click commands over the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from labelport import __version__
from labelport.client import Client
from labelport.errors import LabelportError


class _Group(click.Group):
    """Maps labelport errors to ``Error: …`` and exit code 1, in one place."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LabelportError as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="labelport")
def main() -> None:
    """labelport: a self-hosted labeling-data platform with a Kili-compatible client."""


def _client(database: str | None) -> Client:
    return Client(database)


database_option = click.option(
    "--db",
    "database",
    envvar="LABELPORT_DATABASE_URL",
    default=None,
    help="Database URL (sqlite:///file.db or postgresql+psycopg://…); default $LABELPORT_DATABASE_URL, "
    "else ~/.labelport/labelport.db.",
)


@main.group()
def project() -> None:
    """Work with projects."""


@project.command("recompute-marks")
@click.option("--project-id", required=True, help="The project whose marks to rebuild.")
@database_option
def recompute_marks(project_id: str, database: str | None) -> None:
    """Rebuild every consensus, honeypot and inference mark of a project from its labels.

    Marks are kept exact on every write; this recomputes them all, e.g. after the agreement
    rules changed. Example: labelport project recompute-marks --project-id 01a2…
    """
    with _client(database) as client:
        result = client.recompute_marks(project_id)
    click.echo(f"Recomputed the marks of {result['assets']} asset(s) in project {project_id}.")


def _split_values(values: tuple[str, ...]) -> list[str] | None:
    """``--opt a,b --opt c`` → ``["a", "b", "c"]``; None when not given."""
    if not values:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _filter_value(key: str, raw: str) -> Any:
    """A ``--filter KEY=VALUE`` value: JSON when it parses (numbers, lists, objects, true/false), a
    comma-separated list for ``*_in`` filters, else the text itself."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    if key.endswith(("_in", "_not_in")):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _filters(values: tuple[str, ...]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for value in values:
        key, equals, raw = value.partition("=")
        if not equals or not key.strip():
            raise click.BadParameter(
                f"{value!r} is not KEY=VALUE, e.g. status_in=LABELED,REVIEWED", param_hint="--filter"
            )
        parsed[key.strip()] = _filter_value(key.strip(), raw)
    return parsed


@project.command("export")
@click.option("--project-id", required=True, help="The project to export.")
@click.option(
    "--output-format",
    "fmt",
    required=True,
    help="kili (or raw), coco, yolo_v4, yolo_v5, yolo_v7, yolo_v8, pascal_voc, geojson.",
)
@click.option(
    "--output-file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The zip archive to write."
)
@click.option(
    "--layout",
    type=click.Choice(["split", "merged"]),
    default="merged",
    show_default=True,
    help="One folder per job, or all jobs together.",
)
@click.option("--single-file", is_flag=True, help="Kili format: one data.json for the whole project.")
@click.option(
    "--with-assets/--without-assets", default=True, show_default=True, help="Copy the media into the archive."
)
@click.option(
    "--normalized-coordinates/--pixel-coordinates",
    default=None,
    help="Kili format: pixel coordinates too (--pixel-coordinates).",
)
@click.option(
    "--export-type",
    type=click.Choice(["latest", "normal"]),
    default="latest",
    show_default=True,
    help="Each asset's latest label, or all labels.",
)
@click.option(
    "--label-type-in",
    multiple=True,
    help="Label types to export (default DEFAULT,REVIEW); repeat or separate with commas.",
)
@click.option("--asset-ids", multiple=True, help="Export only these asset ids (repeat or separate with commas).")
@click.option("--external-ids", multiple=True, help="Export only these external ids (repeat or separate with commas).")
@click.option(
    "--filter",
    "filter_values",
    multiple=True,
    metavar="KEY=VALUE",
    help="An assets() filter, e.g. status_in=LABELED or consensus_mark_gte=0.5; repeat.",
)
@click.option(
    "--include-sent-back/--exclude-sent-back",
    default=True,
    show_default=True,
    help="Keep labels sent back to the queue.",
)
@click.option("--strict", is_flag=True, help="Fail on the first skipped asset or annotation instead of reporting it.")
@click.option("--verbose", is_flag=True, help="Show a progress bar.")
@database_option
def export(
    project_id: str,
    fmt: str,
    output_file: Path,
    layout: str,
    single_file: bool,
    with_assets: bool,
    normalized_coordinates: bool | None,
    export_type: str,
    label_type_in: tuple[str, ...],
    asset_ids: tuple[str, ...],
    external_ids: tuple[str, ...],
    filter_values: tuple[str, ...],
    include_sent_back: bool,
    strict: bool,
    verbose: bool,
    database: str | None,
) -> None:
    """Export a project to an archive in a training format, and print the report.

    Example: labelport project export --project-id 01a2… --output-format yolo_v8 --output-file out.zip
    --filter status_in=LABELED,REVIEWED
    """
    asset_filters = _filters(filter_values)
    with _client(database) as client:
        report = client.export_labels(
            project_id,
            output_file,
            fmt,
            asset_ids=_split_values(asset_ids),
            layout=layout,  # type: ignore[arg-type]
            single_file=single_file,
            disable_tqdm=not verbose,
            with_assets=with_assets,
            external_ids=_split_values(external_ids),
            asset_filter_kwargs=asset_filters,
            normalized_coordinates=normalized_coordinates,
            label_type_in=_split_values(label_type_in),
            include_sent_back_labels=include_sent_back,
            export_type=export_type,  # type: ignore[arg-type]
            strict=strict,
        )
    click.echo(str(report))


@main.command()
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("labelport-demo"),
    show_default=True,
    help="Where the demo database, images and outputs go.",
)
@click.option("--scenes", type=click.IntRange(2, 1000), default=12, show_default=True)
def demo(output_dir: Path, scenes: int) -> None:
    """Build a sample project from generated images and query it like the Kili tutorial.

    Example: labelport demo --output-dir /tmp/demo
    """
    from labelport.demo import DEMO_EXPORTS, build_demo_project, build_geo_demo_project

    output_dir.mkdir(parents=True, exist_ok=True)
    database = output_dir / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    with Client(f"sqlite:///{database.resolve()}", user_email="admin@demo.labelport", disable_tqdm=True) as client:
        project_id = build_demo_project(client, output_dir / "images", scenes=scenes)
        click.echo(
            f"Created project {project_id} with {client.count_assets(project_id)} assets "
            f"and {client.count_labels(project_id)} labels in {database}"
        )
        click.echo("\nassets(fields=['externalId', 'status', 'consensusMark'], first=3):")
        for row in client.assets(project_id, fields=["externalId", "status", "consensusMark"], first=3):
            click.echo(f"  {row}")
        click.echo("\nExports:")
        exports = output_dir / "exports"
        for name, fmt, options in DEMO_EXPORTS:
            report = client.export_labels(project_id, exports / name, fmt, **options)
            written = sum(report.annotations.values())
            click.echo(f"  {fmt:<10} {exports / name}  ({report.assets_exported} assets, {written} annotations)")
        geo_id = build_geo_demo_project(client)
        report = client.export_labels(geo_id, exports / "geojson.zip", "geojson", layout="merged")
        written = sum(report.annotations.values())
        click.echo(
            f"  {'geojson':<10} {exports / 'geojson.zip'}  ({report.assets_exported} assets, {written} annotations; "
            "a GEOSPATIAL project)"
        )
    sys.stdout.flush()
