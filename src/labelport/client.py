"""The Python client: Kili's method names and arguments over a self-hosted store.

A :class:`Client` is a front door: it builds one acting context (the store, the acting user, how
progress shows) and each method maps Kili's arguments onto one call of the service layer
(:mod:`labelport.services`), which the server calls too. A batch call stores everything or nothing;
queries stream from the store page by page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from labelport import settings
from labelport._warnings import warn
from labelport.enums import LabelType, OrganizationRole, ProjectRole
from labelport.errors import ValidationError
from labelport.export.report import ExportReport
from labelport.importers.report import ImportReport
from labelport.services import api_keys as api_key_service
from labelport.services import assets as asset_service
from labelport.services import exports as export_service
from labelport.services import imports as import_service
from labelport.services import labels as label_service
from labelport.services import projects as project_service
from labelport.services import queries, workflow
from labelport.services import users as user_service
from labelport.services.context import ActingContext
from labelport.store.engine import Store
from labelport.values import normalize_email


def _result(rows: Iterator[Any], as_generator: bool) -> Any:
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
        url = settings.database_url(database_url)
        self.ctx = ActingContext(
            store=Store(url, settings.media_dir(media_dir, url)),
            user_email=normalize_email(settings.user_email(user_email)),
            new_user_role=OrganizationRole.ADMIN,
            disable_tqdm=settings.disable_tqdm(disable_tqdm),
        )

    @property
    def store(self) -> Store:
        """The database and media folder this client uses."""
        return self.ctx.store

    @property
    def user_email(self) -> str:
        """The acting user's email."""
        return self.ctx.user_email

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _progress(self, disable_tqdm: bool | None, as_generator: bool) -> bool | None:
        """A generator's progress bar would outlive the call: never shown."""
        return True if as_generator else disable_tqdm

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
        return {"id": project_service.create_project(self.ctx, title, input_type, json_interface, description)}

    def update_properties_in_project(self, project_id: str, **properties: Any) -> dict[str, Any]:
        """Change project settings (Kili's argument names); returns the fields set, with the id.

        Accepted: ``title``, ``description``, ``instructions``, ``json_interface``, ``input_type``,
        ``consensus_tot_coverage``, ``min_consensus_size``, ``review_coverage``, ``use_honeypot``,
        ``can_navigate_between_assets``, ``can_skip_asset``, ``metadata_properties``, ``archived``,
        ``starred``. ``consensus_mark`` and ``honeypot_mark`` are computed and cannot be set.
        """
        return project_service.update_properties_in_project(self.ctx, project_id, properties)

    def recompute_marks(self, project_id: str) -> dict[str, Any]:
        """Recompute every quality mark of a project from its labels (they are kept exact on each
        write; this rebuilds them, e.g. after the rules changed). Returns ``{"id", "assets"}``."""
        return {"id": project_id, "assets": project_service.recompute_marks(self.ctx, project_id)}

    def archive_project(self, project_id: str) -> dict[str, Any]:
        return self.update_properties_in_project(project_id, archived=True)

    def unarchive_project(self, project_id: str) -> dict[str, Any]:
        return self.update_properties_in_project(project_id, archived=False)

    def delete_project(self, project_id: str) -> str:
        """Delete a project with its assets, labels and members; media no other asset uses are removed."""
        project_service.delete_project(self.ctx, project_id)
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
        given = {"project_id": project_id, "search_query": search_query, **filters_}
        progress = self._progress(disable_tqdm, as_generator)
        rows = queries.projects(self.ctx, fields, first, skip, given, disable_tqdm=progress)
        return _result(rows, as_generator)

    def count_projects(self, project_id: str | None = None, search_query: str | None = None, **filters_: Any) -> int:
        return queries.count_projects(self.ctx, {"project_id": project_id, "search_query": search_query, **filters_})

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
        return {"id": user_service.create_user(self.ctx, email, firstname or "", lastname or "", organization_role)}

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
        progress = self._progress(disable_tqdm, as_generator)
        return _result(queries.users(self.ctx, email, fields, first, skip, disable_tqdm=progress), as_generator)

    def count_users(self, email: str | None = None) -> int:
        return queries.count_users(self.ctx, email)

    def append_to_roles(self, project_id: str, user_email: str, role: str = ProjectRole.LABELER) -> dict[str, Any]:
        """Add a member to a project (creating the user if needed), or change its role."""
        user_service.append_to_roles(self.ctx, project_id, user_email, role)
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
        return {"id": role_id, "role": user_service.update_properties_in_role(self.ctx, role_id, role)}

    def delete_from_roles(self, role_id: str) -> dict[str, str]:
        user_service.delete_from_roles(self.ctx, role_id)
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
        given = {"email": email, "id": id, "status_in": status_in}
        progress = self._progress(disable_tqdm, as_generator)
        rows = queries.project_users(self.ctx, project_id, fields, first, skip, given, disable_tqdm=progress)
        return _result(rows, as_generator)

    def count_project_users(
        self,
        project_id: str,
        email: str | None = None,
        id: str | None = None,
        status_in: Sequence[str] | None = ("ACTIVATED", "ORG_ADMIN", "ORG_SUSPENDED"),
    ) -> int:
        return queries.count_project_users(self.ctx, project_id, {"email": email, "id": id, "status_in": status_in})

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
        ids = asset_service.append_many_to_dataset(
            self.ctx,
            project_id,
            content_array=content_array,
            external_id_array=external_id_array,
            json_metadata_array=json_metadata_array,
            json_content_array=json_content_array,
            is_honeypot_array=is_honeypot_array,
            resolution_array=resolution_array,
            priority_array=priority_array,
        )
        return {"id": project_id, "asset_ids": ids}

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
        changes = {
            "consensus_marks": consensus_marks,
            "honeypot_marks": honeypot_marks,
            "to_be_labeled_by_array": to_be_labeled_by_array,
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
        ids = asset_service.update_properties_in_assets(self.ctx, asset_ids, external_ids, project_id, changes)
        return [{"id": asset_id} for asset_id in ids]

    def change_asset_external_ids(
        self,
        new_external_ids: Sequence[str],
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> list[dict[str, str]]:
        changes = {"external_ids_new": new_external_ids}
        ids = asset_service.update_properties_in_assets(self.ctx, asset_ids, external_ids, project_id, changes)
        return [{"id": asset_id} for asset_id in ids]

    def add_metadata(
        self,
        json_metadata: Sequence[Mapping[str, Any]],
        project_id: str,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
    ) -> list[dict[str, str]]:
        """Merge keys into each asset's jsonMetadata."""
        ids = asset_service.merge_metadata(self.ctx, project_id, asset_ids, external_ids, json_metadata, replace=False)
        return [{"id": asset_id} for asset_id in ids]

    def set_metadata(
        self,
        json_metadata: Sequence[Mapping[str, Any]],
        project_id: str,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
    ) -> list[dict[str, str]]:
        """Replace each asset's jsonMetadata."""
        ids = asset_service.merge_metadata(self.ctx, project_id, asset_ids, external_ids, json_metadata, replace=True)
        return [{"id": asset_id} for asset_id in ids]

    def delete_many_from_dataset(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any]:
        """Delete assets and their labels. Returns ``{"id": project_id, "asset_ids": [...]}``."""
        project, deleted = asset_service.delete_many_from_dataset(self.ctx, asset_ids, external_ids, project_id)
        return {"id": project, "asset_ids": deleted}

    def add_to_review(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Queue labeled assets for review (status TO_REVIEW); assets without a label are ignored."""
        return workflow.add_to_review(self.ctx, asset_ids, external_ids, project_id)

    def send_back_to_queue(
        self,
        asset_ids: Sequence[str] | None = None,
        external_ids: Sequence[str] | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any] | None:
        """Send labeled assets back to the labelers (status ONGOING, labels ``isSentBackToQueue``)."""
        return workflow.send_back_to_queue(self.ctx, asset_ids, external_ids, project_id)

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
        rows = queries.assets(
            self.ctx,
            project_id,
            fields,
            first,
            skip,
            {"asset_id": asset_id, **filters_},
            label_output_format=label_output_format,
            disable_tqdm=self._progress(disable_tqdm, as_generator),
        )
        return _result(rows, as_generator)

    def count_assets(self, project_id: str, asset_id: str | None = None, **filters_: Any) -> int:
        return queries.count_assets(self.ctx, project_id, {"asset_id": asset_id, **filters_})

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
        ids = label_service.append_labels(
            self.ctx,
            json_response_array,
            asset_id_array=asset_id_array,
            asset_external_id_array=asset_external_id_array,
            project_id=project_id,
            author_id_array=author_id_array,
            seconds_to_label_array=seconds_to_label_array,
            model_name=model_name,
            label_type=label_type,
            overwrite=overwrite,
            created_at_array=created_at_array,
        )
        return [{"id": label_id} for label_id in ids]

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
        label_id = label_service.create_honeypot(
            self.ctx, json_response, asset_id=asset_id, asset_external_id=asset_external_id, project_id=project_id
        )
        return {"id": label_id}

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
        rows = queries.labels(
            self.ctx,
            project_id,
            fields,
            first,
            skip,
            filters_,
            output_format=output_format,
            disable_tqdm=self._progress(disable_tqdm, as_generator),
        )
        return _result(rows, as_generator)

    def count_labels(self, project_id: str, **filters_: Any) -> int:
        return queries.count_labels(self.ctx, project_id, filters_)

    def predictions(self, project_id: str, **kwargs: Any) -> Any:
        """Shortcut for ``labels(type_in=["PREDICTION"])`` with the model name."""
        kwargs.setdefault("fields", ("author.email", "author.id", "id", "jsonResponse", "labelType", "modelName"))
        return self.labels(project_id, type_in=["PREDICTION"], **kwargs)

    def inferences(self, project_id: str, **kwargs: Any) -> Any:
        """Shortcut for ``labels(type_in=["INFERENCE"])`` with the model name."""
        kwargs.setdefault("fields", ("author.email", "author.id", "id", "jsonResponse", "labelType", "modelName"))
        return self.labels(project_id, type_in=["INFERENCE"], **kwargs)

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
        dataset_layout: Literal["kili", "standard"] = "kili",
        workers: int | None = None,
    ) -> ExportReport:
        """Export a project to a zip archive ``filename`` in format ``fmt`` (kili/raw, coco, yolo_v4,
        yolo_v5, yolo_v7, yolo_v8, pascal_voc, geojson, simple); see docs/export.md. Returns the report:
        assets matched and exported, annotations written per job, everything skipped and why.

        The archive is written to a temporary file and renamed at the end: a failed export leaves
        nothing behind. ``strict=True`` (labelport addition) turns the first skipped item into an
        error instead of a line in the report.

        labelport additions for ready-to-train datasets (coco, yolo_v5, yolo_v7, yolo_v8):
        ``split={"train": 0.8, "val": 0.1, "test": 0.1}`` (or ``"train=0.8,val=0.1,test=0.1"``) splits the
        assets, by a hash of ``split_seed`` and the external id (an asset keeps its split when others are
        added), or ``split_stratify=True`` to spread every category over the splits; ``dataset_root`` is the
        folder the archive will be unzipped to, written as the YOLO data.yaml's ``path``;
        ``dataset_layout="standard"`` (coco, pascal_voc, yolo_v5, yolo_v7, yolo_v8) writes the layout datumaro, CVAT
        and FiftyOne import instead of Kili's (COCO ``annotations/instances_<subset>.json`` + ``images/<subset>/``,
        VOC ``Annotations/`` + ``JPEGImages/`` + ``ImageSets/Main/<subset>.txt`` + ``labelmap.txt``, YOLO as
        Ultralytics lays it out).

        ``workers`` (labelport addition): processes converting assets while this one writes the archive
        (coco, yolo_*, pascal_voc and kili image exports; the archive is the same byte for byte). None, the
        default: one per core for exports of 2,000 assets or more, else none; 1: none."""
        request = export_service.ExportRequest(
            fmt=fmt,
            asset_ids=asset_ids,
            external_ids=external_ids,
            layout=layout,
            single_file=single_file,
            with_assets=with_assets,
            annotation_modifier=annotation_modifier,
            asset_filter_kwargs=asset_filter_kwargs,
            normalized_coordinates=normalized_coordinates,
            label_type_in=label_type_in,
            include_sent_back_labels=include_sent_back_labels,
            export_type=export_type,
            strict=strict,
            split=split,
            split_seed=split_seed,
            split_stratify=split_stratify,
            dataset_root=dataset_root,
            dataset_layout=dataset_layout,
            workers=workers,
        )
        return export_service.export_project(self.ctx, project_id, filename, request, disable_tqdm=disable_tqdm)

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
        return import_service.import_dataset(
            self.ctx,
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

    # -- API keys (labelport serve) ---------------------------------------------------------------

    def create_api_key(
        self,
        email: str,
        name: str | None = None,
        *,
        expiry_date: str | date | None = None,
        organization_role: str = OrganizationRole.USER,
    ) -> str:
        """Create an API key for the user ``email`` (created when new, by an organization ADMIN, with
        ``organization_role``) and return it: it is shown this once, the store keeps only its hash.
        Another user's key needs an organization ADMIN. ``expiry_date`` (labelport addition): a date or
        ISO date-time in the future; default 2099-12-31T23:59:59.000Z."""
        return api_key_service.create_api_key(
            self.ctx, email, name, expiry_date=expiry_date, organization_role=organization_role
        )

    def api_keys(self, email: str | None = None) -> list[dict[str, Any]]:
        """The API keys of ``email`` (None: all keys for an organization ADMIN, else one's own), without
        the keys: ``id``, ``name``, ``prefix``, ``user`` (``id``, ``email``), ``createdAt``,
        ``expiryDate``, ``revoked``, ``revokedAt`` (labelport addition)."""
        return api_key_service.list_api_keys(self.ctx, email)

    def revoke_api_key(self, key_id: str) -> dict[str, Any]:
        """Revoke an API key by id; returns its record, as ``api_keys()`` lists it (labelport addition)."""
        return api_key_service.revoke_api_key(self.ctx, key_id)


def _read_csv(path: str, separator: str) -> tuple[list[str], list[str]]:
    import csv

    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter=separator)
        if reader.fieldnames is None or not {"content", "externalId"} <= set(reader.fieldnames):
            raise ValidationError(f"{path}: the CSV needs the columns 'content' and 'externalId'.")
        rows = list(reader)
    return [row["content"] for row in rows], [row["externalId"] for row in rows]
