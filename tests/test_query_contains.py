"""List filters answer like Python, whatever the length of the list and the characters of its values.

``external_id_in`` ("contains one of") is Python's ``in``: a few parts are tested one by one, many
are looked up by substring (labelport.store.lists.contains_any), and both ways agree,
case-sensitively, on SQLite and PostgreSQL. ``external_id_strictly_in`` is Python's ``==``: a few
values are a plain ``IN``, more are one JSON array (SQLite) or one array constant (PostgreSQL),
whose quoting must survive quotes, backslashes, braces, commas, percent signs and control characters.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import column
from sqlalchemy.dialects import sqlite

from labelport.store import lists

EXTERNAL_IDS = [
    "car_1",
    "Car_2",
    "CAR-3",
    "bike%1",
    "bike_%",
    "truck\\9",
    "ünïcødé-Straße",
    "日本語のファイル.jpg",
    "emoji-😀-1",
    "a",
    "aaaa",
    "x" * 300,
    "x" * 299 + "y",
    "folder/sub folder/img 01.png",
    "it's",
    'say "cheese"',
    "{braces},commas",
    "NULL",
    " spaced ",
    "back\\slash",
    "under_score",
    "100%",
]

ALPHABET = st.sampled_from(list("aAcC_%\\-1239xyüßé日😀/ .'\"{},\t\n"))


def parts_strategy():
    from_ids = st.sampled_from(EXTERNAL_IDS).flatmap(
        lambda text: st.tuples(st.integers(0, len(text)), st.integers(1, 8)).map(lambda ij: text[ij[0] : ij[0] + ij[1]])
    )
    part = st.one_of(from_ids, st.text(ALPHABET, min_size=1, max_size=6))
    return st.one_of(st.lists(part, max_size=40), st.lists(part, min_size=500, max_size=700))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=parts_strategy())
def test_external_id_in_answers_like_python(client, image_project, parts):
    if not client.count_assets(image_project):
        client.append_many_to_dataset(
            image_project,
            content_array=[f"https://example.com/{i}.jpg" for i in range(len(EXTERNAL_IDS))],
            external_id_array=EXTERNAL_IDS,
        )
    expected = [text for text in EXTERNAL_IDS if any(part in text for part in parts)]
    found = [a["externalId"] for a in client.assets(image_project, fields=["externalId"], external_id_in=parts)]
    assert found == expected
    assert client.count_labels(image_project, asset_external_id_in=parts) == 0


def test_both_ways_of_contains_are_used(client, image_project):
    """The cases above cross from one way to the other: few parts are tested one by one, many are looked up."""
    client.append_many_to_dataset(
        image_project,
        content_array=[f"https://example.com/{i}.jpg" for i in range(len(EXTERNAL_IDS))],
        external_id_array=EXTERNAL_IDS,
    )
    few = ["Car", "%", "ß"]
    many = [*few, *(f"zz{i}" for i in range(lists.MANY_PARTS))]
    sql = {
        len(parts): str(lists.contains_any(column("external_id"), parts).compile(dialect=sqlite.dialect()))
        for parts in (few, many)
    }
    assert sql[len(few)].startswith("instr(external_id, ") and "WITH RECURSIVE" in sql[len(many)]
    for parts in (few, many):
        found = [a["externalId"] for a in client.assets(image_project, fields=["externalId"], external_id_in=parts)]
        assert found == ["Car_2", "bike%1", "bike_%", "ünïcødé-Straße", "100%"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    wanted=st.lists(st.sampled_from(EXTERNAL_IDS), unique=True),
    others=st.one_of(st.just(0), st.integers(1, 40)),
    filler=st.text(ALPHABET, max_size=5),
)
def test_external_id_strictly_in_answers_like_python(client, image_project, wanted, others, filler):
    if not client.count_assets(image_project):
        client.append_many_to_dataset(
            image_project,
            content_array=[f"https://example.com/{i}.jpg" for i in range(len(EXTERNAL_IDS))],
            external_id_array=EXTERNAL_IDS,
        )
    values = [*wanted, *(f"{filler}{i}" for i in range(others))]  # beyond 16 values: one array
    expected = [text for text in EXTERNAL_IDS if text in values]
    found = [
        a["externalId"] for a in client.assets(image_project, fields=["externalId"], external_id_strictly_in=values)
    ]
    assert found == expected
    assert client.count_assets(image_project, external_id_strictly_in=values) == len(expected)
    kept = [a["externalId"] for a in client.assets(image_project, fields=["externalId"], asset_id_not_in=values)]
    assert kept == EXTERNAL_IDS
