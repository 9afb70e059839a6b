"""Filters with realistic sizes: lists of 100,000 ids, 1,000 metadata keys, 1,000 search conditions.

Each list goes to the database as one parameter (labelport.store.lists); before, SQLite refused
them ("Expression tree is too large", "too many SQL variables") and PostgreSQL too ("number of
parameters must be between 0 and 65535"), or planned 1,000 EXISTS for many minutes.
"""

from __future__ import annotations

import pytest

from labelport.services.exports import export_where
from labelport.services.projects import get_project
from labelport.store import query
from tests.factories import box, boxes

HUNDRED_THOUSAND = 100_000


def external_id(i: int) -> str:
    return f"asset-{i:06d}"


def build(client, project, size, **arrays):
    """``size`` URL assets named ``asset-000000``… in one call; their ids in creation order."""
    client.append_many_to_dataset(
        project,
        content_array=[f"https://example.com/{i}.jpg" for i in range(size)],
        external_id_array=[external_id(i) for i in range(size)],
        resolution_array=[{"width": 640, "height": 480}] * size,
        **arrays,
    )
    return [a["id"] for a in client.assets(project, fields=["id"])]


def contains_any(text, parts, lengths):
    """Python's answer for "``text`` contains one of ``parts``" (of these ``lengths``), by substring lookup."""
    return any(text[i : i + n] in parts for n in lengths for i in range(len(text) - n + 1))


def externals(client, project, **filters):
    return [a["externalId"] for a in client.assets(project, fields=["externalId"], **filters)]


def test_asset_id_lists_of_100000(client, image_project):
    size = 10_000
    ids = build(client, image_project, size)
    even = [external_id(i) for i in range(0, size, 2)]
    odd = [external_id(i) for i in range(1, size, 2)]
    unknown = [f"no-such-id-{i}" for i in range(HUNDRED_THOUSAND - size // 2)]

    asset_ids = ids[0::2] + unknown
    assert len(asset_ids) == HUNDRED_THOUSAND
    assert externals(client, image_project, asset_id_in=asset_ids) == even
    assert externals(client, image_project, asset_id_not_in=asset_ids) == odd
    assert client.count_assets(image_project, asset_id_in=asset_ids) == size // 2

    strictly = [external_id(i) for i in range(0, 2 * HUNDRED_THOUSAND, 2)]
    assert client.count_assets(image_project, external_id_strictly_in=strictly) == size // 2
    assert externals(client, image_project, external_id_strictly_in=strictly) == even
    with pytest.warns(DeprecationWarning, match="external_id_contains is deprecated"):
        assert client.count_assets(image_project, external_id_contains=strictly) == size // 2

    # Contains: 100,000 parts of one length, then of many lengths (the lookup by substring).
    parts = [f"{i:06d}" for i in range(1, 2 * HUNDRED_THOUSAND, 2)]
    assert externals(client, image_project, external_id_in=parts) == odd
    mixed = ["-00999", "t-0000", "0042", *(f"x{i}" for i in range(HUNDRED_THOUSAND - 3))]
    wanted, lengths = set(mixed), {len(part) for part in mixed}
    expected = [external_id(i) for i in range(size) if contains_any(external_id(i), wanted, lengths)]
    assert len(expected) == 10 + 100 + 110  # asset-00999x, asset-0000xx, 110 more holding 0042
    assert externals(client, image_project, external_id_in=mixed) == expected


def test_label_lists_of_100000(client, image_project):
    size = 2_000
    build(client, image_project, size)
    alice = client.create_user("alice@x.io", firstname="Alice", lastname="Martin")["id"]
    bob = client.create_user("bob@x.io", firstname="Bob", lastname="Stone")["id"]
    label_ids = [
        label["id"]
        for label in client.append_labels(
            project_id=image_project,
            asset_external_id_array=[external_id(i) for i in range(size)],
            json_response_array=[boxes(box("OBJECT_A", 0, 0, 0.2, 0.2))] * size,
            author_id_array=[alice if i % 2 == 0 else bob for i in range(size)],
        )
    ]
    fake_emails = [f"nobody{i}@x.io" for i in range(HUNDRED_THOUSAND - 1)]
    fake_names = [f"Nobody {i}" for i in range(HUNDRED_THOUSAND - 1)]
    by_alice = label_ids[0::2]

    wanted = by_alice + [f"no-such-label-{i}" for i in range(HUNDRED_THOUSAND - len(by_alice))]
    assert [label["id"] for label in client.labels(image_project, fields=["id"], id_contains=wanted)] == by_alice
    assert client.count_labels(image_project, author_in=["alice martin", *fake_names]) == size // 2
    assert client.count_labels(image_project, author_in=["bob@x.io", *fake_emails]) == size // 2
    assert client.count_labels(image_project, type_in=["DEFAULT"] * HUNDRED_THOUSAND) == size
    strictly = [external_id(i) for i in range(0, 2 * HUNDRED_THOUSAND, 2)]
    assert client.count_labels(image_project, asset_external_id_strictly_in=strictly) == size // 2
    parts = [f"{i:06d}" for i in range(1, 2 * HUNDRED_THOUSAND, 2)]
    assert client.count_labels(image_project, asset_external_id_in=parts) == size // 2
    assert client.count_labels(image_project, asset_status_in=["LABELED"] * HUNDRED_THOUSAND) == size

    even = [external_id(i) for i in range(0, size, 2)]
    odd = [external_id(i) for i in range(1, size, 2)]
    assert externals(client, image_project, label_labeler_in=["alice@x.io", *fake_emails]) == even
    assert externals(client, image_project, label_labeler_not_in=[bob, *fake_emails]) == even
    assert externals(client, image_project, label_author_in=["Stone", *fake_names]) == odd
    assert client.count_assets(image_project, label_reviewer_in=["alice@x.io", *fake_emails]) == 0
    assert client.count_assets(image_project, label_reviewer_not_in=["alice@x.io", *fake_emails]) == size
    assert client.count_assets(image_project, status_in=["LABELED", "TODO"] * (HUNDRED_THOUSAND // 2)) == size
    assert client.count_assets(image_project, label_type_in=["DEFAULT"] * HUNDRED_THOUSAND) == size


def test_metadata_where_lists_of_100000_and_1000_keys(client, image_project):
    size = 2_000
    build(
        client,
        image_project,
        size,
        json_metadata_array=[{"n": i, "tag": f"t{i % 7}", "s": str(i)} for i in range(size)],
    )
    numbers = list(range(0, 2 * HUNDRED_THOUSAND, 2))
    assert externals(client, image_project, metadata_where={"n": numbers}) == [
        external_id(i) for i in range(0, size, 2)
    ]
    tags = [f"t{j}" for j in range(3, HUNDRED_THOUSAND + 3)]
    assert client.count_assets(image_project, metadata_where={"tag": tags}) == sum(1 for i in range(size) if i % 7 >= 3)
    texts = [str(i) for i in range(HUNDRED_THOUSAND)]  # numeric strings match numbers too
    assert client.count_assets(image_project, metadata_where={"s": texts, "n": texts, "tag": tags[:1]}) == sum(
        1 for i in range(size) if i % 7 == 3
    )

    keys = 1_000
    other = client.create_project("Keys", "IMAGE", image_project_interface(client, image_project))["id"]
    client.append_many_to_dataset(
        other,
        content_array=["https://example.com/a.jpg", "https://example.com/b.jpg", "https://example.com/c.jpg"],
        external_id_array=["all", "one-differs", "one-missing"],
        json_metadata_array=[
            {f"k{j}": j for j in range(keys)},
            {**{f"k{j}": j for j in range(keys)}, "k500": "x"},
            {f"k{j}": j for j in range(keys - 1)},
        ],
    )
    assert externals(client, other, metadata_where={f"k{j}": j for j in range(keys)}) == ["all"]
    assert externals(client, other, metadata_where={f"k{j}": [j, str(j), "x"] for j in range(keys)}) == [
        "all",
        "one-differs",
    ]
    ranges = {f"k{j}": [j - 0.5, j + 0.5] for j in range(keys - 1)}
    assert externals(client, other, metadata_where=ranges) == ["all", "one-missing"]


def image_project_interface(client, project_id):
    [project] = client.projects(project_id=project_id, fields=["jsonInterface"])
    return project["jsonInterface"]


def test_category_searches_of_1000_conditions(client, image_project):
    build(client, image_project, 3)
    responses = [
        boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, "1"), box("OBJECT_A", 0.5, 0.5, 0.7, 0.7, "2")),
        {**boxes(box("OBJECT_B", 0, 0, 0.2, 0.2)), "TAGS": {"categories": [{"name": "DAY"}]}},
        {"TAGS": {"categories": [{"name": "NIGHT"}]}},
    ]
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=[external_id(i) for i in range(3)],
        json_response_array=responses,
    )
    never = [f"JOB_0.OBJECT_A.count == {n}" for n in range(3, 1002)]  # 999 conditions no label meets
    any_search = " OR ".join([*never[:500], "TAGS.NIGHT.count > 0", *never[500:]])
    assert externals(client, image_project, label_category_search=any_search) == [external_id(2)]
    assert client.count_labels(image_project, category_search=any_search) == 1
    all_search = " AND ".join([*(f"JOB_0.OBJECT_A.count < {n}" for n in range(3, 1002)), "JOB_0.OBJECT_A.count > 1"])
    assert externals(client, image_project, label_category_search=all_search) == [external_id(0)]

    # The deepest search accepted: 10 nested levels of more than 32 conditions each, AND and OR in turn.
    search = "TAGS.DAY.count == 1"
    for level in range(10):
        joiner, filler = (
            (" OR ", never[level * 40 : level * 40 + 33]) if level % 2 else (" AND ", ["TAGS.D*.count >= 0"] * 33)
        )
        search = joiner.join([*filler, f"({search})"])
    assert client.count_labels(image_project, category_search=search) == 1
    assert externals(client, image_project, label_category_search=search) == [external_id(1)]


def test_export_selection_by_250000_ids(client, image_project):
    """export_labels(asset_ids=…, external_ids=…) selects with the same one-parameter lists (250,000
    ids: beyond PostgreSQL's 65,535 bound parameters, and the 250,000 of Debian's SQLite)."""
    ids = build(client, image_project, 5)
    with client.store.read() as conn:
        project = get_project(conn, image_project)
    size = 250_001
    asset_ids = [ids[1], ids[3], *(f"no-such-id-{i}" for i in range(size - 2))]
    external_ids = [external_id(4), *(f"no-such-asset-{i}" for i in range(size - 1))]
    assert query.count(client.store, "Asset", export_where(project, asset_ids, None, None)) == 2
    assert query.count(client.store, "Asset", export_where(project, None, external_ids, None)) == 1
