"""Hostile input at the HTTP level, against the ASGI application in-process: every refusal is a JSON error
with ``extensions.code``, the HTTP status says what is wrong, and no answer holds a traceback."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from labelport.server.app import GRAPHQL_PATH, MESSAGE_LIMIT
from tests.server.inprocess import Seeded, assert_clean_error, running

LIMIT = 64 * 1024  # the body limit of these tests


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Seeded]:
    with running(database_url, tmp_path, max_body_bytes=LIMIT, max_depth=6, max_fields=50) as seeded:
        yield seeded


VIEWER = orjson.dumps({"query": "{ viewer { email } }"})


def test_a_plain_request_is_answered(served):
    answer = served.post(VIEWER)
    assert answer.status_code == 200
    assert answer.json() == {"data": {"viewer": {"email": "admin@example.com"}}}


def test_a_gzip_or_deflate_body_is_answered(served):
    for encoding, body in (("gzip", gzip.compress(VIEWER)), ("deflate", zlib.compress(VIEWER))):
        answer = served.post(body, **{"Content-Encoding": encoding})
        assert answer.json() == {"data": {"viewer": {"email": "admin@example.com"}}}, encoding


def test_a_body_too_large_is_refused_with_413(served):
    padding = " " * LIMIT
    body = orjson.dumps({"query": "{ viewer { email } }" + padding})
    error = assert_clean_error(served.post(body), 413)
    assert error["message"] == f"The request body is larger than this server takes ({LIMIT} bytes)."
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_body_too_large_without_content_length_is_refused_with_413(served):
    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to refuse it early
        for _ in range(LIMIT // 1024 + 2):
            yield b" " * 1024

    answer = served.http.post(GRAPHQL_PATH, content=chunks(), headers=served.headers())
    assert "content-length" not in answer.request.headers
    assert assert_clean_error(answer, 413)["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def _gzip_bomb(inflated: int) -> bytes:
    """A gzip body of ``inflated`` zero bytes, compressed as it is built (it never exists inflated)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * 2**20
    parts = [compressor.compress(block) for _ in range(inflated // len(block))]
    return b"".join([*parts, compressor.flush()])


def test_a_gzip_bomb_is_refused_without_being_inflated(served):
    bomb = _gzip_bomb(48 * 2**20)  # 48 MiB once inflated
    assert len(bomb) < LIMIT  # small enough to pass the limit on the body as sent
    tracemalloc.start()
    try:
        answer = served.post(bomb, **{"Content-Encoding": "gzip"})
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert assert_clean_error(answer, 413)["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert peak < 8 * 2**20, peak  # never near the 48 MiB it would inflate to


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        (b"not gzip at all", "gzip", "The request body cannot be decoded: it is not valid gzip data"),
        (gzip.compress(VIEWER)[:-12], "gzip", "The request body cannot be decoded: its gzip data is cut short."),
        (
            gzip.compress(VIEWER) + b"trailing",
            "gzip",
            "The request body cannot be decoded: it has data after the end of its gzip stream.",
        ),
        (b"\x78\x9cnot deflate", "deflate", "The request body cannot be decoded: it is not valid deflate data"),
    ],
)
def test_an_invalid_compressed_body_is_refused_with_400(served, body, encoding, message):
    error = assert_clean_error(served.post(body, **{"Content-Encoding": encoding}), 400)
    assert error["message"].startswith(message), error
    assert error["extensions"]["code"] == "BAD_REQUEST"


def test_an_unsupported_encoding_is_refused_with_415(served):
    error = assert_clean_error(served.post(VIEWER, **{"Content-Encoding": "br"}), 415)
    assert error["message"] == "Content-Encoding 'br' is not supported: send gzip, deflate or none."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "The request body is not JSON (UTF-8 text holding one object)."),
        (b"\xff\xfe{}", "The request body is not JSON (UTF-8 text holding one object)."),
        (b"", "The request body is not JSON (UTF-8 text holding one object)."),
        (b"[" * 5000 + b"]" * 5000, "The request body is not JSON (UTF-8 text holding one object)."),
        (b'"a string"', "The request body needs a JSON object with a 'query' string."),
        (b"42", "The request body needs a JSON object with a 'query' string."),
        (b"null", "The request body needs a JSON object with a 'query' string."),
        (b"{}", "The request body needs a JSON object with a 'query' string."),
        (b'{"query": 5}', "The request body needs a JSON object with a 'query' string."),
        (b'{"query": null}', "The request body needs a JSON object with a 'query' string."),
        (
            b'[{"query": "{ viewer { email } }"}, {"query": "{ viewer { id } }"}]',
            "Batched operations (a JSON array) are not supported: send one operation per request.",
        ),
        (b'{"query": "{ viewer { email } }", "variables": [1]}', "'variables' must be a JSON object."),
        (b'{"query": "{ viewer { email } }", "variables": "{}"}', "'variables' must be a JSON object."),
        (b'{"query": "{ viewer { email } }", "operationName": 7}', "'operationName' must be a string."),
    ],
)
def test_a_body_that_is_not_one_graphql_request_is_refused_with_400(served, body, message):
    error = assert_clean_error(served.post(body), 400)
    assert error["message"] == message
    assert error["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_body_that_is_not_declared_json_is_refused_with_415(served, content_type):
    answer = served.http.post(GRAPHQL_PATH, content=VIEWER, headers={**served.headers(), "Content-Type": content_type})
    error = assert_clean_error(answer, 415)
    assert error["message"] == "GraphQL requests are JSON: send them with Content-Type: application/json."


def test_json_content_types_with_parameters_or_none_are_taken(served):
    for content_type in ("application/json; charset=utf-8", "application/graphql+json"):
        headers = {**served.headers(), "Content-Type": content_type}
        assert served.http.post(GRAPHQL_PATH, content=VIEWER, headers=headers).json()["data"] is not None
    headers = {"Authorization": f"X-API-Key: {served.admin_key}"}
    assert served.http.post(GRAPHQL_PATH, content=VIEWER, headers=headers).json()["data"] is not None


def _graphql_errors(served: Seeded, query: str, variables: Any = None, operation: str | None = None) -> list[Any]:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation is not None:
        body["operationName"] = operation
    answer = served.post(orjson.dumps(body))
    assert_clean_error(answer, 200)
    return [error["message"] for error in answer.json()["errors"]]


def test_depth_and_fields_are_counted_exactly(served):
    six = "{ projects(where: {}) { roles { user { organization { license { type } } } } } }"  # 6 levels
    answer = served.post(orjson.dumps({"query": six}))
    assert "errors" not in answer.json(), answer.json()
    seven = "{ projects(where: {}) { roles { user { organization { license { type } } } } } viewer { organization { license { api } } } }"
    assert "errors" not in served.post(orjson.dumps({"query": seven})).json()
    too_deep = "{ projects(where: {}) { roles { project { roles { user { organization { name } } } } } } }"
    assert _graphql_errors(served, too_deep) == ["The query nests 7 fields deep; this server takes at most 6."]


def test_too_many_fields_are_refused_as_written_and_as_expanded(served):
    written = "{ viewer { " + " ".join(f"a{index}: email" for index in range(50)) + " } }"
    assert _graphql_errors(served, written) == ["The query has 51 fields; this server takes at most 50."]
    fragments = ["fragment F0 on User { email id }"] + [
        f"fragment F{index} on User {{ ...F{index - 1} ...F{index - 1} }}" for index in range(1, 40)
    ]
    exploding = "{ viewer { ...F39 } } " + " ".join(fragments)
    assert _graphql_errors(served, exploding) == [
        f"The query selects {2**40 + 1} fields; this server takes at most 50."
    ]


def test_fragment_cycles_are_refused(served):
    query = "{ viewer { ...A } } fragment A on User { email ...B } fragment B on User { id ...A }"
    assert _graphql_errors(served, query) == ["Cannot spread fragment 'A' within itself via 'B'."]
    assert _graphql_errors(served, "{ viewer { ...A } } fragment A on User { ...A }") == [
        "Cannot spread fragment 'A' within itself."
    ]


def test_an_unknown_or_missing_operation_name_is_refused(served):
    query = "query a { viewer { email } } query b { viewer { id } }"
    assert _graphql_errors(served, query, operation="c") == ["Unknown operation named 'c'."]
    assert _graphql_errors(served, query) == ["Must provide operation name if query contains multiple operations."]
    assert served.post(orjson.dumps({"query": query, "operationName": "b"})).json()["data"]["viewer"]["id"]


def test_get_and_other_methods_are_refused_with_405(served):
    answer = served.http.get(GRAPHQL_PATH, params={"query": "{ viewer { email } }"}, headers=served.headers())
    error = assert_clean_error(answer, 405)
    assert error["message"] == "GET is not served at /api/label/v2/graphql (it takes POST)."
    assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert assert_clean_error(served.http.delete(GRAPHQL_PATH, headers=served.headers()), 405)


def test_an_unknown_path_is_a_json_404(served):
    error = assert_clean_error(served.http.get("/api/label/v2/nothing", headers=served.headers()), 404)
    assert error == {
        "message": "Nothing is served at /api/label/v2/nothing.",
        "extensions": {"code": "NOT_FOUND", "context": {}},
    }


def test_huge_strings_in_variables_are_answered_without_echoing_them(served):
    huge = "x" * (LIMIT - 1000)
    query = "query q($where: AssetWhere!) { countAssets(where: $where) }"
    answer = served.post(orjson.dumps({"query": query, "variables": {"where": {"project": {"id": huge}}}}))
    error = assert_clean_error(answer, 200)
    assert error["extensions"]["code"] == "NotFound"
    assert len(answer.content) < 2 * MESSAGE_LIMIT  # the message names the id shortened, not all of it
    assert error["message"].startswith("Project 'xxxxxxxx") and " … " in error["message"]
    json_text = "{" * 1000
    query = "query q($where: AssetWhere!) { assets(where: $where) { id } }"
    variables = {"where": {"project": {"id": served.project_id}, "metadata": json_text}}
    error = assert_clean_error(served.post(orjson.dumps({"query": query, "variables": variables})), 200)
    assert error["message"].startswith("AssetWhere.metadata is not valid JSON: ")
    assert error["extensions"]["code"] == "ValidationError"


def test_a_wrong_key_is_a_json_401_before_the_body_is_read(served):
    answer = served.post(_gzip_bomb(8 * 2**20), key="not-a-key", **{"Content-Encoding": "gzip"})
    assert assert_clean_error(answer, 401)["extensions"]["code"] == "UNAUTHENTICATED"


def _raw(served: Seeded, messages: list[dict[str, Any]], path: str = GRAPHQL_PATH) -> tuple[int, bytes]:
    """Send ``messages`` as the ASGI request's body events (then wait for ever, as a stalled client does),
    to the application itself; returns the status and body it answers."""
    app = served.http.app
    headers = [(b"authorization", f"X-API-Key: {served.admin_key}".encode()), (b"content-type", b"application/json")]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST" if path == GRAPHQL_PATH else "PUT",
        "scheme": "http",
        "path": path.split("?")[0],
        "raw_path": path.split("?")[0].encode(),
        "query_string": path.split("?", 1)[1].encode() if "?" in path else b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def call() -> None:
        import anyio

        pending = list(messages)

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop(0)
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)

    served.http.portal.call(call)  # type: ignore[union-attr]
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], body


def test_a_client_that_disconnects_mid_body_is_let_go(served):
    status, body = _raw(
        served,
        [{"type": "http.request", "body": b'{"query": "{ vie', "more_body": True}, {"type": "http.disconnect"}],
    )
    assert status == 400
    assert orjson.loads(body)["errors"][0]["message"] == "The client disconnected before sending the whole request."


def test_a_body_that_stops_arriving_is_refused_with_408(database_url, tmp_path):
    with running(database_url, tmp_path, read_timeout=0.2) as served:
        status, body = _raw(served, [{"type": "http.request", "body": b'{"query": "{ vie', "more_body": True}])
        assert status == 408
        error = orjson.loads(body)["errors"][0]
        assert error == {
            "message": "The request body stopped arriving (nothing for 0.2 s).",
            "extensions": {"code": "REQUEST_TIMEOUT", "context": {}},
        }


ASSETS = "query q($where: AssetWhere!, $first: PageSize) { data: assets(where: $where, first: $first) { externalId } }"


def test_a_page_above_the_cap_is_refused(database_url, tmp_path):
    with running(database_url, tmp_path, max_page_size=2) as served:
        where = {"project": {"id": served.project_id}}
        answer = served.post(orjson.dumps({"query": ASSETS, "variables": {"where": where, "first": 3}}))
        error = assert_clean_error(answer, 200)
        assert error["message"] == (
            "Variable '$first' got invalid value 3; first must be a whole number from 0 to 2, got 3."
        )
        literal = "query q($where: AssetWhere!) { data: assets(where: $where, first: 3) { externalId } }"
        error = assert_clean_error(served.post(orjson.dumps({"query": literal, "variables": {"where": where}})), 200)
        assert error["message"] == "first must be a whole number from 0 to 2, got 3."
        for first, expected in ((2, ["car_1", "car_2"]), (0, []), (None, ["car_1", "car_2"])):
            variables = {"where": where, "first": first}
            answer = served.post(orjson.dumps({"query": ASSETS, "variables": variables})).json()
            assert [row["externalId"] for row in answer["data"]["data"]] == expected, first


def test_the_default_page_cap_is_500(served):
    where = {"project": {"id": served.project_id}}
    answer = served.post(orjson.dumps({"query": ASSETS, "variables": {"where": where, "first": 501}}))
    assert assert_clean_error(answer, 200)["message"].endswith("first must be a whole number from 0 to 500, got 501.")
    answer = served.post(orjson.dumps({"query": ASSETS, "variables": {"where": where, "first": 500}})).json()
    assert len(answer["data"]["data"]) == 3
