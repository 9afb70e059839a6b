"""Pascal VOC import: hand-written and globox-written XML, the VOC folder layout, round trips, errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from globox import Annotation, AnnotationSet, BoundingBox

from labelport.importers import DatasetError
from tests.export import projects
from tests.factories import ImageFactory
from tests.golden import read_archive
from tests.importers import datasets


def _voc_folder(root):
    """VOC's layout: Annotations/*.xml next to JPEGImages/*.jpg (folder ``JPEGImages`` in each file)."""
    ImageFactory(root / "JPEGImages").make("000001.jpg", 200, 100)
    ImageFactory(root / "JPEGImages").make("000002.jpg", 64, 48)
    (root / "Annotations").mkdir(parents=True)
    (root / "Annotations" / "000001.xml").write_text(
        datasets.voc_xml("000001.jpg", (200, 100), [("dog", 20, 10, 120, 60), ("cat", 150, 20, 210, 90)])
    )
    (root / "Annotations" / "000002.xml").write_text(
        datasets.voc_xml("000002.jpg", None, [("cat", 1, 2, 3, 4), ("bird", 5, 5, 5, 9)])
    )
    return root


def _boxes(client, project_id, external_id):
    rows = client.assets(project_id, fields=["latestLabel.jsonResponse"], external_id_strictly_in=[external_id])
    annotations = rows[0]["latestLabel"]["jsonResponse"].get("OBJECT_DETECTION_JOB", {}).get("annotations", [])
    return [
        (a["categories"][0]["name"], [(v["x"], v["y"]) for v in a["boundingPoly"][0]["normalizedVertices"]])
        for a in annotations
    ]


def test_hand_written_voc_folder(client, tmp_path):
    root = _voc_folder(tmp_path / "VOC2007")
    report = client.import_dataset(datasets.zip_folder(root, tmp_path / "voc.zip"))
    assert report.fmt == "pascal_voc"
    assert report.categories == {"OBJECT_DETECTION_JOB": ["dog", "cat", "bird"]}
    assert _boxes(client, report.project_id, "000001.jpg") == [
        ("dog", [(0.1, 0.6), (0.1, 0.1), (0.6, 0.1), (0.6, 0.6)]),
        # xmax 210 lies beyond the 200-pixel image: clamped, and said so
        ("cat", [(0.75, 0.9), (0.75, 0.2), (1.0, 0.2), (1.0, 0.9)]),
    ]
    # no <size>: the boxes are normalized by the image's measured size (64×48)
    assert _boxes(client, report.project_id, "000002.jpg") == [
        ("cat", [(1 / 64, 4 / 48), (1 / 64, 2 / 48), (3 / 64, 2 / 48), (3 / 64, 4 / 48)])
    ]
    assert [(s.origin, s.external_id, s.job, s.reason) for s in report.skipped] == [
        (
            f"{tmp_path / 'voc.zip'}:Annotations/000002.xml, line 14",
            "000002.jpg",
            "OBJECT_DETECTION_JOB",
            "box of zero width or height not imported",
        )
    ]
    assert report.notes == [
        "format detected: pascal_voc (from Annotations/000001.xml, Annotations/000002.xml)",
        "job OBJECT_DETECTION_JOB: 1 box(es) reached outside their image; they were clamped to it",
    ]


def test_round_trip_of_a_globox_dataset(client, tmp_path):
    factory = ImageFactory(tmp_path / "voc")
    annotations = [
        Annotation("a.png", (200, 100), [BoundingBox(label="car", xmin=20, ymin=10, xmax=120, ymax=60)]),
        Annotation(
            "b.png",
            (320, 240),
            [
                BoundingBox(label="person", xmin=3, ymin=4, xmax=50, ymax=200),
                BoundingBox(label="car", xmin=0, ymin=0, xmax=320, ymax=240),
            ],
        ),
        Annotation("c.png", (16, 16), []),
    ]
    for annotation in annotations:
        factory.make(annotation.image_id, *annotation.image_size)
    AnnotationSet(annotations).save_pascal_voc(tmp_path / "voc")
    report = client.import_dataset(tmp_path / "voc")
    assert report.categories == {"OBJECT_DETECTION_JOB": ["car", "person"]}
    client.export_labels(report.project_id, tmp_path / "out.zip", "pascal_voc", layout="merged")
    members = read_archive(tmp_path / "out.zip")
    for annotation in annotations:
        stem = annotation.image_id.rsplit(".", 1)[0]
        document = ET.fromstring(members[f"labels/{stem}.xml"])
        assert document.findtext("filename") == annotation.image_id
        assert (int(document.findtext("size/width")), int(document.findtext("size/height"))) == annotation.image_size
        exported = [
            (o.findtext("name"), tuple(int(o.findtext(f"bndbox/{t}")) for t in ("xmin", "ymin", "xmax", "ymax")))
            for o in document.iter("object")
        ]
        assert exported == [(b.label, tuple(int(v) for v in b.ltrb)) for b in annotation.boxes]
    # globox reads labelport's export back
    assert len(AnnotationSet.from_pascal_voc(tmp_path / "voc")) == 3


def test_labelport_voc_export_round_trips_with_its_jobs(client, tmp_path):
    built = projects.build_image_project(client, tmp_path / "images")
    client.delete_many_from_dataset(external_ids=["remote_4"], project_id=built.project_id)  # a URL: not downloadable
    client.export_labels(built.project_id, tmp_path / "first.zip", "pascal_voc", layout="merged")
    report = client.import_dataset(tmp_path / "first.zip")
    # <job_name> gives the jobs; categories in order of first appearance
    assert report.categories == {"BOXES": ["CAR", "PERSON"], "REGIONS": ["ROAD", "SKY"], "MIXED": ["TREE", "SIGN"]}
    client.export_labels(report.project_id, tmp_path / "second.zip", "pascal_voc", layout="merged")
    before, after = read_archive(tmp_path / "first.zip"), read_archive(tmp_path / "second.zip")
    assert sorted(after) == sorted(before)
    for name in before:
        if name.startswith("labels/"):
            assert after[name] == before[name], name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "<annotation>\n  <filename>a.png</filename>\n  <object>\n</annotation>\n",
            "line 4, column 3: not well-formed XML (mismatched tag).",
        ),
        (
            "<annotation>\n  <size><width>2</width><height>x</height></size>\n</annotation>\n",
            "line 1: the annotation has no <filename> (nor <path>).",
        ),
        (
            "<annotation>\n  <filename>a.png</filename>\n  <object><bndbox/></object>\n</annotation>\n",
            "line 3: an <object> needs a <name>.",
        ),
        (
            "<annotation>\n  <filename>a.png</filename>\n  <object>\n    <name>x</name>\n  </object>\n</annotation>\n",
            "line 3: object 'x' has no <bndbox>.",
        ),
        (
            "<annotation>\n  <filename>a.png</filename>\n  <object>\n    <name>x</name>\n    <bndbox><xmin>a</xmin></bndbox>\n  </object>\n</annotation>\n",
            "line 5: <bndbox> needs numeric xmin, ymin, xmax and ymax.",
        ),
    ],
)
def test_broken_files_name_file_and_line(client, tmp_path, text, message):
    ImageFactory(tmp_path).make("a.png", 10, 10)
    (tmp_path / "a.xml").write_text(text)
    with pytest.raises(DatasetError) as error:
        client.import_dataset(tmp_path, "pascal_voc")
    assert str(error.value) == f"{tmp_path / 'a.xml'}, {message}"
    assert client.count_projects() == 0
