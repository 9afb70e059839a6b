from __future__ import annotations

import pytest

from labelport.errors import OntologyError
from labelport.ontology import Ontology
from tests.factories import image_interface


def test_valid_interface_is_indexed_in_order():
    ontology = Ontology.from_json(image_interface())
    assert [job.name for job in ontology.root_jobs] == [
        "JOB_0",
        "POLY",
        "POINTS",
        "TAGS",
        "CAPTION",
    ]
    job = ontology.job("JOB_0")
    assert [(c.key, c.name, c.index) for c in job.categories.values()] == [
        ("OBJECT_A", "Object A", 0),
        ("OBJECT_B", "Object B", 1),
    ]
    assert job.child_jobs == ("CLASSIF_CHILD",)
    assert job.is_single_choice and job.is_object_job
    assert ontology.job("TAGS").is_multiple_choice
    assert ontology.job("POINTS").allows_tool("marker") and not ontology.job("POINTS").allows_tool("rectangle")


def _with(job_name: str, **changes):
    interface = image_interface()
    interface["jobs"][job_name].update(changes)
    return interface


@pytest.mark.parametrize(
    ("interface", "message"),
    [
        ([], "The jsonInterface must be a JSON object with a 'jobs' key, not list."),
        ({"jobs": {}}, "The jsonInterface must have a non-empty 'jobs' object"),
        (
            _with("JOB_0", mlTask="SEGMENTATION"),
            "Job 'JOB_0' has mlTask 'SEGMENTATION'; labelport supports:",
        ),
        (_with("JOB_0", tools=["lasso"]), "Job 'JOB_0' has unknown tool(s) ['lasso']"),
        (_with("JOB_0", tools=[]), "Job 'JOB_0' (OBJECT_DETECTION) needs at least one tool"),
        (
            _with("TAGS", content={"input": "slider", "categories": {"A": {"name": "A"}}}),
            "Job 'TAGS' is a CLASSIFICATION and needs content.input in:",
        ),
        (
            _with("TAGS", content={"input": "radio"}),
            "Job 'TAGS' (CLASSIFICATION) needs content.categories.",
        ),
        (_with("JOB_0", required=3), "Job 'JOB_0': 'required' must be 0 or 1, not 3."),
        (
            _with("CLASSIF_CHILD", isChild=False),
            "Job 'JOB_0', category 'OBJECT_A' lists child job 'CLASSIF_CHILD', which is not marked \"isChild\": true",
        ),
    ],
)
def test_invalid_interfaces_are_refused_with_a_message_naming_the_fault(interface, message):
    with pytest.raises(OntologyError) as error:
        Ontology.from_json(interface)
    assert str(error.value).startswith(message)


def test_unknown_child_job_and_bad_color():
    interface = image_interface()
    interface["jobs"]["JOB_0"]["content"]["categories"]["OBJECT_B"]["children"] = ["NOPE"]
    with pytest.raises(
        OntologyError,
        match="category 'OBJECT_B' lists child job 'NOPE', which the ontology does not define",
    ):
        Ontology.from_json(interface)
    interface = image_interface()
    interface["jobs"]["JOB_0"]["content"]["categories"]["OBJECT_B"]["color"] = "red"
    with pytest.raises(OntologyError, match=r"category 'OBJECT_B': color must look like '#1A2B3C', not 'red'"):
        Ontology.from_json(interface)


def test_child_cycles_are_refused():
    interface = image_interface()
    interface["jobs"]["CLASSIF_CHILD"]["content"]["categories"]["RED"]["children"] = ["CHILD_2"]
    interface["jobs"]["CHILD_2"] = {
        "mlTask": "CLASSIFICATION",
        "isChild": True,
        "content": {
            "input": "radio",
            "categories": {"X": {"name": "X", "children": ["CLASSIF_CHILD"]}},
        },
    }
    with pytest.raises(OntologyError, match="form a cycle: "):
        Ontology.from_json(interface)


def test_kili_fixture_interfaces(kili_fixture):
    pose, _ = kili_fixture("image_pose_kili")
    assert list(Ontology.from_json(pose["jsonInterface"]).jobs) == [
        "OBJECT_DETECTION_JOB",
        "OBJECT_DETECTION_JOB_0",
        "OBJECT_DETECTION_JOB_1",
        "OBJECT_DETECTION_JOB_2",
        "OBJECT_DETECTION_JOB_3",
        "POSE_ESTIMATION_JOB",
    ]
    semantic, _ = kili_fixture("image_semantic_coco")
    assert Ontology.from_json(semantic["jsonInterface"]).job("OBJECT_DETECTION_JOB").tools == ("semantic",)
    # The geotiff fixture's only job has no categories: no annotation could ever fit it.
    geotiff, _ = kili_fixture("image_geotiff_geojson")
    with pytest.raises(OntologyError) as error:
        Ontology.from_json(geotiff["jsonInterface"])
    assert str(error.value) == "Job 'JOB' (OBJECT_DETECTION) needs content.categories."
