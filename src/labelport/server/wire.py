"""Kili's GraphQL inputs, as the SDK sends them, turned into the arguments of labelport's services.

The SDK's ``where`` objects (``AssetWhere``, ``LabelWhere``, ``ProjectWhere``, ``ProjectUserWhere``,
``UserWhere``) carry the same filters as the Python client, in camelCase and nested (``label: {typeIn}``
is ``label_type_in``). Each maps onto the filter names of ``assets()``, ``labels()``, ``projects()`` and
``project_users()``, so that every filter means the same through the server as in-process, and an
unknown or unsupported one gets the same error. JSON values travel as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from labelport.errors import FilterError, ValidationError

#: AssetWhere key → the filter of ``assets()``.
_ASSET_FILTERS = {
    "id": "asset_id",
    "idIn": "asset_id_in",
    "idNotIn": "asset_id_not_in",
    "externalIdStrictlyIn": "external_id_strictly_in",
    "externalIdIn": "external_id_in",
    "statusIn": "status_in",
    "skipped": "skipped",
    "consensusMarkGte": "consensus_mark_gte",
    "consensusMarkLte": "consensus_mark_lte",
    "honeypotMarkGte": "honeypot_mark_gte",
    "honeypotMarkLte": "honeypot_mark_lte",
    "inferenceMarkGte": "inference_mark_gte",
    "inferenceMarkLte": "inference_mark_lte",
    "createdAtGte": "created_at_gte",
    "createdAtLte": "created_at_lte",
    "updatedAtGte": "updated_at_gte",
    "updatedAtLte": "updated_at_lte",
    "metadata": "metadata_where",
    "assigneeIn": "assignee_in",
    "assigneeNotIn": "assignee_not_in",
}
#: AssetWhere.label key → the label criterion of ``assets()``.
_ASSET_LABEL_FILTERS = {
    "typeIn": "label_type_in",
    "authorIn": "label_author_in",
    "consensusMarkGte": "label_consensus_mark_gte",
    "consensusMarkLte": "label_consensus_mark_lte",
    "createdAt": "label_created_at",
    "createdAtGte": "label_created_at_gte",
    "createdAtLte": "label_created_at_lte",
    "honeypotMarkGte": "label_honeypot_mark_gte",
    "honeypotMarkLte": "label_honeypot_mark_lte",
    "search": "label_category_search",
    "labelerIn": "label_labeler_in",
    "labelerNotIn": "label_labeler_not_in",
    "reviewerIn": "label_reviewer_in",
    "reviewerNotIn": "label_reviewer_not_in",
}
#: LabelWhere key → the filter of ``labels()``.
_LABEL_FILTERS = {
    "id": "label_id",
    "idIn": "id_contains",
    "authorIn": "author_in",
    "typeIn": "type_in",
    "consensusMarkGte": "consensus_mark_gte",
    "consensusMarkLte": "consensus_mark_lte",
    "honeypotMarkGte": "honeypot_mark_gte",
    "honeypotMarkLte": "honeypot_mark_lte",
    "createdAt": "created_at",
    "createdAtGte": "created_at_gte",
    "createdAtLte": "created_at_lte",
    "search": "category_search",
}
#: LabelWhere.asset key → the asset criterion of ``labels()``.
_LABEL_ASSET_FILTERS = {
    "id": "asset_id",
    "statusIn": "asset_status_in",
    "externalIdIn": "asset_external_id_in",
    "externalIdStrictlyIn": "asset_external_id_strictly_in",
}
#: ProjectWhere key → the filter of ``projects()``.
_PROJECT_FILTERS = {
    "id": "project_id",
    "searchQuery": "search_query",
    "starred": "starred",
    "archived": "archived",
    "updatedAtGte": "updated_at_gte",
    "updatedAtLte": "updated_at_lte",
    "createdAtGte": "created_at_gte",
    "createdAtLte": "created_at_lte",
    "organizationId": "organization_id",
    "deleted": "deleted",
    "shouldRelaunchKpiComputation": "should_relaunch_kpi_computation",
    "tagIds": "tags_in",
}


def _given(where: Mapping[str, Any] | None) -> dict[str, Any]:
    """The keys with a value (the SDK drops most nulls itself, not inside lists)."""
    return {key: value for key, value in (where or {}).items() if value is not None and value != {}}


#: Why labelport has no such filter, by key.
_WHY = {
    "step": "labelport projects use workflow V1 statuses, without steps; filter with statusIn",
    "groupName": "labelport projects use workflow V1 statuses, without step groups; filter with statusIn",
    "issue": "labelport has no issues or questions on assets",
    "labelerIn": "labels() takes authorIn",
    "reviewerIn": "labels() takes authorIn with typeIn: [REVIEW]",
}


def _unsupported(kind: str, key: str) -> FilterError:
    why = next((reason for prefix, reason in _WHY.items() if key.startswith(prefix)), "")
    return FilterError(f"{kind}.{key} is not supported by labelport{': ' + why if why else ''}.")


def _map(kind: str, where: Mapping[str, Any], names: Mapping[str, str], skip: tuple[str, ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in _given(where).items():
        if key in skip:
            continue
        name = names.get(key)
        if name is None:
            raise _unsupported(kind, key)
        found[name] = value
    return found


def project_id_of(where: Mapping[str, Any] | None, kind: str) -> str:
    """``where.project.id``, which the SDK always sends for assets and labels of a project."""
    project = (where or {}).get("project") or {}
    project_id = project.get("id") if isinstance(project, Mapping) else None
    if not isinstance(project_id, str) or not project_id:
        raise ValidationError(f"{kind} needs project: {{id: <project id>}}: labelport answers one project at a time.")
    return project_id


def asset_filters(where: Mapping[str, Any] | None) -> dict[str, Any]:
    """``assets()`` filters of an AssetWhere (its project aside)."""
    given = _given(where)
    filters = _map("AssetWhere", given, _ASSET_FILTERS, ("project", "label", "issue"))
    filters.update(_map("AssetWhere.label", given.get("label") or {}, _ASSET_LABEL_FILTERS, ()))
    issue = _given(given.get("issue"))
    if issue:
        raise _unsupported("AssetWhere", "issue")
    if "metadata_where" in filters:
        filters["metadata_where"] = json_value(filters["metadata_where"], "AssetWhere.metadata")
    return filters


def label_filters(where: Mapping[str, Any] | None) -> dict[str, Any]:
    """``labels()`` filters of a LabelWhere (its project aside)."""
    given = _given(where)
    filters = _map("LabelWhere", given, _LABEL_FILTERS, ("project", "asset", "user", "labelerIn", "reviewerIn"))
    for key in ("labelerIn", "reviewerIn"):
        if key in given:
            raise _unsupported("LabelWhere", key)
    filters.update(
        _map("LabelWhere.asset", given.get("asset") or {}, _LABEL_ASSET_FILTERS, ("project", "label", "issue"))
    )
    user = _given(given.get("user"))
    user.pop("organization", None)
    if set(user) - {"id"}:
        raise _unsupported("LabelWhere.user", sorted(set(user) - {"id"})[0])
    if "id" in user:
        filters["user_id"] = user["id"]
    return filters


def label_project_id(where: Mapping[str, Any] | None) -> str:
    """The project of a LabelWhere: ``project.id``, else ``asset.project.id``."""
    given = _given(where)
    if _given(given.get("project")).get("id") is not None:
        return project_id_of(given, "LabelWhere")
    return project_id_of(_given(given.get("asset")), "LabelWhere")


def project_filters(where: Mapping[str, Any] | None) -> dict[str, Any]:
    """``projects()`` filters of a ProjectWhere."""
    return _map("ProjectWhere", where or {}, _PROJECT_FILTERS, ())


def project_user_filters(where: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The project and ``project_users()`` filters of a ProjectUserWhere."""
    given = _given(where)
    project_id = project_id_of(given, "ProjectUserWhere")
    filters: dict[str, Any] = {}
    if "id" in given:
        filters["id"] = given["id"]
    if "status" in given:
        filters["status_in"] = [given["status"]]
    user = _given(given.get("user"))
    user.pop("organization", None)
    if "email" in user:
        filters["email"] = user.pop("email")
    for key in sorted(set(given) - {"id", "status", "user", "project", "activeInProject", "deleted"} | set(user)):
        raise _unsupported("ProjectUserWhere", key)
    return project_id, filters


def json_value(value: Any, what: str) -> Any:
    """A JSON value sent as a string (as the SDK does), or already decoded."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise ValidationError(f"{what} is not valid JSON: {value[:80]!r}.") from None


def json_text(value: Any) -> str | None:
    """A value sent back as a JSON string (``jsonResponse``, ``jsonMetadata``, ``jsonInterface``)."""
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
