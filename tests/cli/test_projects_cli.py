from __future__ import annotations

import json
import re

from tests.factories import box, boxes, image_interface

USAGE_CREATE = "Usage: labelport project create [OPTIONS]\nTry 'labelport project create --help' for help.\n\n"


def _interface_file(tmp_path, interface=None):
    path = tmp_path / "interface.json"
    path.write_text(json.dumps(interface or image_interface()))
    return path


def test_create_from_an_interface_file(cli, client, tmp_path):
    path = _interface_file(tmp_path)
    result = cli(
        "project", "create", "--interface", path, "--input-type", "IMAGE", "--title", "Cars", "--description", "d"
    )
    assert result.exit_code == 0, result.output
    match = re.fullmatch(r"Created project 'Cars' \(IMAGE, 6 job\(s\)\): ([0-9a-f]{32})\n", result.output)
    assert match is not None, result.output
    project = client.projects(project_id=match[1], fields=["title", "description", "inputType", "jsonInterface"])
    assert project == [{"title": "Cars", "description": "d", "inputType": "IMAGE", "jsonInterface": image_interface()}]
    members = client.project_users(match[1], fields=["role", "user.email"])
    assert members == [{"user": {"email": "admin@example.com"}, "role": "ADMIN"}]


def test_create_quiet_prints_only_the_id_and_from_project_copies_the_ontology(cli, client, tmp_path):
    path = _interface_file(tmp_path)
    first = cli("project", "create", "--interface", path, "--input-type", "IMAGE", "--title", "A", "-q")
    assert re.fullmatch(r"[0-9a-f]{32}\n", first.output)
    source = first.output.strip()
    second = cli("project", "create", "--from-project", source, "--input-type", "IMAGE", "--title", "B", "--quiet")
    copied = client.projects(project_id=second.output.strip(), fields=["title", "jsonInterface"])
    assert copied == [{"title": "B", "jsonInterface": image_interface()}]


def test_create_errors_store_nothing(cli, client, tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"jobs": {\n  "JOB_0": {"mlTask": "CLASSIFICATION" "content": {}}}}\n')
    result = cli("project", "create", "--interface", bad_json, "--input-type", "IMAGE", "--title", "x")
    assert result.exit_code == 1
    assert (
        result.output
        == f"Error: The interface file {bad_json} is not valid JSON: line 2, column 40: Expecting ',' delimiter.\n"
    )

    bad_ontology = _interface_file(tmp_path, {"jobs": {"JOB_0": {"mlTask": "DETECTION"}}})
    result = cli("project", "create", "--interface", bad_ontology, "--input-type", "IMAGE", "--title", "x")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: The interface file {bad_ontology}: Job 'JOB_0' has mlTask 'DETECTION'; labelport supports: "
        "CLASSIFICATION, OBJECT_DETECTION, NAMED_ENTITIES_RECOGNITION, NAMED_ENTITIES_RELATION, OBJECT_RELATION, "
        "POSE_ESTIMATION, TRANSCRIPTION.\n"
    )

    missing = tmp_path / "nope.json"
    result = cli("project", "create", "--interface", missing, "--input-type", "IMAGE", "--title", "x")
    assert result.exit_code == 2
    assert result.output == USAGE_CREATE + f"Error: Invalid value for '--interface': File '{missing}' does not exist.\n"

    result = cli("project", "create", "--input-type", "IMAGE", "--title", "x")
    assert result.exit_code == 2
    assert result.output == (
        USAGE_CREATE + "Error: Give the ontology with --interface FILE or --from-project PROJECT_ID (one of them).\n"
    )

    result = cli("project", "create", "--from-project", "nope", "--input-type", "IMAGE", "--title", "x")
    assert result.exit_code == 1
    assert result.output == (
        "Error: Project 'nope' does not exist in this store; list the projects with `labelport project list`.\n"
    )

    result = cli("project", "create", "--interface", _interface_file(tmp_path), "--input-type", "AUDIO", "--title", "x")
    assert result.exit_code == 2
    assert "Error: Invalid value for '--input-type': 'AUDIO' is not one of 'IMAGE', 'GEOSPATIAL'" in result.output
    assert client.count_projects() == 0


def _two_projects(client):
    cars = client.create_project("Cars", "IMAGE", image_interface(), "street scenes")["id"]
    client.append_many_to_dataset(
        cars, content_array=[f"https://h/{i}.jpg" for i in range(4)], external_id_array=["a", "b", "c", "d"]
    )
    client.append_labels(project_id=cars, asset_external_id_array=["a"], json_response_array=[{}])
    long = client.create_project("T" * 60, "TEXT", image_interface(), "line one\nline two " + "d" * 40)["id"]
    return cars, long


def test_list_prints_kili_columns(cli, client):
    cars, long = _two_projects(client)
    result = cli("project", "list")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{'TITLE':<50}  {'ID':<32}  PROGRESS  DESCRIPTION",
        f"{'Cars':<50}  {cars}     25.0%  street scenes",
        f"{'T' * 47 + '...':<50}  {long}       N/A  line one line two {'d' * 29}...",
    ]
    assert cli("project", "list", "--max", "1").output.splitlines()[1:] == [f"Cars   {cars}     25.0%  street scenes"]
    assert cli("project", "list", "--search", "street").output.count("\n") == 2


def test_list_as_json_and_csv_keeps_whole_values(cli, client):
    cars, long = _two_projects(client)
    rows = json.loads(cli("project", "list", "--format", "json").output)
    assert rows[1] == {
        "title": "T" * 60,
        "id": long,
        "description": "line one\nline two " + "d" * 40,
        "numberOfAssets": 0,
        "numberOfRemainingAssets": 0,
        "numberOfReviewedAssets": 0,
        "progress": None,
    }
    assert rows[0]["progress"] == 25.0
    lines = cli("project", "list", "--format", "csv").output.splitlines()
    assert lines[:2] == [
        "title,id,progress,description,numberOfAssets,numberOfRemainingAssets,numberOfReviewedAssets",
        f"Cars,{cars},25.0,street scenes,4,3,0",
    ]
    assert lines[2] == f'{"T" * 60},{long},,"line one'  # the description's line break is kept, quoted


def test_describe(cli, client, image_project):
    client.update_properties_in_project(image_project, consensus_tot_coverage=100, min_consensus_size=2)
    client.append_many_to_dataset(image_project, content_array=["https://h/a.jpg"], external_id_array=["a"])
    alice = client.create_user("alice@x.io")["id"]
    bob = client.create_user("bob@x.io")["id"]
    client.append_labels(
        project_id=image_project,
        asset_external_id_array=["a", "a"],
        author_id_array=[alice, bob],
        json_response_array=[boxes(box("OBJECT_A", 0, 0, 0.5, 0.5)), boxes(box("OBJECT_A", 0, 0, 0.5, 0.25))],
    )
    created = client.projects(project_id=image_project, fields=["createdAt"])[0]["createdAt"]
    result = cli("project", "describe", "--project-id", image_project)
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == f"""\
Title        Images
Description  a test project
ID           {image_project}
Input type   IMAGE
Created      {created}
Members      1

Dataset KPIs
------------
Total number of assets      1
Number of remaining assets  0
Skipped assets              0
Progress                    100.0%

Quality KPIs
------------
Project consensus          0.5
Project honeypot           N/A
Number of reviewed assets  0
Consensus settings         100% of the assets, 2 labelers each
Honeypot                   off

Ontology
--------
JOB                    TASK              TOOLS              CATEGORIES          CHILD JOBS
JOB_0                  OBJECT_DETECTION  rectangle          Object A, Object B  CLASSIF_CHILD
CLASSIF_CHILD (child)  CLASSIFICATION    -                  Red, Blue           -
POLY                   OBJECT_DETECTION  polygon, semantic  Road, Sky           -
POINTS                 OBJECT_DETECTION  marker, polyline   Key                 -
TAGS                   CLASSIFICATION    -                  Day, Night, Rain    -
CAPTION                TRANSCRIPTION     -                  -                   -
"""
    )


def test_update_and_its_errors(cli, client, image_project, tmp_path):
    result = cli(
        "project", "update", "--project-id", image_project, "--title", "New", "--consensus-coverage", "100",
        "--consensus-size", "3", "--honeypot",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Updated project {image_project}: consensus_tot_coverage, min_consensus_size, title, use_honeypot.\n"
    )
    fields = ["title", "consensusTotCoverage", "minConsensusSize", "useHoneyPot"]
    assert client.projects(project_id=image_project, fields=fields) == [
        {"title": "New", "consensusTotCoverage": 100, "minConsensusSize": 3, "useHoneyPot": True}
    ]
    result = cli("project", "update", "--project-id", image_project)
    assert result.exit_code == 2
    assert result.output.endswith(
        "Error: Nothing to update: give at least one option, e.g. --title or --consensus-coverage.\n"
    )
    result = cli("project", "update", "--project-id", image_project, "--consensus-size", "11")
    assert (
        result.exit_code == 2
        and "Invalid value for '--consensus-size': 11 is not in the range 1<=x<=10." in result.output
    )
    smaller = image_interface()
    del smaller["jobs"]["CAPTION"]
    result = cli("project", "update", "--project-id", image_project, "--interface", _interface_file(tmp_path, smaller))
    assert result.exit_code == 0 and result.output == f"Updated project {image_project}: json_interface.\n"
    assert (
        "CAPTION" not in client.projects(project_id=image_project, fields=["jsonInterface"])[0]["jsonInterface"]["jobs"]
    )


def test_delete_asks_unless_yes(cli, client, image_project):
    client.append_many_to_dataset(image_project, content_array=["https://h/a.jpg"], external_id_array=["a"])
    client.append_labels(project_id=image_project, asset_external_id_array=["a"], json_response_array=[{}])
    result = cli("project", "delete", "--project-id", image_project, input="n\n")
    assert result.exit_code == 1
    assert result.output == f"Delete project 'Images' ({image_project}) and its 1 asset(s)? [y/N]: n\nAborted!\n"
    assert client.count_projects() == 1
    result = cli("project", "delete", "--project-id", image_project, "--yes")
    assert result.exit_code == 0
    assert result.output == f"Deleted project 'Images' ({image_project}): 1 asset(s) and 1 label(s).\n"
    assert client.count_projects() == 0
    result = cli("project", "delete", "--project-id", image_project, "--yes")
    assert result.exit_code == 1 and result.output.startswith(f"Error: Project '{image_project}' does not exist")
