"""The ``labelport`` command line: thin click commands over the library.

Every command opens a :class:`~labelport.Client` on ``--db`` (default ``$LABELPORT_DATABASE_URL``)
and makes the calls a Python user would make. Errors are handled in one place, :class:`_Group`:
a :class:`~labelport.LabelportError` prints ``Error: <message>`` and exits with code 1; usage
errors (a missing option, a path that does not exist, an unknown choice) exit with code 2; warnings
print as ``Warning: <message>`` on stderr. The reference is generated into docs/cli.md by
``python -m labelport.cli.reference``.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any, TextIO

import click

from labelport import __version__
from labelport.cli import api_keys, assets, datasets, demo, labels, members, preview, projects, serve, users
from labelport.errors import LabelportError


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


class _Group(click.Group):
    """Maps labelport errors to ``Error: …`` and exit code 1, and warnings to ``Warning: …``, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except LabelportError as error:
                raise click.ClickException(str(error)) from error


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="labelport")
def main() -> None:
    """labelport: a self-hosted labeling-data platform with a Kili-compatible client.

    Commands that use a store take --db URL (default $LABELPORT_DATABASE_URL, else
    ~/.labelport/labelport.db). Try `labelport demo`, then
    `labelport project list --db sqlite:///labelport-demo/demo.db`.
    """


@main.group()
def project() -> None:
    """Create, inspect, fill, export and delete projects."""


for command in (
    projects.create,
    projects.list_,
    projects.describe,
    projects.update,
    projects.delete,
    assets.import_,
    datasets.import_dataset,
    labels.label,
    projects.export,
    projects.recompute_marks,
):
    project.add_command(command)


@project.group()
def member() -> None:
    """Add, list, update and remove the members of a project."""


for command in (members.add, members.list_members, members.update, members.remove):
    member.add_command(command)
_rm = copy.copy(members.remove)  # Kili's name for it
_rm.hidden = True
member.add_command(_rm, "rm")


@main.group()
def asset() -> None:
    """Query the assets of a project."""


asset.add_command(assets.list_assets)


@main.group()
def label() -> None:
    """Query the labels of a project."""


label.add_command(labels.list_labels)


@main.group("api-key")
def api_key() -> None:
    """Create, list and revoke the API keys `labelport serve` authenticates with."""


for command in (api_keys.create, api_keys.list_keys, api_keys.revoke):
    api_key.add_command(command)
main.add_command(preview.preview)
main.add_command(demo.demo)
main.add_command(serve.serve)
main.add_command(users.user)
