from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelport.annotations import validate
from labelport.annotations.validate import validate_response
from labelport.errors import JsonResponseError
from labelport.ontology import Ontology
from tests.factories import box, boxes, image_interface

ONTOLOGY = Ontology.from_json(image_interface())


def check(response, input_type="IMAGE"):
    return validate_response(response, ONTOLOGY, input_type, "car_1")


def error_of(response, input_type="IMAGE") -> str:
    with pytest.raises(JsonResponseError) as error:
        check(response, input_type)
    return str(error.value)


def test_summary_counts_objects_children_and_classifications():
    response = {
        **boxes(
            box("OBJECT_A", 0.1, 0.1, 0.2, 0.2, "a", child="RED"),
            box("OBJECT_B", 0.3, 0.3, 0.4, 0.4, "b"),
        ),
        "TAGS": {"categories": [{"name": "DAY"}, {"name": "RAIN"}]},
        "CAPTION": {"text": "a red square"},
        "ROTATION_JOB": {"rotation": 90},
    }
    summary = check(response)
    # 2 boxes + 1 filled child job + 1 classification job (however many ticks) + 1 transcription
    assert summary.number_of_annotations == 5
    assert dict(summary.category_counts) == {
        ("JOB_0", "OBJECT_A"): 1,
        ("JOB_0", "OBJECT_B"): 1,
        ("CLASSIF_CHILD", "RED"): 1,
        ("TAGS", "DAY"): 1,
        ("TAGS", "RAIN"): 1,
    }


def test_empty_response_is_valid():
    summary = check({})
    assert summary.number_of_annotations == 0 and not summary.category_counts


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ([], "Asset 'car_1': the jsonResponse must be a JSON object keyed by job name."),
        (
            {"JOB_9": {}},
            "Asset 'car_1', job 'JOB_9': this job is not in the ontology; jobs are: "
            "JOB_0, CLASSIF_CHILD, POLY, POINTS, TAGS, CAPTION.",
        ),
        (
            boxes(box("OBJECT_Z", 0.1, 0.1, 0.2, 0.2)),
            "Asset 'car_1', job 'JOB_0', category 'OBJECT_Z': this category is not in the job; "
            "categories are: OBJECT_A, OBJECT_B.",
        ),
        (
            {"JOB_0": {"annotations": [{**box("OBJECT_A", 0.1, 0.1, 0.2, 0.2), "type": "polygon"}]}},
            "Asset 'car_1', job 'JOB_0', category 'OBJECT_A': annotation type 'polygon' is not a tool of "
            "this job; tools are: rectangle.",
        ),
        (
            boxes(box("OBJECT_A", 0.1, 0.1, 0.2, 1.5)),
            "Asset 'car_1', job 'JOB_0', category 'OBJECT_A': rectangle boundingPoly.normalizedVertices: "
            "y=1.5 is outside 0..1; coordinates are normalized by the image width and height "
            "(divide pixel values by them).",
        ),
        (
            {
                "JOB_0": {
                    "annotations": [
                        {
                            **box("OBJECT_A", 0.1, 0.1, 0.2, 0.2),
                            "boundingPoly": [{"normalizedVertices": [{"x": 0.1}]}],
                        }
                    ]
                }
            },
            "Asset 'car_1', job 'JOB_0', category 'OBJECT_A': rectangle boundingPoly.normalizedVertices: "
            "y must be a finite number, got None.",
        ),
        (
            {"JOB_0": {"annotations": [{**box("OBJECT_A", 0.1, 0.1, 0.2, 0.2), "boundingPoly": []}]}},
            "Asset 'car_1', job 'JOB_0', category 'OBJECT_A': a rectangle needs a non-empty 'boundingPoly' list.",
        ),
        (
            {"TAGS": {"categories": [{"name": "DAY"}, {"name": "DAY"}]}},
            "Asset 'car_1', job 'TAGS': category chosen twice in ['DAY', 'DAY'].",
        ),
        (
            {
                "JOB_0": {
                    "annotations": [
                        box("OBJECT_A", 0.1, 0.1, 0.2, 0.2, child=None)
                        | {"children": {"CLASSIF_CHILD": {"categories": [{"name": "RED"}, {"name": "BLUE"}]}}}
                    ]
                }
            },
            "Asset 'car_1', job 'CLASSIF_CHILD': this job takes one category (radio), got 2: ['RED', 'BLUE'].",
        ),
        (
            {"CAPTION": {"text": 3}},
            "Asset 'car_1', job 'CAPTION': a transcription needs a string 'text'.",
        ),
        (
            {"ROTATION_JOB": {"rotation": 45}},
            "Asset 'car_1', job 'ROTATION_JOB': 'rotation' must be one of (0, 90, 180, 270), got {'rotation': 45}.",
        ),
        (
            {
                "POINTS": {
                    "annotations": [
                        {
                            "categories": [{"name": "KEY"}],
                            "type": "marker",
                            "point": {"x": "0.1", "y": 0.2},
                        }
                    ]
                }
            },
            "Asset 'car_1', job 'POINTS', category 'KEY': marker 'point': x must be a finite number, got '0.1'.",
        ),
        (
            {"JOB_0": {"annotations": [{"type": "rectangle", "categories": []}]}},
            "Asset 'car_1', job 'JOB_0': every annotation needs a non-empty 'categories' list.",
        ),
    ],
)
def test_invalid_responses_name_the_asset_job_and_category(response, message):
    assert error_of(response) == message


def test_tolerance_allows_a_small_overshoot():
    check(boxes(box("OBJECT_A", -0.005, 0.0, 0.5, 1.009)))
    assert "x=-0.02 is outside 0..1" in error_of(boxes(box("OBJECT_A", -0.02, 0.0, 0.5, 0.5)))


def test_polylines_points_and_semantic():
    response = {
        "POINTS": {
            "annotations": [
                {
                    "mid": "p",
                    "categories": [{"name": "KEY"}],
                    "type": "marker",
                    "point": {"x": 0.5, "y": 0.5},
                },
                {
                    "mid": "l",
                    "categories": [{"name": "KEY"}],
                    "type": "polyline",
                    "polyline": [{"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.3}],
                },
            ]
        },
        "POLY": {
            "annotations": [
                {
                    "mid": "s",
                    "categories": [{"name": "SKY"}],
                    "type": "semantic",
                    "boundingPoly": [
                        {
                            "normalizedVertices": [
                                {"x": 0, "y": 0},
                                {"x": 1, "y": 0},
                                {"x": 1, "y": 0.4},
                            ]
                        },
                        {
                            "normalizedVertices": [
                                {"x": 0.4, "y": 0.1},
                                {"x": 0.5, "y": 0.1},
                                {"x": 0.5, "y": 0.2},
                            ]
                        },
                    ],
                },
            ]
        },
    }
    summary = check(response)
    assert summary.number_of_annotations == 3
    assert summary.category_counts[("POINTS", "KEY")] == 2


def test_video_frames_count_an_object_once_by_mid():
    frame = boxes(box("OBJECT_A", 0.1, 0.1, 0.2, 0.2, "same"))
    summary = check({"0": frame, "1": frame, "2": boxes(box("OBJECT_B", 0.1, 0.1, 0.2, 0.2, "other"))}, "VIDEO")
    assert summary.number_of_annotations == 2
    assert dict(summary.category_counts) == {("JOB_0", "OBJECT_A"): 1, ("JOB_0", "OBJECT_B"): 1}
    assert error_of({"0": frame, "1": {"NOPE": {}}}, "VIDEO") == (
        "Asset 'car_1', job 'NOPE': this job is not in the ontology (frame 1); jobs are: "
        "JOB_0, CLASSIF_CHILD, POLY, POINTS, TAGS, CAPTION."
    )


NER = Ontology.from_json(
    {
        "jobs": {
            "NER": {
                "mlTask": "NAMED_ENTITIES_RECOGNITION",
                "content": {
                    "input": "radio",
                    "categories": {"PER": {"name": "Person"}, "ORG": {"name": "Organization"}},
                },
            },
            "REL": {
                "mlTask": "NAMED_ENTITIES_RELATION",
                "content": {
                    "input": "radio",
                    "categories": {
                        "WORKS_FOR": {
                            "name": "Works for",
                            "startEntities": ["PER"],
                            "endEntities": ["ORG"],
                        }
                    },
                },
            },
        }
    }
)


def test_named_entities_and_relations():
    response = {
        "NER": {
            "annotations": [
                {
                    "mid": "e1",
                    "categories": [{"name": "PER"}],
                    "beginOffset": 0,
                    "endOffset": 5,
                    "content": "Alice",
                },
                {
                    "mid": "e2",
                    "categories": [{"name": "ORG"}],
                    "beginOffset": 15,
                    "endOffset": 19,
                    "content": "Kili",
                },
            ]
        },
        "REL": {
            "annotations": [
                {
                    "mid": "r",
                    "categories": [{"name": "WORKS_FOR"}],
                    "startEntities": [{"mid": "e1"}],
                    "endEntities": [{"mid": "e2"}],
                },
            ]
        },
    }
    assert validate_response(response, NER, "TEXT", "doc").number_of_annotations == 3
    response["REL"]["annotations"][0]["endEntities"] = [{"mid": "ghost"}]
    with pytest.raises(JsonResponseError) as error:
        validate_response(response, NER, "TEXT", "doc")
    assert (
        str(error.value)
        == "Asset 'doc', job 'REL': a relation's endEntities refers to mid 'ghost', which no annotation of this label has."
    )
    bad = {"NER": {"annotations": [{"mid": "e", "categories": [{"name": "PER"}], "beginOffset": -1, "content": "x"}]}}
    with pytest.raises(JsonResponseError, match=re.escape("'beginOffset' must be an integer ≥ 0, got -1.")):
        validate_response(bad, NER, "TEXT", "doc")


def test_pdf_entities_take_lists_of_vertex_lists():
    position = {
        "pageNumberArray": [1],
        "boundingPoly": [{"normalizedVertices": [[{"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.2}]]}],
    }
    response = {
        "NER": {
            "annotations": [
                {
                    "mid": "e",
                    "categories": [{"name": "PER"}],
                    "content": "Bob",
                    "annotations": [position],
                }
            ]
        }
    }
    assert validate_response(response, NER, "PDF", "doc.pdf").number_of_annotations == 1
    position["pageNumberArray"] = [0]
    with pytest.raises(JsonResponseError, match=r"'pageNumberArray' must list page numbers ≥ 1, got \[0\]."):
        validate_response(response, NER, "PDF", "doc.pdf")


def test_kili_fixture_labels_are_valid(kili_fixture):
    for name in ("image_pose_kili", "image_semantic_coco"):
        project, assets = kili_fixture(name)
        ontology = Ontology.from_json(project["jsonInterface"])
        for asset in assets:
            summary = validate_response(asset["latestLabel"]["jsonResponse"], ontology, "IMAGE", asset["externalId"])
            assert summary.number_of_annotations > 0


# -- the fast paths accept exactly what the general checks accept --------------------------------

_value = st.one_of(
    st.integers(min_value=0, max_value=4).map(lambda i: i / 4),
    st.sampled_from([1, 0, True, -0.5, 1.2, float("nan"), float("inf"), "0.5", None]),
)


@st.composite
def rectangle_like(draw):
    """Mostly valid rectangles, with one part at a time made unusual or wrong."""
    x0, x1 = sorted((draw(st.floats(0, 1)), draw(st.floats(0, 1))))
    y0, y1 = sorted((draw(st.floats(0, 1)), draw(st.floats(0, 1))))
    vertices = [{"x": x0, "y": y1}, {"x": x0, "y": y0}, {"x": x1, "y": y0}, {"x": x1, "y": y1}]
    ann = {
        "mid": "m",
        "type": "rectangle",
        "categories": [{"name": "OBJECT_A"}],
        "boundingPoly": [{"normalizedVertices": vertices}],
    }
    change = draw(
        st.sampled_from(["none", "coordinate", "edge", "category", "mid", "children", "type", "order", "extra"])
    )
    if change == "coordinate":
        vertices[draw(st.integers(0, 3))][draw(st.sampled_from("xy"))] = draw(_value)
    elif change == "edge":  # a whole edge moves: both vertices that hold it
        first, axis = draw(st.sampled_from([(0, "x"), (1, "y"), (2, "x"), (3, "y")]))
        vertices[first][axis] = vertices[(first + 1) % 4][axis] = draw(_value)
    elif change == "category":
        ann["categories"] = draw(
            st.sampled_from(
                [[{"name": "NOPE"}], [], [{"name": "OBJECT_A", "confidence": 90}], [{"name": "OBJECT_A"}] * 2]
            )
        )
    elif change == "mid":
        ann["mid"] = draw(st.sampled_from([7, "", None, True, 1.5]))
    elif change == "children":
        ann["children"] = draw(st.sampled_from([{}, {"COLOR": {"categories": [{"name": "RED"}]}}, []]))
    elif change == "type":
        ann["type"] = draw(st.sampled_from(["polygon", "point", "RECTANGLE"]))
    elif change == "order":
        vertices.reverse()
    elif change == "extra":
        ann["score"] = 0.5
    return ann


def _outcome(response):
    try:
        summary = validate_response(response, ONTOLOGY, "IMAGE", "car_1", boxes=True)
    except Exception as error:  # the same error type and message either way
        return type(error).__name__, str(error)
    return summary.number_of_annotations, dict(summary.category_counts)


@settings(max_examples=400, deadline=None)
@given(st.lists(rectangle_like(), max_size=4))
def test_rectangle_fast_path_accepts_and_counts_as_the_general_checks(annotations):
    response = {"JOB_0": {"annotations": annotations}}
    fast = _outcome(response)
    assert fast == _general_outcome(response)


def _general_outcome(response):
    """The outcome with the fast paths of object jobs turned off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validate._Validator, "plain_rectangles", lambda self, job, anns: None)
        patch.setattr(validate._Validator, "plain_region", lambda self, job, ann: False)
        return _outcome(response)


@st.composite
def region_like(draw):
    """Mostly valid regions (polygons, semantic masks with holes, rectangles of any shape), with one
    part at a time made unusual or wrong."""
    job, tool = draw(
        st.sampled_from([("POLY", "polygon"), ("POLY", "semantic"), ("JOB_0", "rectangle"), ("POLY", "rectangle")])
    )
    point = st.builds(lambda x, y: {"x": x, "y": y}, st.floats(0, 1), st.floats(0, 1))
    rings = draw(st.lists(st.lists(point, min_size=1, max_size=5), min_size=1, max_size=3))
    category = "OBJECT_B" if job == "JOB_0" else "ROAD"
    ann = {"mid": "m", "type": tool, "categories": [{"name": category}], "boundingPoly": []}
    ann["boundingPoly"] = [{"normalizedVertices": ring} for ring in rings]
    change = draw(
        st.sampled_from(
            ["none", "none", "coordinate", "key", "vertex", "ring", "poly", "category", "mid", "children", "extra"]
        )
    )
    ring = rings[draw(st.integers(0, len(rings) - 1))]
    if change == "coordinate":  # at and past the edges of the tolerance too
        edges = st.sampled_from([-0.01, -0.0100001, 1.01, 1.0100001, 1.5, -1, 2])
        ring[draw(st.integers(0, len(ring) - 1))][draw(st.sampled_from("xy"))] = draw(st.one_of(_value, edges))
    elif change == "key":
        del ring[draw(st.integers(0, len(ring) - 1))][draw(st.sampled_from("xy"))]
    elif change == "vertex":
        ring[draw(st.integers(0, len(ring) - 1))] = draw(st.sampled_from([None, [0.5, 0.5], "0.5"]))
    elif change == "ring":
        ann["boundingPoly"][0]["normalizedVertices"] = draw(st.sampled_from([[], None, {}]))
    elif change == "poly":
        ann["boundingPoly"] = draw(st.sampled_from([[], None, [None], [[{"x": 0.5, "y": 0.5}]]]))
    elif change == "category":
        ann["categories"] = draw(
            st.sampled_from(
                [
                    [{"name": "NOPE"}],
                    [],
                    None,
                    [{"name": category, "confidence": 90}],
                    [{"name": category, "confidence": True}],
                    [{"name": category}] * 2,
                ]
            )
        )
    elif change == "mid":
        ann["mid"] = draw(st.sampled_from([7, "", None, True, 1.5]))
    elif change == "children":
        ann["children"] = draw(st.sampled_from([{}, None, {"COLOR": {"categories": [{"name": "RED"}]}}, []]))
    elif change == "extra":
        ann["score"] = 0.5
    return job, ann


@settings(max_examples=500, deadline=None)
@given(st.lists(region_like(), max_size=4))
def test_region_fast_path_accepts_and_counts_as_the_general_checks(regions):
    response: dict = {}
    for job, ann in regions:
        response.setdefault(job, {"annotations": []})["annotations"].append(ann)
    assert _outcome(response) == _general_outcome(response)
