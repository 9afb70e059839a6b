"""``labelport project import`` and ``labelport asset list``."""

from __future__ import annotations

import csv
import glob
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tqdm import tqdm

from labelport.cli.common import (
    database_option,
    open_client,
    progress,
    project_id_option,
    project_row,
    verbose_option,
)
from labelport.cli.output import listing_options, print_listing
from labelport.enums import InputType
from labelport.errors import LabelportError, ValidationError, a_or_an

if TYPE_CHECKING:
    from labelport.client import Client

#: File name endings taken from folders, per input type (files named one by one are always taken).
MEDIA_SUFFIXES: dict[str, frozenset[str]] = {
    InputType.IMAGE: frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}),
    InputType.GEOSPATIAL: frozenset({".tif", ".tiff", ".jp2", ".jpg", ".jpeg", ".png"}),
    InputType.PDF: frozenset({".pdf"}),
    InputType.TEXT: frozenset({".txt", ".md", ".html", ".htm"}),
    InputType.VIDEO: frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm"}),
}
DEFAULT_ASSET_FIELDS = ["externalId", "id", "status", "isHoneypot", "consensusMark", "honeypotMark"]


@dataclass
class AssetBatch:
    """What ``project import`` sends to ``append_many_to_dataset``: one entry per asset."""

    contents: list[str] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    metadatas: list[str] | None = None

    def __len__(self) -> int:
        return len(self.external_ids)

    def slice(self, start: int, stop: int) -> AssetBatch:
        metadatas = None if self.metadatas is None else self.metadatas[start:stop]
        return AssetBatch(self.contents[start:stop], self.external_ids[start:stop], metadatas)

    def without(self, external_ids: set[str]) -> AssetBatch:
        keep = [index for index, value in enumerate(self.external_ids) if value not in external_ids]
        return AssetBatch(
            [self.contents[i] for i in keep],
            [self.external_ids[i] for i in keep],
            None if self.metadatas is None else [self.metadatas[i] for i in keep],
        )


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _folder_files(folder: Path, suffixes: frozenset[str]) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in suffixes and not _is_hidden(path, folder):
            yield path


def collect_files(arguments: Sequence[str], suffixes: frozenset[str]) -> list[Path]:
    """Files named by the arguments: files, folders (walked, files with ``suffixes``) or glob patterns."""
    found: dict[Path, None] = {}
    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_dir():
            found.update(dict.fromkeys(_folder_files(path, suffixes)))
        elif path.is_file():
            found[path] = None
        else:
            matches = sorted(Path(match) for match in glob.glob(str(path), recursive=True))
            files = [match for match in matches if match.is_file()]
            if not files:
                raise click.BadParameter(
                    f"{argument!r} is neither a file, a folder nor a pattern matching files.", param_hint="'FILES'"
                )
            found.update(dict.fromkeys(files))
    return list(found)


def batch_from_files(files: Sequence[Path]) -> AssetBatch:
    """One asset per file; its external id is the file name without its extension."""
    owners: dict[str, Path] = {}
    for path in files:
        previous = owners.setdefault(path.stem, path)
        if previous != path:
            raise ValidationError(
                f"Two files would get the external id {path.stem!r}: {previous} and {path}; rename one, "
                "or import with --from-csv to choose the external ids."
            )
    return AssetBatch([str(path) for path in files], [path.stem for path in files])


def _csv_content(value: str, folder: Path) -> str:
    """A content cell: a URL or text as it is; a relative path is read from the CSV's folder when it exists there."""
    if value.startswith(("http://", "https://")) or Path(value).is_absolute():
        return value
    candidate = folder / value
    return str(candidate) if candidate.is_file() else value


def batch_from_csv(path: Path) -> AssetBatch:
    """Assets from a CSV with the columns ``external_id``, ``content`` and optionally ``json_metadata``."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [name for name in ("external_id", "content") if name not in columns]
        if missing:
            raise ValidationError(
                f"{path}: the CSV needs the columns external_id and content (and optionally json_metadata); "
                f"missing: {', '.join(missing)}; found: {', '.join(columns) or 'none'}."
            )
        batch = AssetBatch(metadatas=[] if "json_metadata" in columns else None)
        for row in reader:
            line = reader.line_num
            external_id, content = (row["external_id"] or "").strip(), (row["content"] or "").strip()
            if not external_id or not content:
                raise ValidationError(f"{path}, line {line}: external_id and content must not be empty.")
            batch.external_ids.append(external_id)
            batch.contents.append(_csv_content(content, path.parent))
            if batch.metadatas is not None:
                batch.metadatas.append(row["json_metadata"] or "{}")
    if not batch:
        raise ValidationError(f"{path}: the CSV has no rows; nothing to import.")
    return batch


def _existing_external_ids(client: Client, project_id: str) -> set[str]:
    rows = client.assets(project_id, fields=["externalId"], as_generator=True)
    return {row["externalId"] for row in rows}


def import_batch(
    client: Client, project_id: str, batch: AssetBatch, batch_size: int, disable_tqdm: bool | None
) -> tuple[int, int]:
    """Import the assets not yet in the project, ``batch_size`` per transaction; return (imported, skipped)."""
    new = batch.without(_existing_external_ids(client, project_id))
    imported = 0
    with tqdm(total=len(new), desc="import", unit=" assets", disable=disable_tqdm, leave=False) as bar:
        for start in range(0, len(new), batch_size):
            part = new.slice(start, start + batch_size)
            try:
                client.append_many_to_dataset(
                    project_id,
                    content_array=part.contents,
                    external_id_array=part.external_ids,
                    json_metadata_array=part.metadatas,
                )
            except LabelportError as error:
                if imported:
                    raise type(error)(
                        f"{error} {imported} asset(s) were imported before this batch; run the same command "
                        "again once fixed: assets already imported are skipped."
                    ) from None
                raise
            imported += len(part)
            bar.update(len(part))
    return imported, len(batch) - len(new)


@click.command("import")
@click.argument("files", nargs=-1)
@project_id_option
@click.option(
    "--from-csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CSV with the columns external_id, content (a path or URL) and optionally json_metadata (JSON text).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Assets per transaction: a batch is stored whole or not at all.",
)
@verbose_option
@database_option
def import_(
    files: tuple[str, ...],
    project_id: str,
    from_csv: Path | None,
    batch_size: int,
    verbose: bool,
    database: str | None,
) -> None:
    """Import assets: files, folders, glob patterns, or a CSV of paths or URLs.

    A folder is walked (hidden files skipped) for the files of the project's input type (e.g.
    .jpg, .png… for IMAGE). The external id of a file is its name without its extension. In a CSV,
    a relative path is read from the CSV's folder. Local files are copied into the store; URLs are
    kept as references. Assets whose external id is already in the project are skipped, so running
    the same command again after a failure imports the rest.

    \b
    Example:
      labelport project import photos/ extra/car_9.jpg "more/*.png" --project-id 01a2…
      labelport project import --from-csv assets.csv --project-id 01a2…
    """
    if bool(files) == (from_csv is not None):
        raise click.UsageError("Give FILES (files, folders or patterns) or --from-csv CSV, one of them.")
    with open_client(database) as client:
        input_type = project_row(client, project_id, ["inputType"])["inputType"]
        if from_csv is not None:
            batch = batch_from_csv(from_csv)
        else:
            suffixes = MEDIA_SUFFIXES[input_type]
            paths = collect_files(files, suffixes)
            if not paths:
                raise ValidationError(
                    f"No file to import in {', '.join(files)}: files taken from folders for {a_or_an(input_type)} "
                    f"project end with {', '.join(sorted(suffixes))}."
                )
            batch = batch_from_files(paths)
        imported, skipped = import_batch(client, project_id, batch, batch_size, progress(verbose))
    message = f"Imported {imported} asset(s) into project {project_id}."
    if skipped:
        message += f" Skipped {skipped} asset(s) already in the project (same external id)."
    click.echo(message)


@click.command("list")
@listing_options("assets", DEFAULT_ASSET_FIELDS)
def list_assets(
    project_id: str,
    fields: tuple[str, ...],
    filter_values: tuple[str, ...],
    first: int | None,
    skip: int,
    fmt: str,
    database: str | None,
) -> None:
    """List a project's assets (client.assets) with the fields and filters of the Python client.

    \b
    Example:
      labelport asset list --project-id 01a2… --fields externalId,consensusMark --filter consensus_mark_gte=0.5
      labelport asset list --project-id 01a2… --fields externalId,latestLabel.jsonResponse --format json
    """
    print_listing("assets", DEFAULT_ASSET_FIELDS, project_id, fields, filter_values, first, skip, fmt, database)
