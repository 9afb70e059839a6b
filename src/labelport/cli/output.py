"""Printing query results: an aligned table, JSON or CSV.

- ``json`` prints the rows as the Python client returns them (nesting kept: ``labelOf.externalId``
  is ``{"labelOf": {"externalId": …}}``), as one JSON array, streamed row by row.
- ``csv`` and ``table`` print one column per field asked for, named by its dotted path. A path
  through a list (``labels.author.email``) gives the list of values; lists and objects (e.g.
  ``jsonResponse``) are written as compact JSON text, ``None`` as an empty cell, booleans as
  ``true``/``false``.
- ``table`` is for reading: floats are rounded to 4 decimals, line breaks become spaces and cells
  longer than 50 characters are cut to 47 plus ``...`` (as Kili's CLI cuts titles). ``csv`` and
  ``json`` keep every value whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click
import orjson

from labelport.cli.common import (
    database_option,
    filter_option,
    open_client,
    parse_filters,
    project_id_option,
    split_values,
)

FORMATS = ("table", "json", "csv")
CELL_LIMIT = 50

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="table",
    show_default=True,
    help="table: aligned columns for reading; json: the rows as the Python client returns them; "
    "csv: one column per field. See docs/cli.md.",
)


def pick(row: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a row; through a list, the list of the values."""
    if isinstance(row, list):
        return [pick(item, path) for item in row]
    if not isinstance(row, Mapping):
        return None
    head, _dot, rest = path.partition(".")
    value = row.get(head)
    return pick(value, rest) if rest else value


def cell(value: Any) -> str:
    """The text of one CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return orjson.dumps(value).decode()


def cut(text: str, limit: int = CELL_LIMIT) -> str:
    """One line, at most ``limit`` characters: longer text keeps ``limit - 3`` and gets ``...``."""
    line = " ".join(text.splitlines())
    return line[: limit - 3] + "..." if len(line) > limit else line


def table_cell(value: Any) -> str:
    """The text of one table cell: rounded floats, one line, cut."""
    if isinstance(value, float):
        return cut(repr(round(value, 4)))
    return cut(cell(value))


def render_table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> str:
    """Columns aligned with two spaces between them; columns in ``right`` aligned to the right.

    With no ``headers`` (an empty sequence), only the rows are printed."""
    body = [list(row) for row in rows]
    widths = [len(header) for header in headers] or [0] * max((len(row) for row in body), default=0)
    for row in body:
        for index, text in enumerate(row):
            widths[index] = max(widths[index], len(text))
    right_aligned = set(right)

    def line(texts: Sequence[str]) -> str:
        parts = [
            text.rjust(widths[index]) if index in right_aligned else text.ljust(widths[index])
            for index, text in enumerate(texts)
        ]
        return "  ".join(parts).rstrip()

    lines = [line(row) for row in body]
    return "\n".join([line(headers), *lines] if headers else lines)


def csv_line(values: Sequence[str]) -> str:
    """One CSV record without its line end (values holding a line break, a comma or a quote are quoted)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()[:-2]


def json_array(rows: Iterable[Any], echo: Callable[[str], None]) -> int:
    """Print ``rows`` as one indented JSON array, one row at a time; return the number of rows."""
    count = 0
    for row in rows:
        text = orjson.dumps(row, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
        indented = "\n".join("  " + line for line in text.splitlines())
        echo(("[\n" if count == 0 else ",\n") + indented)
        count += 1
    echo("[]\n" if count == 0 else "\n]\n")
    return count


def print_rows(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> int:
    """Print query rows in ``fmt``; ``columns`` are the dotted fields (table and CSV columns)."""

    def echo(text: str) -> None:
        click.echo(text, nl=False)

    if fmt == "json":
        return json_array(rows, echo)
    if fmt == "csv":
        count = 0
        click.echo(csv_line(columns))
        for row in rows:
            click.echo(csv_line([cell(pick(row, column)) for column in columns]))
            count += 1
        return count
    body = [[table_cell(pick(row, column)) for column in columns] for row in rows]
    click.echo(render_table(columns, body))
    return len(body)


def print_records(records: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str, table: str) -> None:
    """Print flat records: a JSON array, CSV with ``columns``, or the ``table`` text already laid out."""
    if fmt == "json":
        json_array(records, lambda text: click.echo(text, nl=False))
    elif fmt == "csv":
        click.echo(csv_line(columns))
        for record in records:
            click.echo(csv_line([cell(record.get(column)) for column in columns]))
    else:
        click.echo(table)


def listing_options(noun: str, default_fields: Sequence[str]) -> Callable[[Any], Any]:
    """The options of ``asset list`` and ``label list``: project, dotted fields, filters, paging,
    output format and database."""
    options = [
        project_id_option,
        click.option(
            "--fields",
            multiple=True,
            help=f"Dotted fields, comma-separated or repeated (see docs/query.md); default {','.join(default_fields)}.",
        ),
        filter_option,
        click.option("--first", type=click.IntRange(min=0), help=f"At most this many {noun}."),
        click.option("--skip", type=click.IntRange(min=0), default=0, help=f"Skip this many {noun} first."),
        format_option,
        database_option,
    ]

    def apply(command: Any) -> Any:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def print_listing(
    query: str,
    default_fields: Sequence[str],
    project_id: str,
    fields: tuple[str, ...],
    filter_values: tuple[str, ...],
    first: int | None,
    skip: int,
    fmt: str,
    database: str | None,
) -> None:
    """Stream ``client.assets`` or ``client.labels`` (``query``) with the command's options and print the rows."""
    columns = split_values(fields) or list(default_fields)
    filters = parse_filters(filter_values)
    with open_client(database) as client:
        rows = getattr(client, query)(project_id, fields=columns, first=first, skip=skip, as_generator=True, **filters)
        print_rows(rows, columns, fmt)
