"""The server parses and validates a query text once: valid documents are kept by their text (the SDK sends
the same text for every page of a call) and reused, whatever the variables and the operation chosen;
invalid ones, and texts above the size limit, are checked anew each time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import specified_rules

import labelport
from labelport.server import app, resolvers
from labelport.services.context import ActingContext
from labelport.store.engine import Store

ADMIN = "admin@example.com"


@pytest.fixture
def state(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """The server's state as its start-up builds it, on a store with one project."""
    with labelport.Client(database_url, ADMIN, media_dir=tmp_path / "media", disable_tqdm=True) as client:
        interface = {
            "jobs": {
                "CLASSIFICATION_JOB": {
                    "mlTask": "CLASSIFICATION",
                    "required": 1,
                    "isChild": False,
                    "content": {"input": "radio", "categories": {"A": {"name": "A"}}},
                }
            }
        }
        client.create_project("Kept documents", "IMAGE", interface)
    state = app._State(app.ServerConfig(database_url=database_url, media_dir=tmp_path / "media"))
    state.store = Store(database_url, tmp_path / "media")
    state.schema = app.build_schema(500)
    state.rules = tuple(specified_rules)
    try:
        yield state
    finally:
        state.store.close()


def _run(state: Any, query: str, variables: dict[str, Any] | None = None, operation: str | None = None) -> Any:
    assert state.store is not None
    context = resolvers.RequestContext(
        acting=ActingContext(state.store, ADMIN, new_user_role=None, disable_tqdm=True, media_url="http://x/m"),
        key="",
        base_url="http://127.0.0.1:4000",
        max_page_size=500,
        secret=b"",
    )
    return app._execute(state, query, variables, operation, context)


PROJECTS = """
query projects($where: ProjectWhere!, $first: PageSize!, $skip: Int!) {
  data: projects(where: $where, first: $first, skip: $skip) { title }
}
query count($where: ProjectWhere!) { data: countProjects(where: $where) }
"""


def test_a_valid_document_is_kept_and_reused_with_other_variables_and_operations(state):
    first = _run(state, PROJECTS, {"where": {}, "first": 10, "skip": 0}, "projects")
    assert first == {"data": {"data": [{"title": "Kept documents"}]}}
    kept = state.documents.get(PROJECTS)
    assert kept is not None
    assert _run(state, PROJECTS, {"where": {}, "first": 10, "skip": 1}, "projects") == {"data": {"data": []}}
    assert _run(state, PROJECTS, {"where": {}}, "count") == {"data": {"data": 1}}
    assert state.documents.get(PROJECTS) is kept


def test_an_invalid_document_is_not_kept_and_answers_its_errors_each_time(state):
    query = "query { viewer { email noSuchField } }"
    for _ in range(2):
        answer = _run(state, query)
        assert [error["message"] for error in answer["errors"]] == ["Cannot query field 'noSuchField' on type 'User'."]
        assert state.documents.get(query) is None
    unparsable = "query { viewer { email }"
    for _ in range(2):
        assert _run(state, unparsable)["errors"][0]["message"] == "Syntax Error: Expected Name, found <EOF>."
        assert state.documents.get(unparsable) is None


def test_a_text_above_the_limit_is_answered_but_not_kept(state):
    query = "query { viewer { email } }" + " " * app.DOCUMENT_TEXT_LIMIT
    assert _run(state, query) == {"data": {"viewer": {"email": ADMIN}}}
    assert state.documents.get(query) is None
    at_limit = query[: app.DOCUMENT_TEXT_LIMIT]
    assert _run(state, at_limit) == {"data": {"viewer": {"email": ADMIN}}}
    assert state.documents.get(at_limit) is not None


def test_the_kept_documents_are_bounded(state):
    for index in range(app.DOCUMENTS_KEPT + 5):
        assert _run(state, f"query q{index} {{ viewer {{ email }} }}") == {"data": {"viewer": {"email": ADMIN}}}
    assert state.documents.get("query q0 { viewer { email } }") is None
    last = app.DOCUMENTS_KEPT + 4
    assert state.documents.get(f"query q{last} {{ viewer {{ email }} }}") is not None
