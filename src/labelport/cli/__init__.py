"""The ``labelport`` command line: thin click commands over the library.

Every command opens a :class:`~labelport.Client` on ``--db`` (default ``$LABELPORT_DATABASE_URL``)
and makes the calls a Python user would make. Errors are handled in one place, :class:`_Group`:
a :class:`~labelport.LabelportError` prints ``Error: <message>`` and exits with code 1; usage
errors (a missing option, a path that does not exist, an unknown choice) exit with code 2; warnings
print as ``Warning: <message>`` on stderr. The reference is generated into docs/cli.md by
``python -m labelport.cli.reference``.
"""

from __future__ import annotations

import warnings
from typing import Any, TextIO

import click

from labelport import __version__
from labelport._signals import EXIT_SIGINT, EXIT_SIGTERM, Terminated, terminate_raises
from labelport.cli.lazy import LazyGroup
from labelport.errors import LabelportError, front_door


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    del category, filename, lineno, file, line
    click.echo(f"Warning: {message}", err=True)


class _Group(LazyGroup):
    """Maps labelport errors to ``Error: …`` and exit code 1, warnings to ``Warning: …``, and a stop by
    Ctrl-C or SIGTERM to exit code 130 or 143 (after the command's cleanup: an export removes its temporary
    file and stops its workers), in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings(), front_door("cli"):  # hints name options, not Python arguments
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            try:
                with terminate_raises():
                    return super().invoke(ctx)
            except LabelportError as error:
                raise click.ClickException(str(error)) from error
            except KeyboardInterrupt:
                click.echo("Interrupted (SIGINT).", err=True)
                raise click.exceptions.Exit(EXIT_SIGINT) from None
            except Terminated:
                click.echo("Stopped (SIGTERM).", err=True)
                raise click.exceptions.Exit(EXIT_SIGTERM) from None


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="labelport")
def main() -> None:
    """labelport: a self-hosted labeling-data platform with a Kili-compatible client.

    Commands that use a store take --db URL (default $LABELPORT_DATABASE_URL, else
    ~/.labelport/labelport.db). Try `labelport demo`, then
    `labelport project list --db sqlite:///labelport-demo/demo.db`.
    """


# The commands, by name and "module:attribute": each module is imported when its command is used
# (labelport.cli.lazy), so that --help and argument errors stay instant. A new command is one line.


@click.group(cls=LazyGroup)
def project() -> None:
    """Create, inspect, fill, export and delete projects."""


main.add_command(project)
project.lazy("create", "labelport.cli.projects:create")
project.lazy("list", "labelport.cli.projects:list_")
project.lazy("describe", "labelport.cli.projects:describe")
project.lazy("update", "labelport.cli.projects:update")
project.lazy("delete", "labelport.cli.projects:delete")
project.lazy("import", "labelport.cli.assets:import_")
project.lazy("import-dataset", "labelport.cli.datasets:import_dataset")
project.lazy("label", "labelport.cli.labels:label")
project.lazy("export", "labelport.cli.projects:export")
project.lazy("recompute-marks", "labelport.cli.projects:recompute_marks")


@click.group(cls=LazyGroup)
def member() -> None:
    """Add, list, update and remove the members of a project."""


project.add_command(member)
member.lazy("add", "labelport.cli.members:add")
member.lazy("list", "labelport.cli.members:list_members")
member.lazy("update", "labelport.cli.members:update")
member.lazy("remove", "labelport.cli.members:remove")
member.lazy("rm", "labelport.cli.members:remove", hidden=True)  # Kili's name for it


@click.group(cls=LazyGroup)
def asset() -> None:
    """Query the assets of a project."""


main.add_command(asset)
asset.lazy("list", "labelport.cli.assets:list_assets")


@click.group(cls=LazyGroup)
def label() -> None:
    """Query the labels of a project."""


main.add_command(label)
label.lazy("list", "labelport.cli.labels:list_labels")


@click.group("api-key", cls=LazyGroup)
def api_key() -> None:
    """Create, list and revoke the API keys `labelport serve` authenticates with."""


main.add_command(api_key)
api_key.lazy("create", "labelport.cli.api_keys:create")
api_key.lazy("list", "labelport.cli.api_keys:list_keys")
api_key.lazy("revoke", "labelport.cli.api_keys:revoke")

main.lazy(
    "preview",
    "labelport.cli.preview:preview",
    summary="Draw images of an IMAGE project with their latest labels on one contact sheet.",
)
main.lazy(
    "demo",
    "labelport.cli.demo:demo",
    summary="Build a sample IMAGE project in a fresh database, query it, export it to every format and draw a "
    "preview; print what was done and where every file is.",
)
main.lazy(
    "serve",
    "labelport.cli.serve:serve",
    summary="Serve Kili's GraphQL API (and media, uploads) over the store, so that the kili SDK and CLI work "
    "against it: set KILI_API_ENDPOINT=http://HOST:PORT/api/label/v2/graphql and KILI_API_KEY to a key from "
    "`labelport api-key create EMAIL`. Stop it with Ctrl-C. See docs/server.md.",
)
main.lazy(
    "worker",
    "labelport.cli.jobs:worker",
    summary="Run export jobs that `labelport serve --broker URL` enqueues, on this or another machine: an RQ "
    "worker on the same Redis, with the same database and the same storage as the servers. Each job runs in a "
    "process of its own (RQ's work horse). Stop it with Ctrl-C (a warm shutdown: the job at hand finishes). See "
    "docs/server.md, \"Scaling out\".",
)
main.lazy("jobs", "labelport.cli.jobs:jobs_group", summary="Maintain the export jobs of a store.")
main.lazy(
    "export-job",
    "labelport.cli.jobs:export_job",
    summary="Start, follow, download and cancel export jobs on a server (`labelport serve`).",
)
main.lazy("user", "labelport.cli.users:user", summary="Manage users' web UI passwords.")
