"""Agreement rules with hand-computed expectations (docs/quality.md)."""

from __future__ import annotations

import math

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from labelport.ontology import Ontology
from labelport.quality import agreement, geometry
from labelport.quality.agreement import BoxList, Comparer
from labelport.quality.geometry import Area, area_iou, build_geometries, edit_similarity, geometry_iou
from tests.factories import box, boxes, image_interface

ONTOLOGY = Ontology.from_json(image_interface())


def agree(a, b, ontology=ONTOLOGY, input_type="IMAGE"):
    return agreement(a, b, ontology, input_type)


def polygon(category, points, mid="p", holes=(), tool="polygon"):
    rings = [{"normalizedVertices": [{"x": x, "y": y} for x, y in ring]} for ring in (points, *holes)]
    return {"mid": mid, "type": tool, "categories": [{"name": category}], "boundingPoly": rings, "children": {}}


def test_identical_labels_agree_fully():
    label = {
        **boxes(box("OBJECT_A", 0.1, 0.1, 0.4, 0.3, "a"), box("OBJECT_B", 0.5, 0.5, 0.9, 0.8, "b")),
        "TAGS": {"categories": [{"name": "DAY"}]},
        "CAPTION": {"text": "two cars"},
    }
    assert agree(label, label) == 1.0


def test_disjoint_boxes_give_zero():
    assert agree(boxes(box("OBJECT_A", 0, 0, 0.2, 0.2)), boxes(box("OBJECT_A", 0.5, 0.5, 0.7, 0.7))) == 0.0


def test_same_box_other_category_gives_zero():
    assert agree(boxes(box("OBJECT_A", 0, 0, 0.2, 0.2)), boxes(box("OBJECT_B", 0, 0, 0.2, 0.2))) == 0.0


def test_a_box_half_the_area_of_the_other_and_inside_it_gives_one_half():
    assert agree(
        boxes(box("OBJECT_A", 0.2, 0.2, 0.6, 0.4)), boxes(box("OBJECT_A", 0.2, 0.2, 0.6, 0.6))
    ) == pytest.approx(0.5)


def test_a_missing_box_counts_in_the_divisor():
    two = boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, "a"), box("OBJECT_A", 0.5, 0.5, 0.7, 0.7, "b"))
    three = boxes(
        box("OBJECT_A", 0, 0, 0.2, 0.2, "c"),
        box("OBJECT_A", 0.5, 0.5, 0.7, 0.7, "d"),
        box("OBJECT_B", 0.8, 0.8, 0.9, 0.9, "e"),
    )
    # 2 matched pairs of IoU 1, 1 unmatched box: (1 + 1) / (2 + 1)
    assert agree(two, three) == pytest.approx(2 / 3)
    assert agree(three, two) == pytest.approx(2 / 3)
    assert agree(boxes(), two) == 0.0  # an empty answer against two boxes


def test_a_wrong_child_classification_zeroes_the_object():
    right = boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, "a", child="RED"), box("OBJECT_B", 0.5, 0.5, 0.7, 0.7, "b"))
    wrong = boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, "c", child="BLUE"), box("OBJECT_B", 0.5, 0.5, 0.7, 0.7, "d"))
    assert agree(right, wrong) == pytest.approx(0.5)  # (0 + 1) / 2
    missing_child = boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, "c"), box("OBJECT_B", 0.5, 0.5, 0.7, 0.7, "d"))
    assert agree(right, missing_child) == pytest.approx(0.5)  # an unanswered child job scores 0 too
    # a right child keeps the geometry score: sqrt(IoU × 1)
    half = boxes(box("OBJECT_A", 0, 0, 0.2, 0.1, "x", child="RED"))
    full = boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, "y", child="RED"))
    assert agree(half, full) == pytest.approx(math.sqrt(0.5))


def test_matching_is_optimal_not_greedy():
    # a1 overlaps b1 a lot and b2 somewhat; a2 overlaps only b1. Greedy takes a1-b1 and leaves a2
    # alone: (IoU(a1,b1) + 0) / 3. The optimal assignment pairs a1-b2 and a2-b1.
    a = boxes(box("OBJECT_A", 0.0, 0.0, 0.4, 0.4, "a1"), box("OBJECT_A", 0.3, 0.0, 0.7, 0.4, "a2"))
    b = boxes(box("OBJECT_A", 0.1, 0.0, 0.5, 0.4, "b1"), box("OBJECT_A", 0.0, 0.0, 0.3, 0.4, "b2"))
    iou_a1_b2 = 0.3 / 0.4
    iou_a2_b1 = 0.2 / 0.6
    assert agree(a, b) == pytest.approx((iou_a1_b2 + iou_a2_b1) / 2)


def test_polygons_with_holes_use_area_iou():
    square = [(0.0, 0.0), (0.4, 0.0), (0.4, 0.4), (0.0, 0.4)]
    hole = [(0.1, 0.1), (0.3, 0.1), (0.3, 0.3), (0.1, 0.3)]
    with_hole = {"POLY": {"annotations": [polygon("ROAD", square, holes=[hole], tool="semantic")]}}
    without = {"POLY": {"annotations": [polygon("ROAD", square, tool="semantic")]}}
    assert agree(with_hole, without) == pytest.approx((0.16 - 0.04) / 0.16)
    triangle = {"POLY": {"annotations": [polygon("ROAD", [(0.0, 0.0), (0.4, 0.0), (0.0, 0.4)])]}}
    square_poly = {"POLY": {"annotations": [polygon("ROAD", square)]}}
    assert agree(triangle, square_poly) == pytest.approx(0.5)


def test_points_and_polylines():
    def point(x, y):
        return {
            "POINTS": {
                "annotations": [
                    {"mid": "p", "type": "marker", "categories": [{"name": "KEY"}], "point": {"x": x, "y": y}}
                ]
            }
        }

    tolerance = 0.05 * math.sqrt(2)
    assert agree(point(0.5, 0.5), point(0.5, 0.5)) == 1.0
    assert agree(point(0.5, 0.5), point(0.5, 0.5 + tolerance / 2)) == pytest.approx(0.5)
    assert agree(point(0.5, 0.5), point(0.9, 0.9)) == 0.0

    def line(y):
        return {
            "POINTS": {
                "annotations": [
                    {
                        "mid": "l",
                        "type": "polyline",
                        "categories": [{"name": "KEY"}],
                        "polyline": [{"x": 0.1, "y": y}, {"x": 0.9, "y": y}],
                    }
                ]
            }
        }

    assert agree(line(0.5), line(0.5)) == pytest.approx(1.0)
    assert agree(line(0.5), line(0.8)) == 0.0
    assert 0.0 < agree(line(0.5), line(0.51)) < 1.0


def test_multiple_choice_is_shared_over_all_chosen():
    assert (
        agree(
            {"TAGS": {"categories": [{"name": "DAY"}]}}, {"TAGS": {"categories": [{"name": "DAY"}, {"name": "RAIN"}]}}
        )
        == 0.5
    )
    assert agree({"TAGS": {"categories": [{"name": "DAY"}]}}, {"TAGS": {"categories": [{"name": "NIGHT"}]}}) == 0.0


def test_transcription_with_one_typo():
    assert agree({"CAPTION": {"text": "hello world"}}, {"CAPTION": {"text": "hello wurld"}}) == pytest.approx(
        1 - 1 / 11
    )
    assert edit_similarity("", "") == 1.0 and edit_similarity("abc", "") == 0.0
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)


def test_jobs_are_weighted_by_their_annotations():
    # 3 perfectly matched boxes (weight 3) and one wrong single-choice child-free classification (weight 1)
    a = {
        **boxes(*(box("OBJECT_B", 0.1 * i, 0, 0.1 * i + 0.05, 0.05, f"a{i}") for i in range(3))),
        "CAPTION": {"text": "x"},
    }
    b = {
        **boxes(*(box("OBJECT_B", 0.1 * i, 0, 0.1 * i + 0.05, 0.05, f"b{i}") for i in range(3))),
        "CAPTION": {"text": "y"},
    }
    assert agree(a, b) == pytest.approx(3 / 4)


def test_jobs_neither_label_answers_are_left_out_and_empty_labels_give_none():
    assert agree({"CAPTION": {"text": "same"}}, {"CAPTION": {"text": "same"}, "TAGS": {"categories": []}}) == 1.0
    assert agree({}, {}) is None


NER = Ontology.from_json(
    {
        "jobs": {
            "NER": {
                "mlTask": "NAMED_ENTITIES_RECOGNITION",
                "content": {"input": "radio", "categories": {"PER": {"name": "P"}, "ORG": {"name": "O"}}},
            },
            "REL": {
                "mlTask": "NAMED_ENTITIES_RELATION",
                "content": {"input": "radio", "categories": {"WORKS_FOR": {"name": "W"}}},
            },
        }
    }
)


def entity(mid, category, begin, end):
    return {
        "mid": mid,
        "categories": [{"name": category}],
        "beginOffset": begin,
        "endOffset": end,
        "content": "x" * (end - begin),
    }


def test_named_entities_that_half_overlap():
    a = {"NER": {"annotations": [entity("a", "PER", 0, 10)]}}
    b = {"NER": {"annotations": [entity("b", "PER", 5, 10)]}}
    assert agree(a, b, NER, "TEXT") == pytest.approx(0.5)
    c = {"NER": {"annotations": [entity("c", "PER", 5, 15)]}}
    assert agree(a, c, NER, "TEXT") == pytest.approx(5 / 15)


def test_relations_agree_through_the_matched_entities():
    def label(prefix, end_mid_target):
        return {
            "NER": {"annotations": [entity(f"{prefix}1", "PER", 0, 5), entity(f"{prefix}2", "ORG", 10, 14)]},
            "REL": {
                "annotations": [
                    {
                        "mid": f"{prefix}r",
                        "categories": [{"name": "WORKS_FOR"}],
                        "startEntities": [{"mid": f"{prefix}1"}],
                        "endEntities": [{"mid": end_mid_target}],
                    }
                ]
            },
        }

    assert agree(label("a", "a2"), label("b", "b2"), NER, "TEXT") == 1.0
    # b's relation ends on its PER entity. Entities: 2 pairs of 1 (weight 2). Relations: no pair,
    # two unmatched (score 0, weight 2). (2 × 1 + 2 × 0) / 4
    assert agree(label("a", "a2"), label("b", "b1"), NER, "TEXT") == pytest.approx(0.5)


def test_pose_keypoints():
    ontology = Ontology.from_json(
        {
            "jobs": {
                "POSE": {
                    "mlTask": "OBJECT_DETECTION",
                    "tools": ["pose"],
                    "content": {
                        "input": "radio",
                        "categories": {
                            "BODY": {
                                "name": "Body",
                                "points": [{"code": "head", "name": "Head"}, {"code": "foot", "name": "Foot"}],
                            }
                        },
                    },
                }
            }
        }
    )

    def pose(head, foot=None):
        points = [{"code": "head", "name": "Head", "type": "marker", "point": {"x": head[0], "y": head[1]}}]
        if foot:
            points.append({"code": "foot", "name": "Foot", "type": "marker", "point": {"x": foot[0], "y": foot[1]}})
        return {
            "POSE": {"annotations": [{"mid": "p", "type": "pose", "categories": [{"name": "BODY"}], "points": points}]}
        }

    assert agree(pose((0.5, 0.1), (0.5, 0.9)), pose((0.5, 0.1), (0.5, 0.9)), ontology) == 1.0
    assert agree(pose((0.5, 0.1), (0.5, 0.9)), pose((0.5, 0.1)), ontology) == pytest.approx(
        0.5
    )  # a missing keypoint scores 0


def test_video_averages_the_frames_either_label_answers():
    frame_a = boxes(box("OBJECT_A", 0, 0, 0.2, 0.2, "x"))
    frame_b = boxes(box("OBJECT_A", 0.5, 0.5, 0.7, 0.7, "x"))
    a = {"0": frame_a, "1": frame_a, "2": {}}
    b = {"0": frame_a, "1": frame_b, "2": {}}
    assert agree(a, b, ONTOLOGY, "VIDEO") == pytest.approx(0.5)


# -- properties ------------------------------------------------------------------------------------

coordinate = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def random_box(draw):
    x0, x1 = sorted((draw(coordinate), draw(coordinate)))
    y0, y1 = sorted((draw(coordinate), draw(coordinate)))
    child = draw(st.sampled_from([None, "RED", "BLUE"]))
    return box(
        draw(st.sampled_from(["OBJECT_A", "OBJECT_B"])), x0, y0, x1, y1, draw(st.text(min_size=1, max_size=3)), child
    )


@st.composite
def random_label(draw):
    label = {"JOB_0": {"annotations": draw(st.lists(random_box(), max_size=5))}}
    if draw(st.booleans()):
        label["TAGS"] = {"categories": [{"name": n} for n in draw(st.sets(st.sampled_from(["DAY", "NIGHT", "RAIN"])))]}
    if draw(st.booleans()):
        label["CAPTION"] = {"text": draw(st.text(max_size=8))}
    if draw(st.booleans()):
        square = draw(st.floats(min_value=0.01, max_value=0.5))
        label["POLY"] = {"annotations": [polygon("ROAD", [(0, 0), (square, 0), (square, square), (0, square)])]}
    return label


@settings(max_examples=300, deadline=None)
@given(random_label(), random_label())
def test_agreement_is_symmetric_and_bounded(a, b):
    forward, backward = agree(a, b), agree(b, a)
    if forward is None:
        assert backward is None
    else:
        assert 0.0 <= forward <= 1.0
        assert forward == pytest.approx(backward, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(random_label())
def test_a_label_agrees_fully_with_itself(label):
    answered = (
        any(
            (label.get(job) or {}).get(key)
            for job, key in (("JOB_0", "annotations"), ("TAGS", "categories"), ("POLY", "annotations"))
        )
        or (label.get("CAPTION") or {}).get("text", "").strip()
    )
    assert agree(label, label) == (pytest.approx(1.0) if answered else None)


def test_degenerate_shapes_agree_with_themselves_only():
    flat = boxes(box("OBJECT_A", 0.2, 0.5, 0.6, 0.5))
    assert agree(flat, flat) == 1.0
    assert agree(flat, boxes(box("OBJECT_A", 0.2, 0.4, 0.6, 0.4))) == 0.0


# Coordinates on a coarse grid, so that boxes often coincide, touch, nest or have no area: the
# cases where the plain-box path of the comparer could part from the general one.
grid = st.integers(min_value=0, max_value=6).map(lambda i: i / 6)


@st.composite
def plain_box(draw):
    x0, x1 = sorted((draw(grid), draw(grid)))
    y0, y1 = sorted((draw(grid), draw(grid)))
    return box(draw(st.sampled_from(["OBJECT_A", "OBJECT_B"])), x0, y0, x1, y1, draw(st.text(min_size=1, max_size=2)))


@settings(max_examples=400, deadline=None)
@given(st.lists(plain_box(), max_size=7), st.lists(plain_box(), max_size=7))
def test_plain_box_path_equals_the_general_shape_path(a, b):
    comparer = Comparer(ONTOLOGY, "IMAGE")
    job = ONTOLOGY.jobs["JOB_0"]
    fast_a, fast_b = comparer._shapes(job, {"annotations": a}), comparer._shapes(job, {"annotations": b})
    assert isinstance(fast_a, BoxList) and isinstance(fast_b, BoxList)
    mids_fast: dict[str, str] = {}
    mids_general: dict[str, str] = {}
    fast = comparer._boxes(fast_a, fast_b, mids_fast)
    general = comparer._objects(job, fast_a.shapes, fast_b.shapes, mids_general)
    assert fast == general  # the same floats, not merely close
    assert mids_fast == mids_general


@pytest.mark.parametrize(
    "rings",
    [
        [[(0.1, 0.1), (0.5, 0.1), (0.3, 0.6)]],  # a triangle
        [[(0, 0), (1, 0), (1, 1), (0, 1)], [(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)]],  # with a hole
        [[(0, 0), (1, 1), (1, 0), (0, 1)]],  # a bow tie: made valid first
        [[(0.1, 0.1), (0.2, 0.2), (0.3, 0.3)]],  # collinear: no area
        [[(0.1, 0.1), (0.2, 0.2)]],  # two vertices: empty
    ],
)
def test_identical_regions_score_as_the_overlay_would(rings):
    def region():
        outer = rings[0]
        bounds = (
            min(x for x, _ in outer),
            min(y for _, y in outer),
            max(x for x, _ in outer),
            max(y for _, y in outer),
        )
        return Area(bounds, [list(ring) for ring in rings])

    a, b = region(), region()
    assert area_iou(a, b) == pytest.approx(geometry_iou(a.geometry, b.geometry), abs=1e-12)


# Rings on a coarse grid: repeated vertices, collinear runs, bow ties, holes outside their shell,
# rings of one or two vertices — the shapes whose construction could part from the general path.
vertex = st.tuples(grid, grid)
rings_of_a_region = st.lists(st.lists(vertex, min_size=1, max_size=6), min_size=1, max_size=3)


def region_of(rings):
    outer = rings[0]
    bounds = (min(x for x, _ in outer), min(y for _, y in outer), max(x for x, _ in outer), max(y for _, y in outer))
    return Area(bounds, [list(ring) for ring in rings])


@settings(max_examples=300, deadline=None)
@given(st.lists(rings_of_a_region, min_size=1, max_size=8), st.sampled_from([100_000, 1, 7]))
def test_geometries_built_together_equal_those_built_one_by_one(regions, batch_vertices):
    together = [region_of(rings) for rings in regions]
    with pytest.MonkeyPatch.context() as patch:  # one batch, or several
        patch.setattr(geometry, "BUILD_BATCH_VERTICES", batch_vertices)
        build_geometries(together)
    for rings, built in zip(regions, together, strict=True):
        alone = region_of(rings).geometry
        if len(rings[0]) >= 3:
            assert built._geometry is not None
        assert shapely.to_wkb(built.geometry) == shapely.to_wkb(alone)  # the same geometry, bit for bit


def _iou_by_the_rule(a, b):
    """geometry_iou as first written: the union, then the intersection."""
    union = a.union(b).area
    if union <= 0:
        return 1.0 if a.equals(b) and not a.is_empty else 0.0
    return min(1.0, a.intersection(b).area / union)


@settings(max_examples=300, deadline=None)
@given(rings_of_a_region, rings_of_a_region)
def test_iou_without_the_union_when_nothing_is_shared_equals_the_rule(first, second):
    def outcome(iou, a, b):
        try:
            return iou(a, b)
        except shapely.errors.GEOSException as error:  # the same failure either way
            return str(error)

    a, b = region_of(first).geometry, region_of(second).geometry
    assert outcome(geometry_iou, a, b) == outcome(_iou_by_the_rule, a, b)  # the same float
    assert outcome(geometry_iou, a, a) == outcome(_iou_by_the_rule, a, a)


def test_a_region_geos_cannot_repair_has_no_area_instead_of_an_error():
    """An outer ring without area around a hole: make_valid raised GEOS's 'mixed-dimension' error, which
    a label append computing marks let through raw (found by the property test above)."""
    degenerate = region_of([[(0.0, 0.0)] * 3, [(0.0, 1 / 6), (0.0, 2 / 6), (1 / 6, 0.0)]])
    assert degenerate.geometry.is_empty
    square = region_of([[(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 0.0)]])
    assert geometry_iou(degenerate.geometry, square.geometry) == 0.0
