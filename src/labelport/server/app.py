"""The ASGI application of ``labelport serve``: Kili's GraphQL API, media and uploads, over one store.

Routes (Kili's paths, so that the SDK's ``KILI_API_ENDPOINT=<base>/api/label/v2/graphql`` works):

- ``POST /api/label/v2/graphql``: Kili's GraphQL (:mod:`labelport.server.schema.graphql`);
- ``GET /api/label/v2/version``: the schema's version (the SDK caches the introspected schema by it);
- ``GET|HEAD /api/label/v2/media/<key>``: a stored media file, to members of a project that uses it;
- ``PUT /api/label/v2/upload?…``: a local file of an import (:mod:`labelport.server.uploads`);
- ``GET /health``: the server and its database answer;
- ``/api/exports…``: export jobs (:mod:`labelport.server.jobs_api`).

Every route but ``/health`` needs an API key (``Authorization: X-API-Key: <key>``, Kili's form, or
``X-API-Key: <key>``): a request without a valid one gets HTTP 401, which makes ``Kili()`` raise its
authentication error. Each request acts as the key's user, with that user's roles
(:mod:`labelport.services.permissions`), through the same services as the Python client.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
import re
import secrets
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
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
    execute_sync,
    parse,
    specified_rules,
    validate,
)
from graphql.language import (
    ExecutableDefinitionNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from labelport import settings
from labelport.errors import LabelportError, NotFound, PermissionDenied
from labelport.lru import Lru
from labelport.server import jobs_api, resolvers, uploads
from labelport.server.web import pages as web_pages
from labelport.services import api_keys, media_access
from labelport.services.context import ActingContext
from labelport.store import meta
from labelport.store.deadline import Deadline
from labelport.store.deadline import limited as deadline_scope
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
#: The longest error message sent: longer ones (naming a huge value sent) keep their start and end.
MESSAGE_LIMIT = 2_000


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
    #: The time one GraphQL request may run, in seconds, once its body is read (under the kili SDK's own
    #: 60 s, so that the SDK gets the answer rather than timing out and sending the request again).
    request_timeout: float = 50.0
    #: How long the server waits for the next part of a request body (GraphQL or upload), in seconds.
    read_timeout: float = 30.0
    #: After the time limit, how long to wait for work that is not at a statement (pure Python) to stop
    #: on its own before answering without it, in seconds.
    timeout_grace: float = 5.0
    #: How export jobs run (embedded pool or broker) and where their archives go.
    jobs: jobs_api.JobsConfig = field(default_factory=jobs_api.JobsConfig)


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
    jobs = jobs_api.JobsApi(config.jobs)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        state.store = await run_in_threadpool(Store, config.database_url, config.media_dir)
        state.schema = build_schema(config.max_page_size)
        state.rules = tuple(specified_rules)
        state.secret = await run_in_threadpool(meta.secret, state.store, "uploads")
        await run_in_threadpool(uploads.remove_stale, state.store)
        await run_in_threadpool(jobs.start, state.store)
        try:
            yield
        finally:
            await run_in_threadpool(jobs.stop)
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
        *jobs.routes(),
        *web_pages.routes(lambda: _opened(state)),
    ]
    handlers = {HTTPException: _http_error, Exception: _internal_error}
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (an unknown path, a method a route does not take) as JSON errors."""
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        allowed = error.headers.get("Allow", "") if error.headers else ""
        message = f"{request.method} is not served at {request.url.path} (it takes {allowed or 'other methods'})."
        code = "METHOD_NOT_ALLOWED"
    elif error.status_code == 404:
        message, code = f"Nothing is served at {request.url.path}.", "NOT_FOUND"
    else:
        message, code = str(error.detail), "BAD_REQUEST"
    return JSONResponse(_error_body(message, code), status_code=error.status_code, headers=error.headers)


async def _internal_error(_request: Request, error: Exception) -> Response:
    """An unexpected error: logged with a reference, answered without its details."""
    reference = secrets.token_hex(6)
    log.error("internal error %s", reference, exc_info=error)
    message = f"Internal server error (reference {reference}); the server's log has the details."
    return JSONResponse(_error_body(message, "INTERNAL_SERVER_ERROR"), status_code=500)


def _opened(state: _State) -> Store:
    assert state.store is not None
    return state.store


def build_schema(max_page_size: int) -> GraphQLSchema:
    """Kili's schema (the SDL file) bound to labelport's resolvers; the root fields it only declares refuse."""
    schema = make_executable_schema(
        load_schema_from_path(str(SCHEMA_FILE)),
        resolvers.query,
        resolvers.mutation,
        resolvers.page_size_scalar(max_page_size),
        resolvers.json_scalar,
        *resolvers.BINDABLES,
    )
    resolvers.refuse_unsupported(schema)
    return schema


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


class _BodyTooSlow(Exception):
    pass


async def _chunks(request: Request, idle: float) -> AsyncIterator[bytes]:
    """The request body's chunks; :class:`_BodyTooSlow` when none comes for ``idle`` seconds."""
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), idle)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise _BodyTooSlow from None
        yield chunk


async def _body(request: Request, limit: int, idle: float = 30.0) -> bytes:
    """The request body, decompressed when gzip- or deflate-encoded, at most ``limit`` bytes (a compressed
    body is inflated at most to ``limit + 1`` bytes: a "zip bomb" is refused without being inflated)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    raw = bytearray()
    async for chunk in _chunks(request, idle):
        raw += chunk
        if len(raw) > limit:
            raise _BodyTooLarge
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return bytes(raw)
    if encoding not in ("gzip", "deflate"):
        raise _UnsupportedEncoding(encoding)
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(bytes(raw), limit + 1)
    except zlib.error as error:
        raise _Undecodable(f"it is not valid {encoding} data ({error})") from None
    if len(data) > limit or decompressor.unconsumed_tail:
        raise _BodyTooLarge
    if not decompressor.eof:
        raise _Undecodable(f"its {encoding} data is cut short")
    if decompressor.unused_data:
        raise _Undecodable(f"it has data after the end of its {encoding} stream")
    return data


class _UnsupportedEncoding(Exception):
    pass


class _Undecodable(Exception):
    pass


def _json_content_type(content_type: str | None) -> bool:
    """No Content-Type (taken as JSON), ``application/json`` or a ``+json`` type, with any parameters."""
    if content_type is None:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, "context": {}}}]}


async def _graphql(request: Request, state: _State) -> Response:
    caller = await _authenticate(request, state)
    if caller is None:
        return _unauthorized()
    try:
        body = await _body(request, state.config.max_body_bytes, state.config.read_timeout)
    except ClientDisconnect:
        return _client_gone()
    except _BodyTooSlow:
        return _too_slow(state.config.read_timeout)
    except _BodyTooLarge:
        return JSONResponse(
            _error_body(
                f"The request body is larger than this server takes ({state.config.max_body_bytes} bytes).",
                "PAYLOAD_TOO_LARGE",
            ),
            status_code=413,
        )
    except _UnsupportedEncoding as error:
        return JSONResponse(
            _error_body(
                f"Content-Encoding {error.args[0]!r} is not supported: send gzip, deflate or none.",
                "UNSUPPORTED_MEDIA_TYPE",
            ),
            status_code=415,
        )
    except _Undecodable as error:
        return _bad_request(f"The request body cannot be decoded: {error.args[0]}.")
    if not _json_content_type(request.headers.get("content-type")):
        return JSONResponse(
            _error_body(
                "GraphQL requests are JSON: send them with Content-Type: application/json.", "UNSUPPORTED_MEDIA_TYPE"
            ),
            status_code=415,
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _bad_request("The request body is not JSON (UTF-8 text holding one object).")
    if isinstance(payload, list):
        return _bad_request("Batched operations (a JSON array) are not supported: send one operation per request.")
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return _bad_request("The request body needs a JSON object with a 'query' string.")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return _bad_request("'variables' must be a JSON object.")
    operation = payload.get("operationName")
    if operation is not None and not isinstance(operation, str):
        return _bad_request("'operationName' must be a string.")
    context = resolvers.RequestContext(
        acting=_acting(state, caller, request),
        key=caller.key,
        base_url=_base_url(request),
        max_page_size=state.config.max_page_size,
        secret=state.secret,
    )
    deadline = Deadline(state.config.request_timeout)
    result = await _within(
        deadline,
        state.config.timeout_grace,
        _execute,
        state,
        payload["query"],
        variables,
        operation,
        context,
    )
    return Response(orjson.dumps(result), media_type="application/json")


async def _within(deadline: Deadline, grace: float, work: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``work(*args)`` in a worker thread under ``deadline``: the store stops its statements and refuses its
    commits past the deadline, so the work usually ends then with TimeLimitExceeded errors in its answer. Work
    still running ``grace`` seconds later (Python, between statements) is abandoned: the answer is a
    TimeLimitExceeded error, and the work's later statements and commits are refused. A commit under way is
    waited for, so that the answer never hides a committed write."""

    def limited() -> dict[str, Any]:
        with deadline_scope(deadline):
            return work(*args)

    task = asyncio.ensure_future(run_in_threadpool(limited))
    done, _pending = await asyncio.wait({task}, timeout=deadline.remaining() + grace)
    if not done and deadline.abandon():
        task.add_done_callback(_discard)
        return {"data": None, **_error_body(str(deadline.error()), "TimeLimitExceeded")}
    return await task


def _discard(task: asyncio.Future[Any]) -> None:
    """The end of abandoned work: its result, or error, is not wanted."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("abandoned request ended with %s", type(task.exception()).__name__)


def _bad_request(message: str) -> Response:
    return JSONResponse(_error_body(message, "BAD_REQUEST"), status_code=400)


def _client_gone() -> Response:
    """The client went away before the whole body arrived: nobody reads this answer."""
    message = "The client disconnected before sending the whole request."
    return JSONResponse(_error_body(message, "BAD_REQUEST"), status_code=400)


def _too_slow(idle: float) -> Response:
    return JSONResponse(
        _error_body(f"The request body stopped arriving (nothing for {idle:g} s).", "REQUEST_TIMEOUT"), status_code=408
    )


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
        errors = _too_big(document, state.config.max_depth, state.config.max_fields) or validate(
            state.schema, document, state.rules, max_errors=20
        )
        if errors:
            return {"errors": [_format(error) for error in errors]}
        if len(query) <= DOCUMENT_TEXT_LIMIT:
            state.documents.put(query, document)
    result = execute_sync(
        state.schema, document, variable_values=variables, operation_name=operation, context_value=context
    )
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
    if len(message) > MESSAGE_LIMIT:  # a value sent in a variable, named in full
        message = message[: MESSAGE_LIMIT - 200] + " … " + message[-180:]
    formatted: dict[str, Any] = {"message": message, "extensions": {"code": code, "context": {}}}
    if error.locations:
        formatted["locations"] = [{"line": location.line, "column": location.column} for location in error.locations]
    if error.path:
        formatted["path"] = list(error.path)
    return formatted


def _too_big(document: DocumentNode, max_depth: int, max_fields: int) -> list[GraphQLError]:
    """The limits, checked on the parsed document before GraphQL's own validation (some of whose rules cost
    the square of the fields of a selection: a few thousand fields would keep a worker busy for minutes):

    - the document may hold at most ``max_fields`` fields as written (introspection included);
    - each operation may select at most ``max_fields`` fields, fragments expanded, and nest at most
      ``max_depth`` deep (introspection fields aside: the SDK's introspection query nests deeper).

    Fragments are measured once each, so that fragments spreading others many times over cost nothing to
    measure; a fragment spread inside itself counts once (GraphQL's validation then refuses the cycle)."""
    written = sum(1 for _ in _field_nodes(document))
    if written > max_fields:
        return [GraphQLError(f"The query has {written} fields; this server takes at most {max_fields}.")]
    fragments = {
        definition.name.value: definition.selection_set
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    measured: dict[str, tuple[int, int]] = {}
    errors = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        depth, count = _measure(definition.selection_set, fragments, measured, ())
        if depth > max_depth:
            errors.append(
                GraphQLError(f"The query nests {depth} fields deep; this server takes at most {max_depth}.", definition)
            )
        if count > max_fields:
            errors.append(
                GraphQLError(f"The query selects {count} fields; this server takes at most {max_fields}.", definition)
            )
    return errors


def _field_nodes(document: DocumentNode) -> Iterator[FieldNode]:
    stack: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, ExecutableDefinitionNode)
    ]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
            selection_set = getattr(selection, "selection_set", None)
            if selection_set is not None:
                stack.append(selection_set)


def _measure(
    selection_set: SelectionSetNode,
    fragments: dict[str, SelectionSetNode],
    measured: dict[str, tuple[int, int]],
    open_: tuple[str, ...],
) -> tuple[int, int]:
    """(depth, fields) of a selection set: its deepest field's level (1 for its own fields) and how many
    fields it selects, fragments expanded, introspection fields and their sub-selections aside."""
    deepest, count = 0, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            count += 1
            deepest = max(deepest, 1)
            if selection.selection_set is not None:
                inner, inner_count = _measure(selection.selection_set, fragments, measured, open_)
                deepest, count = max(deepest, inner + 1), count + inner_count
        elif isinstance(selection, InlineFragmentNode):
            inner, inner_count = _measure(selection.selection_set, fragments, measured, open_)
            deepest, count = max(deepest, inner), count + inner_count
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in fragments or name in open_:
                continue
            if name not in measured:
                measured[name] = _measure(fragments[name], fragments, measured, (*open_, name))
            inner, inner_count = measured[name]
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
            async for chunk in _chunks(request, state.config.read_timeout):
                staged.write(chunk)  # a local disk write of one chunk: not worth a thread each
    except ClientDisconnect:
        return _client_gone()
    except _BodyTooSlow:
        return _too_slow(state.config.read_timeout)
    except uploads.TooLarge as error:
        return JSONResponse(_error_body(str(error), "PAYLOAD_TOO_LARGE"), status_code=413)
    except LabelportError as error:
        status = 403 if isinstance(error, PermissionDenied) else 400
        return JSONResponse(_error_body(str(error), type(error).__name__), status_code=status)
    return JSONResponse({"id": file_id, "size": staged.size})


#: The limits of :class:`ServerConfig` that ``labelport serve`` takes, by the environment variable that
#: carries each to the worker processes (``--max-body-bytes`` sets ``LABELPORT_MAX_BODY_BYTES``...).
LIMIT_VARIABLES = {
    "max_body_bytes": "LABELPORT_MAX_BODY_BYTES",
    "max_upload_bytes": "LABELPORT_MAX_UPLOAD_BYTES",
    "max_page_size": "LABELPORT_MAX_PAGE_SIZE",
    "max_depth": "LABELPORT_MAX_DEPTH",
    "max_fields": "LABELPORT_MAX_FIELDS",
    "request_timeout": "LABELPORT_REQUEST_TIMEOUT",
    "read_timeout": "LABELPORT_READ_TIMEOUT",
}


def limits_from_environment(environment: dict[str, str]) -> dict[str, int | float]:
    """The limits set in ``environment`` (see :data:`LIMIT_VARIABLES`), typed as ServerConfig's fields;
    a malformed value is a ValueError naming its variable."""
    defaults = ServerConfig(database_url="")
    found: dict[str, int | float] = {}
    for name, variable in LIMIT_VARIABLES.items():
        text = environment.get(variable)
        if not text:
            continue
        kind = type(getattr(defaults, name))
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{variable}={text!r} is not a {kind.__name__}.") from None
        if value <= 0:
            raise ValueError(f"{variable}={text!r} must be above 0.")
        found[name] = value
    return found


def app_from_environment() -> Starlette:
    """The application for ``labelport serve``'s worker processes: the store and limits from the
    environment the command set (``LABELPORT_DATABASE_URL``, ``LABELPORT_MEDIA_DIR``, :data:`LIMIT_VARIABLES`)."""
    url = settings.database_url(None)
    limits = limits_from_environment(dict(os.environ))
    config = ServerConfig(
        database_url=url,
        media_dir=settings.media_dir(None, url),
        jobs=jobs_api.config_from_environment(),
        **limits,  # type: ignore[arg-type]
    )
    return create_app(config)
