"""Assets and their selected labels, read from the store page by page (bounded memory)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, false, select

from labelport.enums import InputType, LabelType
from labelport.export.model import ExportAsset, ExportLabel, Frame
from labelport.store import schema
from labelport.store.bulk import IN_CHUNK
from labelport.store.engine import Store
from labelport.store.fields import MEDIA_PREFIX

A, L, U = schema.assets, schema.labels, schema.users
PAGE_SIZE = 500
_SUBMITTED = frozenset({LabelType.DEFAULT, LabelType.REVIEW})


@dataclass(frozen=True)
class Selection:
    """Which labels an export takes from each asset."""

    export_type: str  # "latest" or "normal"
    label_types: tuple[str, ...]
    include_sent_back: bool

    @property
    def uses_latest_label(self) -> bool:
        """The stored ``latestLabel`` answers "latest" when only submitted labels are wanted."""
        return (
            self.export_type == "latest"
            and self.include_sent_back
            and set(self.label_types) >= _SUBMITTED
            and set(self.label_types) <= _SUBMITTED
        )


_ASSET_COLUMNS = (
    A.c.pk,
    A.c.id,
    A.c.external_id,
    A.c.content,
    A.c.media_key,
    A.c.json_content,
    A.c.json_metadata,
    A.c.status,
    A.c.width,
    A.c.height,
    A.c.page_resolutions,
    A.c.latest_label_pk,
    A.c.created_at,
)
_LABEL_COLUMNS = (
    L.c.pk,
    L.c.asset_pk,
    L.c.id,
    L.c.label_type,
    L.c.created_at,
    L.c.json_response,
    L.c.is_latest_for_user,
    L.c.is_sent_back_to_queue,
    L.c.model_name,
    L.c.seconds_to_label,
    U.c.id.label("author_id"),
    U.c.email,
    U.c.firstname,
    U.c.lastname,
)


def stream(
    store: Store,
    where: Sequence[ColumnElement[bool]],
    selection: Selection,
    input_type: str,
    page_size: int | None = None,
) -> Iterator[ExportAsset]:
    """Every asset matching ``where``, in creation order, with its selected labels (possibly none),
    read ``page_size`` assets at a time (default :data:`PAGE_SIZE`): memory is bounded by a page."""
    page_size = page_size or PAGE_SIZE
    media_dir = Path(store.media_dir)
    last_pk = 0
    while True:
        with store.read() as conn:
            rows = conn.execute(
                select(*_ASSET_COLUMNS).where(*where, A.c.pk > last_pk).order_by(A.c.pk).limit(page_size)
            ).all()
            if not rows:
                return
            labels = _labels(conn, rows, selection)
        for row in rows:
            yield _asset(row, labels.get(row.pk, []), media_dir, input_type)
        last_pk = rows[-1].pk
        if len(rows) < page_size:
            return


def _labels(conn: Connection, rows: Sequence[Any], selection: Selection) -> dict[int, list[ExportLabel]]:
    query = select(*_LABEL_COLUMNS).join(U, U.c.pk == L.c.author_pk)
    if selection.uses_latest_label:
        keys = [row.latest_label_pk for row in rows if row.latest_label_pk is not None]
        column = L.c.pk
    else:
        keys = [row.pk for row in rows]
        column = L.c.asset_pk
        query = query.where(L.c.label_type.in_(selection.label_types))
        if not selection.include_sent_back:
            query = query.where(L.c.is_sent_back_to_queue == false())
    found: dict[int, list[ExportLabel]] = {}
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        ordered = query.where(column.in_(chunk)).order_by(L.c.asset_pk, L.c.created_at, L.c.pk)
        for label in conn.execute(ordered):
            found.setdefault(label.asset_pk, []).append(_label(label))
    if selection.export_type == "latest" and not selection.uses_latest_label:
        # labels are sorted by (createdAt, insertion): the last one is the latest
        return {asset_pk: labels[-1:] for asset_pk, labels in found.items()}
    return found


def _label(row: Any) -> ExportLabel:
    firstname, lastname = row.firstname or "", row.lastname or ""
    return ExportLabel(
        id=row.id,
        label_type=row.label_type,
        created_at=row.created_at,
        author={
            "email": row.email,
            "firstname": firstname,
            "id": row.author_id,
            "lastname": lastname,
            "name": f"{firstname} {lastname}".strip(),
        },
        json_response=orjson.loads(row.json_response),
        is_latest_for_user=bool(row.is_latest_for_user),
        is_sent_back_to_queue=bool(row.is_sent_back_to_queue),
        model_name=row.model_name,
        seconds_to_label=row.seconds_to_label,
    )


def _asset(row: Any, labels: list[ExportLabel], media_dir: Path, input_type: str) -> ExportAsset:
    media_path = media_dir / row.media_key if row.media_key else None
    json_content = row.json_content or ""
    frames = _frames(json_content, media_dir) if input_type == InputType.VIDEO else []
    if json_content and MEDIA_PREFIX in json_content:
        json_content = orjson.dumps([str(f.path) if f.path else f.url for f in frames]).decode()
    return ExportAsset(
        id=row.id,
        external_id=row.external_id,
        content=str(media_path) if media_path is not None else (row.content or ""),
        media_path=media_path,
        json_content=json_content,
        json_metadata=orjson.loads(row.json_metadata) if row.json_metadata else {},
        status=row.status,
        resolution=(row.width, row.height) if row.width and row.height else None,
        page_resolutions=orjson.loads(row.page_resolutions) if row.page_resolutions else [],
        frames=frames,
        labels=labels,
        created_at=row.created_at,
    )


def _frames(json_content: str, media_dir: Path) -> list[Frame]:
    if not json_content.strip().startswith(("[", "{")):
        return []
    try:
        value = orjson.loads(json_content)
    except orjson.JSONDecodeError:
        return []
    if isinstance(value, dict):
        try:
            items = [value[key] for key in sorted(value, key=int)]
        except ValueError:
            return []
    elif isinstance(value, list):
        items = value
    else:
        return []
    frames = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            return []
        if item.startswith(MEDIA_PREFIX):
            frames.append(Frame(index, media_dir / item[len(MEDIA_PREFIX) :], None))
        else:
            frames.append(Frame(index, None, item))
    return frames
