"""Tests of the ParsedLabel API (labelport.annotations.parsing)."""

from __future__ import annotations

import copy
import json
import re
import types
from pathlib import Path

import pytest

from labelport.annotations.parsing import (
    Annotation,
    AnnotationList,
    BoundingPoly,
    Category,
    CategoryList,
    FramesList,
    JobPayload,
    ParsedJobs,
    ParsedLabel,
    PdfPosition,
    PosePointAnnotation,
    RequiredJobMissingError,
    parse_labels,
)
from labelport.errors import (
    AttributeNotCompatibleWithJobError,
    FrameIndexError,
    JobNotExistingError,
    JsonResponseError,
    OntologyError,
)
from labelport.ontology import Ontology

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kili-sdk"


def _job(task, categories=None, **extra):
    job = {"mlTask": task, "content": {}, "required": 0, "isChild": False}
    if categories is not None:
        job["content"]["categories"] = categories
    if "input" in extra:
        job["content"]["input"] = extra.pop("input")
    job.update(extra)
    return job


def _cat(name, children=(), **extra):
    return {"name": name, "children": list(children), **extra}


IMAGE_INTERFACE = {
    "jobs": {
        "CLASSIF": _job(
            "CLASSIFICATION",
            {"A": _cat("Cat A", ["CHILD_TEXT"]), "B": _cat("Cat B")},
            input="radio",
        ),
        "MULTI": _job("CLASSIFICATION", {"X": _cat("X"), "Y": _cat("Y")}, input="checkbox"),
        "REQUIRED": _job("CLASSIFICATION", {"R": _cat("R")}, input="singleDropdown", required=1),
        "OD": _job(
            "OBJECT_DETECTION",
            {"OBJECT_A": _cat("Object A", ["TRANSCRIPTION_JOB"]), "OBJECT_B": _cat("Object B")},
            input="radio",
            required=1,
            tools=["rectangle", "polygon", "semantic", "marker", "polyline", "vector"],
        ),
        "DATE_JOB": _job("TRANSCRIPTION", input="date"),
        "NUMBER_JOB": _job("TRANSCRIPTION", input="number"),
        "POSE": _job(
            "OBJECT_DETECTION",
            {
                "HEAD": _cat(
                    "Head",
                    points=[
                        {"code": "NOSE", "name": "Nose", "children": ["POINT_CHILD"]},
                        {"code": "EYE", "name": "Eye"},
                    ],
                )
            },
            input="radio",
            tools=["pose"],
        ),
        "OREL": _job(
            "OBJECT_RELATION",
            {"LINK": _cat("Link", startObjects=["OBJECT_A"], endObjects=["OBJECT_B"])},
            input="radio",
        ),
        "TRANSCRIPTION_JOB": _job("TRANSCRIPTION", input="textField", isChild=True),
        "CHILD_TEXT": _job("TRANSCRIPTION", input="textField", isChild=True),
        "POINT_CHILD": _job("CLASSIFICATION", {"OPEN": _cat("Open")}, input="radio", isChild=True),
    }
}
ROOT_JOBS = ["CLASSIF", "MULTI", "REQUIRED", "OD", "DATE_JOB", "NUMBER_JOB", "POSE", "OREL"]

RECTANGLE_VERTICES = [
    {"x": 0.61, "y": 0.77},
    {"x": 0.61, "y": 0.39},
    {"x": 0.90, "y": 0.39},
    {"x": 0.90, "y": 0.77},
]
TRIANGLE = [{"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.1}, {"x": 0.2, "y": 0.3}]


def _rectangle(mid="rect-1", category="OBJECT_A", **extra):
    return {
        "mid": mid,
        "type": "rectangle",
        "categories": [{"name": category}],
        "boundingPoly": [{"normalizedVertices": copy.deepcopy(RECTANGLE_VERTICES)}],
        "children": {},
        **extra,
    }


IMAGE_RESPONSE = {
    "CLASSIF": {"categories": [{"name": "A", "confidence": 100, "children": {"CHILD_TEXT": {"text": "why A"}}}]},
    "REQUIRED": {"categories": [{"name": "R"}]},
    "OD": {
        "annotations": [
            _rectangle(score=87, children={"TRANSCRIPTION_JOB": {"text": "hello"}}),
            {
                "mid": "marker-1",
                "type": "marker",
                "categories": [{"name": "OBJECT_B"}],
                "point": {"x": 0.5, "y": 0.25},
                "children": {},
            },
            {
                "mid": "line-1",
                "type": "polyline",
                "categories": [{"name": "OBJECT_B"}],
                "polyline": [{"x": 0.1, "y": 0.2}, {"x": 0.3, "y": 0.4}],
                "children": {},
            },
        ]
    },
    "POSE": {
        "annotations": [
            {
                "mid": "pose-1",
                "type": "pose",
                "kind": "POSE_ESTIMATION",
                "categories": [{"name": "HEAD"}],
                "children": {},
                "points": [
                    {
                        "code": "NOSE",
                        "name": "Nose",
                        "jobName": "POSE",
                        "mid": "pt-1",
                        "type": "marker",
                        "point": {"x": 0.4, "y": 0.5},
                    },
                    {"code": "EYE", "mid": "pt-2", "type": "marker", "point": {"x": 0.3, "y": 0.2}},
                ],
            }
        ]
    },
    "OREL": {
        "annotations": [
            {
                "mid": "rel-1",
                "categories": [{"name": "LINK"}],
                "startObjects": [{"mid": "rect-1"}],
                "endObjects": [{"mid": "marker-1"}],
                "children": {},
            }
        ]
    },
}


def _label(response=None, **extra):
    return {
        "id": "label-1",
        "labelType": "DEFAULT",
        "jsonResponse": copy.deepcopy(IMAGE_RESPONSE if response is None else response),
        "author": {"id": "u1", "email": "a@b.c"},
        **extra,
    }


@pytest.fixture
def label() -> ParsedLabel:
    return ParsedLabel(_label(), IMAGE_INTERFACE, "IMAGE")


def _raises(error, message):
    return pytest.raises(error, match=f"^{re.escape(message)}$")


def _incompatible(attribute):
    return _raises(
        AttributeNotCompatibleWithJobError,
        f"The attribute '{attribute}' is not compatible with the job.",
    )


# -- canonical uses --------------------------------------------------------------------------------


def test_canonical_uses(label):
    first = label.jobs["OD"].annotations[0]
    assert first.category.name == "OBJECT_A"
    assert first.category.display_name == "Object A"
    assert first.bounding_poly[0].normalized_vertices == RECTANGLE_VERTICES
    assert first.children["TRANSCRIPTION_JOB"].text == "hello"
    assert label.jobs["CLASSIF"].category.display_name == "Cat A"
    assert label.jobs["CLASSIF"].category.name == "A"


def test_wrapper_types(label):
    assert isinstance(label.jobs, ParsedJobs)
    assert isinstance(label.jobs["OD"], JobPayload)
    assert isinstance(label.jobs["OD"].annotations, AnnotationList)
    assert isinstance(label.jobs["OD"].annotations[0], Annotation)
    assert isinstance(label.jobs["CLASSIF"].categories, CategoryList)
    assert isinstance(label.jobs["CLASSIF"].categories[0], Category)
    assert isinstance(label.jobs["OD"].annotations[0].bounding_poly[0], BoundingPoly)


# -- ParsedLabel -----------------------------------------------------------------------------------


def test_parsed_label_is_the_label_without_json_response(label):
    assert isinstance(label, dict)
    assert dict(label) == {
        "id": "label-1",
        "labelType": "DEFAULT",
        "author": {"id": "u1", "email": "a@b.c"},
    }
    assert "jsonResponse" not in label


def test_to_dict_round_trips_with_key_order():
    raw = _label()
    parsed = ParsedLabel(raw, IMAGE_INTERFACE, "IMAGE")
    assert parsed.to_dict() == raw
    assert list(parsed.to_dict()) == ["id", "labelType", "jsonResponse", "author"]
    assert parsed.json_response == raw["jsonResponse"]


def test_parsed_label_is_a_deep_copy():
    raw = _label()
    parsed = ParsedLabel(raw, IMAGE_INTERFACE, "IMAGE")
    raw["author"]["email"] = "changed"
    raw["jsonResponse"]["OD"]["annotations"][0]["mid"] = "changed"
    assert parsed["author"]["email"] == "a@b.c"
    assert parsed.jobs["OD"].annotations[0].mid == "rect-1"


def test_edits_do_not_touch_the_input_and_json_response_is_a_new_dict():
    raw = _label()
    parsed = ParsedLabel(raw, IMAGE_INTERFACE, "IMAGE")
    parsed.jobs["OD"].annotations[0].mid = "new-mid"
    assert raw["jsonResponse"]["OD"]["annotations"][0]["mid"] == "rect-1"
    assert parsed.json_response["OD"]["annotations"][0]["mid"] == "new-mid"
    parsed.json_response["OD"]["annotations"][0]["mid"] = "ignored"
    assert parsed.jobs["OD"].annotations[0].mid == "new-mid"


def test_repr_and_str_print_the_restored_dict(label):
    assert repr(label) == repr(label.to_dict())
    assert str(label) == str(label.to_dict())


def test_json_response_given_as_a_string():
    raw = _label()
    raw["jsonResponse"] = json.dumps(IMAGE_RESPONSE)
    parsed = ParsedLabel(raw, IMAGE_INTERFACE, "IMAGE")
    assert parsed.json_response == IMAGE_RESPONSE
    with _raises(JsonResponseError, "The label's jsonResponse must be a JSON object, not list."):
        ParsedLabel({"jsonResponse": []}, IMAGE_INTERFACE, "IMAGE")


def test_label_without_json_response_gets_an_empty_one():
    parsed = ParsedLabel({"id": "x"}, IMAGE_INTERFACE, "IMAGE")
    assert parsed.to_dict() == {"id": "x", "jsonResponse": {}}
    assert len(parsed.jobs) == len(ROOT_JOBS)


def test_accepts_an_ontology_and_rejects_a_bad_interface():
    parsed = ParsedLabel(_label(), Ontology.from_json(IMAGE_INTERFACE), "IMAGE")
    assert parsed.jobs["OD"].annotations[0].mid == "rect-1"
    with pytest.raises(OntologyError):
        ParsedLabel(_label(), {"jobs": {}}, "IMAGE")


def test_parse_labels_list_and_generator():
    labels = [_label(), _label(id="label-2")]
    parsed = parse_labels(labels, IMAGE_INTERFACE, "IMAGE")
    assert isinstance(parsed, list)
    assert [p["id"] for p in parsed] == ["label-1", "label-2"]
    lazy = parse_labels((x for x in labels), IMAGE_INTERFACE, "IMAGE")
    assert isinstance(lazy, types.GeneratorType)
    assert [p.to_dict() for p in lazy] == labels
    assert isinstance(parse_labels(tuple(labels), IMAGE_INTERFACE, "IMAGE"), types.GeneratorType)


# -- ParsedJobs ------------------------------------------------------------------------------------


def test_parsed_jobs_is_mapping_like_over_root_jobs(label):
    jobs = label.jobs
    assert list(jobs) == ROOT_JOBS
    assert list(jobs.keys()) == ROOT_JOBS
    assert len(jobs) == 8
    assert [name for name, _ in jobs.items()] == ROOT_JOBS
    assert all(isinstance(value, JobPayload) for value in jobs.values())
    assert "OD" in jobs
    assert "TRANSCRIPTION_JOB" not in jobs
    assert jobs.get("NOPE") is None


def test_unknown_job_name_raises(label):
    with _raises(JobNotExistingError, "Job named 'NOPE' does not exist."):
        _ = label.jobs["NOPE"]
    with _raises(JobNotExistingError, "Job named 'TRANSCRIPTION_JOB' does not exist."):
        _ = label.jobs["TRANSCRIPTION_JOB"]
    with _raises(JobNotExistingError, "Job named 'NOPE' does not exist."):
        _ = label.jobs["OD"].annotations[0].children["NOPE"]


def test_response_job_not_in_interface_raises_while_parsing():
    with _raises(JobNotExistingError, "Job named 'GHOST' does not exist."):
        ParsedLabel(_label({"GHOST": {"text": "x"}}), IMAGE_INTERFACE, "IMAGE")
    nested = {"CLASSIF": {"categories": [{"name": "A", "children": {"GHOST": {}}}]}}
    with _raises(JobNotExistingError, "Job named 'GHOST' does not exist."):
        ParsedLabel(_label(nested), IMAGE_INTERFACE, "IMAGE")


def test_special_keys_are_tolerated_and_preserved():
    response = {
        "ROTATION_JOB": {"rotation": 90},
        "ANNOTATION_JOB_COUNTER": {"OD": {"OBJECT_A": 1}},
        "ANNOTATION_NAMES_JOB": {"rect-1": "Object A 1"},
        "OD": {"annotations": [_rectangle()]},
    }
    parsed = ParsedLabel(_label(response), IMAGE_INTERFACE, "IMAGE")
    assert parsed.json_response == response
    assert list(parsed.jobs) == ROOT_JOBS


def test_payload_keys_must_be_objects():
    with _raises(JsonResponseError, "The answer of job 'OD' must be a JSON object, not list."):
        ParsedLabel(_label({"OD": []}), IMAGE_INTERFACE, "IMAGE")


def test_missing_jobs_get_an_empty_payload(label):
    multi = label.jobs["MULTI"]
    assert len(multi.categories) == 0
    assert list(multi.categories) == []
    assert multi.to_dict() == {}
    assert label.jobs["DATE_JOB"].text is None
    assert label.jobs["CLASSIF"].categories[0].children["CHILD_TEXT"].text == "why A"
    empty = ParsedLabel(_label({}), IMAGE_INTERFACE, "IMAGE")
    assert empty.jobs["CLASSIF"].category is None
    assert list(empty.jobs["POSE"].annotations) == []


def test_missing_required_job_raises_on_read():
    empty = ParsedLabel(_label({}), IMAGE_INTERFACE, "IMAGE")
    message = "Job 'REQUIRED' is required but the label has no 'categories' for it."
    with _raises(RequiredJobMissingError, message):
        _ = empty.jobs["REQUIRED"].categories
    with _raises(RequiredJobMissingError, message):
        _ = empty.jobs["REQUIRED"].category
    with _raises(RequiredJobMissingError, "Job 'OD' is required but the label has no 'annotations' for it."):
        _ = empty.jobs["OD"].annotations
    assert empty.jobs["REQUIRED"].add_category("R").name == "R"
    assert empty.jobs["REQUIRED"].category.name == "R"


def test_writing_to_a_missing_job_adds_it_and_only_it():
    parsed = ParsedLabel(_label({}), IMAGE_INTERFACE, "IMAGE")
    payload = parsed.jobs["MULTI"]
    categories = payload.categories
    categories.add_category("X")
    assert len(categories) == 1
    assert parsed.json_response == {"MULTI": {"categories": [{"name": "X"}]}}
    assert parsed.jobs["MULTI"].to_dict() == {"categories": [{"name": "X"}]}


def test_job_payload_children_only_when_present():
    response = {"CLASSIF": {"categories": [{"name": "B"}], "children": {"CHILD_TEXT": {"text": "t"}}}}
    parsed = ParsedLabel(_label(response), IMAGE_INTERFACE, "IMAGE")
    assert parsed.jobs["CLASSIF"].children["CHILD_TEXT"].text == "t"
    assert list(parsed.jobs["CLASSIF"].children) == ["CHILD_TEXT"]
    with _incompatible("children"):
        _ = parsed.jobs["MULTI"].children


# -- JobPayload compatibility ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "attribute"),
    [
        ("OD", "categories"),
        ("OD", "category"),
        ("MULTI", "category"),
        ("OD", "text"),
        ("CLASSIF", "text"),
        ("CLASSIF", "annotations"),
        ("OD", "entity_annotations"),
        ("CLASSIF", "bounding_poly_annotations"),
        ("OREL", "bounding_poly_annotations"),
        ("CLASSIF", "is_key_frame"),
        ("OD", "is_key_frame"),
    ],
)
def test_job_payload_member_on_the_wrong_job(label, job, attribute):
    with _incompatible(attribute):
        getattr(label.jobs[job], attribute)


def test_job_payload_add_category_and_text_setter_on_the_wrong_job(label):
    with _incompatible("add_category"):
        label.jobs["OD"].add_category("OBJECT_A")
    with _incompatible("text"):
        label.jobs["CLASSIF"].text = "x"


def test_bounding_poly_annotations_is_the_annotation_list(label):
    annotations = label.jobs["OD"].bounding_poly_annotations
    assert [a.mid for a in annotations] == ["rect-1", "marker-1", "line-1"]
    assert label.jobs["OD"].annotations.as_list() == IMAGE_RESPONSE["OD"]["annotations"]


def test_annotations_on_a_classification_that_has_them():
    response = {"CLASSIF": {"categories": [{"name": "A"}], "annotations": []}}
    parsed = ParsedLabel(_label(response), IMAGE_INTERFACE, "IMAGE")
    assert len(parsed.jobs["CLASSIF"].annotations) == 0


# -- classification --------------------------------------------------------------------------------


def test_single_choice_refusals(label):
    classif = label.jobs["CLASSIF"]
    with _raises(JsonResponseError, "Category 'A' is already chosen in job 'CLASSIF'."):
        classif.add_category("A")
    with _raises(
        JsonResponseError,
        "Job 'CLASSIF' is single choice (radio) and already has category 'A'.",
    ):
        classif.add_category("B")
    with _raises(
        JsonResponseError,
        "Category 'Z' does not exist in job 'CLASSIF'; its categories are: A, B.",
    ):
        classif.categories.add_category("Z")


def test_single_choice_add_with_confidence_and_children():
    parsed = ParsedLabel(_label({}), IMAGE_INTERFACE, "IMAGE")
    category = parsed.jobs["CLASSIF"].categories.add_category(
        "A", confidence=80, children={"CHILD_TEXT": {"text": "because"}}
    )
    assert category.as_dict() == {
        "name": "A",
        "confidence": 80,
        "children": {"CHILD_TEXT": {"text": "because"}},
    }
    assert parsed.jobs["CLASSIF"].category.confidence == 80
    assert parsed.jobs["CLASSIF"].category.children["CHILD_TEXT"].text == "because"
    with _raises(JsonResponseError, "A confidence must be a number from 0 to 100, not 101."):
        parsed.jobs["MULTI"].add_category("X", confidence=101)


def test_multiple_choice():
    parsed = ParsedLabel(_label({}), IMAGE_INTERFACE, "IMAGE")
    multi = parsed.jobs["MULTI"]
    multi.add_category("X", confidence=50)
    multi.add_category("Y")
    assert [c.name for c in multi.categories] == ["X", "Y"]
    assert [c.confidence for c in multi.categories] == [50, None]
    assert multi.categories.as_list() == [{"name": "X", "confidence": 50}, {"name": "Y"}]
    with _raises(JsonResponseError, "Category 'Y' is already chosen in job 'MULTI'."):
        multi.add_category("Y")


def test_multiple_choice_refuses_more_categories_than_classes():
    response = {"MULTI": {"categories": [{"name": "X"}, {"name": "LEGACY"}]}}
    parsed = ParsedLabel(_label(response), IMAGE_INTERFACE, "IMAGE")
    with _raises(JsonResponseError, "Job 'MULTI' has 2 categories; all are already chosen."):
        parsed.jobs["MULTI"].add_category("Y")


def test_category_with_several_stored_categories_on_single_choice():
    response = {"CLASSIF": {"categories": [{"name": "A"}, {"name": "B"}]}}
    parsed = ParsedLabel(_label(response), IMAGE_INTERFACE, "IMAGE")
    assert len(parsed.jobs["CLASSIF"].categories) == 2
    with _raises(
        JsonResponseError,
        "Job 'CLASSIF' holds 2 categories; read .categories instead of .category.",
    ):
        _ = parsed.jobs["CLASSIF"].category


def test_category_name_and_display_name_setters(label):
    category = label.jobs["CLASSIF"].category
    category.name = "B"
    assert category.display_name == "Cat B"
    category.display_name = "Cat A"
    assert category.name == "A"
    assert label.json_response["CLASSIF"]["categories"][0]["name"] == "A"
    with _raises(
        JsonResponseError,
        "Category 'NOPE' does not exist in job 'CLASSIF'; its categories are: A, B.",
    ):
        category.name = "NOPE"
    with _raises(
        JsonResponseError,
        "No category of job 'CLASSIF' is displayed as 'Cat Z'; display names: 'Cat A', 'Cat B'.",
    ):
        category.display_name = "Cat Z"


def test_display_name_setter_needs_unique_display_names():
    interface = {"jobs": {"C": _job("CLASSIFICATION", {"A": _cat("Same"), "B": _cat("Same")}, input="radio")}}
    parsed = ParsedLabel({"jsonResponse": {"C": {"categories": [{"name": "A"}]}}}, interface, "TEXT")
    category = parsed.jobs["C"].category
    assert category.display_name == "Same"
    with _raises(
        JsonResponseError,
        "Job 'C' has duplicate display names; set .name to a category key instead.",
    ):
        category.display_name = "Same"


def test_category_slices_and_repr(label):
    categories = label.jobs["CLASSIF"].categories
    assert [c.name for c in categories[0:1]] == ["A"]
    assert repr(categories[0]) == (
        "Category({'name': 'A', 'confidence': 100, 'children': {'CHILD_TEXT': {'text': 'why A'}}})"
    )


# -- transcription ---------------------------------------------------------------------------------


def test_transcription_text_setters():
    parsed = ParsedLabel(_label({}), IMAGE_INTERFACE, "IMAGE")
    parsed.jobs["DATE_JOB"].text = "2024-02-29"
    parsed.jobs["NUMBER_JOB"].text = "-12.5"
    assert parsed.jobs["DATE_JOB"].text == "2024-02-29"
    assert parsed.json_response == {
        "DATE_JOB": {"text": "2024-02-29"},
        "NUMBER_JOB": {"text": "-12.5"},
    }
    parsed.jobs["NUMBER_JOB"].text = "1e3"
    assert parsed.jobs["NUMBER_JOB"].text == "1e3"


DATE_ERROR = "Job 'DATE_JOB' expects a date written YYYY-MM-DD, not "


@pytest.mark.parametrize(
    ("job", "value", "message"),
    [
        ("DATE_JOB", "2024-02-30", DATE_ERROR + "'2024-02-30'."),
        ("DATE_JOB", "12/03/2024", DATE_ERROR + "'12/03/2024'."),
        ("NUMBER_JOB", "abc", "Job 'NUMBER_JOB' expects a number, not 'abc'."),
        ("NUMBER_JOB", "1,5", "Job 'NUMBER_JOB' expects a number, not '1,5'."),
        ("NUMBER_JOB", 12, "The text of job 'NUMBER_JOB' must be a string, not 12."),
    ],
)
def test_transcription_setter_refusals(job, value, message):
    parsed = ParsedLabel(_label({}), IMAGE_INTERFACE, "IMAGE")
    with _raises(JsonResponseError, message):
        parsed.jobs[job].text = value
    assert parsed.json_response == {}


def test_child_transcription_written_through_missing_children(label):
    marker = label.jobs["OD"].annotations[1]
    assert marker.children["TRANSCRIPTION_JOB"].text is None
    marker.children["TRANSCRIPTION_JOB"].text = "a point"
    assert label.json_response["OD"]["annotations"][1]["children"] == {"TRANSCRIPTION_JOB": {"text": "a point"}}
    category = ParsedLabel(_label({}), IMAGE_INTERFACE, "IMAGE").jobs["CLASSIF"].add_category("B")
    assert list(category.children) == []
    assert category.as_dict() == {"name": "B"}


# -- object detection ------------------------------------------------------------------------------


def test_rectangle_members(label):
    rectangle = label.jobs["OD"].annotations[0]
    assert rectangle.type == "rectangle"
    assert rectangle.score == 87
    assert len(rectangle.bounding_poly) == 1
    assert rectangle.bounding_poly.as_list() == [{"normalizedVertices": RECTANGLE_VERTICES}]
    assert [c.name for c in rectangle.categories] == ["OBJECT_A"]
    assert list(rectangle.children) == ["TRANSCRIPTION_JOB"]
    for attribute in (
        "point",
        "polyline",
        "kind",
        "points",
        "content",
        "begin_offset",
        "annotations",
        "start_objects",
        "start_entities",
        "is_key_frame",
    ):
        with _incompatible(attribute):
            getattr(rectangle, attribute)


def test_marker_and_polyline_members(label):
    marker, line = label.jobs["OD"].annotations[1], label.jobs["OD"].annotations[2]
    assert marker.point == {"x": 0.5, "y": 0.25}
    assert marker.category.display_name == "Object B"
    assert line.polyline == [{"x": 0.1, "y": 0.2}, {"x": 0.3, "y": 0.4}]
    assert len(line.bounding_poly) == 0
    with _incompatible("bounding_poly"):
        _ = marker.bounding_poly
    with _incompatible("score"):
        _ = marker.score
    with _incompatible("add_bounding_poly"):
        marker.add_bounding_poly({"normalizedVertices": TRIANGLE})


def test_bounding_poly_setters(label):
    rectangle = label.jobs["OD"].annotations[0]
    moved = [{"x": v["x"] / 2, "y": v["y"] / 2} for v in RECTANGLE_VERTICES]
    rectangle.bounding_poly = [{"normalizedVertices": moved}]
    assert rectangle.bounding_poly[0].normalized_vertices == moved
    with _raises(JsonResponseError, "A rectangle needs exactly 4 vertices, got 3."):
        rectangle.bounding_poly = [{"normalizedVertices": TRIANGLE}]
    with _raises(JsonResponseError, "A rectangle needs exactly 4 vertices, got 3."):
        rectangle.bounding_poly[0].normalized_vertices = TRIANGLE
    with _raises(JsonResponseError, "A rectangle needs exactly 4 vertices, got 3."):
        rectangle.add_bounding_poly({"normalizedVertices": TRIANGLE})
    with _raises(
        JsonResponseError,
        "normalizedVertices must be a list of {'x': number, 'y': number}, not [{'x': 1}].",
    ):
        rectangle.add_bounding_poly({"normalizedVertices": [{"x": 1}]})
    assert rectangle.bounding_poly[0].normalized_vertices == moved


def test_polygon_and_semantic_vertex_counts():
    parsed = ParsedLabel(_label({"OD": {"annotations": []}}), IMAGE_INTERFACE, "IMAGE")
    annotations = parsed.jobs["OD"].annotations
    polygon = annotations.add_annotation(
        {
            "mid": "poly",
            "type": "polygon",
            "categories": [{"name": "OBJECT_B"}],
            "boundingPoly": [{"normalizedVertices": TRIANGLE}],
        }
    )
    assert polygon.bounding_poly[0].normalized_vertices == TRIANGLE
    with _raises(JsonResponseError, "A polygon needs at least 3 vertices, got 2."):
        polygon.bounding_poly = [{"normalizedVertices": TRIANGLE[:2]}]
    semantic = annotations.add_annotation({"mid": "sem", "type": "semantic", "categories": [{"name": "OBJECT_B"}]})
    added = semantic.add_bounding_poly(BoundingPoly({"normalizedVertices": TRIANGLE}, None))
    assert added.normalized_vertices == TRIANGLE
    semantic.add_bounding_poly({"normalizedVertices": TRIANGLE})
    assert len(semantic.bounding_poly) == 2
    with _raises(JsonResponseError, "A semantic needs at least 3 vertices, got 1."):
        semantic.add_bounding_poly({"normalizedVertices": TRIANGLE[:1]})


def test_stored_geometry_is_never_checked():
    two_vertex_rectangle = _rectangle()
    two_vertex_rectangle["boundingPoly"][0]["normalizedVertices"] = TRIANGLE[:2]
    parsed = ParsedLabel(_label({"OD": {"annotations": [two_vertex_rectangle]}}), IMAGE_INTERFACE, "IMAGE")
    assert parsed.jobs["OD"].annotations[0].bounding_poly[0].normalized_vertices == TRIANGLE[:2]


def test_score_and_mid_setters(label):
    rectangle = label.jobs["OD"].annotations[0]
    rectangle.score = 42.5
    assert rectangle.score == 42.5
    with _raises(JsonResponseError, "A score must be a number from 0 to 100, not 150."):
        rectangle.score = 150
    rectangle.mid = "m2"
    assert label.json_response["OD"]["annotations"][0]["mid"] == "m2"
    with _raises(JsonResponseError, "An annotation 'mid' must be a non-empty string, not ''."):
        rectangle.mid = ""


def test_annotation_categories_follow_the_job_input(label):
    marker = label.jobs["OD"].annotations[1]
    with _raises(
        JsonResponseError,
        "Job 'OD' is single choice (radio) and already has category 'OBJECT_B'.",
    ):
        marker.add_category("OBJECT_A")
    marker.category.name = "OBJECT_A"
    assert label.json_response["OD"]["annotations"][1]["categories"] == [{"name": "OBJECT_A"}]


def test_tool_check_while_parsing():
    annotation = _rectangle()
    annotation["type"] = "pose"
    with _raises(
        JsonResponseError,
        "Annotation type 'pose' is not a tool of job 'OD'; its tools are: "
        "rectangle, polygon, semantic, marker, polyline, vector.",
    ):
        ParsedLabel(_label({"OD": {"annotations": [annotation]}}), IMAGE_INTERFACE, "IMAGE")


def test_add_annotation_checks_and_mid_generation(label):
    annotations = label.jobs["OD"].annotations
    added = annotations.add_annotation(
        {"type": "marker", "categories": [{"name": "OBJECT_A"}], "point": {"x": 0, "y": 1}}
    )
    assert isinstance(added.mid, str)
    assert len(added.mid) == 32 and int(added.mid, 16) > 0
    assert annotations[3].point == {"x": 0, "y": 1}
    assert len(annotations) == 4
    with _raises(JsonResponseError, "Job 'OD' already has an annotation with mid 'rect-1'."):
        annotations.add_annotation(_rectangle())
    with _raises(
        JsonResponseError,
        "Annotation type None is not a tool of job 'OD'; its tools are: "
        "rectangle, polygon, semantic, marker, polyline, vector.",
    ):
        annotations.add_annotation({"mid": "x", "categories": [{"name": "OBJECT_A"}]})
    with _raises(
        JsonResponseError,
        "Job 'OD' is single choice (radio); an annotation holds one category.",
    ):
        annotations.add_annotation(
            _rectangle("two", categories=None) | {"categories": [{"name": "OBJECT_A"}, {"name": "OBJECT_B"}]}
        )
    with _raises(
        JsonResponseError,
        "Category 'Z' does not exist in job 'OD'; its categories are: OBJECT_A, OBJECT_B.",
    ):
        annotations.add_annotation(_rectangle("z", category="Z"))
    with _raises(JsonResponseError, "A rectangle needs exactly 4 vertices, got 3."):
        annotations.add_annotation(_rectangle("r3") | {"boundingPoly": [{"normalizedVertices": TRIANGLE}]})
    with _raises(JsonResponseError, "An annotation must be a dict, not list."):
        annotations.add_annotation([])
    assert len(annotations) == 4


# -- pose ------------------------------------------------------------------------------------------


def test_pose_members(label):
    pose = label.jobs["POSE"].annotations[0]
    assert pose.kind == "POSE_ESTIMATION"
    assert pose.type == "pose"
    points = pose.points
    assert all(isinstance(p, PosePointAnnotation) for p in points)
    assert [(p.code, p.name, p.job_name, p.mid) for p in points] == [
        ("NOSE", "Nose", "POSE", "pt-1"),
        ("EYE", "Eye", "POSE", "pt-2"),
    ]
    assert points[0].point == {"x": 0.4, "y": 0.5}
    assert list(pose.children) == ["POINT_CHILD"]
    with _incompatible("bounding_poly"):
        _ = pose.bounding_poly
    with _incompatible("point"):
        _ = pose.point


def test_marker_is_allowed_in_a_pose_job(label):
    added = label.jobs["POSE"].annotations.add_annotation(
        {"mid": "m", "type": "marker", "categories": [{"name": "HEAD"}], "point": {"x": 1, "y": 1}}
    )
    assert added.point == {"x": 1, "y": 1}
    with _raises(
        JsonResponseError,
        "Annotation type 'rectangle' is not a tool of job 'POSE'; its tools are: pose.",
    ):
        label.jobs["POSE"].annotations.add_annotation(_rectangle("r", category="HEAD"))


# -- relations -------------------------------------------------------------------------------------


def test_object_relation(label):
    relation = label.jobs["OREL"].annotations[0]
    assert relation.start_objects == [{"mid": "rect-1"}]
    assert relation.end_objects == [{"mid": "marker-1"}]
    assert relation.category.display_name == "Link"
    for attribute in ("start_entities", "end_entities", "type", "bounding_poly", "content"):
        with _incompatible(attribute):
            getattr(relation, attribute)


NER_INTERFACE = {
    "jobs": {
        "NER": _job("NAMED_ENTITIES_RECOGNITION", {"PER": _cat("Person"), "ORG": _cat("Org")}, input="radio"),
        "REL": _job(
            "NAMED_ENTITIES_RELATION",
            {"WORKS_AT": _cat("Works at", startEntities=["PER"], endEntities=["ORG"])},
            input="radio",
        ),
    }
}
NER_RESPONSE = {
    "NER": {
        "annotations": [
            {
                "mid": "e1",
                "categories": [{"name": "PER"}],
                "beginOffset": 0,
                "endOffset": 5,
                "content": "Alice",
                "beginId": "main/[0]",
                "endId": "main/[0]",
                "children": {},
            },
            {
                "mid": "e2",
                "categories": [{"name": "ORG"}],
                "beginOffset": 15,
                "endOffset": 19,
                "content": "Kili",
                "children": {},
            },
        ]
    },
    "REL": {
        "annotations": [
            {
                "mid": "r1",
                "categories": [{"name": "WORKS_AT"}],
                "startEntities": [{"mid": "e1"}],
                "endEntities": [{"mid": "e2"}],
                "children": {},
            }
        ]
    },
}


def test_named_entities_in_text():
    parsed = ParsedLabel({"jsonResponse": NER_RESPONSE}, NER_INTERFACE, "TEXT")
    entity = parsed.jobs["NER"].entity_annotations[0]
    assert (entity.content, entity.begin_offset, entity.end_offset) == ("Alice", 0, 5)
    assert entity.category.display_name == "Person"
    entity.begin_offset = 1
    entity.end_offset = 6
    entity.content = "lice "
    assert parsed.json_response["NER"]["annotations"][0]["beginOffset"] == 1
    with _raises(JsonResponseError, "'begin_offset' must be an integer ≥ 0, not -1."):
        entity.begin_offset = -1
    with _raises(JsonResponseError, "'end_offset' must be an integer ≥ 0, not 2.5."):
        entity.end_offset = 2.5
    for attribute in ("annotations", "type", "bounding_poly", "start_entities"):
        with _incompatible(attribute):
            getattr(entity, attribute)
    with _incompatible("bounding_poly_annotations"):
        _ = parsed.jobs["NER"].bounding_poly_annotations


def test_named_entities_relation():
    parsed = ParsedLabel({"jsonResponse": NER_RESPONSE}, NER_INTERFACE, "TEXT")
    relation = parsed.jobs["REL"].annotations[0]
    assert relation.start_entities == [{"mid": "e1"}]
    assert relation.end_entities == [{"mid": "e2"}]
    with _incompatible("start_objects"):
        _ = relation.start_objects
    with _incompatible("entity_annotations"):
        _ = parsed.jobs["REL"].entity_annotations


def test_add_entity_checks_offsets():
    parsed = ParsedLabel({"jsonResponse": {}}, NER_INTERFACE, "TEXT")
    added = parsed.jobs["NER"].annotations.add_annotation(
        {"mid": "e9", "categories": [{"name": "ORG"}], "beginOffset": 3, "endOffset": 7}
    )
    assert added.end_offset == 7
    with _raises(JsonResponseError, "'begin_offset' must be an integer ≥ 0, not -3."):
        parsed.jobs["NER"].annotations.add_annotation(
            {"mid": "bad", "categories": [{"name": "ORG"}], "beginOffset": -3}
        )


def test_named_entities_in_pdf():
    polys = [[{"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.1}, {"x": 0.2, "y": 0.2}]]
    response = {
        "NER": {
            "annotations": [
                {
                    "mid": "p1",
                    "categories": [{"name": "PER"}],
                    "content": "Alice",
                    "children": {},
                    "annotations": [
                        {
                            "boundingPoly": [{"normalizedVertices": polys}],
                            "polys": [{"normalizedVertices": polys}],
                            "pageNumberArray": [1],
                        }
                    ],
                }
            ]
        }
    }
    parsed = ParsedLabel({"jsonResponse": response}, NER_INTERFACE, "PDF")
    entity = parsed.jobs["NER"].annotations[0]
    assert entity.content == "Alice"
    position = entity.annotations[0]
    assert isinstance(position, PdfPosition)
    assert position.page_number_array == [1]
    assert position.polys[0].normalized_vertices == polys
    assert position.bounding_poly[0].normalized_vertices == polys
    assert position.as_dict() == response["NER"]["annotations"][0]["annotations"][0]
    with _incompatible("begin_offset"):
        _ = entity.begin_offset
    assert parsed.json_response == response


# -- video -----------------------------------------------------------------------------------------

VIDEO_INTERFACE = {
    "jobs": {
        "VCLASSIF": _job("CLASSIFICATION", {"DAY": _cat("Day"), "NIGHT": _cat("Night")}, input="radio"),
        "VOD": _job("OBJECT_DETECTION", {"CAR": _cat("Car")}, input="radio", tools=["rectangle"]),
    }
}


def _frame(category, key_frame, with_box=True):
    frame = {"VCLASSIF": {"categories": [{"name": category}], "isKeyFrame": key_frame}}
    if with_box:
        frame["VOD"] = {"annotations": [_rectangle("car", "CAR", isKeyFrame=key_frame)]}
    return frame


VIDEO_RESPONSE = {
    "10": _frame("NIGHT", True, with_box=False),
    "0": _frame("DAY", True),
    "2": _frame("DAY", False),
}


def test_video_frames():
    parsed = ParsedLabel({"jsonResponse": VIDEO_RESPONSE}, VIDEO_INTERFACE, "VIDEO")
    frames = parsed.jobs["VCLASSIF"]
    assert isinstance(frames, FramesList)
    assert len(frames) == 3
    assert [f.category.name for f in frames] == ["DAY", "DAY", "NIGHT"]
    assert [f.is_key_frame for f in frames] == [True, False, True]
    assert frames.frames[2].category.display_name == "Night"
    boxes = parsed.jobs["VOD"]
    assert boxes[0].annotations[0].is_key_frame is True
    assert boxes[1].annotations[0].is_key_frame is False
    assert len(boxes[2].annotations) == 0
    assert parsed.json_response == VIDEO_RESPONSE


def test_video_frame_index_errors():
    parsed = ParsedLabel({"jsonResponse": VIDEO_RESPONSE}, VIDEO_INTERFACE, "VIDEO")
    with _raises(FrameIndexError, "Frame index 3 is out of range: the label has 3 frames."):
        _ = parsed.jobs["VCLASSIF"][3]
    with _raises(FrameIndexError, "Frame index 7 is out of range: the label has 3 frames."):
        _ = parsed.jobs["VOD"].frames[7]
    assert isinstance(FrameIndexError("x"), IndexError)


def test_video_frame_writes_and_unknown_jobs():
    parsed = ParsedLabel({"jsonResponse": VIDEO_RESPONSE}, VIDEO_INTERFACE, "VIDEO")
    parsed.jobs["VOD"][2].annotations.add_annotation(_rectangle("car2", "CAR"))
    assert parsed.json_response["10"]["VOD"]["annotations"][0]["mid"] == "car2"
    with _raises(JobNotExistingError, "Job named 'GHOST' does not exist."):
        ParsedLabel({"jsonResponse": {"0": {"GHOST": {}}}}, VIDEO_INTERFACE, "VIDEO")


def test_video_without_frame_keys_and_frame_keys_outside_video():
    flat = {"VCLASSIF": {"categories": [{"name": "DAY"}]}}
    parsed = ParsedLabel({"jsonResponse": flat}, VIDEO_INTERFACE, "VIDEO_LEGACY")
    assert parsed.jobs["VCLASSIF"].category.name == "DAY"
    assert isinstance(parsed.jobs["VCLASSIF"], JobPayload)
    with _raises(JobNotExistingError, "Job named '0' does not exist."):
        ParsedLabel({"jsonResponse": {"0": {}}}, VIDEO_INTERFACE, "IMAGE")
    empty = ParsedLabel({"jsonResponse": {}}, VIDEO_INTERFACE, "VIDEO")
    assert list(empty.jobs["VOD"]) == []


# -- the real Kili fixture -------------------------------------------------------------------------


def _fixture(name):
    return json.loads((FIXTURES / name).read_text())


def test_kili_pose_fixture():
    project = _fixture("image_pose_kili.project.json")
    assets = _fixture("image_pose_kili.assets.json")
    labels = [asset["latestLabel"] for asset in assets]
    parsed = parse_labels(labels, project["jsonInterface"], project["inputType"])
    assert len(parsed) == 1
    label = parsed[0]
    original = labels[0]["jsonResponse"]
    assert label.to_dict()["jsonResponse"] == original
    assert label.to_dict() == labels[0]
    assert label["author"]["firstname"] == "Jonas"
    jobs = label.jobs
    assert list(jobs) == list(project["jsonInterface"]["jobs"])
    box = jobs["OBJECT_DETECTION_JOB"].annotations[0]
    assert box.category.name == "A"
    assert box.bounding_poly[0].normalized_vertices == [
        {"x": 0.7412807669633257, "y": 0.11831185681407619},
        {"x": 0.7412807669633257, "y": 0.07455291056382807},
    ]
    assert jobs["OBJECT_DETECTION_JOB_0"].annotations[0].point == {
        "x": 0.8727983223923027,
        "y": 0.2035857007889187,
    }
    assert jobs["OBJECT_DETECTION_JOB_1"].annotations[0].type == "polygon"
    assert jobs["OBJECT_DETECTION_JOB_2"].annotations[0].polyline[1] == {
        "x": 0.5659240263913562,
        "y": 0.17890116700672754,
    }
    assert jobs["OBJECT_DETECTION_JOB_3"].annotations[0].mid == "20230718172405691-91771"
    pose = jobs["POSE_ESTIMATION_JOB"].annotations[0]
    assert pose.category.display_name == "Head"
    assert pose.kind is None
    assert [p.code for p in pose.points] == [
        "RIGHT_EARBASE",
        "RIGHT_EYE",
        "NOSE",
        "LEFT_EYE",
        "LEFT_EARBASE",
    ]
    assert pose.points[2].name == "Nose"
    assert pose.points[2].job_name == "POSE_ESTIMATION_JOB"
    assert pose.points[2].point == {"x": 0.38815357242592613, "y": 0.32807259130823285}
    assert label.json_response == original


def test_a_parsed_label_is_truthy_even_with_only_its_json_response():
    from labelport.annotations.parsing import ParsedLabel
    from labelport.ontology import Ontology
    from tests.factories import image_interface

    parsed = ParsedLabel({"jsonResponse": {}}, Ontology.from_json(image_interface()), "IMAGE")
    assert dict(parsed) == {} and bool(parsed) is True
