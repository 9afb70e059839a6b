"""Labels as SVG shapes: each tool's element, in pixels of the image, in its category's colour."""

from __future__ import annotations

from labelport.ontology import Ontology
from labelport.server.web import draw
from tests.factories import image_interface, rect

ONTOLOGY = Ontology.from_json(image_interface())


def _v(*points):
    return [{"x": x, "y": y} for x, y in points]


RESPONSE = {
    "JOB_0": {
        "annotations": [
            {
                "mid": "b1",
                "type": "rectangle",
                "categories": [{"name": "OBJECT_A"}],
                "boundingPoly": [{"normalizedVertices": rect(0.1, 0.2, 0.5, 0.6)}],
                "children": {"CLASSIF_CHILD": {"categories": [{"name": "RED"}]}},
            }
        ]
    },
    "POLY": {
        "annotations": [
            {
                "mid": "p1",
                "type": "polygon",
                "categories": [{"name": "ROAD"}],
                "boundingPoly": [{"normalizedVertices": _v((0, 0), (0.5, 0), (0.5, 0.5))}],
            },
            {
                "mid": "s1",
                "type": "semantic",
                "categories": [{"name": "SKY"}],
                "boundingPoly": [
                    {"normalizedVertices": _v((0, 0), (1, 0), (1, 1), (0, 1))},
                    {"normalizedVertices": _v((0.25, 0.25), (0.75, 0.25), (0.75, 0.75))},
                ],
            },
        ]
    },
    "POINTS": {
        "annotations": [
            {"mid": "k1", "type": "marker", "categories": [{"name": "KEY"}], "point": {"x": 0.5, "y": 0.25}},
            {"mid": "l1", "type": "polyline", "categories": [{"name": "KEY"}], "polyline": _v((0, 0), (1, 0.5))},
        ]
    },
    "TAGS": {"categories": [{"name": "DAY"}, {"name": "RAIN"}]},
    "CAPTION": {"text": "a road at day"},
}


def test_each_tool_becomes_its_svg_element_in_pixels():
    shapes = draw.shapes(RESPONSE, ONTOLOGY, 200, 100)
    found = [(s.tag, dict(s.attrs), s.mid, s.job, s.category, s.color, s.filled) for s in shapes]
    road, sky, key = draw.PALETTE[0], draw.PALETTE[1], draw.PALETTE[2]  # no colour in the ontology: the palette's
    assert found == [
        ("rect", {"x": "20", "y": "20", "width": "80", "height": "40"}, "b1", "JOB_0", "OBJECT_A", "#472CED", False),
        ("polygon", {"points": "0,0 100,0 100,50"}, "p1", "POLY", "ROAD", road, True),
        (
            "path",
            {"d": "M0,0 L200,0 L200,100 L0,100 Z M50,25 L150,25 L150,75 Z", "fill-rule": "evenodd"},
            "s1",
            "POLY",
            "SKY",
            sky,
            True,
        ),
        ("circle", {"cx": "100", "cy": "25", "r": "1.25"}, "k1", "POINTS", "KEY", key, True),
        ("polyline", {"points": "0,0 200,50"}, "l1", "POINTS", "KEY", key, False),
    ]


def test_a_rotation_is_undone_like_the_exports_undo_it():
    response = {
        "ROTATION_JOB": {"rotation": 90},
        "JOB_0": {
            "annotations": [
                {
                    "mid": "b",
                    "type": "rectangle",
                    "categories": [{"name": "OBJECT_B"}],
                    "boundingPoly": [{"normalizedVertices": rect(0.1, 0.2, 0.5, 0.6)}],
                }
            ]
        },
    }
    (shape,) = draw.shapes(response, ONTOLOGY, 100, 100)
    # unrotate(x, y, 90) = (y, 1 - x): x from 0.2..0.6, y from 0.5..0.9
    assert dict(shape.attrs) == {"x": "20", "y": "50", "width": "40", "height": "40"}


def test_answers_of_classifications_and_transcriptions_children_included():
    answers = [(a.job, a.instruction, a.text) for a in draw.answers(RESPONSE, ONTOLOGY)]
    assert answers == [
        ("CLASSIF_CHILD", "Colour", "Red"),
        ("TAGS", "Tags", "Day, Rain"),
        ("CAPTION", "Caption", "a road at day"),
    ]


def test_video_labels_are_split_by_frame():
    assert draw.frames_of({"0": {"JOB_0": {}}, "2": {"JOB_0": {}}}) == {0: {"JOB_0": {}}, 2: {"JOB_0": {}}}
    assert draw.frames_of(RESPONSE) is None
    assert draw.frames_of({}) is None


def test_bad_geometry_draws_nothing_rather_than_failing():
    response = {
        "JOB_0": {"annotations": [{"type": "rectangle", "boundingPoly": [{"normalizedVertices": [{"x": "?"}]}]}]}
    }
    assert draw.shapes(response, ONTOLOGY, 10, 10) == []
    assert draw.shapes("not a response", ONTOLOGY, 10, 10) == []


def test_the_svg_element_carries_its_data_and_escapes_every_value():
    shape = draw.Shape("rect", (("x", "1"), ("y", "2")), 'm"<1', "JOB_0", "A&B", "<A>", "#123456", False)
    assert str(shape.svg()) == (
        '<rect x="1" y="2" class="shape" stroke="#123456" fill="none" data-mid="m&#34;&lt;1" data-job="JOB_0" '
        'data-category="A&amp;B"><title>&lt;A&gt;</title></rect>'
    )
