"""The resolvers of Kili's GraphQL schema: each root field is argument mapping plus one service call.

Queries turn the selection into labelport's dotted fields (:mod:`labelport.server.selection`) and the
``where`` into the filters of ``assets()``/``labels()``/… (:mod:`labelport.server.wire`), then stream one
page from the store; the rows are nested dicts with Kili's names, read by GraphQL's default resolvers.
What labelport does not store (workflow steps, locks, data connections…) is answered by the type
resolvers at the end, as a workflow-V1 project without those features would answer it. Mutations call
the same service entry points as the Python client, so every rule, check and mark is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ariadne import MutationType, ObjectType, QueryType, ScalarType
from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema

from labelport.enums import LabelType
from labelport.errors import NotFound, ValidationError
from labelport.server import uploads, wire
from labelport.server.selection import selected_paths, stored_paths
from labelport.services import api_keys as api_key_service
from labelport.services import assets as asset_service
from labelport.services import labels as label_service
from labelport.services import projects as project_service
from labelport.services import queries, workflow
from labelport.services import users as user_service
from labelport.services.context import ActingContext
from labelport.services.lookups import project_and_assets

#: The one organization of a labelport store, as Kili's API describes organizations.
ORGANIZATION_ID = "labelport"
ORGANIZATION = {
    "id": ORGANIZATION_ID,
    "name": "labelport",
    "address": None,
    "city": None,
    "country": None,
    "zipCode": None,
    "createdAt": None,
    "updatedAt": None,
    "license": {
        "uploadLocalData": True,
        "uploadCloudData": False,
        "type": "self-hosted",
        "api": True,
        "apiPriority": False,
        "canUsePlugins": False,
        "enableSmartTools": False,
    },
}


@dataclass
class RequestContext:
    """What every resolver gets as ``info.context``: the acting context of the request's user, and how
    the server names its own URLs."""

    acting: ActingContext
    key: str  # the request's API key (for ``apiKeys(where: {key})``)
    base_url: str  # e.g. http://127.0.0.1:4000, as the client reached the server
    max_page_size: int
    secret: bytes  # signs upload URLs


def _request(info: GraphQLResolveInfo) -> RequestContext:
    context = info.context
    assert isinstance(context, RequestContext)
    return context


def _first(info: GraphQLResolveInfo, first: int | None) -> int:
    """The page size asked for: ``first``, at most the server's cap (PageSize refuses more)."""
    return _request(info).max_page_size if first is None else first


def _skip(skip: int | None) -> int:
    """``skip``: 0 when null (as when left out)."""
    if skip is None:
        return 0
    if skip < 0:
        raise ValidationError(f"skip must be a whole number ≥ 0, got {skip!r}.")
    return skip


# -- scalars --------------------------------------------------------------------------------------------


def page_size_scalar(maximum: int) -> ScalarType:
    """``PageSize``: a page of at most ``maximum`` items (the SDK asks for 100 or fewer)."""
    scalar = ScalarType("PageSize")

    @scalar.value_parser
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise GraphQLError(f"first must be a whole number from 0 to {maximum}, got {value!r}.")
        return value

    @scalar.serializer
    def serialize(value: Any) -> int:
        return int(value)

    return scalar


json_scalar = ScalarType("JSON")


@json_scalar.value_parser
def _parse_json(value: Any) -> Any:
    return value


@json_scalar.serializer
def _serialize_json(value: Any) -> Any:
    return value


# -- queries --------------------------------------------------------------------------------------------

query = QueryType()


@query.field("viewer")
def resolve_viewer(_obj: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    acting = _request(info).acting
    fields = stored_paths("User", selected_paths(info))
    rows = list(queries.users(acting, acting.user_email, fields, first=1))
    if not rows:
        raise NotFound(f"User {acting.user_email!r} does not exist in this store.")
    return rows[0]


@query.field("projects")
def resolve_projects(
    _obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], first: int | None = None, skip: int = 0
) -> list[dict[str, Any]]:
    fields = stored_paths("Project", selected_paths(info))
    filters = wire.project_filters(where)
    return list(queries.projects(_request(info).acting, fields, _first(info, first), _skip(skip), filters))


@query.field("countProjects")
def resolve_count_projects(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> int:
    return queries.count_projects(_request(info).acting, wire.project_filters(where))


@query.field("assets")
def resolve_assets(
    _obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], first: int | None = None, skip: int = 0
) -> list[dict[str, Any]]:
    project_id = wire.project_id_of(where, "AssetWhere")
    fields = stored_paths("Asset", selected_paths(info))
    filters = wire.asset_filters(where)
    return list(queries.assets(_request(info).acting, project_id, fields, _first(info, first), _skip(skip), filters))


@query.field("countAssets")
def resolve_count_assets(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> int:
    project_id = wire.project_id_of(where, "AssetWhere")
    return queries.count_assets(_request(info).acting, project_id, wire.asset_filters(where))


@query.field("labels")
def resolve_labels(
    _obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], first: int | None = None, skip: int = 0
) -> list[dict[str, Any]]:
    project_id = wire.label_project_id(where)
    fields = stored_paths("Label", selected_paths(info))
    filters = wire.label_filters(where)
    return list(queries.labels(_request(info).acting, project_id, fields, _first(info, first), _skip(skip), filters))


@query.field("countLabels")
def resolve_count_labels(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> int:
    return queries.count_labels(_request(info).acting, wire.label_project_id(where), wire.label_filters(where))


@query.field("filterExistingAssets")
def resolve_filter_existing_assets(
    _obj: Any, info: GraphQLResolveInfo, projectID: str, externalIDs: list[str]
) -> list[str]:
    if not externalIDs:
        return []
    rows = queries.assets(
        _request(info).acting, projectID, ["externalId"], None, 0, {"external_id_strictly_in": externalIDs}
    )
    return [row["externalId"] for row in rows]


@query.field("projectUsers")
def resolve_project_users(
    _obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], first: int | None = None, skip: int = 0
) -> list[dict[str, Any]]:
    project_id, filters = wire.project_user_filters(where)
    fields = stored_paths("ProjectUser", selected_paths(info))
    return list(
        queries.project_users(_request(info).acting, project_id, fields, _first(info, first), _skip(skip), filters)
    )


@query.field("countProjectUsers")
def resolve_count_project_users(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> int:
    project_id, filters = wire.project_user_filters(where)
    return queries.count_project_users(_request(info).acting, project_id, filters)


def _user_email(where: Mapping[str, Any] | None) -> str | None:
    given = {key: value for key, value in (where or {}).items() if value is not None}
    given.pop("organization", None)
    unsupported = sorted(set(given) - {"email", "activated"})
    if unsupported:
        raise ValidationError(f"UserWhere.{unsupported[0]} is not supported by labelport; filter users by email.")
    return given.get("email")


@query.field("users")
def resolve_users(
    _obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], first: int | None = None, skip: int = 0
) -> list[dict[str, Any]]:
    fields = stored_paths("User", selected_paths(info))
    acting = _request(info).acting
    return list(queries.users(acting, _user_email(where), fields, _first(info, first), _skip(skip)))


@query.field("countUsers")
def resolve_count_users(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> int:
    return queries.count_users(_request(info).acting, _user_email(where))


@query.field("organizations")
def resolve_organizations(
    _obj: Any, _info: GraphQLResolveInfo, where: Mapping[str, Any], first: int | None = None, skip: int = 0
) -> list[dict[str, Any]]:
    del where
    start = _skip(skip)
    return [ORGANIZATION][start : start + (1 if first is None else first)]


@query.field("countOrganizations")
def resolve_count_organizations(_obj: Any, _info: GraphQLResolveInfo, where: Mapping[str, Any]) -> int:
    del where
    return 1


def _api_keys(info: GraphQLResolveInfo, where: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The request's user's keys (all keys for an organization ADMIN), by ``key`` or ``id``."""
    request = _request(info)
    given = {key: value for key, value in (where or {}).items() if value is not None}
    if "key" in given:
        found = api_key_service.find_key(request.acting.store, given["key"])
        visible = {record["id"] for record in api_key_service.list_api_keys(request.acting)}
        return [found] if found is not None and found["id"] in visible else []
    records = api_key_service.list_api_keys(request.acting)
    if "id" in given:
        records = [record for record in records if record["id"] == given["id"]]
    return records


@query.field("apiKeys")
def resolve_api_keys(
    _obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any], first: int | None = None, skip: int = 0
) -> list[dict[str, Any]]:
    records = _api_keys(info, where)
    return records[_skip(skip) : _skip(skip) + _first(info, first)]


@query.field("countApiKeys")
def resolve_count_api_keys(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> int:
    return len(_api_keys(info, where))


@query.field("createUploadBucketSignedUrls")
def resolve_upload_urls(_obj: Any, info: GraphQLResolveInfo, filePaths: list[str] | None = None) -> list[str]:
    request = _request(info)
    return [
        uploads.upload_url(request.base_url, request.secret, request.acting.user_email, path)
        for path in filePaths or []
    ]


# -- mutations ------------------------------------------------------------------------------------------

mutation = MutationType()


def _project(info: GraphQLResolveInfo, project_id: str) -> dict[str, Any]:
    fields = stored_paths("Project", selected_paths(info))
    rows = list(queries.projects(_request(info).acting, fields, 1, 0, {"project_id": project_id}))
    if not rows:
        raise NotFound(f"Project {project_id!r} does not exist in this store.")
    return rows[0]


def _assets_by_id(info: GraphQLResolveInfo, project_id: str, asset_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not asset_ids:
        return []
    fields = stored_paths("Asset", selected_paths(info))
    rows = {
        row["id"]: row
        for row in queries.assets(
            _request(info).acting, project_id, [*fields, "id"], None, 0, {"asset_id_in": list(asset_ids)}
        )
    }
    return [rows[asset_id] for asset_id in asset_ids if asset_id in rows]


def _labels_by_id(info: GraphQLResolveInfo, project_id: str, label_ids: Sequence[str]) -> list[dict[str, Any]]:
    fields = stored_paths("Label", selected_paths(info))
    rows = {
        row["id"]: row
        for row in queries.labels(
            _request(info).acting, project_id, [*fields, "id"], None, 0, {"id_contains": list(label_ids)}
        )
    }
    return [rows[label_id] for label_id in label_ids if label_id in rows]


def _where_project_id(where: Mapping[str, Any] | None) -> str:
    project_id = (where or {}).get("id")
    if not isinstance(project_id, str) or not project_id:
        raise ValidationError("ProjectWhere needs the project's id.")
    return project_id


@mutation.field("createProject")
def resolve_create_project(_obj: Any, info: GraphQLResolveInfo, data: Mapping[str, Any]) -> dict[str, Any]:
    acting = _request(info).acting
    interface = wire.json_value(data.get("jsonInterface"), "CreateProjectData.jsonInterface")
    if data.get("inputType") is None or interface is None:
        raise ValidationError("createProject needs both inputType (e.g. IMAGE) and jsonInterface.")
    project_id = project_service.create_project(
        acting, data.get("title") or "", data["inputType"], interface, data.get("description") or ""
    )
    return _project(info, project_id)


#: ProjectData key → ``update_properties_in_project`` argument.
_PROJECT_DATA = {
    "title": "title",
    "description": "description",
    "instructions": "instructions",
    "jsonInterface": "json_interface",
    "inputType": "input_type",
    "archived": "archived",
    "consensusTotCoverage": "consensus_tot_coverage",
    "minConsensusSize": "min_consensus_size",
    "reviewCoverage": "review_coverage",
    "useHoneyPot": "use_honeypot",
    "canNavigateBetweenAssets": "can_navigate_between_assets",
    "canSkipAsset": "can_skip_asset",
    "metadataProperties": "metadata_properties",
    "consensusMark": "consensus_mark",
    "honeypotMark": "honeypot_mark",
}


@mutation.field("updatePropertiesInProject")
def resolve_update_project(
    _obj: Any, info: GraphQLResolveInfo, data: Mapping[str, Any], where: Mapping[str, Any]
) -> dict[str, Any]:
    project_id = _where_project_id(where)
    properties: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        name = _PROJECT_DATA.get(key)
        if name is None:
            raise ValidationError(f"ProjectData.{key} is not supported by labelport.")
        properties[name] = wire.json_value(value, "ProjectData.jsonInterface") if key == "jsonInterface" else value
    project_service.update_properties_in_project(_request(info).acting, project_id, properties)
    return _project(info, project_id)


@mutation.field("deleteProjectAsynchronously")
def resolve_delete_project(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> str:
    project_id = _where_project_id(where)
    project_service.delete_project(_request(info).acting, project_id)
    return project_id


def _array(data: Mapping[str, Any], key: str) -> list[Any] | None:
    value = data.get(key)
    return None if value is None else list(value)


@mutation.field("appendManyAssets")
def resolve_append_many_assets(
    _obj: Any, info: GraphQLResolveInfo, data: Mapping[str, Any], where: Mapping[str, Any]
) -> list[dict[str, Any]]:
    request = _request(info)
    project_id = _where_project_id(where)
    contents = _array(data, "contentArray")
    json_contents = _array(data, "jsonContentArray")
    with uploads.resolved(request.acting.store, request.secret, request.acting.user_email) as local:
        if contents is not None:
            contents = [local(item) if item else None for item in contents]
        if json_contents is not None:
            json_contents = [local(item) if item else None for item in json_contents]
        metadata = [
            wire.json_value(item, "AppendManyAssetsData.jsonMetadataArray") if item else {}
            for item in data.get("jsonMetadataArray") or []
        ] or None
        ids = asset_service.append_many_to_dataset(
            request.acting,
            project_id,
            content_array=contents,
            external_id_array=_array(data, "externalIDArray"),
            json_metadata_array=metadata,
            json_content_array=json_contents,
            is_honeypot_array=_array(data, "isHoneypotArray"),
        )
    return _assets_by_id(info, project_id, ids)


#: AssetData key → ``update_properties_in_assets`` argument.
_ASSET_DATA = {
    "externalId": "external_ids_new",
    "content": "contents",
    "jsonContent": "json_contents",
    "jsonMetadata": "json_metadatas",
    "priority": "priorities",
    "consensusMark": "consensus_marks",
    "honeypotMark": "honeypot_marks",
    "isHoneypot": "is_honeypot_array",
    "isUsedForConsensus": "is_used_for_consensus_array",
    "toBeLabeledBy": "to_be_labeled_by_array",
    "resolution": "resolution_array",
    "pageResolutions": "page_resolutions_array",
    "status": "status_array",
}


@mutation.field("updatePropertiesInAssets")
def resolve_update_assets(
    _obj: Any, info: GraphQLResolveInfo, where: list[Mapping[str, Any]], data: list[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    if len(where) != len(data):
        raise ValidationError(f"updatePropertiesInAssets has {len(where)} where items but {len(data)} data items.")
    asset_ids = []
    for item in where:
        asset_id = (item or {}).get("id")
        if not isinstance(asset_id, str):
            raise ValidationError("updatePropertiesInAssets: each where item needs the asset's id.")
        asset_ids.append(asset_id)
    changes: dict[str, list[Any]] = {}
    for index, item in enumerate(data):
        for key, value in (item or {}).items():
            if key == "shouldResetToBeLabeledBy" or value is None:
                continue
            name = _ASSET_DATA.get(key)
            if name is None:
                raise ValidationError(f"AssetData.{key} is not supported by labelport.")
            if key == "jsonMetadata":
                value = wire.json_value(value, "AssetData.jsonMetadata")
            changes.setdefault(name, [None] * len(data))[index] = value
    acting = _request(info).acting
    updated = asset_service.update_properties_in_assets(acting, asset_ids, None, None, changes)
    project_id = _project_of_asset(acting, updated[0]) if updated else ""
    return _assets_by_id(info, project_id, updated)


def _project_of_asset(acting: ActingContext, asset_id: str) -> str:
    with acting.read() as conn:
        project, _ = project_and_assets(conn, [asset_id], None, None)
    return project.id


def _asset_ids(where: Mapping[str, Any]) -> tuple[str | None, list[str] | None, list[str] | None]:
    """The assets an AssetWhere of a mutation names: ``idIn`` (or ``id``), else external ids with the
    project. Returns (project id, asset ids, external ids)."""
    given = {key: value for key, value in (where or {}).items() if value is not None and value != {}}
    project = (given.get("project") or {}).get("id")
    if "idIn" in given:
        return project, list(given["idIn"]), None
    if "id" in given:
        return project, [given["id"]], None
    if "externalIdStrictlyIn" in given:
        return project, None, list(given["externalIdStrictlyIn"])
    raise ValidationError("Name the assets with AssetWhere.idIn (or id, or externalIdStrictlyIn with project.id).")


@mutation.field("appendManyLabels")
def resolve_append_many_labels(
    _obj: Any, info: GraphQLResolveInfo, data: Mapping[str, Any], where: Mapping[str, Any]
) -> list[dict[str, Any]]:
    acting = _request(info).acting
    if data.get("stepId") is not None or data.get("stepName") is not None:
        raise ValidationError("labelport projects use workflow V1, which has no steps: leave step_name out.")
    labels = [item or {} for item in data.get("labelsData") or []]
    project_id, _ids, _external = _asset_ids(where) if where else (None, None, None)
    asset_ids: list[str] = []
    for item in labels:
        asset_id = item.get("assetID")
        if not isinstance(asset_id, str):
            raise ValidationError("appendManyLabels: every labelsData item needs its assetID.")
        asset_ids.append(asset_id)
    authors = [item.get("authorID") for item in labels]
    model_names = {item.get("modelName") for item in labels}
    if len(model_names) > 1:
        raise ValidationError("appendManyLabels: one model name per call.")
    label_ids = label_service.append_labels(
        acting,
        [wire.json_value(item.get("jsonResponse"), "AppendLabelData.jsonResponse") for item in labels],
        asset_id_array=asset_ids,
        project_id=project_id,
        author_id_array=authors if any(author is not None for author in authors) else None,
        seconds_to_label_array=[item.get("secondsToLabel") for item in labels],
        model_name=model_names.pop() if model_names else None,
        label_type=data.get("labelType") or LabelType.DEFAULT,
        overwrite=bool(data.get("overwrite")),
    )
    return _labels_by_id(info, project_id or _project_of_asset(acting, asset_ids[0]), label_ids)


@mutation.field("createHoneypot")
def resolve_create_honeypot(
    _obj: Any, info: GraphQLResolveInfo, data: Mapping[str, Any], where: Mapping[str, Any]
) -> dict[str, Any]:
    acting = _request(info).acting
    project_id, ids, external_ids = _asset_ids(where)
    response = wire.json_value(data.get("jsonResponse"), "CreateHoneypotData.jsonResponse")
    label_id = label_service.create_honeypot(
        acting,
        response,
        asset_id=ids[0] if ids else None,
        asset_external_id=external_ids[0] if external_ids else None,
        project_id=project_id,
    )
    project_id = project_id or _project_of_asset(acting, ids[0] if ids else "")
    return _labels_by_id(info, project_id, [label_id])[0]


@mutation.field("appendToRoles")
def resolve_append_to_roles(
    _obj: Any, info: GraphQLResolveInfo, data: Mapping[str, Any], where: Mapping[str, Any]
) -> dict[str, Any]:
    project_id = _where_project_id(where)
    user_service.append_to_roles(
        _request(info).acting, project_id, data.get("userEmail") or "", data.get("role") or "LABELER"
    )
    return _project(info, project_id)


def _role(where: Mapping[str, Any]) -> str:
    role_id = (where or {}).get("id")
    if not isinstance(role_id, str):
        raise ValidationError("ProjectUserWhere needs the role's id.")
    return role_id


@mutation.field("updatePropertiesInRole")
def resolve_update_role(
    _obj: Any, info: GraphQLResolveInfo, data: Mapping[str, Any], where: Mapping[str, Any]
) -> dict[str, Any]:
    acting = _request(info).acting
    role_id = _role(where)
    user_service.update_properties_in_role(acting, role_id, data.get("role") or "")
    project_id = data.get("projectID")
    fields = stored_paths("ProjectUser", selected_paths(info))
    if not isinstance(project_id, str):
        raise ValidationError("RoleData needs the projectID.")
    rows = list(queries.project_users(acting, project_id, fields, 1, 0, {"id": role_id}))
    if not rows:
        raise NotFound(f"Project role {role_id!r} is not a role of project {project_id!r}.")
    return rows[0]


@mutation.field("deleteFromRoles")
def resolve_delete_from_roles(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    acting = _request(info).acting
    role_id = _role(where)
    project_id = (where.get("project") or {}).get("id") if where else None
    if not isinstance(project_id, str):
        project_id = user_service.project_of_role(acting, role_id)
    user_service.delete_from_roles(acting, role_id)
    return _project(info, project_id)


def _outcome(
    acting: ActingContext, where: Mapping[str, Any], act: Callable[..., Any], moved_of: Callable[[Any], Iterable[str]]
) -> dict[str, Any]:
    """An ``AssetActionOutcome``: the assets the action applied to, and those it declined."""
    project_id, ids, external_ids = _asset_ids(where)
    named = queries.assets(
        acting,
        project_id or _project_of_asset(acting, (ids or [""])[0]),
        ["id", "externalId"],
        None,
        0,
        {"asset_id_in": ids} if ids is not None else {"external_id_strictly_in": external_ids},
    )
    refs = {row["id"]: row["externalId"] for row in named}
    moved = set(moved_of(act(acting, ids, external_ids, project_id)))
    succeeded = [
        {"assetId": asset_id, "externalId": external_id} for asset_id, external_id in refs.items() if asset_id in moved
    ]
    declined = [
        {"assetId": asset_id, "externalId": external_id}
        for asset_id, external_id in refs.items()
        if asset_id not in moved
    ]
    return {"succeeded": succeeded, "declined": declined, "failed": []}


def _moved(result: Mapping[str, Any] | None) -> list[str]:
    return list(result["asset_ids"]) if result else []


@mutation.field("addAssetsToReview")
def resolve_add_to_review(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    return _outcome(_request(info).acting, where, workflow.add_to_review, _moved)


@mutation.field("sendAssetsBackToQueue")
def resolve_send_back(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    return _outcome(_request(info).acting, where, workflow.send_back_to_queue, _moved)


@mutation.field("deleteAssets")
def resolve_delete_assets(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any]:
    def delete(acting: ActingContext, ids: Any, external_ids: Any, project_id: Any) -> list[str]:
        return asset_service.delete_many_from_dataset(acting, ids, external_ids, project_id)[1]

    return _outcome(_request(info).acting, where, delete, lambda deleted: deleted)


def _project_answer(result: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if not result else {"id": result["id"]}


@mutation.field("addAllLabeledAssetsToReview")
def resolve_add_all_to_review(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any] | None:
    acting = _request(info).acting
    project_id, ids, external_ids = _asset_ids(where)
    return _project_answer(workflow.add_to_review(acting, ids, external_ids, project_id))


@mutation.field("sendBackAssetsToQueue")
def resolve_send_back_all(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any] | None:
    acting = _request(info).acting
    project_id, ids, external_ids = _asset_ids(where)
    return _project_answer(workflow.send_back_to_queue(acting, ids, external_ids, project_id))


@mutation.field("deleteManyFromDataset")
def resolve_delete_many(_obj: Any, info: GraphQLResolveInfo, where: Mapping[str, Any]) -> dict[str, Any] | None:
    acting = _request(info).acting
    project_id, ids, external_ids = _asset_ids(where)
    project, _deleted = asset_service.delete_many_from_dataset(acting, ids, external_ids, project_id)
    return {"id": project}


# -- what labelport does not store, answered as a workflow-V1 store without those features ------------


def _constant(value: Any) -> Callable[..., Any]:
    return lambda _obj, _info, **_kwargs: value


def _empty(_obj: Any, _info: GraphQLResolveInfo, **_kwargs: Any) -> list[Any]:
    return []


def _json_text(field: str) -> Callable[..., str | None]:
    return lambda obj, _info, **_kwargs: wire.json_text(obj.get(field))


def _bindables() -> list[ObjectType]:
    asset = ObjectType("Asset")
    asset.set_field("jsonMetadata", _json_text("jsonMetadata"))
    asset.set_field("projectId", lambda obj, _info: (obj.get("project") or {}).get("id"))
    for name in (
        "currentStep",
        "ocrMetadata",
        "thumbnail",
        "duration",
        "consensusMarkPerCategory",
        "geospatialExportMetadata",
        "readPermissionsFromLabels",
    ):
        asset.set_field(name, _constant(None))
    asset.set_field("numberOfValidLocks", _constant(0))
    for name in ("toBeLabeledBy", "assignedTo", "issues", "locks"):
        asset.set_field(name, _empty)

    label = ObjectType("Label")
    label.set_field("jsonResponse", _json_text("jsonResponse"))
    label.set_field("jsonResponseUrl", _constant(None))
    label.set_field("isLastForStep", lambda obj, _info: obj.get("isLatestLabelForUser"))
    label.set_field(
        "secondsToLabel", lambda obj, _info: None if obj.get("secondsToLabel") is None else round(obj["secondsToLabel"])
    )
    label.set_field("totalSecondsToLabel", lambda obj, _info: obj.get("secondsToLabel"))
    label.set_field("projectId", lambda obj, _info: ((obj.get("labelOf") or {}).get("project") or {}).get("id"))
    label.set_field("skipped", _constant(False))
    label.set_field("version", _constant(0))
    label.set_field("referencedLabelId", _constant(None))
    label.set_field("annotations", _empty)

    project = ObjectType("Project")
    project.set_field("jsonInterface", _json_text("jsonInterface"))
    project.set_field("workflowVersion", _constant("V1"))
    project.set_field("organizationId", _constant(ORGANIZATION_ID))
    for name in ("steps", "stepGroups", "dataConnections", "complianceTags"):
        project.set_field(name, _empty)
    for name in (
        "archivedAt",
        "deletedAt",
        "geospatialSettings",
        "consensusMarkPerCategory",
        "metadataTypes",
        "readPermissionsForAssetsAndLabels",
    ):
        project.set_field(name, _constant(None))
    for name in ("shouldAutoAssign", "shouldRelaunchKpiComputation", "shouldAnonymize", "enforceStepSeparation"):
        project.set_field(name, _constant(False))
    for name in (
        "numberOfAssetsWithSkippedLabels",
        "numberOfOpenIssues",
        "numberOfSolvedIssues",
        "numberOfOpenQuestions",
        "numberOfSolvedQuestions",
    ):
        project.set_field(name, _constant(0))

    user = ObjectType("User")
    user.set_field("organizationId", _constant(ORGANIZATION_ID))
    user.set_field("organization", _constant(ORGANIZATION))
    user.set_field("apiKeys", _empty)
    user.set_field("projectUsers", _empty)
    user.set_field("hasCompletedLabelingTour", _constant(True))

    member = ObjectType("ProjectUser")
    member.set_field("invitationStatus", _constant("ACCEPTED"))
    for name in ("lastLabelingAt", "consensusMarkPerCategory", "totalDuration"):
        member.set_field(name, _constant(None))
    for name in ("numberOfAnnotations", "numberOfLabels"):
        member.set_field(name, lambda obj, _info, name=name: obj.get(name, 0))

    api_key = ObjectType("ApiKey")
    api_key.set_field("key", _constant(None))  # never sent back
    return [asset, label, project, user, member, api_key]


BINDABLES = _bindables()

#: How the schema marks a root field that it declares (the SDK's client-side validation needs it) but
#: labelport does not serve.
UNSUPPORTED = "Not supported by labelport: "


def refuse_unsupported(schema: GraphQLSchema) -> None:
    """Give every declared-only root field a resolver that refuses it by name, with the reason its
    description gives (without one GraphQL would answer null, an internal error for a non-null field)."""
    for root in (schema.query_type, schema.mutation_type):
        for name, field in (root.fields if root is not None else {}).items():
            description = field.description or ""
            if field.resolve is None and description.startswith(UNSUPPORTED):
                reason = description[len(UNSUPPORTED) :].rstrip(".")
                field.resolve = _refusal(f"{root.name}.{name} is not supported by labelport ({reason}).")  # type: ignore[union-attr]


def _refusal(message: str) -> Callable[..., Any]:
    def refuse(_obj: Any, _info: GraphQLResolveInfo, **_kwargs: Any) -> Any:
        raise ValidationError(message)

    return refuse
