"""The Python client: Kili's method names and arguments over a self-hosted store.

Every method is a thin layer: it checks Kili-style arguments, opens one transaction (a batch call
stores everything or nothing), and calls the services. Queries stream from the store page by page.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, select

from labelport import quality
from labelport._gc import gc_paused
from labelport._warnings import warn
from labelport.enums import LabelType, OrganizationRole, ProjectRole, parse_enum
from labelport.errors import ValidationError
from labelport.export.report import ExportReport
from labelport.importers.report import ImportReport
from labelport.services import assets as asset_service
from labelport.services import labels as label_service
from labelport.services import projects as project_service
from labelport.services import users as user_service
from labelport.services.assets import AssetRef, MediaWriter
from labelport.services.projects import ProjectInfo, get_project
from labelport.store import filters, query, schema
from labelport.store.engine import Store
from labelport.store.filters import FilterContext


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def _default_user_email() -> str:
    configured = os.environ.get("LABELPORT_USER_EMAIL")
    if configured:
        return configured
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "labelport"
    return f"{name}@localhost"


def _result(rows: Iterator[dict[str, Any]], as_generator: bool) -> Any:
    return rows if as_generator else list(rows)


class Client:
    """A labelport store, used with Kili's method names.

    :param database_url: ``sqlite:///path.db`` or ``postgresql+psycopg://user:pw@host/db``; default
        ``$LABELPORT_DATABASE_URL``, else ``$LABELPORT_HOME/labelport.db`` (home: ``~/.labelport``).
    :param user_email: the acting user (author of labels, creator of projects); created on first
        use. Default ``$LABELPORT_USER_EMAIL``, else ``<login>@localhost``.
    :param media_dir: where imported media files are copied; default ``$LABELPORT_MEDIA_DIR``, else
        ``media/`` next to a SQLite file, else ``$LABELPORT_HOME/media``.
    :param disable_tqdm: hide progress bars (a method's own ``disable_tqdm`` wins); default
        ``$LABELPORT_DISABLE_TQDM``, else bars show on terminals only.
    """

    def __init__(
        self,
        database_url: str | None = None,
        user_email: str | None = None,
        *,
        media_dir: str | Path | None = None,
        disable_tqdm: bool | None = None,
    ) -> None:
        self.store = Store(database_url, media_dir)
        self.user_email = user_service.normalize_email(user_email or _default_user_email())
        self.disable_tqdm = disable_tqdm if disable_tqdm is not None else _env_flag("LABELPORT_DISABLE_TQDM")
        self._user_pk: int | None = None

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[tuple[Connection, MediaWriter]]:
        writer = MediaWriter(self.store.media_dir)
        try:
            with gc_paused(), self.store.write() as conn:
                yield conn, writer
        except BaseException:
            writer.rollback()
            raise

    def _acting_user(self, conn: Connection) -> int:
        if self._user_pk is None:
            self._user_pk = user_service.ensure_user(conn, self.user_email, OrganizationRole.ADMIN)
        return self._user_pk

    def _tqdm(self, disable_tqdm: bool | None, as_generator: bool) -> bool | None:
        if as_generator:
            return True
        return disable_tqdm if disable_tqdm is not None else self.disable_tqdm

    def _project(self, project_id: str) -> ProjectInfo:
        with self.store.read() as conn:
            return get_project(conn, project_id)

    def _collect_media_garbage(self, keys: Iterable[str]) -> None:
        with self.store.read() as conn:
            orphans = asset_service.unreferenced_media(conn, keys)
        for key in orphans:
            (self.store.media_dir / key).unlink(missing_ok=True)

    # -- projects -------------------------------------------------------------------------------

    def create_project(
        self,
        title: str,
        input_type: str | None = None,
        json_interface: Mapping[str, Any] | None = None,
        description: str = "",
    ) -> dict[str, str]:
        """Create a project; the acting user becomes its ADMIN. Returns ``{"id": project_id}``."""
        if input_type is None or json_interface is None:
            raise ValidationError("create_project needs both input_type (e.g. 'IMAGE') and json_interface.")
        with self._write() as (conn, _writer):
            project_id = project_service.create_project(
                conn, self._acting_user(conn), title, input_type, json_interface, description
            )
        return {"id": project_id}

    def update_properties_in_project(self, project_id: str, **properties: Any) -> dict[str, Any]:
        """Change project settings (Kili's argument names); returns the fields set, with the id.

        Accepted: ``title``, ``description``, ``instructions``, ``json_interface``, ``input_type``,
        ``consensus_tot_coverage``, ``min_consensus_size``, ``review_coverage``, ``use_honeypot``,
        ``can_navigate_between_assets``, ``can_skip_asset``, ``metadata_properties``, ``archived``,
        ``starred``. ``consensus_mark`` and ``honeypot_mark`` are computed and cannot be set.
        """
        known = {
            *project_service.PROJECT_PROPERTIES,
            *project_service.COMPUTED_PROPERTIES,
            "json_interface",
            "input_type",
        }
        unknown = sorted(set(properties) - known)
        if unknown:
            raise ValidationError(f"Unknown project properties {unknown}; valid: {', '.join(sorted(known))}.")
        with self._write() as (conn, _writer):
            result = project_service.update_properties_in_project(conn, project_id, properties)
            if properties.get("consensus_tot_coverage") is not None:
                label_service.redraw_consensus(conn, get_project(conn, project_id))
            if properties.get("consensus_tot_coverage") is not None or properties.get("min_consensus_size") is not None:
                label_service.restatus_for_consensus(conn, get_project(conn, project_id))
        return result

    def recompute_marks(self, project_id: str) -> dict[str, Any]:
        """Recompute every quality mark of a project from its labels (they are kept exact on each
        write; this rebuilds them, e.g. after the rules changed). Returns ``{"id", "assets"}``."""
        with self._write() as (conn, _writer):
            count = self._refresh_all_marks(conn, project_id)
        return {"id": project_id, "assets": count}

    def _refresh_all_marks(self, conn: Connection, project_id: str) -> int:
        project = get_project(conn, project_id)
        asset_pks = list(
            conn.execute(select(schema.assets.c.pk).where(schema.assets.c.project_pk == project.pk)).scalars()
        )
        quality.refresh_marks(conn, project, asset_pks)
        return len(asset_pks)

    def archive_project(self, project_id: str) -> dict[str, Any]:
        return self.update_properties_in_project(project_id, archived=True)

    def unarchive_project(self, project_id: str) -> dict[str, Any]:
        return self.update_properties_in_project(project_id, archived=False)

    def delete_project(self, project_id: str) -> str:
        """Delete a project with its assets, labels and members; media no other asset uses are removed."""
        with self._write() as (conn, _writer):
            keys = project_service.delete_project(conn, project_id)
        self._collect_media_garbage(keys)
        return project_id

    def projects(
        self,
        project_id: str | None = None,
        search_query: str | None = None,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        *,
        as_generator: bool = False,
        **filters_: Any,
    ) -> Any:
        """List projects. Filters: ``project_id``, ``search_query`` (LIKE pattern on title or
        description), ``archived``, ``starred``, ``updated_at_gte``, ``updated_at_lte``."""
        where = filters.project_where({"project_id": project_id, "search_query": search_query, **filters_})
        rows = query.stream(
            self.store,
            "Project",
            fields,
            where,
            first=first,
            skip=skip,
            disable_tqdm=self._tqdm(disable_tqdm, as_generator),
            description="projects",
        )
        return _result(rows, as_generator)

    def count_projects(self, project_id: str | None = None, search_query: str | None = None, **filters_: Any) -> int:
        where = filters.project_where({"project_id": project_id, "search_query": search_query, **filters_})
        return query.count(self.store, "Project", where)

    # -- users and members ----------------------------------------------------------------------

    def create_user(
        self,
        email: str,
        password: str | None = None,
        organization_role: str = OrganizationRole.USER,
        firstname: str | None = None,
        lastname: str | None = None,
    ) -> dict[str, str]:
        """Create a user (``password`` is accepted for Kili compatibility and ignored: a local store
        has no login). Returns ``{"id": user_id}``."""
        del password
        with self._write() as (conn, _writer):
            _pk, user_id = user_service.create_user(conn, email, firstname or "", lastname or "", organization_role)
        return {"id": user_id}

    def users(
        self,
        email: str | None = None,
        fields: Sequence[str] = ("email", "id", "firstname", "lastname"),
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        *,
        as_generator: bool = False,
    ) -> Any:
        where = [] if email is None else [schema.users.c.email == user_service.normalize_email(email)]
        rows = query.stream(
            self.store,
            "User",
            fields,
            where,
            first=first,
            skip=skip,
            disable_tqdm=self._tqdm(disable_tqdm, as_generator),
            description="users",
        )
        return _result(rows, as_generator)

    def count_users(self, email: str | None = None) -> int:
        where = [] if email is None else [schema.users.c.email == user_service.normalize_email(email)]
        return query.count(self.store, "User", where)

    def append_to_roles(self, project_id: str, user_email: str, role: str = ProjectRole.LABELER) -> dict[str, Any]:
        """Add a member to a project (creating the user if needed), or change its role."""
        with self._write() as (conn, _writer):
            user_service.append_to_roles(conn, project_id, user_email, role)
        return self.projects(
            project_id=project_id,
            fields=[
                "id",
                "title",
                "jsonInterface",
                "roles.role",
                "roles.user.id",
                "roles.user.email",
            ],
            disable_tqdm=True,
        )[0]

    def update_properties_in_role(self, role_id: str, project_id: str, user_id: str, role: str) -> dict[str, str]:
        del project_id, user_id  # the role id alone names the membership
        with self._write() as (conn, _writer):
            user_service.update_properties_in_role(conn, role_id, role)
        return {"id": role_id, "role": parse_enum(ProjectRole, role, "role")}

    def delete_from_roles(self, role_id: str) -> dict[str, str]:
        with self._write() as (conn, _writer):
            user_service.delete_from_roles(conn, role_id)
        return {"id": role_id}

    def project_users(
        self,
        project_id: str,
        email: str | None = None,
        id: str | None = None,
        status_in: Sequence[str] | None = ("ACTIVATED", "ORG_ADMIN", "ORG_SUSPENDED"),
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        *,
        as_generator: bool = False,
    ) -> Any:
        """The members of a project, with their role and user."""
        where = self._member_where(project_id, email, id, status_in)
        rows = query.stream(
            self.store,
            "ProjectUser",
            fields,
            where,
            first=first,
            skip=skip,
            disable_tqdm=self._tqdm(disable_tqdm, as_generator),
            description="members",
        )
        return _result(rows, as_generator)

    def count_project_users(
        self,
        project_id: str,
        email: str | None = None,
        id: str | None = None,
        status_in: Sequence[str] | None = ("ACTIVATED", "ORG_ADMIN", "ORG_SUSPENDED"),
    ) -> int:
        return query.count(self.store, "ProjectUser", self._member_where(project_id, email, id, status_in))

    def _member_where(self, project_id: str, email: str | None, role_id: str | None, status_in: Any) -> list[Any]:
        project = self._project(project_id)
        where = filters.project_user_where({"email": email, "id": role_id, "status_in": status_in})
        return [schema.project_members.c.project_pk == project.pk, *where]

    # -- assets ---------------------------------------------------------------------------------

    def append_many_to_dataset(
        self,
        project_id: str,
        content_array: Sequence[Any] | None = None,
        multi_layer_content_array: Sequence[Any] | None = None,
        external_id_array: Sequence[str] | None = None,
        id_array: Sequence[str] | None = None,
        is_honeypot_array: Sequence[bool] | None = None,
        status_array: Sequence[str] | None = None,
        json_content_array: Sequence[Any] | None = None,
        json_metadata_array: Sequence[Any] | None = None,
        disable_tqdm: bool | None = None,
        wait_until_availability: bool = True,
        from_csv: str | None = None,
        csv_separator: str = ",",
        *,
        resolution_array: Sequence[Mapping[str, int] | None] | None = None,
        priority_array: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """Import assets: local files are copied into the store (images get their ``resolution``),
        URLs are kept as references, TEXT projects take the text itself. Returns
        ``{"id": project_id, "asset_ids": [...]}``. ``resolution_array`` and ``priority_array`` are
        labelport additions (e.g. for URLs, whose size cannot be measured offline)."""
        del disable_tqdm, wait_until_availability  # imports are synchronous here
        if multi_layer_content_array is not None:
            raise ValidationError("multi_layer_content_array (multi-layer geospatial imagery) is not supported yet.")
        if id_array is not None:
            raise ValidationError("id_array is disabled, as in Kili: labelport generates asset ids.")
        if status_array is not None:
            warn(
                "status_array is ignored at import (as in Kili): new assets start as TODO.",
                DeprecationWarning,
            )
        if from_csv is not None:
            content_array, external_id_array = _read_csv(from_csv, csv_separator)
        arrays = [
            content_array,
            external_id_array,
            json_content_array,
            json_metadata_array,
            is_honeypot_array,
        ]
        if any(array is not None and len(array) == 0 for array in arrays):
            warn("An empty list was given: nothing to import.")
            return {"id": project_id, "asset_ids": []}
        with self._write() as (conn, writer):
            project = get_project(conn, project_id)
            ids = asset_service.append_many_to_dataset(
                conn,
                project,
                writer,
                content_array=content_array,
                external_id_array=external_id_array,
                json_metadata_array=json_metadata_array,
                json_content_array=json_content_array,
                is_honeypot_array=is_honeypot_array,
                resolution_array=resolution_array,
                priority_array=priority_array,
            )
        return {"id": project_id, "asset_ids": ids}

    def _refs(
        self,
        conn: Connection,
        asset_ids: Sequence[str] | None,
        external_ids: Sequence[str] | None,
        project_id: str | None,
    ) -> tuple[ProjectInfo, list[AssetRef]]:
        project = get_project(conn, project_id) if project_id is not None else None
        refs = asset_service.resolve_assets(conn, project, asset_ids, external_ids)
        if project is None:
            if not refs:
                raise ValidationError("No asset given.")
            pk = refs[0].project_pk
            project_id = conn.execute(select(schema.projects.c.id).where(schema.projects.c.pk == pk)).scalar_one()
            project = get_project(conn, project_id)
        return project, refs

    def update_properties_in_assets(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        priorities: Sequence[int | None] | None = None,
        json_metadatas: Sequence[Any] | None = None,
        consensus_marks: Sequence[float] | None = None,
        honeypot_marks: Sequence[float] | None = None,
        to_be_labeled_by_array: Sequence[Sequence[str]] | None = None,
        contents: Sequence[Any] | None = None,
        json_contents: Sequence[Any] | None = None,
        status_array: Sequence[str] | None = None,
        is_used_for_consensus_array: Sequence[bool] | None = None,
        is_honeypot_array: Sequence[bool] | None = None,
        project_id: str | None = None,
        resolution_array: Sequence[Mapping[str, int]] | None = None,
        page_resolutions_array: Sequence[Sequence[Mapping[str, int]]] | None = None,
    ) -> list[dict[str, str]]:
        """Update assets named by ids (or external ids with ``project_id``); one item per asset in
        each array given, ``None`` to leave an asset's value as it is. Returns ``[{"id"}]``.

        Unlike Kili, ``status_array`` is applied (a local store may set statuses directly), and
        ``consensus_marks`` / ``honeypot_marks`` are refused: labelport computes them."""
        if consensus_marks is not None or honeypot_marks is not None:
            raise ValidationError(
                "consensus_marks and honeypot_marks are computed by labelport from the labels and cannot be set."
            )
        if to_be_labeled_by_array is not None:
            raise ValidationError("to_be_labeled_by_array: labelport does not assign assets to labelers.")
        changes = {
            "priorities": priorities,
            "json_metadatas": json_metadatas,
            "contents": contents,
            "json_contents": json_contents,
            "status_array": status_array,
            "is_used_for_consensus_array": is_used_for_consensus_array,
            "is_honeypot_array": is_honeypot_array,
            "resolution_array": resolution_array,
            "page_resolutions_array": page_resolutions_array,
        }
        return self._update_assets(asset_ids, external_ids, project_id, changes)

    def _update_assets(
        self,
        asset_ids: Sequence[str] | None,
        external_ids: Sequence[str] | None,
        project_id: str | None,
        changes: Mapping[str, Sequence[Any] | None],
    ) -> list[dict[str, str]]:
        with self._write() as (conn, writer):
            project, refs = self._refs(conn, asset_ids, external_ids, project_id)
            ids, needs_marks = asset_service.update_properties_in_assets(conn, project, refs, writer, changes)
            pks = [ref.pk for ref in refs]
            if changes.get("is_used_for_consensus_array") is not None:
                label_service.restatus_for_consensus(conn, project, pks)
            if needs_marks:
                quality.refresh_marks(conn, project, pks)
        return [{"id": asset_id} for asset_id in ids]

    def change_asset_external_ids(
        self,
        new_external_ids: Sequence[str],
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> list[dict[str, str]]:
        return self._update_assets(asset_ids, external_ids, project_id, {"external_ids_new": new_external_ids})

    def add_metadata(
        self,
        json_metadata: Sequence[Mapping[str, Any]],
        project_id: str,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
    ) -> list[dict[str, str]]:
        """Merge keys into each asset's jsonMetadata."""
        return self._merge_metadata(json_metadata, project_id, asset_ids, external_ids, replace=False)

    def set_metadata(
        self,
        json_metadata: Sequence[Mapping[str, Any]],
        project_id: str,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
    ) -> list[dict[str, str]]:
        """Replace each asset's jsonMetadata."""
        return self._merge_metadata(json_metadata, project_id, asset_ids, external_ids, replace=True)

    def _merge_metadata(
        self,
        json_metadata: Sequence[Mapping[str, Any]],
        project_id: str,
        asset_ids: Sequence[str] | None,
        external_ids: Sequence[str] | None,
        *,
        replace: bool,
    ) -> list[dict[str, str]]:
        if replace:
            return self._update_assets(asset_ids, external_ids, project_id, {"json_metadatas": json_metadata})
        fields = ["id", "jsonMetadata"]
        key = "asset_id_in" if asset_ids is not None else "external_id_strictly_in"
        wanted = asset_ids if asset_ids is not None else external_ids
        current = {
            (row["id"] if asset_ids is not None else row["externalId"]): row["jsonMetadata"]
            for row in self.assets(
                project_id,
                fields=[*fields, "externalId"],
                disable_tqdm=True,
                **{key: list(wanted or [])},
            )
        }
        merged = [
            {**current.get(name, {}), **dict(extra)} for name, extra in zip(wanted or [], json_metadata, strict=True)
        ]
        return self._update_assets(asset_ids, external_ids, project_id, {"json_metadatas": merged})

    def delete_many_from_dataset(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any]:
        """Delete assets and their labels. Returns ``{"id": project_id, "asset_ids": [...]}``."""
        with self._write() as (conn, _writer):
            project, refs = self._refs(conn, asset_ids, external_ids, project_id)
            keys = asset_service.delete_many_from_dataset(conn, refs)
        self._collect_media_garbage(keys)
        return {"id": project.id, "asset_ids": [ref.id for ref in refs]}

    def add_to_review(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Queue labeled assets for review (status TO_REVIEW); assets without a label are ignored."""
        return self._workflow(asset_service.add_to_review, asset_ids, external_ids, project_id)

    def send_back_to_queue(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Send labeled assets back to the labelers (status ONGOING, labels ``isSentBackToQueue``)."""
        return self._workflow(asset_service.send_back_to_queue, asset_ids, external_ids, project_id)

    def _workflow(
        self,
        action: Callable[[Connection, list[AssetRef]], list[str]],
        asset_ids: Sequence[str] | None,
        external_ids: Sequence[str] | None,
        project_id: str | None,
    ) -> dict[str, Any] | None:
        with self._write() as (conn, _writer):
            project, refs = self._refs(conn, asset_ids, external_ids, project_id)
            moved = action(conn, refs)
            quality.refresh_marks(conn, project, [ref.pk for ref in refs])
        return {"id": project.id, "asset_ids": moved} if moved else None

    def assets(
        self,
        project_id: str,
        asset_id: str | None = None,
        skip: int = 0,
        fields: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
        first: int | None = None,
        *,
        as_generator: bool = False,
        label_output_format: Literal["dict", "parsed_label"] = "dict",
        **filters_: Any,
    ) -> Any:
        """Assets of a project, in creation order, with the dotted ``fields`` asked for.

        Takes Kili's filters by name (``external_id_strictly_in``, ``status_in``,
        ``consensus_mark_gte``, ``metadata_where``, ``label_*``…; see docs/query.md)."""
        project = self._project(project_id)
        where = self._asset_where(project, {"asset_id": asset_id, **filters_})
        if label_output_format not in ("dict", "parsed_label"):
            raise ValidationError(f"label_output_format must be 'dict' or 'parsed_label', not {label_output_format!r}.")
        rows = query.stream(
            self.store,
            "Asset",
            fields,
            where,
            first=first,
            skip=skip,
            disable_tqdm=self._tqdm(disable_tqdm, as_generator),
            description="assets",
        )
        if label_output_format == "parsed_label":
            rows = _parse_asset_labels(rows, project)
        return _result(rows, as_generator)

    def count_assets(self, project_id: str, asset_id: str | None = None, **filters_: Any) -> int:
        project = self._project(project_id)
        return query.count(self.store, "Asset", self._asset_where(project, {"asset_id": asset_id, **filters_}))

    def _asset_where(self, project: ProjectInfo, given: Mapping[str, Any]) -> list[Any]:
        where = filters.asset_where(given, FilterContext(project.ontology.jobs))
        return [schema.assets.c.project_pk == project.pk, *where]

    # -- labels ---------------------------------------------------------------------------------

    def append_labels(
        self,
        asset_id_array: Sequence[str] | None = None,
        json_response_array: Sequence[Any] = (),
        author_id_array: Sequence[str | None] | None = None,
        seconds_to_label_array: Sequence[float | None] | None = None,
        model_name: str | None = None,
        label_type: str = "DEFAULT",
        project_id: str | None = None,
        asset_external_id_array: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
        overwrite: bool = False,
        step_name: str | None = None,
        reviewed_label_id_array: Sequence[str] | None = None,
        *,
        created_at_array: Sequence[str | None] | None = None,
    ) -> list[dict[str, str]]:
        """Add labels to assets named by ids, or by external ids with ``project_id``. Each
        jsonResponse is validated against the ontology; one bad label stores nothing. Returns
        ``[{"id"}]``. ``created_at_array`` (labelport addition) keeps dates when importing history."""
        del disable_tqdm, reviewed_label_id_array
        if step_name is not None:
            raise ValidationError("step_name: labelport projects use workflow V1, which has no steps.")
        kind = parse_enum(LabelType, label_type, "label_type")
        if not json_response_array:
            raise ValidationError("json_response_array must not be empty.")
        if asset_id_array is not None and asset_external_id_array is not None:
            raise ValidationError("Give asset_id_array or asset_external_id_array, not both.")
        if kind == LabelType.PREDICTION and not model_name:
            raise ValidationError("PREDICTION labels need a model_name.")
        size = len(json_response_array)
        for name, array in (
            ("asset_id_array", asset_id_array),
            ("asset_external_id_array", asset_external_id_array),
            ("author_id_array", author_id_array),
            ("seconds_to_label_array", seconds_to_label_array),
            ("created_at_array", created_at_array),
        ):
            if array is not None and len(array) != size:
                raise ValidationError(f"{name} has {len(array)} items but json_response_array has {size}.")
        with self._write() as (conn, _writer):
            project, refs = self._refs(conn, asset_id_array, asset_external_id_array, project_id)
            author_pks = self._author_pks(conn, author_id_array, size)
            appended = label_service.append_labels(
                conn,
                project,
                refs,
                json_response_array,
                author_pks,
                kind,
                seconds_to_label_array,
                model_name,
                created_at_array,
                overwrite=overwrite,
            )
            quality.after_append(conn, project, appended, kind)
            # Before the collector runs again: what the append built for its own use (responses'
            # plain boxes, rows) is freed by reference counting, not walked by a collection first.
            result = [{"id": label_id} for label_id in appended.ids]
            del appended
        return result

    def _author_pks(self, conn: Connection, author_ids: Sequence[str | None] | None, size: int) -> list[int]:
        acting = self._acting_user(conn)
        if author_ids is None:
            return [acting] * size
        known = user_service.user_pks_by_id(conn, [a for a in author_ids if a is not None])
        return [acting if author is None else known[author] for author in author_ids]

    def create_predictions(
        self,
        project_id: str,
        external_id_array: Sequence[str] | None = None,
        model_name_array: Sequence[str] | None = None,
        json_response_array: Sequence[Any] | None = None,
        model_name: str | None = None,
        asset_id_array: Sequence[str] | None = None,
        disable_tqdm: bool | None = None,
        overwrite: bool = False,
    ) -> dict[str, str]:
        """Add PREDICTION labels (model pre-annotations). Returns ``{"id": project_id}``."""
        if model_name is None and model_name_array:
            if len(set(model_name_array)) != 1:
                raise ValidationError("model_name_array must hold a single model name; use model_name instead.")
            model_name = model_name_array[0]
        self.append_labels(
            asset_id_array=asset_id_array,
            json_response_array=json_response_array or (),
            model_name=model_name,
            label_type=LabelType.PREDICTION,
            project_id=project_id,
            asset_external_id_array=external_id_array if asset_id_array is None else None,
            disable_tqdm=disable_tqdm,
            overwrite=overwrite,
        )
        return {"id": project_id}

    def create_honeypot(
        self,
        json_response: Mapping[str, Any],
        asset_external_id: str | None = None,
        asset_id: str | None = None,
        project_id: str | None = None,
    ) -> dict[str, str]:
        """Write the ground truth of a honeypot asset: a REVIEW label by the acting user. The asset
        is flagged ``isHoneypot``; its status does not change. Returns ``{"id": label_id}``."""
        with self._write() as (conn, _writer):
            project, refs = self._refs(
                conn,
                None if asset_id is None else [asset_id],
                None if asset_external_id is None else [asset_external_id],
                project_id,
            )
            asset_service.update_properties_in_assets(
                conn,
                project,
                refs,
                MediaWriter(self.store.media_dir),
                {"is_honeypot_array": [True]},
            )
            appended = label_service.append_labels(
                conn, project, refs, [json_response], [self._acting_user(conn)], LabelType.REVIEW, change_status=False
            )
            quality.refresh_marks(conn, project, appended.marks_needed, responses=appended.responses, consensus=False)
        return {"id": appended.ids[0]}

    def labels(
        self,
        project_id: str,
        fields: Sequence[str] | None = None,
        first: int | None = None,
        skip: int = 0,
        disable_tqdm: bool | None = None,
        *,
        as_generator: bool = False,
        output_format: Literal["dict", "parsed_label"] = "dict",
        **filters_: Any,
    ) -> Any:
        """Labels of a project, in creation order, with the dotted ``fields`` asked for.

        Filters: ``label_id``, ``id_contains``, ``asset_id``, ``user_id``, ``asset_status_in``,
        ``asset_external_id_in``, ``asset_external_id_strictly_in``, ``author_in``, ``type_in``,
        ``created_at``, ``created_at_gte|lte``, ``honeypot_mark_gte|lte``,
        ``consensus_mark_gte|lte``, ``category_search`` (see docs/query.md)."""
        project = self._project(project_id)
        if output_format not in ("dict", "parsed_label"):
            raise ValidationError(f"output_format must be 'dict' or 'parsed_label', not {output_format!r}.")
        if output_format == "parsed_label" and "jsonResponse" not in (fields or ("jsonResponse",)):
            raise ValidationError("output_format='parsed_label' needs 'jsonResponse' in fields.")
        rows = query.stream(
            self.store,
            "Label",
            fields,
            self._label_where(project, filters_),
            first=first,
            skip=skip,
            disable_tqdm=self._tqdm(disable_tqdm, as_generator),
            description="labels",
        )
        if output_format == "parsed_label":
            from labelport.annotations.parsing import ParsedLabel

            rows = (ParsedLabel(row, project.ontology, project.input_type) for row in rows)
        return _result(rows, as_generator)

    def count_labels(self, project_id: str, **filters_: Any) -> int:
        project = self._project(project_id)
        return query.count(self.store, "Label", self._label_where(project, filters_))

    def predictions(self, project_id: str, **kwargs: Any) -> Any:
        """Shortcut for ``labels(type_in=["PREDICTION"])`` with the model name."""
        kwargs.setdefault("fields", ("author.email", "author.id", "id", "jsonResponse", "labelType", "modelName"))
        return self.labels(project_id, type_in=["PREDICTION"], **kwargs)

    def inferences(self, project_id: str, **kwargs: Any) -> Any:
        """Shortcut for ``labels(type_in=["INFERENCE"])`` with the model name."""
        kwargs.setdefault("fields", ("author.email", "author.id", "id", "jsonResponse", "labelType", "modelName"))
        return self.labels(project_id, type_in=["INFERENCE"], **kwargs)

    def _label_where(self, project: ProjectInfo, given: Mapping[str, Any]) -> list[Any]:
        where = filters.label_where(given, FilterContext(project.ontology.jobs))
        return [schema.labels.c.project_pk == project.pk, *where]

    # -- export ---------------------------------------------------------------------------------

    def export_labels(
        self,
        project_id: str,
        filename: str | os.PathLike[str],
        fmt: str,
        asset_ids: Sequence[str] | None = None,
        layout: Literal["split", "merged"] = "split",
        single_file: bool = False,
        disable_tqdm: bool | None = None,
        with_assets: bool = True,
        external_ids: Sequence[str] | None = None,
        annotation_modifier: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
        asset_filter_kwargs: Mapping[str, Any] | None = None,
        normalized_coordinates: bool | None = None,
        label_type_in: Sequence[str] | None = None,
        include_sent_back_labels: bool | None = None,
        export_type: Literal["latest", "normal"] = "latest",
        *,
        strict: bool = False,
        split: Mapping[str, float] | str | None = None,
        split_seed: int = 0,
        split_stratify: bool = False,
        dataset_root: str | os.PathLike[str] | None = None,
        workers: int | None = None,
    ) -> ExportReport:
        """Export a project to a zip archive ``filename`` in format ``fmt`` (kili/raw, coco, yolo_v4,
        yolo_v5, yolo_v7, yolo_v8, pascal_voc, geojson); see docs/export.md. Returns the report:
        assets matched and exported, annotations written per job, everything skipped and why.

        The archive is written to a temporary file and renamed at the end: a failed export leaves
        nothing behind. ``strict=True`` (labelport addition) turns the first skipped item into an
        error instead of a line in the report.

        labelport additions for ready-to-train datasets (coco, yolo_v5, yolo_v7, yolo_v8):
        ``split={"train": 0.8, "val": 0.1, "test": 0.1}`` (or ``"train=0.8,val=0.1,test=0.1"``) splits the
        assets, by a hash of ``split_seed`` and the external id (an asset keeps its split when others are
        added), or ``split_stratify=True`` to spread every category over the splits; ``dataset_root`` is the
        folder the archive will be unzipped to, written as the YOLO data.yaml's ``path``.

        ``workers`` (labelport addition): processes converting assets while this one writes the archive
        (coco, yolo_*, pascal_voc and kili image exports; the archive is the same byte for byte). None, the
        default: one per core for exports of 2,000 assets or more, else none; 1: none."""
        from labelport.export import pipeline
        from labelport.export.model import ExportOptions
        from labelport.export.split import parse_split

        with self.store.read() as conn:
            project = get_project(conn, project_id)
            description = conn.execute(
                select(schema.projects.c.description).where(schema.projects.c.pk == project.pk)
            ).scalar_one()
            if external_ids is not None and not asset_ids:
                asset_service.resolve_assets(conn, project, None, list(external_ids))
            if asset_ids:
                asset_service.resolve_assets(conn, project, list(asset_ids), None)
        options = ExportOptions(
            fmt=fmt,
            layout=layout,
            single_file=single_file,
            with_assets=with_assets,
            normalized_coordinates=normalized_coordinates,
            export_type=export_type,
            label_type_in=pipeline.label_types(label_type_in),
            include_sent_back_labels=True if include_sent_back_labels is None else include_sent_back_labels,
            annotation_modifier=annotation_modifier,
            strict=strict,
            split=parse_split(split, split_seed, split_stratify),
            dataset_root=None if dataset_root is None else os.fspath(dataset_root),
            workers=workers,
        )
        where = pipeline.build_where(project, asset_ids, external_ids, dict(asset_filter_kwargs or {}))
        tqdm_off = disable_tqdm if disable_tqdm is not None else self.disable_tqdm
        with gc_paused():  # an export parses millions of small acyclic objects; see labelport._gc
            return pipeline.run(self.store, project, description, filename, options, where, disable_tqdm=tqdm_off)

    # -- import ---------------------------------------------------------------------------------

    def import_dataset(
        self,
        path: str | os.PathLike[str],
        fmt: str | None = None,
        project_id: str | None = None,
        title: str | None = None,
        *,
        interface: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        input_type: str | None = None,
        description: str | None = None,
        job_name: str | None = None,
        label_type: str = "DEFAULT",
        model_name: str | None = None,
        media_root: str | os.PathLike[str] | None = None,
        missing_media: Literal["error", "skip"] = "error",
        disable_tqdm: bool | None = None,
    ) -> ImportReport:
        """Import a dataset (a folder, zip or file) in format ``fmt`` (kili/raw, coco, yolo_v4,
        yolo_v5, yolo_v7, yolo_v8, pascal_voc; detected when None) into project ``project_id``, or
        into a new project titled ``title``; see docs/import.md. Returns the report: what was read,
        stored, and what could not be represented. Nothing is stored unless the whole import succeeds."""
        from labelport.importers import import_dataset

        return import_dataset(
            self,
            path,
            fmt,
            project_id,
            title,
            interface=dict(interface) if isinstance(interface, Mapping) else interface,
            input_type=input_type,
            description=description,
            job_name=job_name,
            label_type=label_type,
            model_name=model_name,
            media_root=media_root,
            missing_media=missing_media,
            disable_tqdm=disable_tqdm,
        )


def _read_csv(path: str, separator: str) -> tuple[list[str], list[str]]:
    import csv

    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter=separator)
        if reader.fieldnames is None or not {"content", "externalId"} <= set(reader.fieldnames):
            raise ValidationError(f"{path}: the CSV needs the columns 'content' and 'externalId'.")
        rows = list(reader)
    return [row["content"] for row in rows], [row["externalId"] for row in rows]


def _parse_asset_labels(rows: Iterator[dict[str, Any]], project: ProjectInfo) -> Iterator[dict[str, Any]]:
    from labelport.annotations.parsing import ParsedLabel

    for row in rows:
        if isinstance(row.get("labels"), list):
            row["labels"] = [ParsedLabel(label, project.ontology, project.input_type) for label in row["labels"]]
        latest = row.get("latestLabel")
        if isinstance(latest, dict) and isinstance(latest.get("jsonResponse"), dict):
            row["latestLabel"] = ParsedLabel(latest, project.ontology, project.input_type)
        yield row
