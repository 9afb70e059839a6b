"""Assets: import (with media copied into the store), updates and deletion.

Steps (``insert_assets``, ``update_assets``, ``delete_assets``) run inside a caller's transaction; the
entry points below them (Kili's names) take the acting context, open one transaction and keep the
statuses and marks that depend on what changed exact.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, bindparam, delete, select, update

from labelport import media
from labelport._warnings import warn
from labelport.enums import AssetStatus, InputType, parse_enum
from labelport.errors import ValidationError
from labelport.ids import new_ids
from labelport.models import AssetRef, ProjectInfo, in_consensus
from labelport.services import marks, permissions
from labelport.services.context import ActingContext
from labelport.services.labels import restatus_for_consensus
from labelport.services.lookups import get_project, project_and_assets
from labelport.services.media import MediaWriter, keys_of_assets, record_use, remove_unused, used_rows
from labelport.services.permissions import Action
from labelport.store import schema
from labelport.store.bulk import IN_CHUNK, executemany_insert, insert_rows
from labelport.store.fields import MEDIA_PREFIX
from labelport.store.filters import metadata_number, metadata_text
from labelport.timeutil import now_ts
from labelport.values import (
    check_int,
    check_json,
    check_metadata,
    check_page_resolutions,
    check_resolution,
    check_text,
    shown,
)

A, AM, AMD = schema.assets, schema.asset_metadata, schema.asset_media


def _check_lengths(reference: str, size: int, arrays: Mapping[str, Sequence[Any] | None]) -> None:
    for name, values in arrays.items():
        if values is not None and len(values) != size:
            raise ValidationError(f"{name} has {len(values)} items but {reference} has {size}; give one per asset.")


# -- rows ---------------------------------------------------------------------------------------------


def metadata_rows(asset_pk: int, metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "asset_pk": asset_pk,
            "key": key,
            "value_text": metadata_text(value),
            "value_num": metadata_number(value),
        }
        for key, value in metadata.items()
        if value is not None
    ]


# -- content ----------------------------------------------------------------------------------------


@dataclass
class PreparedContent:
    content: str = ""
    media_key: str | None = None
    json_content: str = ""
    width: int | None = None
    height: int | None = None


def _local_file(value: str, external_id: str, what: str = "content") -> Path:
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValidationError(
            f"Asset {external_id!r}: {what} {value!r} is neither an http(s) URL nor an existing file; check the path."
        )
    return path


def _read_text(path: Path, external_id: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(
            f"Asset {external_id!r}: {path} is not UTF-8 text ({error.reason}); save it as UTF-8."
        ) from None
    return check_text(text, f"Asset {external_id!r}: the text of {path}")


def prepare_content(
    input_type: str, content: Any, json_content: Any, external_id: str, writer: MediaWriter
) -> PreparedContent:
    """Validate one asset's content for the project's input type, copying local media into the store."""
    prepared = PreparedContent()
    if content is not None and not isinstance(content, str | Path):
        raise ValidationError(
            f"Asset {external_id!r}: content must be a path, a URL or text, got {type(content).__name__}."
        )
    text = check_text(str(content), f"Asset {external_id!r}: content") if content is not None else ""
    if input_type == InputType.TEXT:
        if text and not media.is_url(text) and len(text) < 4096 and Path(text).expanduser().is_file():
            text = _read_text(Path(text).expanduser(), external_id)
        prepared.content = text
    elif text and media.is_url(text):
        prepared.content = text
    elif text:
        path = _local_file(text, external_id)
        if input_type in (InputType.IMAGE, InputType.GEOSPATIAL):
            prepared.width, prepared.height = media.image_size(path, external_id)
        elif input_type == InputType.PDF and path.read_bytes()[:5] != b"%PDF-":
            raise ValidationError(f"Asset {external_id!r}: {text} is not a PDF file (no %PDF- header).")
        prepared.media_key = writer.add(path)
    prepared.json_content = _prepare_json_content(input_type, json_content, external_id, writer, prepared)
    if not prepared.content and prepared.media_key is None and not prepared.json_content:
        raise ValidationError(f"Asset {external_id!r} has no content: give a path, a URL, text or json_content.")
    return prepared


def _prepare_json_content(
    input_type: str,
    json_content: Any,
    external_id: str,
    writer: MediaWriter,
    prepared: PreparedContent,
) -> str:
    if json_content is None or json_content == "":
        return ""
    if input_type == InputType.VIDEO and isinstance(json_content, list | dict):
        frames = list(json_content.values()) if isinstance(json_content, dict) else list(json_content)
        stored = []
        for index, frame in enumerate(frames):
            if not isinstance(frame, str | Path):
                raise ValidationError(f"Asset {external_id!r}: frame {index} must be a path or URL, got {frame!r}.")
            frame_text = check_text(str(frame), f"Asset {external_id!r}: frame {index}")
            if media.is_url(frame_text):
                stored.append(frame_text)
                continue
            path = _local_file(frame_text, external_id, f"frame {index}")
            if prepared.width is None:
                prepared.width, prepared.height = media.image_size(path, external_id)
            stored.append(MEDIA_PREFIX + writer.add(path))
        return orjson.dumps(stored).decode()
    if isinstance(json_content, str):
        return check_text(json_content, f"Asset {external_id!r}: json_content")
    return check_json(json_content, f"Asset {external_id!r}: json_content").decode()


# -- steps ------------------------------------------------------------------------------------------


def insert_assets(
    conn: Connection,
    project: ProjectInfo,
    writer: MediaWriter,
    content_array: Sequence[Any] | None = None,
    external_id_array: Sequence[str] | None = None,
    json_metadata_array: Sequence[Any] | None = None,
    json_content_array: Sequence[Any] | None = None,
    is_honeypot_array: Sequence[bool] | None = None,
    resolution_array: Sequence[Mapping[str, int] | None] | None = None,
    priority_array: Sequence[int] | None = None,
) -> list[str]:
    """Insert assets; return their ids. External ids already in the project are skipped with a warning."""
    reference, primary = (
        ("content_array", content_array) if content_array is not None else ("json_content_array", json_content_array)
    )
    if primary is None:
        raise ValidationError("Give content_array (paths, URLs or texts) or json_content_array.")
    size = len(primary)
    _check_lengths(
        reference,
        size,
        {
            "content_array": content_array,
            "external_id_array": external_id_array,
            "json_metadata_array": json_metadata_array,
            "json_content_array": json_content_array,
            "is_honeypot_array": is_honeypot_array,
            "resolution_array": resolution_array,
            "priority_array": priority_array,
        },
    )
    external_ids = list(external_id_array) if external_id_array is not None else [uuid.uuid4().hex for _ in range(size)]
    for value in external_ids:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"External ids must be non-empty strings, got {shown(value)}.")
        check_text(value, "External id", kind="external_id", printable=True)
    keep = _new_external_ids(conn, project, external_ids)
    now = now_ts()
    ids = new_ids(len(keep))
    rows: list[dict[str, Any]] = []
    metadatas = []
    for asset_id, index in zip(ids, keep, strict=True):
        external_id = external_ids[index]
        prepared = prepare_content(
            project.input_type,
            content_array[index] if content_array is not None else None,
            json_content_array[index] if json_content_array is not None else None,
            external_id,
            writer,
        )
        if resolution_array is not None and resolution_array[index] is not None:
            prepared.width, prepared.height = check_resolution(resolution_array[index], external_id)
        metadata = check_metadata(json_metadata_array[index] if json_metadata_array is not None else {}, external_id)
        honeypot = bool(is_honeypot_array[index]) if is_honeypot_array is not None else False
        priority = priority_array[index] if priority_array is not None else 0
        check_int(priority, f"Asset {external_id!r}: priority")
        metadatas.append(metadata)
        rows.append(
            {
                "id": asset_id,
                "project_pk": project.pk,
                "external_id": external_id,
                "content": prepared.content,
                "media_key": prepared.media_key,
                "json_content": prepared.json_content,
                "json_metadata": orjson.dumps(metadata).decode(),
                "status": AssetStatus.TODO,
                "skipped": False,
                "is_honeypot": honeypot,
                "is_used_for_consensus": in_consensus(external_id, project.consensus_tot_coverage),
                "priority": priority,
                "width": prepared.width,
                "height": prepared.height,
                "created_at": now,
                "updated_at": now,
            }
        )
    pks = insert_rows(conn, A, rows)
    meta_rows = [row for pk, metadata in zip(pks, metadatas, strict=True) for row in metadata_rows(pk, metadata)]
    executemany_insert(conn, AM, meta_rows)
    record_use(conn, [used for row in rows for used in used_rows(row["pk"], row["media_key"], row["json_content"])])
    return ids


def _new_external_ids(conn: Connection, project: ProjectInfo, external_ids: list[str]) -> list[int]:
    """Indexes of the external ids to import: first occurrences not yet in the project."""
    first: dict[str, int] = {}
    repeated = []
    for index, value in enumerate(external_ids):
        if value in first:
            repeated.append(value)
        else:
            first[value] = index
    if repeated:
        warn(f"External ids given more than once were imported once: {sorted(set(repeated))[:10]}.")
    existing: set[str] = set()
    unique = list(first)
    for start in range(0, len(unique), IN_CHUNK):
        existing.update(
            conn.execute(
                select(A.c.external_id).where(
                    A.c.project_pk == project.pk,
                    A.c.external_id.in_(unique[start : start + IN_CHUNK]),
                )
            ).scalars()
        )
    if existing and existing.issuperset(first):
        raise ValidationError(
            f"Every asset given is already in project {project.id!r} (same external id): "
            f"{_first_few(list(first))}; nothing was imported. Give new external ids, or change these assets "
            "with update_properties_in_assets."
        )
    if existing:
        warn(
            f"{len(existing)} asset(s) already in project {project.id!r} were skipped: "
            f"{sorted(existing)[:10]}; use update_properties_in_assets to change them."
        )
    return [index for value, index in first.items() if value not in existing]


def _first_few(values: list[str], shown: int = 5) -> str:
    """``'a', 'b', 'c'``, or ``'a', …, 'e' and 3 more (8 in all)`` for a long list."""
    listed = ", ".join(repr(value) for value in values[:shown])
    return listed if len(values) <= shown else f"{listed} and {len(values) - shown} more ({len(values)} in all)"


class AssetsUpdated(NamedTuple):
    """What :func:`update_assets` changed."""

    ids: list[str]
    #: Whether marks need a refresh (the honeypot or consensus flags changed).
    needs_marks: bool
    #: The media files the assets used before a content change (to remove once committed, if unused).
    released: list[str]


def update_assets(
    conn: Connection,
    project: ProjectInfo,
    refs: list[AssetRef],
    writer: MediaWriter | None,
    changes: Mapping[str, Sequence[Any] | None],
) -> AssetsUpdated:
    """Apply per-asset arrays of changes; a content change needs ``writer`` (a write holding the media
    lock)."""
    given = {name: values for name, values in changes.items() if values is not None}
    _check_lengths("the asset list", len(refs), given)
    now = now_ts()
    rows: list[dict[str, Any]] = []
    metadata_updates: list[tuple[int, dict[str, Any]]] = []
    new_external_ids: list[str] = []
    for index, ref in enumerate(refs):
        row: dict[str, Any] = {"b_pk": ref.pk, "updated_at": now}
        for name, values in given.items():
            _apply_change(project, ref, name, values[index], row, writer, metadata_updates)
        if "external_id" in row:
            new_external_ids.append(row["external_id"])
        rows.append(row)
    if new_external_ids:
        _check_new_external_ids(conn, project, refs, new_external_ids)
    columns = sorted({key for row in rows for key in row if key != "b_pk"})
    for row in rows:
        missing = [column for column in columns if column not in row]
        if missing:  # a None in one array for one asset: keep that asset's stored value
            current = conn.execute(select(*(A.c[c] for c in missing)).where(A.c.pk == row["b_pk"])).one()
            row.update(zip(missing, current, strict=True))
    media_changed = "media_key" in columns or "json_content" in columns
    released = keys_of_assets(conn, [ref.pk for ref in refs]) if media_changed else []
    if rows:
        # bind names must differ from column names in an UPDATE … SET
        statement = update(A).where(A.c.pk == bindparam("b_pk")).values({c: bindparam(f"v_{c}") for c in columns})
        conn.execute(statement, [{"b_pk": r["b_pk"], **{f"v_{c}": r[c] for c in columns}} for r in rows])
    if media_changed:
        _record_use_again(conn, [ref.pk for ref in refs])
    for asset_pk, metadata in metadata_updates:
        conn.execute(delete(AM).where(AM.c.asset_pk == asset_pk))
        meta_rows = metadata_rows(asset_pk, metadata)
        if meta_rows:
            conn.execute(AM.insert(), meta_rows)
    needs_marks = "is_honeypot_array" in given or "is_used_for_consensus_array" in given
    return AssetsUpdated([ref.id for ref in refs], needs_marks, released)


def _record_use_again(conn: Connection, pks: list[int]) -> None:
    """After a content change: the files the assets use, from their stored columns."""
    used = []
    for start in range(0, len(pks), IN_CHUNK):
        chunk = pks[start : start + IN_CHUNK]
        conn.execute(delete(AMD).where(AMD.c.asset_pk.in_(chunk)))
        for pk, media_key, json_content in conn.execute(
            select(A.c.pk, A.c.media_key, A.c.json_content).where(A.c.pk.in_(chunk))
        ):
            used.extend(used_rows(pk, media_key, json_content))
    record_use(conn, used)


def _apply_change(
    project: ProjectInfo,
    ref: AssetRef,
    name: str,
    value: Any,
    row: dict[str, Any],
    writer: MediaWriter | None,
    metadata_updates: list[tuple[int, dict[str, Any]]],
) -> None:
    if value is None:
        return
    external_id = ref.external_id
    if name == "priorities":
        row["priority"] = check_int(value, f"Asset {external_id!r}: priority")
    elif name == "json_metadatas":
        metadata = check_metadata(value, external_id)
        row["json_metadata"] = orjson.dumps(metadata).decode()
        metadata_updates.append((ref.pk, metadata))
    elif name == "external_ids_new":
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"Asset {external_id!r}: a new external id must be a non-empty string.")
        what = f"Asset {external_id!r}: the new external id"
        row["external_id"] = check_text(value, what, kind="external_id", printable=True)
    elif name == "status_array":
        row["status"] = parse_enum(AssetStatus, value, f"Asset {external_id!r}: status")
    elif name in ("is_honeypot_array", "is_used_for_consensus_array"):
        if not isinstance(value, bool):
            raise ValidationError(f"Asset {external_id!r}: {name} items must be True or False, got {value!r}.")
        row["is_honeypot" if name == "is_honeypot_array" else "is_used_for_consensus"] = value
    elif name == "resolution_array":
        row["width"], row["height"] = check_resolution(value, external_id)
    elif name == "page_resolutions_array":
        row["page_resolutions"] = check_page_resolutions(value, external_id)
    elif name in ("contents", "json_contents"):
        if writer is None:
            raise RuntimeError("a content change needs a write that holds the media lock (ctx.write(media=True))")
        _apply_content(project, name, value, external_id, row, writer)
    else:  # pragma: no cover - the client only passes the names above
        raise ValidationError(f"Unknown asset property {name!r}.")


def _apply_content(
    project: ProjectInfo, name: str, value: Any, external_id: str, row: dict[str, Any], writer: MediaWriter
) -> None:
    if name == "contents":
        prepared = prepare_content(project.input_type, value, None, external_id, writer)
        row["content"], row["media_key"] = prepared.content, prepared.media_key
        if prepared.width is not None:
            row["width"], row["height"] = prepared.width, prepared.height
    else:
        prepared = prepare_content(project.input_type, None, value, external_id, writer)
        row["json_content"] = prepared.json_content


def _check_new_external_ids(conn: Connection, project: ProjectInfo, refs: list[AssetRef], new: list[str]) -> None:
    if len(set(new)) != len(new):
        raise ValidationError("The new external ids must be different from each other.")
    changing = {ref.pk for ref in refs}
    taken = conn.execute(
        select(A.c.external_id, A.c.pk).where(A.c.project_pk == project.pk, A.c.external_id.in_(new))
    ).all()
    for external_id, pk in taken:
        if pk not in changing:
            raise ValidationError(
                f"External id {external_id!r} is already used by another asset of project {project.id!r}."
            )


def delete_assets(conn: Connection, refs: list[AssetRef]) -> list[str]:
    """Delete assets with their labels; return the keys of the media files they used."""
    pks = sorted({ref.pk for ref in refs})
    keys = keys_of_assets(conn, pks)
    for start in range(0, len(pks), IN_CHUNK):
        conn.execute(delete(A).where(A.c.pk.in_(pks[start : start + IN_CHUNK])))
    return keys


# -- entry points -------------------------------------------------------------------------------------

_COMPUTED_MARKS = "consensus_marks and honeypot_marks are computed by labelport from the labels and cannot be set."
#: Asset properties that labelport computes or does not have, refused with the reason.
_REFUSED_CHANGES = {
    "consensus_marks": _COMPUTED_MARKS,
    "honeypot_marks": _COMPUTED_MARKS,
    "to_be_labeled_by_array": "to_be_labeled_by_array: labelport does not assign assets to labelers.",
}


def append_many_to_dataset(
    ctx: ActingContext,
    project_id: str,
    *,
    content_array: Sequence[Any] | None = None,
    external_id_array: Sequence[str] | None = None,
    json_metadata_array: Sequence[Any] | None = None,
    json_content_array: Sequence[Any] | None = None,
    is_honeypot_array: Sequence[bool] | None = None,
    resolution_array: Sequence[Mapping[str, int] | None] | None = None,
    priority_array: Sequence[int] | None = None,
) -> list[str]:
    """Import assets into a project; return their ids (see :func:`insert_assets`)."""
    with ctx.write(media=True) as tx:
        project = get_project(tx.conn, project_id)
        permissions.require(ctx, tx.conn, project, Action.MANAGE_ASSETS)
        return insert_assets(
            tx.conn,
            project,
            tx.media,
            content_array=content_array,
            external_id_array=external_id_array,
            json_metadata_array=json_metadata_array,
            json_content_array=json_content_array,
            is_honeypot_array=is_honeypot_array,
            resolution_array=resolution_array,
            priority_array=priority_array,
        )


def update_properties_in_assets(
    ctx: ActingContext,
    asset_ids: Sequence[str] | None,
    external_ids: Sequence[str] | None,
    project_id: str | None,
    changes: Mapping[str, Sequence[Any] | None],
) -> list[str]:
    """Apply per-asset arrays of changes (Kili's argument names, e.g. ``priorities``,
    ``json_metadatas``, ``status_array``, ``external_ids_new``) to the assets named; return their ids.
    Statuses and marks that depend on the consensus or honeypot flags are derived again."""
    for name, reason in _REFUSED_CHANGES.items():
        if changes.get(name) is not None:
            raise ValidationError(reason)
    given = {name: values for name, values in changes.items() if name not in _REFUSED_CHANGES}
    content = given.get("contents") is not None or given.get("json_contents") is not None
    with ctx.write(media=content) as tx:
        project, refs = project_and_assets(tx.conn, asset_ids, external_ids, project_id)
        permissions.require(ctx, tx.conn, project, Action.MANAGE_ASSETS)
        updated = update_assets(tx.conn, project, refs, tx.writer, given)
        pks = [ref.pk for ref in refs]
        if given.get("is_used_for_consensus_array") is not None:
            restatus_for_consensus(tx.conn, project, pks)
        if updated.needs_marks:
            marks.refresh_marks(tx.conn, project, pks)
        if updated.released:
            tx.after_commit(lambda: remove_unused(ctx.store, updated.released))
    return updated.ids


def merge_metadata(
    ctx: ActingContext,
    project_id: str,
    asset_ids: Sequence[str] | None,
    external_ids: Sequence[str] | None,
    json_metadata: Sequence[Mapping[str, Any]],
    *,
    replace: bool,
) -> list[str]:
    """Merge keys into each asset's jsonMetadata (``replace``: replace it); return the asset ids. The
    current metadata is read in the write transaction, so concurrent merges never lose a key."""
    if replace:
        return update_properties_in_assets(ctx, asset_ids, external_ids, project_id, {"json_metadatas": json_metadata})
    with ctx.write() as tx:
        project, refs = project_and_assets(tx.conn, asset_ids, external_ids, project_id)
        permissions.require(ctx, tx.conn, project, Action.MANAGE_ASSETS)
        if len(json_metadata) != len(refs):
            raise ValidationError(
                f"json_metadata has {len(json_metadata)} items but {len(refs)} assets are named; give one per asset."
            )
        current: dict[int, Any] = {}
        for start in range(0, len(refs), IN_CHUNK):
            chunk = [ref.pk for ref in refs[start : start + IN_CHUNK]]
            current.update(tx.conn.execute(select(A.c.pk, A.c.json_metadata).where(A.c.pk.in_(chunk))).all())
        merged = []
        for ref, extra in zip(refs, json_metadata, strict=True):
            if not isinstance(extra, Mapping):
                raise ValidationError(
                    f"Asset {ref.external_id!r}: json_metadata items must be dicts, got {type(extra).__name__}."
                )
            merged.append({**orjson.loads(current[ref.pk] or "{}"), **extra})
        return update_assets(tx.conn, project, refs, None, {"json_metadatas": merged}).ids


def delete_many_from_dataset(
    ctx: ActingContext,
    asset_ids: Sequence[str] | None,
    external_ids: Sequence[str] | None,
    project_id: str | None,
) -> tuple[str, list[str]]:
    """Delete assets and their labels; return the project id and the asset ids. Media files no other
    asset uses are removed once the deletion has committed."""
    with ctx.write() as tx:
        project, refs = project_and_assets(tx.conn, asset_ids, external_ids, project_id)
        permissions.require(ctx, tx.conn, project, Action.MANAGE_ASSETS)
        keys = delete_assets(tx.conn, refs)
        tx.after_commit(lambda: remove_unused(ctx.store, keys))
    return project.id, [ref.id for ref in refs]
