from __future__ import annotations

import json

import pytest

from tests.factories import box, boxes


@pytest.fixture
def project(client, image_project):
    """Assets a (labeled by Alice and Bob), b (labeled by Alice) and c (none), with metadata."""
    client.update_properties_in_project(image_project, consensus_tot_coverage=100, min_consensus_size=2)
    client.append_many_to_dataset(
        image_project,
        content_array=["https://h/a.jpg", "https://h/b.jpg", "https://h/c.jpg"],
        external_id_array=["a", "b", "c"],
        json_metadata_array=[{"camera": "front"}, {"camera": "rear"}, {}],
    )
    alice = client.create_user("alice@x.io", firstname="Alice", lastname="Lee")["id"]
    bob = client.create_user("bob@x.io", firstname="Bob", lastname="Ray")["id"]
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a", "a", "b"],
        author_id_array=[alice, bob, alice],
        json_response_array=[
            boxes(box("OBJECT_A", 0, 0, 0.5, 0.5)),
            boxes(box("OBJECT_A", 0, 0, 0.5, 0.25)),
            {"CAPTION": {"text": "a very long caption that does not fit in a table cell at all"}},
        ],
        created_at_array=["2024-05-01T10:00:00.000Z", "2024-05-02T10:00:00.000Z", "2024-05-03T10:00:00.000Z"],
    )
    return image_project


def test_asset_list_table(cli, client, project):
    ids = [row["id"] for row in client.assets(project, fields=["id"])]
    result = cli("asset", "list", "--project-id", project)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"externalId  id{' ' * 32}status   isHoneypot  consensusMark  honeypotMark\n"
        f"a           {ids[0]}  LABELED  false       0.5\n"
        f"b           {ids[1]}  ONGOING  false\n"
        f"c           {ids[2]}  TODO     false\n"
    )


def test_asset_list_fields_filters_and_paging(cli, project):
    result = cli(
        "asset", "list", "--project-id", project, "--fields", "externalId,labels.author.email",
        "--fields", "jsonMetadata", "--filter", "status_in=LABELED,ONGOING", "--filter", 'metadata_where={"camera": "front"}',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == (
        "externalId  labels.author.email        jsonMetadata\n"
        'a           ["alice@x.io","bob@x.io"]  {"camera":"front"}\n'
    )
    result = cli("asset", "list", "--project-id", project, "--fields", "externalId", "--first", "1", "--skip", "1")
    assert result.output == "externalId\nb\n"
    result = cli(
        "asset", "list", "--project-id", project, "--fields", "externalId", "--filter", "consensus_mark_gte=0.5"
    )
    assert result.output == "externalId\na\n"


def test_asset_list_json_keeps_the_nesting_and_csv_flattens(cli, client, project):
    fields = "externalId,latestLabel.author.email,latestLabel.jsonResponse"
    result = cli("asset", "list", "--project-id", project, "--fields", fields, "--format", "json")
    assert result.exit_code == 0, result.output
    expected = client.assets(project, fields=fields.split(","))
    assert json.loads(result.output) == expected
    assert result.output.startswith('[\n  {\n    "latestLabel": {\n      "author": {\n        "email": "bob@x.io"')
    result = cli("asset", "list", "--project-id", project, "--fields", fields, "--format", "csv")
    assert result.output.splitlines() == [
        "externalId,latestLabel.author.email,latestLabel.jsonResponse",
        'a,bob@x.io,"{""JOB_0"":{""annotations"":[{""categories"":[{""name"":""OBJECT_A""}],""mid"":""m1"",'
        '""type"":""rectangle"",""boundingPoly"":[{""normalizedVertices"":[{""x"":0,""y"":0.25},{""x"":0,""y"":0},'
        '{""x"":0.5,""y"":0},{""x"":0.5,""y"":0.25}]}],""children"":{}}]}}"',
        'b,alice@x.io,"{""CAPTION"":{""text"":""a very long caption that does not fit in a table cell at all""}}"',
        "c,,",
    ]
    empty = cli("asset", "list", "--project-id", project, "--filter", "status_in=REVIEWED", "--format", "json")
    assert empty.output == "[]\n"


def test_label_list(cli, project):
    result = cli("label", "list", "--project-id", project, "--fields", "labelOf.externalId,author.email,createdAt")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "labelOf.externalId  author.email  createdAt\n"
        "a                   alice@x.io    2024-05-01T10:00:00.000Z\n"
        "a                   bob@x.io      2024-05-02T10:00:00.000Z\n"
        "b                   alice@x.io    2024-05-03T10:00:00.000Z\n"
    )
    result = cli(
        "label", "list", "--project-id", project, "--fields", "labelOf.externalId,consensusMark",
        "--filter", "author_in=Bob Ray", "--format", "csv",
    )  # fmt: skip
    assert result.output == "labelOf.externalId,consensusMark\na,0.5\n"
    result = cli(
        "label", "list", "--project-id", project, "--fields", "jsonResponse", "--filter", "asset_external_id_in=b"
    )
    assert result.output == 'jsonResponse\n{"CAPTION":{"text":"a very long caption that do...\n'


def test_list_errors(cli, project):
    result = cli("asset", "list", "--project-id", project, "--filter", "colour=red")
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: Unknown filter 'colour' for assets(). Valid filters: asset_id, asset_id_in, asset_id_not_in, "
    )
    assert result.output.endswith(", skipped, status_in, updated_at_gte, updated_at_lte.\n")
    result = cli("label", "list", "--project-id", project, "--filter", "colour=red")
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: Unknown filter 'colour' for labels(). Valid filters: asset_external_id_in, "
    )
    result = cli("asset", "list", "--project-id", project, "--fields", "externalId,nope")
    assert result.exit_code == 1
    assert result.output == (
        "Error: Unknown field 'nope': Asset has no field 'nope'. Valid fields: consensusMark, content, createdAt, "
        "externalId, honeypotMark, id, inferenceMark, isHoneypot, isUsedForConsensus, jsonContent, jsonMetadata, "
        "labels, latestLabel, latestLabels, pageResolutions, priority, project, resolution, skipped, status, updatedAt.\n"
    )
    result = cli("asset", "list", "--project-id", project, "--filter", "status_in")
    assert result.exit_code == 2
    assert result.output.endswith(
        "Error: Invalid value for --filter: 'status_in' is not KEY=VALUE, e.g. status_in=LABELED,REVIEWED\n"
    )
    result = cli("label", "list", "--project-id", "nope")
    assert result.exit_code == 1 and result.output.startswith("Error: Project 'nope' does not exist in this store")


def test_warnings_print_on_stderr(cli, project):
    result = cli(
        "asset", "list", "--project-id", project, "--fields", "externalId", "--filter", "consensus_mark_gt=0.4"
    )
    assert result.exit_code == 0
    assert result.stdout == "externalId\na\n"
    assert result.stderr.startswith("Warning: ") and "consensus_mark_gte" in result.stderr
