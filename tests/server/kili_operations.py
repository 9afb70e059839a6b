"""Print, as JSON on stdout, every GraphQL operation document the installed ``kili`` SDK can send.

Run it with the Python of a virtual environment where ``kili`` is installed (never labelport's: the
two do not share an environment), e.g. ``.venv-kili/bin/python tests/server/kili_operations.py``.
Nothing goes to the network: sockets refuse to connect, the SDK's GraphQL and HTTP clients are
replaced by recorders that answer with made-up data shaped by the selection they receive.

Four sources, each entry tagged with its ``kind``:

* ``static``: every string constant of every ``kili`` module (module globals and class attributes,
  after import, so f-strings built from other constants are complete) that parses as a GraphQL
  document holding an operation;
* ``template``: every f-string in the SDK's source that is an operation with holes (a fragment
  filled in at run time), with each hole replaced by ``__typename``, so the operation, its
  variables and its arguments are checked even when no call below reaches it;
* ``fields``: the SDK's own query builders (``get_assets_query``, ``get_labels_query``, ...) fed with
  the SDK's ``fragment_builder`` output for the default field lists, the export field lists and
  every field of Kili's object model that a user may pass in ``fields=[...]``;
* ``call``: what high-level SDK calls (the legacy client, the CLI) actually send, recorded at the
  GraphQL client with the variables after the SDK's own clean-up (``_remove_nullable_inputs``).

The output also holds ``export_fields`` (the asset selection ``export_labels`` requests per export
type and input type, flattened to dotted paths), ``introspection_query`` (the one the SDK sends at
start-up), ``failed_scenarios`` (calls that stopped early on the made-up answers; what they sent is
recorded all the same) and ``http`` (the non-GraphQL requests: uploads, downloads).

With ``--validate``, it reads ``{"introspection": ..., "documents": [...]}`` on stdin and prints the
documents that gql, built from that introspection result as the SDK builds it, refuses.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import io
import json
import os
import pkgutil
import shutil
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ["KILI_SDK_SKIP_CHECKS"] = "1"  # no key check, no schema download, no client-side validation
for _variable in ("KILI_API_KEY", "KILI_API_ENDPOINT", "KILI_VERIFY", "KILI_DISABLE_TQDM"):
    os.environ.pop(_variable, None)
SCRATCH = Path(tempfile.mkdtemp(prefix="kili-operations-"))
(SCRATCH / "home").mkdir()
os.environ["HOME"] = str(SCRATCH / "home")  # the SDK's caches (~/.cache/kili) go to the scratch directory
os.chdir(SCRATCH)  # and no kili-sdk-config.json of the caller is read


def _no_network(*_args: Any, **_kwargs: Any) -> None:
    raise OSError("kili_operations.py runs without network")


socket.socket.connect = _no_network  # type: ignore[method-assign]
socket.socket.connect_ex = _no_network  # type: ignore[method-assign]
socket.create_connection = _no_network  # type: ignore[assignment]

import graphql  # noqa: E402  (the kili venv has graphql-core through gql)
import kili  # noqa: E402

ENDPOINT = "http://labelport.invalid/api/label/v2/graphql"
API_KEY = "labelport-extractor-key"
KILI_DIR = Path(kili.__file__).resolve().parent

OPERATION_KINDS = (graphql.OperationDefinitionNode,)


# ---------------------------------------------------------------------------------------------------
# Collection


class Collector:
    def __init__(self) -> None:
        self.operations: list[dict[str, Any]] = []
        self.seen: set[tuple[str, str]] = set()
        self.unparsed_templates: list[dict[str, str]] = []
        self.failed_scenarios: list[dict[str, str]] = []
        self.http: list[dict[str, Any]] = []
        self.export_fields: dict[str, list[str]] = {}
        #: (scenario, document) of every request, duplicates included
        self.sent: list[tuple[str, graphql.DocumentNode]] = []

    def add(self, kind: str, origin: str, text: str, variables: Any = None) -> graphql.DocumentNode | None:
        try:
            document = graphql.parse(text)
        except graphql.GraphQLError:
            return None
        if not any(isinstance(d, OPERATION_KINDS) for d in document.definitions):
            return None
        printed = graphql.print_ast(document)
        key = (kind, printed if variables is None else printed + json.dumps(variables, sort_keys=True, default=str))
        if key in self.seen:
            return document
        self.seen.add(key)
        entry: dict[str, Any] = {"kind": kind, "origin": origin, "document": printed}
        if variables is not None:
            entry["variables"] = variables
        self.operations.append(entry)
        return document


COLLECTOR = Collector()
LOOKS_LIKE_OPERATION = ("query", "mutation", "subscription", "{")


def _looks_like_operation(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith(LOOKS_LIKE_OPERATION) and ("{" in stripped)


# --- static: constants after import -----------------------------------------------------------------


def collect_static() -> None:
    for info in pkgutil.walk_packages([str(KILI_DIR)], prefix="kili."):
        try:
            module = importlib.import_module(info.name)
        except Exception:  # optional dependencies of some modules are not installed; their files are
            continue  # still read by collect_templates
        holders: list[tuple[str, Any]] = [(info.name, module)]
        holders += [
            (f"{info.name}.{name}", value)
            for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__ == info.name
        ]
        for prefix, holder in holders:
            for name, value in vars(holder).items():
                if isinstance(value, str) and _looks_like_operation(value):
                    COLLECTOR.add("static", f"{prefix}.{name}", value)


# --- template: f-strings of the source, holes filled with __typename (and constants in functions) ---


def collect_templates() -> None:
    for path in sorted(KILI_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        pieces = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in pieces:
                # constants inside functions (a module's globals are read by collect_static)
                if _looks_like_operation(node.value):
                    COLLECTOR.add("static", f"{path.relative_to(KILI_DIR.parent)}:{node.lineno}", node.value)
                continue
            if not isinstance(node, ast.JoinedStr):
                continue
            text = "".join(part.value if isinstance(part, ast.Constant) else " __typename " for part in node.values)
            if not _looks_like_operation(text) or not any(w in text for w in ("query", "mutation", "subscription")):
                continue
            origin = f"{path.relative_to(KILI_DIR.parent)}:{node.lineno}"
            if COLLECTOR.add("template", origin, text) is None:
                COLLECTOR.unparsed_templates.append({"origin": origin, "text": text})


# --- fields: the SDK's builders with field lists ------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


#: Every field of Kili's object model a user may request, as dotted paths (see
#: src/labelport/server/schema.graphql for what each one means).
USER_FIELDS: dict[str, list[str]] = {
    "asset": _words(
        """
        id externalId content jsonContent jsonMetadata ocrMetadata createdAt updatedAt status skipped priority
        isHoneypot isUsedForConsensus consensusMark honeypotMark inferenceMark duration thumbnail projectId
        numberOfValidLocks readPermissionsFromLabels currentStep.id currentStep.name currentStep.status
        currentStep.stepGroupName resolution.width resolution.height pageResolutions.pageNumber
        pageResolutions.width pageResolutions.height pageResolutions.rotation toBeLabeledBy.id toBeLabeledBy.role
        toBeLabeledBy.user.email toBeLabeledBy.user.id assignedTo.id assignedTo.email project.id project.title
        project.inputType issues.id issues.type issues.status issues.createdAt locks.id locks.createdAt
        locks.lockType locks.author.email labels.id labels.assetId labels.createdAt labels.updatedAt
        labels.labelType labels.jsonResponse labels.jsonResponseUrl labels.secondsToLabel labels.totalSecondsToLabel
        labels.modelName labels.honeypotMark labels.consensusMark labels.inferenceMark labels.numberOfAnnotations
        labels.isLatestLabelForUser labels.isLatestDefaultLabelForUser labels.isLatestReviewLabelForUser
        labels.isLastForStep labels.isSentBackToQueue labels.version labels.referencedLabelId labels.skipped
        labels.author.id labels.author.email labels.author.firstname labels.author.lastname
        labels.author.organizationId labels.author.organizationRole labels.author.activated latestLabel.id
        latestLabel.jsonResponse latestLabel.labelType latestLabel.createdAt latestLabel.author.email
        latestLabel.isSentBackToQueue latestLabel.jsonResponseUrl latestLabels.id latestLabels.jsonResponse
        latestLabels.author.email latestLabels.isLastForStep
        """
    ),
    "label": _words(
        """
        id assetId createdAt updatedAt labelType jsonResponse jsonResponseUrl secondsToLabel totalSecondsToLabel
        modelName honeypotMark consensusMark inferenceMark numberOfAnnotations isLatestLabelForUser
        isLatestDefaultLabelForUser isLatestReviewLabelForUser isLastForStep isSentBackToQueue version
        referencedLabelId skipped projectId author.id author.email author.firstname author.lastname author.activated
        author.organizationId author.organizationRole author.createdAt author.updatedAt author.organization.id
        author.organization.name labelOf.id labelOf.externalId labelOf.content labelOf.jsonMetadata labelOf.status
        labelOf.project.id
        """
    ),
    "project": _words(
        """
        id title description inputType jsonInterface instructions createdAt updatedAt consensusTotCoverage
        minConsensusSize reviewCoverage consensusMark honeypotMark useHoneyPot canNavigateBetweenAssets canSkipAsset
        complianceTags metadataProperties metadataTypes shouldAutoAssign shouldRelaunchKpiComputation archived
        starred archivedAt deletedAt organizationId readPermissionsForAssetsAndLabels numberOfAssets
        numberOfRemainingAssets numberOfReviewedAssets numberOfSkippedAssets numberOfOpenIssues numberOfSolvedIssues
        numberOfOpenQuestions numberOfSolvedQuestions numberOfAssetsWithSkippedLabels workflowVersion
        shouldAnonymize author.id author.email author.firstname author.lastname roles.id roles.role roles.activated
        roles.starred roles.status roles.user.id roles.user.email roles.user.firstname roles.user.lastname
        roles.user.organization.id roles.user.organization.name steps.id steps.name steps.type steps.order
        steps.stepCoverage steps.consensusCoverage steps.numberOfExpectedLabelsForConsensus steps.stepGroupId
        steps.assignees.id steps.assignees.email dataConnections.id dataConnections.lastChecked
        dataConnections.numberOfAssets dataConnections.isChecking dataConnections.projectId
        dataConnections.dataIntegrationId
        """
    ),
    "user": _words(
        """
        id email firstname lastname activated createdAt updatedAt organizationId organizationRole organization.id
        organization.name organization.license.uploadLocalData apiKeys.id apiKeys.name projectUsers.id
        projectUsers.role
        """
    ),
    "project_user": _words(
        """
        id role activated starred status invitationStatus consensusMark honeypotMark lastLabelingAt
        numberOfAnnotations numberOfLabels numberOfLabeledAssets totalDuration user.id user.email user.firstname
        user.lastname user.organization.name project.id project.title
        """
    ),
    "organization": _words(
        """
        id name address city country zipCode createdAt updatedAt license.uploadLocalData license.uploadCloudData
        license.type license.expiryDate license.seats license.api license.enableSmartTools
        """
    ),
    "api_key": _words(
        """
        id key name createdAt expiryDate revoked userId user.id user.email
        """
    ),
}


def collect_field_queries() -> None:
    from kili.adapters.kili_api_gateway.asset.operations import get_assets_query
    from kili.adapters.kili_api_gateway.helpers.queries import fragment_builder
    from kili.adapters.kili_api_gateway.label.operations import get_labels_query
    from kili.adapters.kili_api_gateway.project.operations import get_projects_query
    from kili.domain.asset.asset import get_asset_default_fields
    from kili.services.export import tools as export_tools

    builders: dict[str, Callable[[str], str]] = {
        "asset": get_assets_query,
        "label": get_labels_query,
        "project": get_projects_query,
    }
    optional = {
        "user": ("kili.adapters.kili_api_gateway.user.operations", "get_users_query"),
        "organization": ("kili.adapters.kili_api_gateway.organization.operations", "get_list_organizations_query"),
        "api_key": ("kili.adapters.kili_api_gateway.api_key.operations", "get_api_keys_query"),
    }
    for entity, (module_name, function_name) in optional.items():
        builders[entity] = getattr(importlib.import_module(module_name), function_name)
    from kili.core.graphql.operations.project_user.queries import ProjectUserQuery

    builders["project_user"] = ProjectUserQuery.query

    lists: list[tuple[str, str, list[str]]] = []
    for version in ("V1", "V2", "V3"):
        lists.append(("asset", f"default fields ({version})", list(get_asset_default_fields(version))))
    for name in ("DEFAULT_FIELDS", "LATEST_LABEL_FIELDS", "LATEST_LABELS_FIELDS", "COMMON_FIELDS"):
        lists.append(("asset", f"kili.services.export.tools.{name}", list(getattr(export_tools, name))))
    for entity, fields in USER_FIELDS.items():
        lists.append((entity, "Kili object model", fields))
        lists += [(entity, f"Kili object model: {field}", [field]) for field in fields]
    for entity, origin, fields in lists:
        COLLECTOR.add("fields", f"{entity}: {origin}", builders[entity](fragment_builder(fields)))


# --- call: high-level SDK calls against a recording client ----------------------------------------

INTERFACE = {
    "jobs": {
        "JOB_0": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Boxes",
            "required": 1,
            "isChild": False,
            "content": {
                "input": "radio",
                "categories": {"OBJECT_A": {"name": "Object A", "children": [], "color": "#ff0000"}},
            },
        },
        "CLASSIF": {
            "mlTask": "CLASSIFICATION",
            "instruction": "Class",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"A": {"name": "A", "children": []}}},
        },
    }
}
RESPONSE = {
    "JOB_0": {
        "annotations": [
            {
                "mid": "m1",
                "type": "rectangle",
                "categories": [{"name": "OBJECT_A"}],
                "children": {},
                "boundingPoly": [
                    {
                        "normalizedVertices": [
                            {"x": 0.1, "y": 0.9},
                            {"x": 0.1, "y": 0.1},
                            {"x": 0.9, "y": 0.1},
                            {"x": 0.9, "y": 0.9},
                        ]
                    }
                ],
            }
        ]
    }
}

#: Object fields that hold lists (everything else with a selection is one object).
LIST_FIELDS = set(
    _words(
        """
        allowedPaths allowedProjects annotations apiKeys assignees chatItems comments dataConnections declined failed
        issues labelers labels latestLabels locks pageResolutions projectModels projectUsers reviewers roles stepGroups
        steps succeeded users
        """
    )
)
#: Root fields that return lists.
LIST_ROOTS = set(
    _words(
        """
        apiKeys appendManyAssets appendManyLabels assets chatItems createIssues createUploadBucketSignedUrls
        dataConnections dataIntegrations deleteLabels events filterExistingAssets issues labels listPlugins
        listTagsByOrg listTagsByProject models notifications organizations projectModels projectUsers projectVersions
        projects updatePropertiesInAssets users
        """
    )
)


class Fake:
    """Made-up answers shaped by the selection: enough for the SDK to go on to its next request."""

    def __init__(self, input_type: str = "IMAGE", workflow: str = "V1", count: int = 1) -> None:
        self.input_type = input_type
        self.workflow = workflow
        self.count = count
        self.calls = 0

    def answer(self, document: graphql.DocumentNode, variables: dict[str, Any]) -> dict[str, Any]:
        operation = next(d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode))
        data = {}
        for selection in operation.selection_set.selections:
            assert isinstance(selection, graphql.FieldNode)
            key = selection.alias.value if selection.alias else selection.name.value
            data[key] = self.root(selection, variables)
        return data

    def root(self, node: graphql.FieldNode, variables: dict[str, Any]) -> Any:
        name = node.name.value
        if name.startswith("count"):
            return self.count
        if name == "createUploadBucketSignedUrls":
            return [
                f"http://labelport.invalid/api/label/v2/upload?path={p}&id=f{i}"
                for i, p in enumerate(variables.get("filePaths") or [])
            ]
        if name == "filterExistingAssets":
            return []
        if name == "deleteLabels":
            return list(variables.get("ids") or [])
        if node.selection_set is None:
            return "fake-id" if name in {"copyProject", "deleteProjectAsynchronously"} else True
        if name == "appendToRoles":
            data = variables.get("data") or {}
            user = {"id": "user-2", "email": (data.get("userEmail") or "").lower()}
            return self.obj(node, {"roles": [{"user": user, "role": data.get("role"), "id": "role-2"}]})
        if name in {"appendManyAssets", "appendManyLabels", "updatePropertiesInAssets"}:
            data = variables.get("data") or {}
            size = len(data.get("idArray") or data.get("labelsData") or variables.get("whereArray") or [1])
            return [self.obj(node, {"id": f"id-{i}"}) for i in range(size)]
        if name == "notifications":  # the asynchronous imports poll until their notification says so
            return [self.obj(node, {"status": "SUCCESS"})]
        if name in LIST_ROOTS:
            return [self.obj(node)] if self.count else []
        return self.obj(node)

    def obj(self, node: graphql.FieldNode, override: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        assert node.selection_set is not None
        for selection in node.selection_set.selections:
            if not isinstance(selection, graphql.FieldNode):
                continue
            key = selection.alias.value if selection.alias else selection.name.value
            if override and key in override:
                result[key] = override[key]
            elif selection.selection_set is None:
                result[key] = self.scalar(key)
            elif key == "dataConnections":
                result[key] = []
            elif key in LIST_FIELDS:
                result[key] = [self.obj(selection)]
            else:
                result[key] = self.obj(selection)
        return result

    def scalar(self, name: str) -> Any:
        values: dict[str, Any] = {
            "id": "fake-id",
            "jsonInterface": json.dumps(INTERFACE),
            "inputType": self.input_type,
            "workflowVersion": self.workflow,
            "jsonResponse": json.dumps(RESPONSE),
            "jsonMetadata": "{}",
            "jsonContent": "",
            "content": "https://labelport.invalid/a.jpg",
            "status": "LABELED",
            "labelType": "DEFAULT",
            "email": "user@labelport.invalid",
            "firstname": "Ada",
            "lastname": "Lovelace",
            "name": "name",
            "title": "title",
            "description": "",
            "externalId": "asset-1",
            "expiryDate": "2099-01-01T00:00:00.000Z",
            "role": "ADMIN",
            "organizationRole": "ADMIN",
            "width": 100,
            "height": 100,
            "pageNumber": 1,
            "rotation": 0,
            "priority": 0,
            "secondsToLabel": 1,
            "uploadLocalData": True,
            "activated": True,
            "jsonResponseUrl": None,
            "modelName": None,
            "ocrMetadata": None,
            "geospatialSettings": None,
            "geospatialExportMetadata": None,
            "type": "DEFAULT",
            "label": "tag",
            "key": API_KEY,
            "version": 0,
        }
        if name in values:
            return values[name]
        if name.endswith("At") or name.endswith("Date"):
            return "2024-01-01T00:00:00.000Z"
        if name.endswith("Mark"):
            return 0.5
        if name.startswith(("numberOf", "count")) or name.endswith(("Coverage", "Size")):
            return 1
        if name.startswith(("is", "has", "can", "should", "use")) or name in {"archived", "starred", "skipped"}:
            return False
        return "x"


#: A valid 1x1 PNG, for the imports of local files.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f6d0000000049454e44ae426082"
)


class CallCapError(RuntimeError):
    pass


class Recorder:
    """Stands for GraphQLClient._execute_with_retries and HttpClient._send_request."""

    fake = Fake()
    scenario = ""
    cap = 80

    @classmethod
    def execute(cls, document: graphql.DocumentNode, variables: Any, *_a: Any, **_k: Any) -> Any:
        cls.fake.calls += 1
        if cls.fake.calls > cls.cap:
            raise CallCapError(f"more than {cls.cap} GraphQL calls")
        COLLECTOR.add("call", cls.scenario, graphql.print_ast(document), variables if variables else {})
        COLLECTOR.sent.append((cls.scenario, document))
        return cls.fake.answer(document, variables or {})

    @classmethod
    def http(cls, method: str, url: str, **kwargs: Any) -> Any:
        import requests

        body = kwargs.get("data")
        COLLECTOR.http.append({"scenario": cls.scenario, "method": method, "url": url})
        response = requests.Response()
        response.status_code = 200
        response.url = url
        content = b"{}"
        if isinstance(body, str) and body.startswith('{"query"'):
            COLLECTOR.add("call", cls.scenario, json.loads(body)["query"], {})
            content = b'{"data": {"viewer": {"id": "user-1", "email": "user@labelport.invalid"}}}'
        response._content = content
        response.raw = io.BytesIO(content)
        response.headers["Content-Type"] = "application/json"
        return response


def install_recorder() -> None:
    from kili.adapters.http_client import HttpClient
    from kili.core.graphql.graphql_client import GraphQLClient

    GraphQLClient._execute_with_retries = lambda _client, *args, **kwargs: Recorder.execute(*args, **kwargs)
    HttpClient._send_request = lambda _client, *args, **kwargs: Recorder.http(*args, **kwargs)
    time.sleep = lambda _seconds: None  # add_to_review, create_project and retries wait between calls


@contextlib.contextmanager
def scenario(name: str, **fake: Any) -> Iterator[None]:
    Recorder.scenario = name
    Recorder.fake = Fake(**fake)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    except Exception as error:  # a made-up answer the SDK disliked: what it sent is recorded anyway
        COLLECTOR.failed_scenarios.append(
            {
                "scenario": name,
                "error": f"{type(error).__name__}: {error}"[:500],
                "where": "".join(traceback.format_exception(error)[-3:])[:1500],
            }
        )


def new_client() -> Any:
    from kili.client import Kili

    return Kili(
        api_key=API_KEY,
        api_endpoint=ENDPOINT,
        disable_tqdm=True,
        graphql_client_params={"enable_schema_caching": False},
    )


def flatten(selection_set: graphql.SelectionSetNode, prefix: str = "") -> list[str]:
    paths: list[str] = []
    for selection in selection_set.selections:
        assert isinstance(selection, graphql.FieldNode)
        name = prefix + selection.name.value
        if selection.selection_set is None:
            paths.append(name)
        else:
            paths += flatten(selection.selection_set, name + ".")
    return paths


def collect_calls(workdir: Path) -> None:
    install_recorder()
    from kili.adapters.authentification import is_api_key_valid
    from kili.core.graphql.clientnames import GraphQLClientName
    from kili.use_cases.api_key import ApiKeyUseCases

    project, asset, label, user = "project-1", "asset-1", "label-1", "user-1"
    image = "https://labelport.invalid/a.jpg"

    with scenario("Kili(): API key check"):
        client = new_client()
        is_api_key_valid(client.http_client, API_KEY, ENDPOINT, GraphQLClientName.SDK)
    with scenario("Kili(): API key expiry check"):
        ApiKeyUseCases(new_client().kili_api_gateway).check_expiry_of_key_is_close(API_KEY)
    with scenario("get_current_user()"):
        new_client().get_current_user()

    # projects
    with scenario("projects()"):
        new_client().projects()
    with scenario("projects(filters)"):
        new_client().projects(
            project_id=project,
            search_query="a%",
            archived=False,
            starred=True,
            updated_at_gte="2024-01-01",
            organization_id="org",
            deleted=False,
        )
    with scenario("projects(tags_in)"):
        new_client().projects(tags_in=["tag"])
    with scenario("count_projects()"):
        new_client().count_projects(search_query="x")
    with scenario("create_project()"):
        new_client().create_project(title="t", description="d", input_type="IMAGE", json_interface=INTERFACE)
    with scenario("create_project(tags, compliance_tags)"):
        new_client().create_project(
            title="t", input_type="IMAGE", json_interface=INTERFACE, tags=["tag"], compliance_tags=["PII"]
        )
    with scenario("create_project(project_id=copy)"):
        new_client().create_project(title="t", project_id=project)
    with scenario("update_properties_in_project()"):
        new_client().update_properties_in_project(
            project,
            consensus_mark=0.5,
            honeypot_mark=0.5,
            consensus_tot_coverage=10,
            min_consensus_size=2,
            use_honeypot=True,
            review_coverage=20,
            title="t",
            description="d",
            instructions="i",
            json_interface=INTERFACE,
            can_navigate_between_assets=True,
            can_skip_asset=False,
            should_auto_assign=True,
            should_relaunch_kpi_computation=False,
            compliance_tags=["PHI"],
            metadata_properties={"k": {"type": "number"}},
        )
    with scenario("update_properties_in_project(deprecated arguments)"):
        new_client().update_properties_in_project(
            project, input_type="IMAGE", metadata_types={"k": "string"}, seconds_to_label_before_auto_assign=10
        )
    with scenario("archive_project()"):
        new_client().archive_project(project)
    with scenario("unarchive_project()"):
        new_client().unarchive_project(project)
    with scenario("delete_project()"):
        new_client().delete_project(project)
    with scenario("copy_project()"):
        new_client().copy_project(project, title="copy", copy_assets=True, copy_labels=True)
    with scenario("update_project_anonymization()"):
        new_client().update_project_anonymization(project)
    with scenario("get_steps()", workflow="V2"):
        new_client().get_steps(project)

    # assets
    for workflow in ("V1", "V2", "V3"):
        with scenario(f"assets() [{workflow}]", workflow=workflow):
            new_client().assets(project)
        with scenario(f"count_assets(status filters) [{workflow}]", workflow=workflow):
            if workflow == "V1":
                new_client().count_assets(project, status_in=["LABELED"], skipped=False)
            else:
                new_client().count_assets(project, step_status_in=["TO_DO"], step_name_in=["name"])
    for input_type in ("IMAGE", "VIDEO", "TEXT", "PDF", "GEOSPATIAL", "LLM_RLHF"):
        with scenario(f"assets(labels.jsonResponse, latestLabel.jsonResponse) [{input_type}]", input_type=input_type):
            new_client().assets(project, fields=["id", "externalId", "labels.jsonResponse", "latestLabel.jsonResponse"])
    with scenario("assets(step and group filters) [V3]", workflow="V3"):
        new_client().assets(
            project,
            step_name_in=["name"],
            step_name_not_in=["name"],
            step_status_in=["TO_DO"],
            step_status_not_in=["DONE"],
            group_name_in=["g"],
            group_name_not_in=["h"],
        )
    with scenario("assets(step ids and statuses) [V3]", workflow="V3"):
        new_client().assets(
            project,
            step_id_in=["s1"],
            step_id_not_in=["s2"],
            step_id_and_status_in=[("s1", "TO_DO")],
            step_id_and_status_not_in=[("s2", "DONE")],
        )
    with scenario("assets(step names and statuses) [V3]", workflow="V3"):
        new_client().assets(
            project, step_name_and_status_in=[("name", "TO_DO")], step_name_and_status_not_in=[("name", "DONE")]
        )
    with scenario("assets(parsed_label)"):
        new_client().assets(
            project,
            label_output_format="parsed_label",
            fields=["id", "externalId", "latestLabel.jsonResponse", "labels.jsonResponse"],
        )
    with scenario("assets(every filter)"):
        new_client().assets(
            project,
            asset_id=asset,
            asset_id_in=[asset],
            asset_id_not_in=["x"],
            consensus_mark_gte=0.1,
            consensus_mark_lte=0.9,
            external_id_strictly_in=["a"],
            external_id_in=["a"],
            honeypot_mark_gte=0.1,
            honeypot_mark_lte=0.9,
            label_type_in=["DEFAULT"],
            label_author_in=["Ada"],
            label_consensus_mark_gte=0.1,
            label_consensus_mark_lte=0.9,
            label_created_at="2024-01-01",
            label_created_at_gte="2024-01-01",
            label_created_at_lte="2025-01-01",
            label_honeypot_mark_gte=0.1,
            label_honeypot_mark_lte=0.9,
            label_category_search="JOB_0.OBJECT_A.count > 0",
            label_labeler_in=["a@b.c"],
            label_labeler_not_in=["b@b.c"],
            label_reviewer_in=["a@b.c"],
            label_reviewer_not_in=["b@b.c"],
            metadata_where={"k": "v", "n": [1, 2]},
            skipped=False,
            status_in=["LABELED"],
            updated_at_gte="2024-01-01",
            updated_at_lte="2025-01-01",
            created_at_gte="2024-01-01",
            created_at_lte="2025-01-01",
            inference_mark_gte=0.1,
            inference_mark_lte=0.9,
            assignee_in=["a@b.c"],
            assignee_not_in=["b@b.c"],
            issue_type="QUESTION",
            issue_status="OPEN",
        )
    with scenario("assets(download_media)"):
        new_client().assets(project, download_media=True, local_media_dir=str(workdir / "media"))
    with scenario("assets(format=pandas)"):
        new_client().assets(project, format="pandas")
    with scenario("count_assets()"):
        new_client().count_assets(project, external_id_strictly_in=["a"], metadata_where={"k": "v"})

    # imports
    with scenario("append_many_to_dataset(urls)"):
        new_client().append_many_to_dataset(
            project,
            content_array=[image, image],
            external_id_array=["a", "b"],
            is_honeypot_array=[True, False],
            json_metadata_array=[{"k": "v"}, {}],
        )
    local = workdir / "image.png"
    local.write_bytes(PNG_1X1)
    with scenario("append_many_to_dataset(local image)"):
        new_client().append_many_to_dataset(project, content_array=[str(local)], external_id_array=["local"])
    with scenario("append_many_to_dataset(raw text)", input_type="TEXT"):
        new_client().append_many_to_dataset(project, content_array=["some text"], external_id_array=["t"])
    with scenario("append_many_to_dataset(rich text)", input_type="TEXT"):
        new_client().append_many_to_dataset(project, json_content_array=[[{"text": "x"}]], external_id_array=["r"])
    with scenario("append_many_to_dataset(video frames)", input_type="VIDEO"):
        new_client().append_many_to_dataset(project, json_content_array=[[image, image]], external_id_array=["v"])
    with scenario("append_many_to_dataset(csv)", input_type="TEXT"):
        csv = workdir / "texts.csv"
        csv.write_text("content,externalId\nhello,h\n", encoding="utf-8")
        new_client().append_many_to_dataset(project, from_csv=str(csv))
    with scenario("append_many_to_dataset(geospatial)", input_type="GEOSPATIAL"):
        tif = workdir / "layer.tif"
        tif.write_bytes(b"II*\0" + b"\0" * 64)
        new_client().append_many_to_dataset(
            project, multi_layer_content_array=[[{"path": str(tif), "name": "l"}]], external_id_array=["g"]
        )

    # asset updates and workflow
    with scenario("update_properties_in_assets()"):
        new_client().update_properties_in_assets(
            asset_ids=[asset],
            priorities=[1],
            json_metadatas=[{"k": "v"}],
            consensus_marks=[0.5],
            honeypot_marks=[0.5],
            to_be_labeled_by_array=[["a@b.c"]],
            contents=[image],
            json_contents=[""],
            is_used_for_consensus_array=[True],
            is_honeypot_array=[False],
            resolution_array=[{"width": 10, "height": 20}],
            page_resolutions_array=[[{"pageNumber": 1, "width": 10, "height": 20, "rotation": 0}]],
        )
    with scenario("update_properties_in_assets(external_ids)"):
        new_client().update_properties_in_assets(external_ids=["asset-1"], project_id=project, priorities=[2])
    with scenario("add_metadata()"):
        new_client().add_metadata([{"k": "v"}], project, asset_ids=[asset])
    with scenario("set_metadata()"):
        new_client().set_metadata([{"k": "v"}], project, asset_ids=[asset])
    with scenario("change_asset_external_ids()"):
        new_client().change_asset_external_ids(["new"], asset_ids=[asset])
    with scenario("assign_assets_to_labelers()"):
        new_client().assign_assets_to_labelers([["user-1"]], asset_ids=[asset])
    with scenario("set_assets_priority()"):
        new_client().set_assets_priority(2, asset_ids=[asset])
    with scenario("update_asset_consensus()"):
        new_client().update_asset_consensus(project, True, asset_id=asset)
    with scenario("skip_or_unskip(skip)"):
        new_client().skip_or_unskip("skip", asset, project, reason="r")
    with scenario("skip_or_unskip(unskip)"):
        new_client().skip_or_unskip("unskip", asset, project)
    with scenario("add_to_review()"):
        new_client().add_to_review(asset_ids=[asset])
    with scenario("add_to_review(external_ids)"):
        new_client().add_to_review(external_ids=["asset-1"], project_id=project)
    with scenario("send_back_to_queue()"):
        new_client().send_back_to_queue(asset_ids=[asset])
    with scenario("delete_many_from_dataset()"):
        new_client().delete_many_from_dataset(asset_ids=[asset])

    # labels
    with scenario("labels()"):
        new_client().labels(project)
    with scenario("labels(filters)"):
        new_client().labels(
            project,
            asset_id=asset,
            asset_status_in=["LABELED"],
            asset_external_id_in=["a"],
            asset_external_id_strictly_in=["a"],
            author_in=["Ada"],
            created_at="2024-01-01",
            created_at_gte="2024-01-01",
            created_at_lte="2025-01-01",
            honeypot_mark_gte=0.1,
            honeypot_mark_lte=0.9,
            id_contains=[label],
            label_id=label,
            type_in=["DEFAULT"],
            user_id=user,
            category_search="JOB_0.OBJECT_A.count > 0",
        )
    with scenario("labels(asset step and group filters) [V3]", workflow="V3"):
        new_client().labels(
            project,
            asset_step_name_in=["name"],
            asset_step_status_in=["TO_DO"],
            asset_group_name_in=["g"],
            asset_group_name_not_in=["h"],
        )
    with scenario("labels(asset step ids) [V3]", workflow="V3"):
        new_client().labels(project, asset_step_id_in=["s1"])
    with scenario("labels(parsed_label)"):
        new_client().labels(project, output_format="parsed_label")
    with scenario("labels(user_id, honeypot_mark_gte)"):
        new_client().labels(project, user_id=user, honeypot_mark_gte=0.1)
    with scenario("count_labels()"):
        new_client().count_labels(project, type_in=["DEFAULT"])
    with scenario("predictions()"):
        new_client().predictions(project)
    with scenario("inferences()"):
        new_client().inferences(project)
    with scenario("export_labels_as_df()"):
        new_client().export_labels_as_df(project)
    with scenario("append_labels(asset ids)"):
        new_client().append_labels(
            asset_id_array=[asset], json_response_array=[RESPONSE], author_id_array=[user], seconds_to_label_array=[3]
        )
    with scenario("append_labels(external ids, REVIEW, step_name)", workflow="V2"):
        new_client().append_labels(
            asset_external_id_array=["asset-1"],
            project_id=project,
            json_response_array=[RESPONSE],
            label_type="REVIEW",
            step_name="name",
        )
    with scenario("append_labels(overwrite PREDICTION)"):
        new_client().append_labels(
            asset_id_array=[asset],
            json_response_array=[RESPONSE],
            label_type="PREDICTION",
            model_name="m",
            overwrite=True,
        )
    with scenario("create_predictions()"):
        new_client().create_predictions(
            project, external_id_array=["asset-1"], json_response_array=[RESPONSE], model_name="m"
        )
    with scenario("create_honeypot()"):
        new_client().create_honeypot(RESPONSE, asset_id=asset)
    with scenario("create_honeypot(external id)"):
        new_client().create_honeypot(RESPONSE, asset_external_id="asset-1", project_id=project)
    with scenario("append_to_labels()"):
        new_client().append_to_labels(RESPONSE, label_asset_id=asset)
    with scenario("delete_labels()"):
        new_client().delete_labels([label])

    # exports
    for input_type in ("IMAGE", "VIDEO", "TEXT", "PDF", "GEOSPATIAL"):
        for export_type in ("latest", "normal", "latest_from_last_step", "latest_from_all_steps"):
            name = f"export_labels(kili, {export_type}) [{input_type}]"
            with scenario(name, input_type=input_type, workflow="V2" if "step" in export_type else "V1"):
                new_client().export_labels(
                    project,
                    str(workdir / f"export-{input_type}-{export_type}.zip"),
                    fmt="kili",
                    export_type=export_type,
                    with_assets=False,
                )
            for sent_by, document in COLLECTOR.sent:
                if sent_by != name:
                    continue
                operation = document.definitions[0]
                assert isinstance(operation, graphql.OperationDefinitionNode)
                root = operation.selection_set.selections[0]
                assert isinstance(root, graphql.FieldNode)
                if root.name.value == "assets" and root.selection_set is not None:
                    COLLECTOR.export_fields[f"{export_type} [{input_type}]"] = flatten(root.selection_set)
    for fmt, layout in (("yolo_v5", "split"), ("coco", "split"), ("pascal_voc", "merged"), ("geojson", "merged")):
        with scenario(f"export_labels({fmt})"):
            new_client().export_labels(
                project, str(workdir / f"export-{fmt}.zip"), fmt=fmt, layout=layout, with_assets=False
            )
    with scenario("export_labels(filters, asset_ids, label_type_in)"):
        new_client().export_labels(
            project,
            str(workdir / "export-filtered.zip"),
            fmt="kili",
            with_assets=False,
            asset_ids=[asset],
            label_type_in=["DEFAULT"],
            asset_filter_kwargs={"consensus_mark_gte": 0.5, "status_in": ["LABELED"], "metadata_where": {"k": "v"}},
        )
    with scenario("export_labels(external_ids, with_assets)"):
        new_client().export_labels(
            project, str(workdir / "export-assets.zip"), fmt="kili", external_ids=["asset-1"], with_assets=True
        )

    # members, users, organizations
    with scenario("append_to_roles()"):
        new_client().append_to_roles(project, "New.Member@Example.com", role="REVIEWER")
    with scenario("update_properties_in_role()"):
        new_client().update_properties_in_role("role-1", project, user, "LABELER")
    with scenario("update_properties_in_project_user()"):
        new_client().update_properties_in_project_user(project, "user@labelport.invalid", "LABELER")
    with scenario("delete_from_roles(role_id)"):
        new_client().delete_from_roles(role_id="role-1")
    with scenario("delete_from_roles(user_email)"):
        new_client().delete_from_roles(user_email="user@labelport.invalid", project_id=project)
    with scenario("project_users()"):
        new_client().project_users(project)
    with scenario("project_users(filters)"):
        new_client().project_users(project, email="a@b.c", id="role-1", organization_id="org", status_in=["ACTIVATED"])
    with scenario("count_project_users()"):
        new_client().count_project_users(project)
    with scenario("users()"):
        new_client().users(email="a@b.c", organization_id="org")
    with scenario("count_users()"):
        new_client().count_users(organization_id="org")
    with scenario("create_user()"):
        new_client().create_user("a@b.c", "password", "USER", firstname="A", lastname="B")
    with scenario("update_properties_in_user()"):
        new_client().update_properties_in_user("a@b.c", firstname="A", activated=True)
    with scenario("update_password()"):
        new_client().update_password("a@b.c", "old", "new", "new")
    with scenario("organizations()"):
        new_client().organizations(email="a@b.c")
    with scenario("count_organizations()"):
        new_client().count_organizations(email="a@b.c")
    with scenario("organization_metrics()"):
        new_client().organization_metrics("org")

    # issues, tags, versions
    with scenario("issues()"):
        new_client().issues(project)
    with scenario("count_issues()"):
        new_client().count_issues(project)
    with scenario("create_issues()"):
        new_client().create_issues(project, [label], text_array=["t"])
    with scenario("append_to_issues()"):
        new_client().append_to_issues(label, project, text="t")
    with scenario("update_issue_status()"):
        new_client().update_issue_status("issue-1", "SOLVED")
    with scenario("tags()"):
        new_client().tags()
    with scenario("tags(project)"):
        new_client().tags(project_id=project)
    with scenario("tag_project()"):
        new_client().tag_project(project, tags=["tag"])
    with scenario("untag_project()"):
        new_client().untag_project(project, all=True)
    with scenario("create_tag()"):
        new_client().create_tag("tag2")
    with scenario("update_tag()"):
        new_client().update_tag("tag", "tag3")
    with scenario("delete_tag()"):
        new_client().delete_tag(tag_name="tag")
    with scenario("project_version()"):
        new_client().project_version(project)
    with scenario("count_project_versions()"):
        new_client().count_project_versions(project)

    # what labelport declares without serving: cloud storage, plugins, workflow steps, LLM, events
    declared_only: list[tuple[str, Callable[[Any], Any]]] = [
        ("cloud_storage_integrations()", lambda k: k.cloud_storage_integrations()),
        ("count_cloud_storage_integrations()", lambda k: k.count_cloud_storage_integrations()),
        ("cloud_storage_connections()", lambda k: k.cloud_storage_connections(project_id=project)),
        ("create_cloud_storage_integration()", lambda k: k.create_cloud_storage_integration("AWS", "s3")),
        ("update_cloud_storage_integration()", lambda k: k.update_cloud_storage_integration("i", name="n")),
        ("delete_cloud_storage_integration()", lambda k: k.delete_cloud_storage_integration("i")),
        ("add_cloud_storage_connection()", lambda k: k.add_cloud_storage_connection(project, "i")),
        ("synchronize_cloud_storage_connection()", lambda k: k.synchronize_cloud_storage_connection("c")),
        ("list_plugins()", lambda k: k.list_plugins()),
        ("get_plugin_status()", lambda k: k.get_plugin_status("p")),
        ("get_plugin_logs()", lambda k: k.get_plugin_logs(project, "p")),
        ("get_plugin_build_errors()", lambda k: k.get_plugin_build_errors("p")),
        ("activate_plugin_on_project()", lambda k: k.activate_plugin_on_project("p", project)),
        ("deactivate_plugin_on_project()", lambda k: k.deactivate_plugin_on_project("p", project)),
        ("delete_plugin()", lambda k: k.delete_plugin("p")),
        ("create_webhook()", lambda k: k.create_webhook("https://labelport.invalid/hook", "p")),
        ("update_webhook()", lambda k: k.update_webhook("https://labelport.invalid/hook", "p")),
        ("add_review_step()", lambda k: k.add_review_step(project, "review", ["a@b.cd"])),
        (
            "update_labeling_step_properties()",
            lambda k: k.update_labeling_step_properties(project, step_name="name", consensus_coverage=10),
        ),
        (
            "update_review_step_properties()",
            lambda k: k.update_review_step_properties(project, step_name="name", step_coverage=10),
        ),
        ("rename_step()", lambda k: k.rename_step(project, step_name="name", new_name="new")),
        ("delete_last_step()", lambda k: k.delete_last_step(project)),
        ("add_labelers_to_step()", lambda k: k.add_labelers_to_step(project, step_name="name", emails=["a@b.cd"])),
        (
            "remove_labelers_from_step()",
            lambda k: k.remove_labelers_from_step(project, step_name="name", emails=["a@b.cd"]),
        ),
        ("add_reviewers_to_step()", lambda k: k.add_reviewers_to_step(project, step_name="name", emails=["a@b.cd"])),
        (
            "remove_reviewers_from_step()",
            lambda k: k.remove_reviewers_from_step(project, step_name="name", emails=["a@b.cd"]),
        ),
        ("copy_workflow_from_project()", lambda k: k.copy_workflow_from_project(project, "project-2")),
        ("update_project_workflow()", lambda k: k.update_project_workflow(project, enforce_step_separation=True)),
        ("update_properties_in_project_version()", lambda k: k.update_properties_in_project_version("v", "c")),
        ("llm.models()", lambda k: k.llm.models("org")),
        ("llm.model()", lambda k: k.llm.model("m")),
        ("llm.project_models()", lambda k: k.llm.project_models(project)),
        (
            "llm.create_model()",
            lambda k: k.llm.create_model(
                "org", {"name": "m", "type": "OPEN_AI_SDK", "credentials": {"endpoint": "u", "api_key": "k"}}
            ),
        ),
        ("llm.update_properties_in_model()", lambda k: k.llm.update_properties_in_model("m", {"name": "n"})),
        ("llm.delete_model()", lambda k: k.llm.delete_model("m")),
        ("llm.create_project_model()", lambda k: k.llm.create_project_model(project, "m", {})),
        ("llm.update_project_model()", lambda k: k.llm.update_project_model("pm", {})),
        ("llm.delete_project_model()", lambda k: k.llm.delete_project_model("pm")),
        ("llm.list_chat_items()", lambda k: k.llm.list_chat_items(asset)),
        ("llm.create_conversation()", lambda k: k.llm.create_conversation(project, "hello")),
        ("llm.export()", lambda k: k.llm.export(project)),
        ("events.list()", lambda k: k.events.list(project)),
        ("internal.api_keys()", lambda k: k.internal.api_keys()),
        ("internal.count_api_keys()", lambda k: k.internal.count_api_keys()),
        ("internal.create_organization()", lambda k: k.internal.create_organization("org")),
        (
            "internal.update_properties_in_organization()",
            lambda k: k.internal.update_properties_in_organization("org", name="n"),
        ),
        ("internal.reset_password()", lambda k: k.internal.reset_password("a@b.cd")),
        ("internal.delete_project()", lambda k: k.internal.delete_project(project)),
    ]
    special: dict[str, dict[str, Any]] = {
        "add_labelers_to_step()": {"workflow": "V3"},
        "remove_labelers_from_step()": {"workflow": "V3"},
        "copy_workflow_from_project()": {"workflow": "V2", "count": 0},
        "llm.export()": {"input_type": "LLM_RLHF"},
        "llm.list_chat_items()": {"input_type": "LLM_RLHF"},
        "llm.create_conversation()": {"input_type": "LLM_RLHF"},
    }
    for name, call in declared_only:
        with scenario(name, **special.get(name, {"workflow": "V2"})):
            call(new_client())

    # the domain client (kili.client_domain.Kili, "a work in progress" by its own warning)
    from kili.client_domain import Kili as DomainKili

    def domain() -> Any:
        return DomainKili(
            api_key=API_KEY,
            api_endpoint=ENDPOINT,
            disable_tqdm=True,
            graphql_client_params={"enable_schema_caching": False},
        )

    domain_calls: list[tuple[str, Callable[[Any], Any]]] = [
        ("assets.list()", lambda k: k.assets.list(project)),
        ("assets.count()", lambda k: k.assets.count(project)),
        ("labels.list()", lambda k: k.labels.list(project)),
        ("labels.count()", lambda k: k.labels.count(project)),
        ("projects.list()", lambda k: k.projects.list()),
        ("projects.count()", lambda k: k.projects.count()),
        ("users.list()", lambda k: k.users.list()),
        ("users.count()", lambda k: k.users.count()),
        ("users.me()", lambda k: k.users.me()),
        ("organizations.list()", lambda k: k.organizations.list()),
        ("issues.list()", lambda k: k.issues.list(project)),
        ("questions.list()", lambda k: k.questions.list(project)),
        ("tags.list()", lambda k: k.tags.list()),
        ("storages.connections.list()", lambda k: k.storages.connections.list(filter={"project_id": project})),
        ("storages.integrations.list()", lambda k: k.storages.integrations.list()),
        ("exports.kili()", lambda k: k.exports.kili(project, str(workdir / "domain-export.zip"), with_assets=False)),
    ]
    for name, call in domain_calls:
        with scenario(f"domain client: {name}"):
            call(domain())

    # the CLI (kili.entrypoints.cli), through click's runner
    from click.testing import CliRunner
    from kili.entrypoints.cli import cli

    interface_file = workdir / "interface.json"
    interface_file.write_text(json.dumps(INTERFACE), encoding="utf-8")
    label_file = workdir / "asset-1.json"
    label_file.write_text(json.dumps(RESPONSE), encoding="utf-8")
    csv_members = workdir / "members.csv"
    csv_members.write_text("email,role\nother.member@example.com,REVIEWER\n", encoding="utf-8")
    common = ["--api-key", API_KEY, "--endpoint", ENDPOINT]
    cli_runs = [
        ["project", "list", *common],
        ["project", "describe", project, *common],
        ["project", "create", str(interface_file), "--title", "t", "--input-type", "IMAGE", *common],
        ["project", "import", str(workdir / "image.png"), "--project-id", project, *common],
        ["project", "label", str(label_file), "--project-id", project, *common],
        ["project", "label", str(label_file), "--project-id", project, "--prediction", "--model-name", "m", *common],
        [
            "project",
            "export",
            "--project-id",
            project,
            "--output-format",
            "kili",
            "--output-file",
            str(workdir / "cli-export.zip"),
            "--without-assets",
            *common,
        ],
        ["project", "copy", project, *common],
        ["project", "member", "list", project, *common],
        ["project", "member", "add", "new.member@example.com", "--project-id", project, "--role", "REVIEWER", *common],
        ["project", "member", "add", "--from-csv", str(csv_members), "--project-id", project, *common],
        [
            "project",
            "member",
            "update",
            "user@labelport.invalid",
            "--project-id",
            project,
            "--role",
            "LABELER",
            *common,
        ],
        ["project", "member", "rm", "user@labelport.invalid", "--project-id", project, *common],
        ["project", "member", "rm", "--all", "--project-id", project, *common],
    ]
    for args in cli_runs:
        with scenario("kili " + " ".join(a for a in args if a not in common and not a.startswith(str(workdir)))):
            result = CliRunner().invoke(cli, args, catch_exceptions=True)
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise result.exception


def validate_like_the_sdk(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate documents as the SDK does at run time: a gql client built from the server's answer to the
    SDK's introspection query, then the client-side validation gql runs before sending each document."""
    from gql import Client, gql

    client = Client(introspection=request["introspection"])
    failures = []
    for index, text in enumerate(request["documents"]):
        try:
            client.validate(gql(text))
        except graphql.GraphQLError as error:
            failures.append({"index": index, "error": error.message})
    return failures


def introspection_query() -> str:
    """The introspection query the SDK sends at start-up (the options of its GraphQL client)."""
    from kili.core.graphql.graphql_client import GraphQLClient

    return graphql.get_introspection_query(**GraphQLClient._get_introspection_args())


def main() -> None:
    if sys.argv[1:] == ["--validate"]:
        # stdin: {"introspection": <the server's answer's data>, "documents": [...]}
        json.dump(validate_like_the_sdk(json.load(sys.stdin)), sys.stdout)
        sys.stdout.write("\n")
        shutil.rmtree(SCRATCH, ignore_errors=True)
        return
    output = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever the SDK prints (progress, logs, warnings) goes to stderr, not into the JSON
    collect_static()
    collect_templates()
    collect_field_queries()
    try:
        collect_calls(SCRATCH)
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    json.dump(
        {
            "kili_version": kili.__version__,
            "introspection_query": introspection_query(),
            "operations": COLLECTOR.operations,
            "unparsed_templates": COLLECTOR.unparsed_templates,
            "export_fields": COLLECTOR.export_fields,
            "failed_scenarios": COLLECTOR.failed_scenarios,
            "http": COLLECTOR.http,
        },
        output,
        indent=1,
        default=str,
    )
    output.write("\n")
    output.close()


if __name__ == "__main__":
    main()
