"""Assets: import (with media copied into the store), updates, deletion, review and send-back."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Row, bindparam, delete, false, or_, select, update

from labelport import media
from labelport._warnings import warn
from labelport.enums import AssetStatus, InputType, parse_enum
from labelport.errors import NotFound, ValidationError
from labelport.ids import new_ids
from labelport.services.projects import ProjectInfo, in_consensus
from labelport.store import schema
from labelport.store.bulk import KEYS, executemany_insert, insert_rows, select_for_keys
from labelport.store.fields import IN_CHUNK, MEDIA_PREFIX
from labelport.store.filters import metadata_number, metadata_text
from labelport.timeutil import now_ts

A, AM, L = schema.assets, schema.asset_metadata, schema.labels
_MEDIA_REF = re.compile(r'"media:([0-9a-f]{2}/[0-9a-f]{64}[^"]*)"')


@dataclass
class MediaWriter:
    """Copies local files into the media folder and removes the new ones if the transaction fails."""

    media_dir: Path
    created: list[Path] = field(default_factory=list)

    def add(self, path: Path) -> str:
        key, is_new = media.store_file(self.media_dir, path)
        if is_new:
            self.created.append(self.media_dir / key)
        return key

    def rollback(self) -> None:
        for path in self.created:
            path.unlink(missing_ok=True)
        self.created.clear()


@dataclass(frozen=True)
class AssetRef:
    pk: int
    id: str
    external_id: str
    project_pk: int


# -- lookups ----------------------------------------------------------------------------------------


def resolve_assets(
    conn: Connection,
    project: ProjectInfo | None,
    asset_ids: Sequence[str] | None = None,
    external_ids: Sequence[str] | None = None,
) -> list[AssetRef]:
    """The assets named by ids, or by external ids within ``project``, in the order given."""
    if (asset_ids is None) == (external_ids is None):
        raise ValidationError("Give either asset ids or external ids (with the project id), not both or neither.")
    by_external = asset_ids is None
    wanted = list(external_ids if by_external else asset_ids)  # type: ignore[arg-type]
    for value in wanted:
        if not isinstance(value, str):
            raise ValidationError(f"Asset {'external ' if by_external else ''}ids must be strings, got {value!r}.")
    if by_external and project is None:
        raise ValidationError("External ids are unique within a project only: give the project_id too.")
    # One statement whatever the number of assets (select_for_keys), on the unique key
    # (project_pk, external_id) or on the id.
    key = "external_id" if by_external else "id"
    where = f"project_pk = {int(project.pk)} AND {key}" if project is not None else key
    found: dict[str, AssetRef] = {}
    rows = select_for_keys(
        conn, f"SELECT pk, id, external_id, project_pk FROM assets WHERE {where} {KEYS}", sorted(set(wanted))
    )
    for pk, asset_id, external_id, project_pk in rows:
        found[external_id if by_external else asset_id] = AssetRef(pk, asset_id, external_id, project_pk)
    missing = [value for value in wanted if value not in found]
    if missing:
        where = f" in project {project.id!r}" if project is not None else ""
        kind = "external id" if by_external else "id"
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NotFound(f"No asset with {kind} {missing[0]!r}{where}{more}; check the {kind}s with client.assets().")
    refs = [found[value] for value in wanted]
    projects = {ref.project_pk for ref in refs}
    if len(projects) > 1:
        raise ValidationError("The assets belong to several projects; act on one project at a time.")
    return refs


def media_keys_of(rows: Iterable[Row[Any]]) -> list[str]:
    """Media keys referenced by asset rows of (media_key, json_content)."""
    keys: set[str] = set()
    for media_key, json_content in rows:
        if media_key:
            keys.add(media_key)
        if json_content and MEDIA_PREFIX in json_content:
            keys.update(_MEDIA_REF.findall(json_content))
    return sorted(keys)


def unreferenced_media(conn: Connection, keys: Iterable[str]) -> list[str]:
    """The keys no asset of any project still uses."""
    orphans = []
    for key in keys:
        used = conn.execute(
            select(A.c.pk)
            .where(
                or_(
                    A.c.media_key == key,
                    A.c.json_content.contains(f"{MEDIA_PREFIX}{key}", autoescape=True),
                )
            )
            .limit(1)
        ).first()
        if used is None:
            orphans.append(key)
    return orphans


# -- value checks -----------------------------------------------------------------------------------


def _check_lengths(reference: str, size: int, arrays: Mapping[str, Sequence[Any] | None]) -> None:
    for name, values in arrays.items():
        if values is not None and len(values) != size:
            raise ValidationError(f"{name} has {len(values)} items but {reference} has {size}; give one per asset.")


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


def check_metadata(value: Any, external_id: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = orjson.loads(value) if value.strip() else {}
        except orjson.JSONDecodeError:
            raise ValidationError(f"Asset {external_id!r}: json_metadata is not valid JSON: {value[:80]!r}.") from None
    if not isinstance(value, dict):
        raise ValidationError(f"Asset {external_id!r}: json_metadata must be a dict, got {type(value).__name__}.")
    if not _finite(value):
        raise ValidationError(f"Asset {external_id!r}: json_metadata holds NaN or Infinity, which JSON cannot store.")
    try:
        orjson.dumps(value)
    except TypeError as error:
        raise ValidationError(f"Asset {external_id!r}: json_metadata is not JSON-serializable ({error}).") from None
    return value


def check_resolution(value: Any, external_id: str) -> tuple[int, int]:
    if isinstance(value, Mapping):
        width, height = value.get("width"), value.get("height")
    else:
        raise ValidationError(
            f"Asset {external_id!r}: resolution must be {{'width': int, 'height': int}}, got {value!r}."
        )
    for side, number in (("width", width), ("height", height)):
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise ValidationError(
                f"Asset {external_id!r}: resolution {side} must be a positive integer, got {number!r}."
            )
    return width, height  # type: ignore[return-value]


def check_page_resolutions(value: Any, external_id: str) -> str:
    if not isinstance(value, list):
        raise ValidationError(
            f"Asset {external_id!r}: page resolutions must be a list of {{pageNumber, width, height, rotation}}."
        )
    pages = []
    for page in value:
        if not isinstance(page, Mapping):
            raise ValidationError(f"Asset {external_id!r}: every page resolution must be a dict, got {page!r}.")
        number = page.get("pageNumber")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValidationError(f"Asset {external_id!r}: pageNumber must be an integer ≥ 1, got {number!r}.")
        width, height = check_resolution(page, f"{external_id}, page {number}")
        rotation = page.get("rotation", 0)
        if rotation not in (0, 90, 180, 270):
            raise ValidationError(f"Asset {external_id!r}, page {number}: rotation must be 0, 90, 180 or 270.")
        pages.append({"pageNumber": number, "width": width, "height": height, "rotation": rotation})
    return orjson.dumps(sorted(pages, key=lambda p: p["pageNumber"])).decode()


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


def prepare_content(
    input_type: str, content: Any, json_content: Any, external_id: str, writer: MediaWriter
) -> PreparedContent:
    """Validate one asset's content for the project's input type, copying local media into the store."""
    prepared = PreparedContent()
    if content is not None and not isinstance(content, str | Path):
        raise ValidationError(
            f"Asset {external_id!r}: content must be a path, a URL or text, got {type(content).__name__}."
        )
    text = str(content) if content is not None else ""
    if input_type == InputType.TEXT:
        if text and not media.is_url(text) and len(text) < 4096 and Path(text).expanduser().is_file():
            text = Path(text).expanduser().read_text(encoding="utf-8")
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
            frame_text = str(frame)
            if media.is_url(frame_text):
                stored.append(frame_text)
                continue
            path = _local_file(frame_text, external_id, f"frame {index}")
            if prepared.width is None:
                prepared.width, prepared.height = media.image_size(path, external_id)
            stored.append(MEDIA_PREFIX + writer.add(path))
        return orjson.dumps(stored).decode()
    if isinstance(json_content, str):
        return json_content
    try:
        return orjson.dumps(json_content).decode()
    except TypeError as error:
        raise ValidationError(f"Asset {external_id!r}: json_content is not JSON-serializable ({error}).") from None


# -- import -----------------------------------------------------------------------------------------


def append_many_to_dataset(
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
            raise ValidationError(f"External ids must be non-empty strings, got {value!r}.")
    keep = _new_external_ids(conn, project, external_ids)
    if not keep:
        raise ValidationError(
            f"Every asset given already exists in project {project.id!r} (same external ids); nothing to import."
        )
    now = now_ts()
    ids = new_ids(len(keep))
    rows = []
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
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise ValidationError(f"Asset {external_id!r}: priority must be an integer, got {priority!r}.")
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
    if existing:
        warn(
            f"{len(existing)} asset(s) already in project {project.id!r} were skipped: "
            f"{sorted(existing)[:10]}; use update_properties_in_assets to change them."
        )
    return [index for value, index in first.items() if value not in existing]


# -- updates ----------------------------------------------------------------------------------------


def update_properties_in_assets(
    conn: Connection,
    project: ProjectInfo,
    refs: list[AssetRef],
    writer: MediaWriter,
    changes: Mapping[str, Sequence[Any] | None],
) -> tuple[list[str], bool]:
    """Apply per-asset arrays of changes. Return the ids changed and whether marks need a refresh."""
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
    if rows:
        # bind names must differ from column names in an UPDATE … SET
        statement = update(A).where(A.c.pk == bindparam("b_pk")).values({c: bindparam(f"v_{c}") for c in columns})
        conn.execute(statement, [{"b_pk": r["b_pk"], **{f"v_{c}": r[c] for c in columns}} for r in rows])
    for asset_pk, metadata in metadata_updates:
        conn.execute(delete(AM).where(AM.c.asset_pk == asset_pk))
        meta_rows = metadata_rows(asset_pk, metadata)
        if meta_rows:
            conn.execute(AM.insert(), meta_rows)
    needs_marks = "is_honeypot_array" in given or "is_used_for_consensus_array" in given
    return [ref.id for ref in refs], needs_marks


def _apply_change(
    project: ProjectInfo,
    ref: AssetRef,
    name: str,
    value: Any,
    row: dict[str, Any],
    writer: MediaWriter,
    metadata_updates: list[tuple[int, dict[str, Any]]],
) -> None:
    if value is None:
        return
    external_id = ref.external_id
    if name == "priorities":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"Asset {external_id!r}: priority must be an integer, got {value!r}.")
        row["priority"] = value
    elif name == "json_metadatas":
        metadata = check_metadata(value, external_id)
        row["json_metadata"] = orjson.dumps(metadata).decode()
        metadata_updates.append((ref.pk, metadata))
    elif name == "external_ids_new":
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"Asset {external_id!r}: a new external id must be a non-empty string.")
        row["external_id"] = value
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
    elif name == "contents":
        prepared = prepare_content(project.input_type, value, None, external_id, writer)
        row["content"], row["media_key"] = prepared.content, prepared.media_key
        if prepared.width is not None:
            row["width"], row["height"] = prepared.width, prepared.height
    elif name == "json_contents":
        prepared = prepare_content(project.input_type, None, value, external_id, writer)
        row["json_content"] = prepared.json_content
    else:  # pragma: no cover - the client only passes the names above
        raise ValidationError(f"Unknown asset property {name!r}.")


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


def delete_many_from_dataset(conn: Connection, refs: list[AssetRef]) -> list[str]:
    """Delete assets with their labels; return the media keys they used."""
    pks = sorted({ref.pk for ref in refs})
    keys: list[str] = []
    for start in range(0, len(pks), IN_CHUNK):
        chunk = pks[start : start + IN_CHUNK]
        keys.extend(media_keys_of(conn.execute(select(A.c.media_key, A.c.json_content).where(A.c.pk.in_(chunk)))))
        conn.execute(delete(A).where(A.c.pk.in_(chunk)))
    return sorted(set(keys))


# -- workflow ---------------------------------------------------------------------------------------


def add_to_review(conn: Connection, refs: list[AssetRef]) -> list[str]:
    """Move the assets that have a submitted label to TO_REVIEW; return their ids."""
    pks = sorted({ref.pk for ref in refs})
    moved: list[str] = []
    now = now_ts()
    for start in range(0, len(pks), IN_CHUNK):
        chunk = pks[start : start + IN_CHUNK]
        eligible = A.c.pk.in_(chunk) & A.c.latest_label_pk.is_not(None)
        moved.extend(conn.execute(select(A.c.id).where(eligible).order_by(A.c.pk)).scalars())
        conn.execute(update(A).where(eligible).values(status=AssetStatus.TO_REVIEW, updated_at=now))
    return moved


def send_back_to_queue(conn: Connection, refs: list[AssetRef]) -> list[str]:
    """Send labeled assets back to ONGOING, flagging their submitted labels ``isSentBackToQueue``."""
    pks = sorted({ref.pk for ref in refs})
    moved: list[str] = []
    now = now_ts()
    for start in range(0, len(pks), IN_CHUNK):
        chunk = pks[start : start + IN_CHUNK]
        eligible = A.c.pk.in_(chunk) & A.c.latest_label_pk.is_not(None)
        moved.extend(conn.execute(select(A.c.id).where(eligible).order_by(A.c.pk)).scalars())
        conn.execute(update(A).where(eligible).values(status=AssetStatus.ONGOING, updated_at=now))
        conn.execute(
            update(L)
            .where(
                L.c.asset_pk.in_(chunk),
                L.c.label_type.in_(("DEFAULT", "REVIEW")),
                L.c.is_sent_back_to_queue == false(),
            )
            .values(is_sent_back_to_queue=True, updated_at=now)
        )
    return moved
