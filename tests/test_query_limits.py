"""Hostile query input is refused with a LabelportError naming the argument and the limit, the same
way on SQLite and PostgreSQL: text the databases cannot bind (lone surrogates, NUL), integers beyond
64 bits, nesting that would exhaust Python's recursion or SQLite's parser (docs/query.md, "Limits")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labelport.errors import FilterError, UnknownFieldError, ValidationError
from labelport.store import limits
from tests.factories import box, boxes

SURROGATE = "\ud800"
HUGE = 10**400  # beyond a float, too
BEYOND_64_BITS = 2**63


@pytest.fixture
def project(client, image_project):
    client.append_many_to_dataset(
        image_project,
        content_array=["https://example.com/0.jpg", "https://example.com/1.jpg"],
        external_id_array=["car_0", "car_1"],
        json_metadata_array=[{"n": 5, "city": "Paris"}, {"n": 2**62}],
    )
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["car_0"],
        json_response_array=[boxes(box("OBJECT_A", 0, 0, 0.2, 0.2))],
    )
    return image_project


def unbindable(what, value="'\\ud800'"):
    position = value.index("\\ud800") - 1  # in the text, not its repr (which opens with a quote)
    return (
        f"{what} {value} holds a lone surrogate (U+D800) at position {position}, which is not text "
        "(UTF-8 cannot encode it): fix how it was decoded."
    )


def call(client, project, method, kwargs):
    arguments = {key: (project if value is PROJECT else value) for key, value in kwargs.items()}
    return getattr(client, method)(**arguments)


PROJECT = object()  # stands for the fixture's project id in the cases below


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("assets", {"project_id": SURROGATE}, unbindable("project_id")),
        ("count_assets", {"project_id": SURROGATE}, unbindable("project_id")),
        ("labels", {"project_id": SURROGATE}, unbindable("project_id")),
        ("count_labels", {"project_id": SURROGATE}, unbindable("project_id")),
        ("project_users", {"project_id": SURROGATE}, unbindable("project_id")),
        ("count_project_users", {"project_id": SURROGATE}, unbindable("project_id")),
        ("assets", {"project_id": PROJECT, "asset_id": SURROGATE}, unbindable("Filter asset_id:")),
        (
            "count_assets",
            {"project_id": PROJECT, "asset_id_in": ["car_0", SURROGATE]},
            unbindable("Filter asset_id_in:"),
        ),
        ("assets", {"project_id": PROJECT, "asset_id_not_in": [SURROGATE]}, unbindable("Filter asset_id_not_in:")),
        (
            "assets",
            {"project_id": PROJECT, "external_id_strictly_in": [f"car{SURROGATE}"]},
            unbindable("Filter external_id_strictly_in:", "'car\\ud800'"),
        ),
        ("count_assets", {"project_id": PROJECT, "external_id_in": [SURROGATE]}, unbindable("Filter external_id_in:")),
        (
            "assets",
            {"project_id": PROJECT, "metadata_where": {SURROGATE: 1}},
            unbindable("Filter metadata_where: metadata key"),
        ),
        (
            "assets",
            {"project_id": PROJECT, "metadata_where": {"city": [SURROGATE]}},
            unbindable("Filter metadata_where: value for 'city'"),
        ),
        (
            "assets",
            {"project_id": PROJECT, "label_author_in": [SURROGATE]},
            unbindable("Filter label_author_in:"),
        ),
        (
            "count_assets",
            {"project_id": PROJECT, "label_labeler_not_in": [f"a{SURROGATE}@x.io"]},
            unbindable("Filter label_labeler_not_in:", "'a\\ud800@x.io'"),
        ),
        (
            "assets",
            {"project_id": PROJECT, "label_category_search": f"JOB_0.OBJECT_A{SURROGATE}.count > 0"},
            unbindable("Filter label_category_search:", "'JOB_0.OBJECT_A\\ud800.count > 0'"),
        ),
        (
            "assets",
            {"project_id": PROJECT, "created_at_gte": f"2024-01-01{SURROGATE}"},
            unbindable("Filter created_at_gte:", "'2024-01-01\\ud800'"),
        ),
        ("labels", {"project_id": PROJECT, "label_id": SURROGATE}, unbindable("Filter label_id:")),
        ("count_labels", {"project_id": PROJECT, "id_contains": [SURROGATE]}, unbindable("Filter id_contains:")),
        ("labels", {"project_id": PROJECT, "user_id": SURROGATE}, unbindable("Filter user_id:")),
        ("labels", {"project_id": PROJECT, "author_in": [SURROGATE]}, unbindable("Filter author_in:")),
        (
            "count_labels",
            {"project_id": PROJECT, "asset_external_id_strictly_in": [SURROGATE]},
            unbindable("Filter asset_external_id_strictly_in:"),
        ),
        ("projects", {"project_id": SURROGATE}, unbindable("Filter project_id:")),
        ("projects", {"search_query": f"car{SURROGATE}"}, unbindable("Filter search_query:", "'car\\ud800'")),
        ("count_projects", {"search_query": SURROGATE}, unbindable("Filter search_query:")),
        (
            "project_users",
            {"project_id": PROJECT, "email": f"a{SURROGATE}@x.io"},
            unbindable("Filter email:", "'a\\ud800@x.io'"),
        ),
        ("count_project_users", {"project_id": PROJECT, "id": SURROGATE}, unbindable("Filter id:")),
        ("users", {"email": f"a{SURROGATE}@x.io"}, unbindable("Email", "'a\\ud800@x.io'")),
        ("count_users", {"email": f"a{SURROGATE}@x.io"}, unbindable("Email", "'a\\ud800@x.io'")),
        (
            "count_assets",
            {"project_id": PROJECT, "external_id_strictly_in": ["car\x00"]},
            "Filter external_id_strictly_in: 'car\\x00' holds a NUL character (U+0000) at position 3, which "
            "PostgreSQL cannot store: remove it.",
        ),
    ],
)
def test_text_the_databases_cannot_bind_is_refused(client, project, method, kwargs, message):
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        call(client, project, method, kwargs)


def out_of_range(name, shown):
    return (
        f"Filter {name}: {shown} is out of range: integers are 64-bit, from -2**63 to 2**63-1 "
        "(give a float, e.g. 1e300, for a larger bound)."
    )


@pytest.mark.parametrize(
    ("method", "filters", "message"),
    [
        ("assets", {"consensus_mark_gte": HUGE}, out_of_range("consensus_mark_gte", "an integer of 1329 bits")),
        ("assets", {"honeypot_mark_lte": -HUGE}, out_of_range("honeypot_mark_lte", "an integer of 1329 bits")),
        (
            "count_assets",
            {"inference_mark_gte": BEYOND_64_BITS},
            out_of_range("inference_mark_gte", "9223372036854775808"),
        ),
        (
            "assets",
            {"label_consensus_mark_gte": HUGE},
            out_of_range("label_consensus_mark_gte", "an integer of 1329 bits"),
        ),
        ("labels", {"honeypot_mark_gte": BEYOND_64_BITS}, out_of_range("honeypot_mark_gte", "9223372036854775808")),
        (
            "count_labels",
            {"consensus_mark_lte": -(2**63) - 1},
            out_of_range("consensus_mark_lte", "-9223372036854775809"),
        ),
        ("assets", {"metadata_where": {"n": HUGE}}, out_of_range("metadata_where", "an integer of 1329 bits")),
        ("assets", {"metadata_where": {"n": [0, HUGE]}}, out_of_range("metadata_where", "an integer of 1329 bits")),
        ("assets", {"metadata_where": {"n": [1, 2, 2**64]}}, out_of_range("metadata_where", "18446744073709551616")),
        (
            "count_assets",
            {"metadata_where": {"n": [{"deep": 2**64}]}},
            "Filter metadata_where: value for 'n' cannot be written as JSON (Integer exceeds 64-bit range).",
        ),
        (
            "assets",
            {"metadata_where": {"n": float("nan")}},
            "Filter metadata_where: value for 'n' is nan; metadata hold finite numbers only.",
        ),
        (
            "assets",
            {"metadata_where": {"n": [float("nan"), 1]}},
            "Filter metadata_where: the range for 'n' has a NaN bound; give two numbers.",
        ),
        (
            "assets",
            {"created_at_gte": HUGE},
            "Filter created_at_gte must be a date 'YYYY-MM-DD' or an ISO date-time, not an integer of 1329 bits.",
        ),
        ("assets", {"asset_id": 10**5000}, "Filter asset_id needs a string, got an integer of 16610 bits."),
        ("count_assets", {"skipped": 10**5000}, "Filter skipped needs True or False, got an integer of 16610 bits."),
    ],
)
def test_numbers_beyond_64_bits_are_refused(client, project, method, filters, message):
    with pytest.raises(FilterError, match=f"^{re.escape(message)}$"):
        getattr(client, method)(project, **filters)


def test_numbers_within_64_bits_are_compared(client, project):
    assert client.count_assets(project, metadata_where={"n": 2**62}) == 1
    assert client.count_assets(project, metadata_where={"n": [2**63 - 1, -(2**63)]}) == 2
    assert client.count_assets(project, metadata_where={"n": [0, float("inf")]}) == 2
    assert client.count_assets(project, consensus_mark_gte=2**63 - 1) == 0
    assert client.count_assets(project, consensus_mark_gte=1e300) == 0


@pytest.mark.parametrize("argument", ["first", "skip"])
@pytest.mark.parametrize("method", ["assets", "labels"])
def test_paging_beyond_64_bits_is_refused(client, project, method, argument):
    with pytest.raises(
        ValidationError, match=re.escape(f"{argument} must be at most 2**63-1, got 9223372036854775808.")
    ):
        getattr(client, method)(project, **{argument: BEYOND_64_BITS})
    with pytest.raises(
        ValidationError, match=re.escape(f"{argument} must be at most 2**63-1, got an integer of 1329 bits.")
    ):
        getattr(client, method)(project, **{argument: HUGE}, as_generator=True)


def test_paging_up_to_64_bits_works(client, project):
    assert [a["externalId"] for a in client.assets(project, fields=["externalId"], first=2**63 - 1)] == [
        "car_0",
        "car_1",
    ]
    assert client.assets(project, fields=["externalId"], skip=2**63 - 1) == []
    assert client.labels(project, fields=["id"], skip=2**63 - 1, first=2**63 - 1) == []
    assert client.projects(fields=["id"], skip=2**63 - 1) == []
    assert client.users(skip=2**63 - 1) == []
    assert client.project_users(project, skip=2**63 - 1) == []


def test_category_search_nesting_is_bounded(client, project):
    deep = "(" * 400 + "JOB_0.OBJECT_A.count > 0" + ")" * 400
    message = "Filter category_search nests parentheses deeper than 10 levels: '((((((((((((((("
    with pytest.raises(FilterError, match=f"^{re.escape(message)}"):
        client.labels(project, category_search=deep)
    with pytest.raises(
        FilterError, match=re.escape("Filter label_category_search nests parentheses deeper than 10 levels")
    ):
        client.count_assets(project, label_category_search=deep)
    ten = "(" * 10 + "JOB_0.OBJECT_A.count > 0" + ")" * 10
    assert client.count_labels(project, category_search=ten) == 1
    with pytest.raises(FilterError, match=re.escape("nests parentheses deeper than 10 levels")):
        client.count_labels(project, category_search=f"({ten})")


def test_category_search_size_is_bounded(client, project):
    thousand = " OR ".join(["JOB_0.OBJECT_B.count > 0"] * 999 + ["JOB_0.OBJECT_A.count == 1"])
    assert client.count_labels(project, category_search=thousand) == 1
    message = "Filter category_search has more than 1,000 conditions: 'JOB_0.OBJECT_B.count > 0 OR JOB_0.OBJECT"
    with pytest.raises(FilterError, match=f"^{re.escape(message)}"):
        client.count_labels(project, category_search=thousand + " OR JOB_0.OBJECT_A.count > 0")
    with pytest.raises(FilterError, match=re.escape(f"('{'9' * 5000}'"[:40])):
        client.count_labels(project, category_search="JOB_0.OBJECT_A.count > " + "9" * 5000)
    with pytest.raises(FilterError, match=re.escape("('9223372036854775808' is more than 2**63-1)")):
        client.count_labels(project, category_search=f"JOB_0.OBJECT_A.count < {2**63}")
    assert client.count_labels(project, category_search=f"JOB_0.OBJECT_A.count < {2**63 - 1}") == 1


def test_metadata_keys_are_bounded(client, project):
    assert client.count_assets(project, metadata_where={f"k{i}": i for i in range(1_000)}) == 0
    message = (
        "Filter metadata_where has 1,001 keys; at most 1,000: filter on fewer keys, or on a list of values for one key."
    )
    with pytest.raises(FilterError, match=f"^{re.escape(message)}$"):
        client.count_assets(project, metadata_where={f"k{i}": i for i in range(1_001)})


@pytest.mark.parametrize(
    ("entity", "path"),
    [("assets", "labels.labelOf." * 250 + "id"), ("labels", "labelOf.labels." * 250 + "id")],
)
def test_field_paths_are_bounded(client, project, entity, path):
    message = f"Field {path!r}"[:85] + "… has 501 names; a field path has at most 10."
    with pytest.raises(UnknownFieldError, match=f"^{re.escape(message)}$"):
        getattr(client, entity)(project, fields=[path])


def test_field_paths_of_10_names_are_read(client, project):
    path = "labels.labelOf.labels.labelOf.labels.labelOf.labels.labelOf.labels.id"
    [first, second] = client.assets(project, fields=["externalId", "labels.id", path])
    label = first["labels"][0]["id"]
    nested = first["labels"][0]["labelOf"]["labels"][0]["labelOf"]["labels"][0]["labelOf"]["labels"][0]["labelOf"]
    assert nested == {"labels": [{"id": label}]}
    assert second == {"labels": [], "externalId": "car_1"}
    with pytest.raises(
        UnknownFieldError, match=re.escape(f"Field '{path}.id' has 11 names; a field path has at most 10.")
    ):
        client.assets(project, fields=[f"{path}.id"])


def test_limits_are_documented():
    text = (Path(__file__).resolve().parents[1] / "docs" / "query.md").read_text()
    section = text.split("\n## Limits\n", 1)[1]
    assert (
        f"at most {limits.MAX_SEARCH_DEPTH} nested parentheses, {limits.MAX_SEARCH_CONDITIONS:,} conditions" in section
    )
    assert f"at most {limits.MAX_METADATA_KEYS:,} keys" in section
    assert f"at most {limits.MAX_FIELD_DEPTH} names" in section
    assert "from -2**63 to 2**63-1" in section and "from 0 to 2**63-1" in section
