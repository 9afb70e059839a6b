"""The ``labelport`` command line: thin click commands over the library."""

from __future__ import annotations

import sys
from pathlib import Path

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
    from labelport.demo import build_demo_project

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
        click.echo("\nassets(fields=['externalId', 'status', 'consensusMark', 'latestLabel.jsonResponse'], first=2):")
        rows = client.assets(
            project_id,
            fields=["externalId", "status", "consensusMark", "latestLabel.jsonResponse"],
            first=2,
        )
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        click.echo("\nlabels(fields=['labelOf.externalId', 'author.email', 'labelType'], first=4):")
        for label in client.labels(project_id, fields=["labelOf.externalId", "author.email", "labelType"], first=4):
            click.echo(f"  {label}")
    sys.stdout.flush()
