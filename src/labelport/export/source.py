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


@dataclass(frozen=True)
class Page:
    """A page of the selection as read from the store: its assets' rows and their labels' rows, as plain
    tuples (columns of :data:`_ASSET_COLUMNS` and :data:`_LABEL_COLUMNS`), which pickle as they are: the
    exporting process reads a page and a worker process parses it (:func:`parse`)."""

    assets: list[tuple[Any, ...]]
    labels: list[tuple[Any, ...]]


def stream(
    conn: Connection,
    media_dir: str | Path,
    where: Sequence[ColumnElement[bool]],
    selection: Selection,
    input_type: str,
    page_size: int | None = None,
) -> Iterator[ExportAsset]:
    """Every asset matching ``where``, in creation order, with its selected labels (possibly none), read
    ``page_size`` assets at a time (default :data:`PAGE_SIZE`): memory is bounded by a page. Every page is
    read with ``conn``: in a :meth:`~labelport.store.engine.Store.snapshot`, all of them show one moment."""
    media = Path(media_dir)
    for page in pages(conn, where, selection, page_size):
        yield from parse(page, selection, media, input_type)


def pages(
    conn: Connection, where: Sequence[ColumnElement[bool]], selection: Selection, page_size: int | None = None
) -> Iterator[Page]:
    """The selection ``page_size`` assets at a time, in creation order, as read (not parsed)."""
    page_size = page_size or PAGE_SIZE
    last_pk = 0
    while True:
        rows = conn.execute(
            select(*_ASSET_COLUMNS).where(*where, A.c.pk > last_pk).order_by(A.c.pk).limit(page_size)
        ).all()
        if not rows:
            return
        yield Page([tuple(row) for row in rows], _labels(conn, rows, selection))
        last_pk = rows[-1].pk
        if len(rows) < page_size:
            return


def page_of(conn: Connection, keys: Sequence[int], selection: Selection) -> Page:
    """The assets whose primary keys are ``keys`` (at most :data:`~labelport.store.fields.IN_CHUNK`), in
    creation order, as read."""
    rows = conn.execute(select(*_ASSET_COLUMNS).where(A.c.pk.in_(list(keys))).order_by(A.c.pk)).all()
    return Page([tuple(row) for row in rows], _labels(conn, rows, selection))


def _labels(conn: Connection, rows: Sequence[Any], selection: Selection) -> list[tuple[Any, ...]]:
    """The selected labels' rows of the assets ``rows``, by asset then creation (for "latest" without
    :attr:`Selection.uses_latest_label`, every candidate: :func:`parse` keeps the last)."""
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
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        ordered = query.where(column.in_(chunk)).order_by(L.c.asset_pk, L.c.created_at, L.c.pk)
        found.extend(tuple(label) for label in conn.execute(ordered))
    return found


def parse(page: Page, selection: Selection, media_dir: Path, input_type: str) -> list[ExportAsset]:
    """The page's assets with their selected labels."""
    rows: dict[int, list[tuple[Any, ...]]] = {}
    for label in page.labels:
        rows.setdefault(label[1], []).append(label)
    # labels are sorted by (createdAt, insertion): the last one is the latest
    last_only = selection.export_type == "latest" and not selection.uses_latest_label
    assets = []
    for row in page.assets:
        labels = rows.get(row[0], [])
        if last_only:
            labels = labels[-1:]
        assets.append(_asset(row, [_label(label) for label in labels], media_dir, input_type))
    return assets


def _label(row: tuple[Any, ...]) -> ExportLabel:
    (
        _pk,
        _asset_pk,
        id_,
        label_type,
        created_at,
        json_response,
        is_latest_for_user,
        is_sent_back_to_queue,
        model_name,
        seconds_to_label,
        author_id,
        email,
        firstname,
        lastname,
    ) = row
    firstname, lastname = firstname or "", lastname or ""
    return ExportLabel(
        id=id_,
        label_type=label_type,
        created_at=created_at,
        author={
            "email": email,
            "firstname": firstname,
            "id": author_id,
            "lastname": lastname,
            "name": f"{firstname} {lastname}".strip(),
        },
        json_response=orjson.loads(json_response),
        is_latest_for_user=bool(is_latest_for_user),
        is_sent_back_to_queue=bool(is_sent_back_to_queue),
        model_name=model_name,
        seconds_to_label=seconds_to_label,
    )


def _asset(row: tuple[Any, ...], labels: list[ExportLabel], media_dir: Path, input_type: str) -> ExportAsset:
    (
        _pk,
        id_,
        external_id,
        content,
        media_key,
        json_content,
        json_metadata,
        status,
        width,
        height,
        page_resolutions,
        _latest_label_pk,
        created_at,
    ) = row
    media_path = media_dir / media_key if media_key else None
    json_content = json_content or ""
    frames = _frames(json_content, media_dir) if input_type == InputType.VIDEO else []
    if json_content and MEDIA_PREFIX in json_content:
        json_content = orjson.dumps([str(f.path) if f.path else f.url for f in frames]).decode()
    return ExportAsset(
        id=id_,
        external_id=external_id,
        content=str(media_path) if media_path is not None else (content or ""),
        media_path=media_path,
        json_content=json_content,
        json_metadata=orjson.loads(json_metadata) if json_metadata else {},
        status=status,
        resolution=(width, height) if width and height else None,
        page_resolutions=orjson.loads(page_resolutions) if page_resolutions else [],
        frames=frames,
        labels=labels,
        created_at=created_at,
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
