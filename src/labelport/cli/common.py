"""Options and helpers shared by the commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from labelport.errors import ValidationError

if TYPE_CHECKING:
    from labelport.client import Client

database_option = click.option(
    "--db",
    "database",
    envvar="LABELPORT_DATABASE_URL",
    default=None,
    help="Database URL (sqlite:///file.db or postgresql+psycopg://…); default $LABELPORT_DATABASE_URL, "
    "else ~/.labelport/labelport.db.",
)

project_id_option = click.option("--project-id", required=True, help="The project's id (see `labelport project list`).")

verbose_option = click.option(
    "--verbose", is_flag=True, help="Show progress bars even when stderr is not a terminal (they show on one)."
)


def open_client(database: str | None) -> Client:
    """The client every command uses: the database from ``--db``, the acting user from the environment.
    Imported here, not with the module: ``--help`` and argument errors do not load the store (cli/lazy.py)."""
    from labelport.client import Client

    return Client(database)


def progress(verbose: bool) -> bool | None:
    """``disable_tqdm`` for the client: bars on a terminal (None), always with ``--verbose`` (False)."""
    return False if verbose else None


def require_project(client: Client, project_id: str) -> None:
    """Raise the store's NotFound (``Error: Project '…' does not exist…``) for an unknown project id."""
    client.count_assets(project_id)


def project_row(client: Client, project_id: str, fields: list[str]) -> dict[str, Any]:
    """The project's ``fields``, or the store's NotFound for an unknown project id."""
    rows = client.projects(project_id=project_id, fields=fields, disable_tqdm=True)
    if not rows:
        require_project(client, project_id)
    return rows[0]


def split_values(values: tuple[str, ...]) -> list[str] | None:
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


def parse_filters(values: tuple[str, ...]) -> dict[str, Any]:
    """``--filter KEY=VALUE`` options as keyword arguments of ``assets()`` / ``labels()``."""
    parsed: dict[str, Any] = {}
    for value in values:
        key, equals, raw = value.partition("=")
        if not equals or not key.strip():
            raise click.BadParameter(
                f"{value!r} is not KEY=VALUE, e.g. status_in=LABELED,REVIEWED", param_hint="--filter"
            )
        parsed[key.strip()] = _filter_value(key.strip(), raw)
    return parsed


filter_option = click.option(
    "--filter",
    "filter_values",
    multiple=True,
    metavar="KEY=VALUE",
    help="A filter of the Python client, e.g. status_in=LABELED,REVIEWED or consensus_mark_gte=0.5; repeat. "
    "VALUE is read as JSON when it parses, else as text (a comma-separated list for *_in filters).",
)


def read_json_file(path: Path, what: str) -> Any:
    """Parse a JSON file; a syntax error names the file, the line and the column."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{what} {path} is not UTF-8 text; save it as UTF-8 JSON.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"{what} {path} is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}."
        ) from None
