"""``labelport project create|list|describe|update|delete|export|recompute-marks``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from labelport.cli.common import (
    database_option,
    open_client,
    parse_filters,
    progress,
    project_id_option,
    project_row,
    read_json_file,
    split_values,
    verbose_option,
)
from labelport.cli.output import cut, format_option, print_records, render_table
from labelport.enums import InputType
from labelport.errors import OntologyError, ValidationError
from labelport.export import formats as export_formats
from labelport.ontology import Ontology

_PROJECT_LIST_FIELDS = [
    "title",
    "id",
    "description",
    "numberOfAssets",
    "numberOfRemainingAssets",
    "numberOfReviewedAssets",
]


@click.command("create")
@click.option(
    "--interface",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file holding the ontology (jsonInterface).",
)
@click.option("--from-project", help="Copy the ontology of this project instead of reading --interface.")
@click.option("--title", required=True, help="The project's title.")
@click.option(
    "--input-type",
    type=click.Choice([t.value for t in InputType]),
    required=True,
    help="What is labeled.",
)
@click.option("--description", default="", help="The project's description.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the new project's id (for scripts).")
@database_option
def create(
    interface: Path | None,
    from_project: str | None,
    title: str,
    input_type: str,
    description: str,
    quiet: bool,
    database: str | None,
) -> None:
    """Create a project from an ontology file (or another project's ontology) and print its id.

    The acting user ($LABELPORT_USER_EMAIL, else <login>@localhost) becomes its ADMIN.

    \b
    Example:
      labelport project create --interface interface.json --input-type IMAGE --title "Cars"
      PROJECT_ID=$(labelport project create --interface interface.json --input-type IMAGE --title Cars -q)
    """
    if (interface is None) == (from_project is None):
        raise click.UsageError("Give the ontology with --interface FILE or --from-project PROJECT_ID (one of them).")
    json_interface = read_interface(interface) if interface is not None else None
    with open_client(database) as client:
        if json_interface is None:
            json_interface = project_row(client, str(from_project), ["jsonInterface"])["jsonInterface"]
        project_id = client.create_project(title, input_type, json_interface, description)["id"]
        jobs = len(json_interface["jobs"])
    if quiet:
        click.echo(project_id)
    else:
        click.echo(f"Created project {title!r} ({input_type}, {jobs} job(s)): {project_id}")


def _progress(project: dict[str, Any]) -> float | None:
    """Kili's PROGRESS: the share of assets not remaining (TODO or ONGOING), in percent, 1 decimal."""
    total = project["numberOfAssets"]
    if not total:
        return None
    return round((1 - project["numberOfRemainingAssets"] / total) * 100, 1)


@click.command("list")
@click.option("--max", "first", type=click.IntRange(min=1), default=100, show_default=True, help="At most this many.")
@click.option("--search", help="Only projects whose title or description contains this text (LIKE pattern).")
@format_option
@database_option
def list_(first: int, search: str | None, fmt: str, database: str | None) -> None:
    """List the projects, oldest first: TITLE, ID, PROGRESS (share of assets labeled), DESCRIPTION.

    In the table, titles and descriptions over 50 characters are cut to 47 plus "...", and PROGRESS
    is N/A for a project without assets; JSON and CSV give the whole values and the asset counts.

    \b
    Example:
      labelport project list --max 10
      labelport project list --search cars --format json
    """
    with open_client(database) as client:
        projects = client.projects(search_query=search, fields=_PROJECT_LIST_FIELDS, first=first, disable_tqdm=True)
    rows = [{**project, "progress": _progress(project)} for project in projects]
    body = [
        [
            cut(row["title"]),
            row["id"],
            "N/A" if row["progress"] is None else f"{row['progress']}%",
            cut(row["description"] or ""),
        ]
        for row in rows
    ]
    table = render_table(["TITLE", "ID", "PROGRESS", "DESCRIPTION"], body, right=[2])
    print_records(rows, ["title", "id", "progress", "description", *_PROJECT_LIST_FIELDS[3:]], fmt, table)


_DESCRIBE_FIELDS = [
    "id",
    "title",
    "description",
    "inputType",
    "jsonInterface",
    "createdAt",
    "consensusTotCoverage",
    "minConsensusSize",
    "useHoneyPot",
    "numberOfAssets",
    "numberOfRemainingAssets",
    "numberOfSkippedAssets",
    "numberOfReviewedAssets",
    "consensusMark",
    "honeypotMark",
    "roles.id",
]


def _mark(value: float | None) -> str:
    return "N/A" if value is None else repr(round(value, 4))


def _section(title: str, rows: list[list[str]]) -> str:
    return f"{title}\n{'-' * len(title)}\n" + render_table([], rows)


def _ontology_table(json_interface: dict[str, Any]) -> str:
    rows = []
    for job in Ontology.from_json(json_interface):
        children = sorted({child for category in job.categories.values() for child in category.children})
        rows.append(
            [
                job.name + (" (child)" if job.is_child else ""),
                job.ml_task,
                ", ".join(job.tools) or "-",
                cut(", ".join(category.name for category in job.categories.values()) or "-"),
                ", ".join(children) or "-",
            ]
        )
    return "Ontology\n--------\n" + render_table(["JOB", "TASK", "TOOLS", "CATEGORIES", "CHILD JOBS"], rows)


def describe_text(project: dict[str, Any]) -> str:
    """The text of ``labelport project describe``: Kili's three tables, plus the ontology."""
    progress_value = _progress(project)
    header = render_table(
        [],
        [
            ["Title", project["title"]],
            ["Description", " ".join((project["description"] or "").splitlines())],
            ["ID", project["id"]],
            ["Input type", project["inputType"]],
            ["Created", project["createdAt"]],
            ["Members", str(len(project["roles"]))],
        ],
    )
    dataset = _section(
        "Dataset KPIs",
        [
            ["Total number of assets", str(project["numberOfAssets"])],
            ["Number of remaining assets", str(project["numberOfRemainingAssets"])],
            ["Skipped assets", str(project["numberOfSkippedAssets"])],
            ["Progress", "N/A" if progress_value is None else f"{progress_value}%"],
        ],
    )
    consensus = project["consensusTotCoverage"]
    quality = _section(
        "Quality KPIs",
        [
            ["Project consensus", _mark(project["consensusMark"])],
            ["Project honeypot", _mark(project["honeypotMark"])],
            ["Number of reviewed assets", str(project["numberOfReviewedAssets"])],
            [
                "Consensus settings",
                f"{consensus}% of the assets, {project['minConsensusSize']} labelers each" if consensus else "off",
            ],
            ["Honeypot", "on" if project["useHoneyPot"] else "off"],
        ],
    )
    return "\n\n".join([header, dataset, quality, _ontology_table(project["jsonInterface"])])


@click.command("describe")
@project_id_option
@database_option
def describe(project_id: str, database: str | None) -> None:
    """Show a project: title and description, dataset KPIs, quality KPIs and the ontology.

    Marks are N/A when no asset has one yet.

    \b
    Example:
      labelport project describe --project-id 01a2…
    """
    with open_client(database) as client:
        project = project_row(client, project_id, _DESCRIBE_FIELDS)
    click.echo(describe_text(project))


@click.command("update")
@project_id_option
@click.option("--title", help="A new title.")
@click.option("--description", help="A new description.")
@click.option(
    "--interface",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file with a new ontology (it may not drop categories that labels use).",
)
@click.option("--instructions", help="A link or text for the labelers.")
@click.option("--consensus-coverage", type=click.IntRange(0, 100), help="Percent of assets labeled by several.")
@click.option("--consensus-size", type=click.IntRange(1, 10), help="Labelers per asset in consensus.")
@click.option("--review-coverage", type=click.IntRange(0, 100), help="Percent of assets to review.")
@click.option("--honeypot/--no-honeypot", "use_honeypot", default=None, help="Turn honeypot marks on or off.")
@click.option("--archive/--unarchive", "archived", default=None, help="Archive or unarchive the project.")
@database_option
def update(project_id: str, database: str | None, interface: Path | None, **options: Any) -> None:
    """Change a project's settings (client.update_properties_in_project).

    \b
    Example:
      labelport project update --project-id 01a2… --consensus-coverage 100 --consensus-size 2 --honeypot
    """
    names = {"consensus_coverage": "consensus_tot_coverage", "consensus_size": "min_consensus_size"}
    properties = {names.get(key, key): value for key, value in options.items() if value is not None}
    if interface is not None:
        properties["json_interface"] = read_interface(interface)
    if not properties:
        raise click.UsageError("Nothing to update: give at least one option, e.g. --title or --consensus-coverage.")
    with open_client(database) as client:
        client.update_properties_in_project(project_id, **properties)
    click.echo(f"Updated project {project_id}: {', '.join(sorted(properties))}.")


@click.command("delete")
@project_id_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@database_option
def delete(project_id: str, yes: bool, database: str | None) -> None:
    """Delete a project with its assets, labels and members (media no other asset uses are removed).

    \b
    Example:
      labelport project delete --project-id 01a2… --yes
    """
    with open_client(database) as client:
        project = project_row(client, project_id, ["title", "numberOfAssets"])
        if not yes:
            click.confirm(
                f"Delete project {project['title']!r} ({project_id}) and its {project['numberOfAssets']} asset(s)?",
                abort=True,
            )
        labels = client.count_labels(project_id)
        client.delete_project(project_id)
    click.echo(
        f"Deleted project {project['title']!r} ({project_id}): "
        f"{project['numberOfAssets']} asset(s) and {labels} label(s)."
    )


@click.command("recompute-marks")
@click.option("--project-id", required=True, help="The project whose marks to rebuild.")
@database_option
def recompute_marks(project_id: str, database: str | None) -> None:
    """Rebuild every consensus, honeypot and inference mark of a project from its labels.

    Marks are kept exact on every write; this recomputes them all, e.g. after the agreement
    rules changed.

    \b
    Example:
      labelport project recompute-marks --project-id 01a2…
    """
    with open_client(database) as client:
        result = client.recompute_marks(project_id)
    click.echo(f"Recomputed the marks of {result['assets']} asset(s) in project {project_id}.")


def _taking(option: str) -> str:
    """The export formats that take ``option`` in every value, for help texts: ``coco, kili``."""
    return ", ".join(export_formats.honouring(option))


def _aliases() -> str:
    """``; raw is another name for kili``: the export formats' aliases, for help texts."""
    return "".join(
        f"; {alias} is another name for {spec.name}"
        for spec in export_formats.specs()
        for alias in export_formats.aliases(spec)
    )


@click.command("export")
@click.option("--project-id", required=True, help="The project to export.")
@click.option(
    "--output-format",
    "fmt",
    type=click.Choice(export_formats.names(), case_sensitive=False),
    required=True,
    help=f"The format of the archive (see docs/export.md){_aliases()}.",
)
@click.option(
    "--output-file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The zip archive to write."
)
@click.option(
    "--layout",
    type=click.Choice(["split", "merged"], case_sensitive=False),
    default="merged",
    show_default=True,
    help="One folder per job, or all jobs together.",
)
@click.option(
    "--single-file",
    is_flag=True,
    help=f"One file for the whole project ({_taking('single_file')}; other formats refuse it).",
)
@click.option(
    "--with-assets/--without-assets", default=True, show_default=True, help="Copy the media into the archive."
)
@click.option(
    "--normalized-coordinates/--pixel-coordinates",
    default=None,
    help=f"{_taking('normalized_coordinates')}: --pixel-coordinates adds pixel coordinates; other formats refuse "
    "what they cannot honour.",
)
@click.option(
    "--export-type",
    type=click.Choice(["latest", "normal"], case_sensitive=False),
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
@click.option(
    "--split",
    "split_text",
    metavar="train=F,val=F[,test=F]",
    default=None,
    help=f"{_taking('split')}: a train/val/test split by asset, e.g. train=0.8,val=0.1,test=0.1 (see docs/export.md).",
)
@click.option(
    "--split-seed",
    type=int,
    default=0,
    show_default=True,
    help="The seed of the split: the same seed and external id give the same split.",
)
@click.option(
    "--split-stratify",
    is_flag=True,
    help="Spread every category over the splits (deterministic, but adding assets may move others).",
)
@click.option(
    "--dataset-root",
    metavar="PATH",
    default=None,
    help=f"{_taking('dataset_root')} with --split: the absolute folder the archive will be unzipped to, written "
    "as data.yaml's path (needed by YOLOv5 and YOLOv7).",
)
@click.option(
    "--dataset-layout",
    type=click.Choice(["kili", "standard"]),
    default="kili",
    show_default=True,
    help=f"{_taking('dataset_layout')}: 'standard' writes the layout datumaro, CVAT and FiftyOne import (COCO "
    "annotations/instances_<subset>.json, VOC Annotations/ + JPEGImages/, YOLO images/<subset> + labels/<subset>) "
    "instead of Kili's (see docs/export.md).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes converting assets while the archive is written (1: none). Default: one per core for "
    "exports of 2,000 assets or more.",
)
@verbose_option
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
    split_text: str | None,
    split_seed: int,
    split_stratify: bool,
    dataset_root: str | None,
    dataset_layout: str,
    workers: int | None,
    verbose: bool,
    database: str | None,
) -> None:
    """Export a project to an archive in a training format, and print the report.

    \b
    Example:
      labelport project export --project-id 01a2… --output-format yolo_v8 --output-file out.zip \\
          --filter status_in=LABELED,REVIEWED
      labelport project export --project-id 01a2… --output-format yolo_v8 --output-file out.zip \\
          --split train=0.8,val=0.1,test=0.1 --split-seed 0
    """
    asset_filters = parse_filters(filter_values)
    with open_client(database) as client:
        report = client.export_labels(
            project_id,
            output_file,
            fmt,
            asset_ids=split_values(asset_ids),
            layout=layout,  # type: ignore[arg-type]
            single_file=single_file,
            disable_tqdm=progress(verbose),
            with_assets=with_assets,
            external_ids=split_values(external_ids),
            asset_filter_kwargs=asset_filters,
            normalized_coordinates=normalized_coordinates,
            label_type_in=split_values(label_type_in),
            include_sent_back_labels=include_sent_back,
            export_type=export_type,  # type: ignore[arg-type]
            strict=strict,
            split=split_text,
            split_seed=split_seed,
            split_stratify=split_stratify,
            dataset_root=dataset_root,
            dataset_layout=dataset_layout,  # type: ignore[arg-type]
            workers=workers,
        )
    click.echo(str(report))


def read_interface(path: Path) -> dict[str, Any]:
    """An ontology file, parsed and validated before anything is written (errors name the file)."""
    json_interface = read_json_file(path, "The interface file")
    try:
        Ontology.from_json(json_interface)
    except ValidationError as error:
        raise OntologyError(f"The interface file {path}: {error}") from None
    return json_interface
