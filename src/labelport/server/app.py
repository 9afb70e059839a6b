"""The ASGI application of ``labelport serve``: Kili's GraphQL API, media and uploads, over one store.

Routes (Kili's paths, so that the SDK's ``KILI_API_ENDPOINT=<base>/api/label/v2/graphql`` works):

- ``POST /api/label/v2/graphql``: Kili's GraphQL (:mod:`labelport.server.schema.graphql`);
- ``GET /api/label/v2/version``: the schema's version (the SDK caches the introspected schema by it);
- ``GET|HEAD /api/label/v2/media/<key>``: a stored media file, to members of a project that uses it;
- ``PUT /api/label/v2/upload?…``: a local file of an import (:mod:`labelport.server.uploads`);
- ``GET /health``: the server and its database answer.

Every route but ``/health`` needs an API key (``Authorization: X-API-Key: <key>``, Kili's form, or
``X-API-Key: <key>``): a request without a valid one gets HTTP 401, which makes ``Kili()`` raise its
authentication error. Each request acts as the key's user, with that user's roles
(:mod:`labelport.services.permissions`), through the same services as the Python client.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import re
import secrets
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from ariadne import load_schema_from_path, make_executable_schema
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    ValidationContext,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.language import FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode, SelectionSetNode
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from labelport import settings
from labelport.errors import LabelportError, NotFound, PermissionDenied
from labelport.lru import Lru
from labelport.server import resolvers, uploads
from labelport.server.web import pages as web_pages
from labelport.services import api_keys, media_access
from labelport.services.context import ActingContext
from labelport.store import meta
from labelport.store.engine import Store

log = logging.getLogger("labelport.server")

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
GRAPHQL_PATH = "/api/label/v2/graphql"
MEDIA_PATH = "/api/label/v2/media"
#: The schema's version, from its text: the SDK keeps an introspected schema per version.
SCHEMA_VERSION = hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()[:12]
_MEDIA_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}(\.[A-Za-z0-9_-]{1,16})?$")
#: Valid documents kept by query text (the SDK sends one text for every page of a call: parsing and
#: validating it again cost more than the page's SQL), for texts of at most DOCUMENT_TEXT_LIMIT characters.
DOCUMENTS_KEPT = 256
DOCUMENT_TEXT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """How the server runs. Limits bound what one request may cost."""

    database_url: str
    media_dir: Path | None = None
    #: The most a GraphQL request body may hold, once decompressed.
    max_body_bytes: int = 64 * 2**20
    #: The most one uploaded file may hold.
    max_upload_bytes: int = 8 * 2**30
    #: The most items one page (``first``) may ask for.
    max_page_size: int = 500
    #: How deep a query may nest fields (introspection aside).
    max_depth: int = 10
    #: How many fields a query may select in all, fragments expanded (introspection aside).
    max_fields: int = 1_000


@dataclass
class _State:
    config: ServerConfig
    store: Store | None = None
    schema: GraphQLSchema | None = None
    secret: bytes = b""
    rules: tuple[type[ASTValidationRule], ...] = field(default_factory=tuple)
    documents: Lru[str, DocumentNode] = field(default_factory=lambda: Lru(DOCUMENTS_KEPT))


def create_app(config: ServerConfig) -> Starlette:
    """The application; each worker process opens the store once, at start-up."""
    state = _State(config)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        state.store = await run_in_threadpool(Store, config.database_url, config.media_dir)
        state.schema = build_schema(config.max_page_size)
        state.rules = (*specified_rules, _limits(config.max_depth, config.max_fields))
        state.secret = await run_in_threadpool(meta.secret, state.store, "uploads")
        await run_in_threadpool(uploads.remove_stale, state.store)
        try:
            yield
        finally:
            state.store.close()

    async def graphql_route(request: Request) -> Response:
        return await _graphql(request, state)

    async def version_route(request: Request) -> Response:
        if await _authenticate(request, state) is None:
            return _unauthorized()
        return JSONResponse({"version": SCHEMA_VERSION})

    async def health_route(_request: Request) -> Response:
        assert state.store is not None
        await run_in_threadpool(_ping, state.store)
        return JSONResponse({"status": "ok"})

    async def media_route(request: Request) -> Response:
        return await _media(request, state)

    async def upload_route(request: Request) -> Response:
        return await _upload(request, state)

    routes = [
        Route(GRAPHQL_PATH, graphql_route, methods=["POST"]),
        Route("/api/label/v2/version", version_route, methods=["GET"]),
        Route(MEDIA_PATH + "/{key:path}", media_route, methods=["GET", "HEAD"]),
        Route(uploads.UPLOAD_PATH, upload_route, methods=["PUT"]),
        Route("/health", health_route, methods=["GET"]),
        *web_pages.routes(lambda: _opened(state)),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _opened(state: _State) -> Store:
    assert state.store is not None
    return state.store


def build_schema(max_page_size: int) -> GraphQLSchema:
    """Kili's schema (the SDL file) bound to labelport's resolvers."""
    return make_executable_schema(
        load_schema_from_path(str(SCHEMA_FILE)),
        resolvers.query,
        resolvers.mutation,
        resolvers.page_size_scalar(max_page_size),
        resolvers.json_scalar,
        *resolvers.BINDABLES,
    )


def _ping(store: Store) -> None:
    from sqlalchemy import text

    with store.read() as conn:
        conn.execute(text("SELECT 1"))


# -- authentication -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Caller:
    email: str
    key: str


async def _authenticate(request: Request, state: _State) -> _Caller | None:
    assert state.store is not None
    found = await run_in_threadpool(api_keys.authenticate, state.store, request.headers.items())
    if found is None:
        return None
    key = api_keys.key_from_headers(request.headers.items()) or ""
    return _Caller(found.email, key)


def _unauthorized() -> Response:
    return JSONResponse(
        {
            "errors": [
                {
                    "message": "Invalid API key: send a valid one as 'Authorization: X-API-Key: <key>' "
                    "(create one with `labelport api-key create EMAIL`).",
                    "extensions": {"code": "UNAUTHENTICATED", "context": {}},
                }
            ]
        },
        status_code=401,
    )


def _acting(state: _State, caller: _Caller, request: Request) -> ActingContext:
    assert state.store is not None
    return ActingContext(
        state.store,
        caller.email,
        new_user_role=None,
        disable_tqdm=True,
        media_url=_base_url(request) + MEDIA_PATH,
    )


def _base_url(request: Request) -> str:
    """How the client reached this server (scheme, host and port; behind a proxy, its forwarded ones
    when uvicorn runs with ``--proxy-headers``)."""
    return str(request.base_url).rstrip("/")


# -- GraphQL --------------------------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The request body, decompressed when gzip- or deflate-encoded, at most ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _BodyTooLarge
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return bytes(raw)
    if encoding not in ("gzip", "deflate"):
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS)
    data = decompressor.decompress(bytes(raw), limit + 1)
    if len(data) > limit or decompressor.unconsumed_tail:
        raise _BodyTooLarge
    return data


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, "context": {}}}]}


async def _graphql(request: Request, state: _State) -> Response:
    caller = await _authenticate(request, state)
    if caller is None:
        return _unauthorized()
    try:
        body = await _body(request, state.config.max_body_bytes)
    except _BodyTooLarge:
        return JSONResponse(
            _error_body(
                f"The request body is larger than this server takes ({state.config.max_body_bytes} bytes).",
                "PAYLOAD_TOO_LARGE",
            ),
            status_code=413,
        )
    except (ValueError, zlib.error, EOFError, gzip.BadGzipFile) as error:
        return JSONResponse(
            _error_body(f"The request body cannot be decoded: {error}.", "BAD_REQUEST"), status_code=415
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return JSONResponse(_error_body("The request body is not JSON.", "BAD_REQUEST"), status_code=400)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return JSONResponse(_error_body("The request body needs a 'query' string.", "BAD_REQUEST"), status_code=400)
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return JSONResponse(_error_body("'variables' must be an object.", "BAD_REQUEST"), status_code=400)
    operation = payload.get("operationName")
    context = resolvers.RequestContext(
        acting=_acting(state, caller, request),
        key=caller.key,
        base_url=_base_url(request),
        max_page_size=state.config.max_page_size,
        secret=state.secret,
    )
    result = await run_in_threadpool(
        _execute, state, payload["query"], variables, operation if isinstance(operation, str) else None, context
    )
    return Response(orjson.dumps(result), media_type="application/json")


def _execute(
    state: _State, query: str, variables: dict[str, Any] | None, operation: str | None, context: Any
) -> dict[str, Any]:
    assert state.schema is not None
    document = state.documents.get(query)
    if document is None:
        try:
            document = parse(query, max_tokens=50_000)
        except GraphQLError as error:
            return {"errors": [_format(error)]}
        errors = validate(state.schema, document, state.rules, max_errors=20)
        if errors:
            return {"errors": [_format(error) for error in errors]}
        if len(query) <= DOCUMENT_TEXT_LIMIT:
            state.documents.put(query, document)
    result = execute(state.schema, document, variable_values=variables, operation_name=operation, context_value=context)
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [_format(error) for error in result.errors]
    return answer


def _format(error: GraphQLError) -> dict[str, Any]:
    """A GraphQL error as the SDK reads it: always with ``extensions`` (it crashes without), the
    error's class as ``extensions.code``; an unexpected exception is logged, never shown."""
    original = error.original_error
    code = "GRAPHQL_VALIDATION_FAILED" if original is None else type(original).__name__
    message = error.message
    if original is not None and not isinstance(original, LabelportError | GraphQLError):
        reference = secrets.token_hex(6)
        log.exception("internal error %s", reference, exc_info=original)
        message, code = (
            f"Internal server error (reference {reference}); the server's log has the details.",
            "INTERNAL_SERVER_ERROR",
        )
    formatted: dict[str, Any] = {"message": message, "extensions": {"code": code, "context": {}}}
    if error.locations:
        formatted["locations"] = [{"line": location.line, "column": location.column} for location in error.locations]
    if error.path:
        formatted["path"] = list(error.path)
    return formatted


def _limits(max_depth: int, max_fields: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations that nest deeper than ``max_depth`` fields or select more than
    ``max_fields`` in all (fragments expanded); introspection fields are not counted."""

    class Limits(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            context: ValidationContext = self.context
            fragments = {
                name: fragment.selection_set
                for name, fragment in (
                    (f.name.value, f) for f in context.document.definitions if hasattr(f, "type_condition")
                )
            }  # type: ignore[attr-defined]
            depth, count = _measure(node.selection_set, fragments, 1, set())
            if depth > max_depth:
                context.report_error(
                    GraphQLError(f"The query nests {depth} fields deep; this server takes at most {max_depth}.", node)
                )
            if count > max_fields:
                context.report_error(
                    GraphQLError(f"The query selects {count} fields; this server takes at most {max_fields}.", node)
                )

    return Limits


def _measure(
    selection_set: SelectionSetNode, fragments: dict[str, SelectionSetNode], depth: int, seen: set[str]
) -> tuple[int, int]:
    deepest, count = depth, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            count += 1
            if selection.selection_set is not None:
                inner, inner_count = _measure(selection.selection_set, fragments, depth + 1, seen)
                deepest, count = max(deepest, inner), count + inner_count
        elif isinstance(selection, InlineFragmentNode):
            inner, inner_count = _measure(selection.selection_set, fragments, depth, seen)
            deepest, count = max(deepest, inner), count + inner_count
        elif (
            isinstance(selection, FragmentSpreadNode)
            and selection.name.value in fragments
            and selection.name.value not in seen
        ):
            inner, inner_count = _measure(
                fragments[selection.name.value], fragments, depth, seen | {selection.name.value}
            )
            deepest, count = max(deepest, inner), count + inner_count
    return deepest, count


# -- media and uploads ----------------------------------------------------------------------------------


async def _media(request: Request, state: _State) -> Response:
    caller = await _authenticate(request, state)
    if caller is None:
        return _unauthorized()
    assert state.store is not None
    key = request.path_params["key"]
    if not _MEDIA_KEY.match(key):
        return JSONResponse(_error_body(f"{key!r} is not a media key.", "NOT_FOUND"), status_code=404)
    acting = _acting(state, caller, request)
    try:
        await run_in_threadpool(media_access.require_readable, acting, key)
    except (NotFound, PermissionDenied) as error:
        status = 404 if isinstance(error, NotFound) else 403
        return JSONResponse(_error_body(str(error), type(error).__name__), status_code=status)
    path = state.store.media_dir / key
    if not path.is_file():
        return JSONResponse(_error_body(f"The stored file {key!r} is missing.", "NOT_FOUND"), status_code=404)
    etag = f'"{key.split("/")[1].split(".")[0]}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"}
    return FileResponse(path, media_type=media_type, headers=headers)


async def _upload(request: Request, state: _State) -> Response:
    caller = await _authenticate(request, state)
    if caller is None:
        return _unauthorized()
    assert state.store is not None
    limit = state.config.max_upload_bytes
    try:
        file_id = uploads.check(state.secret, caller.email, request.url.query)
        suffix = uploads.suffix_of(request.headers.get("content-type"))
        with uploads.Staged(state.store, file_id, limit, suffix) as staged:
            async for chunk in request.stream():
                staged.write(chunk)  # a local disk write of one chunk: not worth a thread each
    except uploads.TooLarge as error:
        return JSONResponse(_error_body(str(error), "PAYLOAD_TOO_LARGE"), status_code=413)
    except LabelportError as error:
        status = 403 if isinstance(error, PermissionDenied) else 400
        return JSONResponse(_error_body(str(error), type(error).__name__), status_code=status)
    return JSONResponse({"id": file_id, "size": staged.size})


def app_from_environment() -> Starlette:
    """The application for ``labelport serve``'s worker processes: the store and limits from the
    environment the command set (``LABELPORT_DATABASE_URL``, ``LABELPORT_MEDIA_DIR``)."""
    url = settings.database_url(None)
    return create_app(ServerConfig(database_url=url, media_dir=settings.media_dir(None, url)))
