"""``labelport project label`` and ``labelport label list``."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from labelport.cli.assets import collect_files
from labelport.cli.common import (
    database_option,
    open_client,
    progress,
    project_id_option,
    read_json_file,
    require_project,
    verbose_option,
)
from labelport.cli.output import listing_options, print_listing
from labelport.enums import LabelType
from labelport.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from labelport.client import Client

DEFAULT_LABEL_FIELDS = ["id", "labelOf.externalId", "labelType", "author.email", "createdAt"]
_JSON = frozenset({".json"})


def label_files_from_paths(arguments: Sequence[str]) -> list[tuple[str, Path]]:
    """(external id, file) pairs: JSON files named after the external ids of their assets."""
    pairs: dict[str, Path] = {}
    for path in collect_files(arguments, _JSON):
        previous = pairs.setdefault(path.stem, path)
        if previous != path:
            raise ValidationError(
                f"Two label files name the asset {path.stem!r}: {previous} and {path}; keep one, "
                "or list them in a CSV with --from-csv."
            )
    return list(pairs.items())


def label_files_from_csv(path: Path) -> list[tuple[str, Path]]:
    """(external id, file) pairs from a CSV with the columns ``external_id`` and ``json_response_path``
    (relative paths are read from the CSV's folder)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [name for name in ("external_id", "json_response_path") if name not in columns]
        if missing:
            raise ValidationError(
                f"{path}: the CSV needs the columns external_id and json_response_path; "
                f"missing: {', '.join(missing)}; found: {', '.join(columns) or 'none'}."
            )
        pairs = []
        for row in reader:
            external_id, file = (row["external_id"] or "").strip(), (row["json_response_path"] or "").strip()
            if not external_id or not file:
                raise ValidationError(
                    f"{path}, line {reader.line_num}: external_id and json_response_path must not be empty."
                )
            response_path = Path(file).expanduser()
            if not response_path.is_absolute():
                response_path = path.parent / response_path
            if not response_path.is_file():
                raise ValidationError(f"{path}, line {reader.line_num}: the label file {response_path} does not exist.")
            pairs.append((external_id, response_path))
    if not pairs:
        raise ValidationError(f"{path}: the CSV has no rows; nothing to import.")
    return pairs


def read_responses(pairs: Sequence[tuple[str, Path]], disable_tqdm: bool | None) -> list[dict[str, Any]]:
    """The jsonResponse held by each file (a JSON object keyed by job)."""
    responses = []
    for _external_id, path in tqdm(pairs, desc="read labels", unit=" files", disable=disable_tqdm, leave=False):
        response = read_json_file(path, "The label file")
        if not isinstance(response, dict):
            raise ValidationError(
                f"The label file {path} holds a JSON {type(response).__name__}; a jsonResponse is an object "
                'keyed by job, e.g. {"JOB_0": {"annotations": [...]}}.'
            )
        responses.append(response)
    return responses


def user_id(client: Client, email: str, project_id: str) -> str:
    """The id of the user with this email; NotFound saying how to add them."""
    users = client.users(email=email, fields=["id"], disable_tqdm=True)
    if not users:
        raise NotFound(
            f"User {email!r} does not exist in this store; add them to the project first: "
            f"labelport project member add {email} --project-id {project_id}"
        )
    return str(users[0]["id"])


@click.command("label")
@click.argument("files", nargs=-1)
@project_id_option
@click.option(
    "--from-csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CSV with the columns external_id and json_response_path.",
)
@click.option(
    "--label-type",
    type=click.Choice([t.value for t in LabelType]),
    default=None,
    help="The type of the labels (default DEFAULT; PREDICTION with --prediction).",
)
@click.option("--prediction", is_flag=True, help="Import the labels as predictions (needs --model-name).")
@click.option("--model-name", help="The model that made the labels (PREDICTION and INFERENCE labels).")
@click.option(
    "--author",
    help="The email of the labels' author, a user of the store (default: the acting user, $LABELPORT_USER_EMAIL).",
)
@click.option("--overwrite", is_flag=True, help="Replace this model's labels of this type on the assets first.")
@verbose_option
@database_option
def label(
    files: tuple[str, ...],
    project_id: str,
    from_csv: Path | None,
    label_type: str | None,
    prediction: bool,
    model_name: str | None,
    author: str | None,
    overwrite: bool,
    verbose: bool,
    database: str | None,
) -> None:
    """Import labels: JSON files holding a jsonResponse, each named after its asset's external id.

    FILES are .json files, folders (walked for .json files) or glob patterns; or give a CSV with
    --from-csv. All the labels go in one transaction: one bad label stores none.

    \b
    Example:
      labelport project label labels/ --project-id 01a2… --author alice@example.com
      labelport project label predictions/ --project-id 01a2… --prediction --model-name yolo-v8n
    """
    if bool(files) == (from_csv is not None):
        raise click.UsageError("Give FILES (files, folders or patterns) or --from-csv CSV, one of them.")
    if prediction and label_type not in (None, LabelType.PREDICTION):
        raise click.UsageError(f"--prediction imports PREDICTION labels; it cannot go with --label-type {label_type}.")
    kind = LabelType.PREDICTION if prediction else (label_type or LabelType.DEFAULT)
    with open_client(database) as client:
        require_project(client, project_id)
        pairs = label_files_from_csv(from_csv) if from_csv is not None else label_files_from_paths(files)
        if not pairs:
            raise ValidationError(f"No .json label file found in {', '.join(files)}.")
        responses = read_responses(pairs, progress(verbose))
        authors = None if author is None else [user_id(client, author, project_id)] * len(pairs)
        client.append_labels(
            project_id=project_id,
            asset_external_id_array=[external_id for external_id, _ in pairs],
            json_response_array=responses,
            author_id_array=authors,
            label_type=kind,
            model_name=model_name,
            overwrite=overwrite,
        )
    by = f" by {author}" if author else ""
    click.echo(f"Imported {len(pairs)} {kind} label(s){by} into project {project_id}.")


@click.command("list")
@listing_options("labels", DEFAULT_LABEL_FIELDS)
def list_labels(
    project_id: str,
    fields: tuple[str, ...],
    filter_values: tuple[str, ...],
    first: int | None,
    skip: int,
    fmt: str,
    database: str | None,
) -> None:
    """List a project's labels (client.labels) with the fields and filters of the Python client.

    \b
    Example:
      labelport label list --project-id 01a2… --fields labelOf.externalId,honeypotMark,id \\
          --filter honeypot_mark_gte=0.1
      labelport label list --project-id 01a2… --filter author_in=Alice --format csv
    """
    print_listing("labels", DEFAULT_LABEL_FIELDS, project_id, fields, filter_values, first, skip, fmt, database)
