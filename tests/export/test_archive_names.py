"""Archives that extract everywhere: member names derived from external ids never collide, on any file system.

Two names must not be one file on macOS or Windows (case, Unicode normalization) and no member may be a
folder of another (``images/img.png`` and ``images/img.png/b.png``: ``extractall`` fails), in every format,
in whatever order the assets come. The invariants are checked here independently of labelport's own code:
names compared after NFC normalization and case folding.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelport import Client
from labelport.export import parallel
from labelport.export.names import (
    NameAllocator,
    name_key,
    safe_path,
    safe_suffix,
    strip_image_suffix,
)
from labelport.export.report import ExportReport
from tests.export.geo_projects import GEO_LAYER
from tests.factories import ImageFactory, box, boxes, image_interface, rect

NFC, NFD = "caf\u00e9", "cafe\u0301"  # café precomposed, and decomposed (as macOS writes it)


# -- the invariants, written independently of labelport ------------------------------------------------------

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{port}{digit}" for port in ("com", "lpt") for digit in [*"0123456789", "\u00b9", "\u00b2", "\u00b3"]
}
_WINDOWS_REJECTS = re.compile(r'[\x00-\x1f\x7f<>:"\\|?*]')


def key(name: str) -> str:
    """How macOS (and, for case, Windows) compares names: NFC normalization, then case folding."""
    return unicodedata.normalize("NFC", name).casefold()


def folders(name: str) -> Iterator[str]:
    """``a/b/c.txt`` → ``a``, ``a/b``."""
    for index, char in enumerate(name):
        if char == "/":
            yield name[:index]


def assert_portable(names: list[str]) -> None:
    """Unique after NFC + case folding; no name is a folder of another; every segment valid on Windows."""
    keys = [key(name) for name in names]
    twins = sorted(name for name in names if keys.count(key(name)) > 1)
    assert twins == [], f"names that are one file on macOS or Windows: {twins}"
    files_that_are_folders = sorted({key(f) for name in names for f in folders(name)} & set(keys))
    assert files_that_are_folders == [], f"members that are also folders of other members: {files_that_are_folders}"
    for name in names:
        segments = name.split("/")
        for segment in segments:
            assert segment not in ("", ".", ".."), name
            assert not _WINDOWS_REJECTS.search(segment), name
            assert not segment.endswith((".", " ")), name  # Windows trims them
            assert segment.split(".", 1)[0].lower() not in _WINDOWS_RESERVED, name
            assert len(segment.encode()) <= 255, name


def extract(path: Path, folder: Path) -> list[str]:
    """Extract with ``zipfile.extractall``: every member must land as a file at its own path inside ``folder``
    (nothing lost, nothing elsewhere); the member names must be portable."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        archive.extractall(folder)
    root = folder.resolve()
    on_disk = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert on_disk == sorted(names)
    for name in names:
        assert (folder / name).is_file() and (folder / name).resolve().is_relative_to(root), name
    assert_portable(names)
    return names


# -- names.py ----------------------------------------------------------------------------------------------


def test_reserved_windows_names_get_a_prefix_including_com0_lpt0_and_superscripts():
    reserved = ["COM0", "lpt0", "COM\u00b9", "com\u00b2", "COM\u00b3", "LPT\u00b9", "lpt\u00b2", "LPT\u00b3"]
    assert [safe_path(name) for name in reserved] == ["_" + name for name in reserved]
    assert safe_path("COM\u00b9.png") == "_COM\u00b9.png" and safe_path("LPT0.tar.gz") == "_LPT0.tar.gz"
    assert safe_path("data/COM0/LPT\u00b3.txt") == "data/_COM0/_LPT\u00b3.txt"
    assert safe_path("COM1") == "_COM1" and safe_path("nul.json") == "_nul.json"  # as before
    # not reserved: two digits, a subscript, a superscript beyond 3, a name that only starts like one
    assert [safe_path(n) for n in ("COM10", "COM\u2081", "LPT\u2074", "COMA", "console")] == [
        "COM10",
        "COM\u2081",
        "LPT\u2074",
        "COMA",
        "console",
    ]


def test_name_key_ignores_case_and_unicode_normalization():
    assert name_key(NFC) == name_key(NFD) == name_key("CAF\u00c9") == name_key("Cafe\u0301") == "caf\u00e9"
    assert name_key("Stra\u00dfe") == name_key("STRASSE") == "strasse"
    assert name_key("A/B.PNG") == "a/b.png" and name_key("caf\u00e9") != name_key("cafe")


def test_a_file_then_a_folder_of_the_same_name():
    names = NameAllocator()
    assert names.allocate("img", "img", (".txt", ".png")) == "img"
    assert names.allocate("img.png/b", "img.png/b", (".txt", ".png")) == "img.png__2/b"  # images/img.png is a file
    assert names.allocate("img.png/c", "img.png/c", (".txt", ".png")) == "img.png__2/c"  # the same folder
    assert names.allocate("IMG.TXT/d", "IMG.TXT/d", (".txt", ".png")) == "IMG.TXT__2/d"  # labels/img.txt, any case
    assert names.renamed == [
        ("img.png/b", "img.png__2/b"),
        ("img.png/c", "img.png__2/c"),
        ("IMG.TXT/d", "IMG.TXT__2/d"),
    ]


def test_a_folder_then_a_file_of_the_same_name():
    names = NameAllocator()
    assert names.allocate("img.png/b", "img.png/b", (".txt", ".png")) == "img.png/b"
    assert names.allocate("IMG", "IMG", (".txt", ".png")) == "IMG__2"  # IMG.png would be the folder img.png
    assert names.allocate("x/y/z", "x/y/z", (".json",)) == "x/y/z"
    assert names.allocate("x/y", "x/y", ("",)) == "x/y__2"  # a file named like the folder x/y
    assert names.allocate("x", "x", ("",)) == "x__2"
    assert names.allocate("x/y.json/q", "x/y.json/q", (".json",)) == "x/y.json/q"  # x/y.json is not taken
    # x/y.json is a folder now; x/y__2.json is free (the file taken is x/y__2)
    assert names.allocate("x/y", "x/y", (".json",)) == "x/y__2"
    assert names.allocate("x/y__2.json/r", "x/y__2.json/r", ("",)) == "x/y__2.json__2/r"
    assert names.renamed == [
        ("IMG", "IMG__2"),
        ("x/y", "x/y__2"),
        ("x", "x__2"),
        ("x/y", "x/y__2"),
        ("x/y__2.json/r", "x/y__2.json__2/r"),
    ]


def test_unicode_normalization_and_case_twins_get_distinct_names():
    names = NameAllocator()
    got = [
        names.allocate(e, e, (".json",)) for e in (NFC, NFD, "CAF\u00c9", "Stra\u00dfe", "STRASSE", "Dir/a", "dir/A")
    ]
    assert got == [NFC, NFD + "__2", "CAF\u00c9__3", "Stra\u00dfe", "STRASSE__2", "Dir/a", "dir/A__2"]
    assert names.allocate("dir/b", "dir/b", (".json",)) == "dir/b"  # folders may share a name: Dir/ is dir/


def test_media_members_keep_their_suffix_after_the_counter_and_are_reported():
    names = NameAllocator()
    assert names.media("a b", "a_b", "a_b", ".png", "assets") == "assets/a_b.png"
    assert names.media("A_B.PNG", "A_B.PNG", "A_B.PNG", ".png", "assets") == "assets/A_B__2.PNG"
    assert names.media("a_b.png/c", "a_b.png/c", "a_b.png/c", ".png", "assets") == "assets/a_b.png__2/c.png"
    assert names.media("x:y", "x_y", "x:y", "", "assets") == "assets/x_y"
    assert names.renamed == [
        ("A_B.PNG", "assets/A_B__2.PNG"),
        ("a_b.png/c", "assets/a_b.png__2/c.png"),
        ("x:y", "assets/x_y"),
    ]


def test_media_suffixes_are_plain_or_dropped():
    assert [safe_suffix(s) for s in (".JPG", ".jp2", ".tar-gz", ".", ".a:b", ".png ", ".\uff50ng", "." + "x" * 17)] == [
        ".jpg",
        ".jp2",
        ".tar-gz",
        "",
        "",
        "",
        "",
        "",
    ]


def test_an_image_suffix_is_kept_when_the_stem_would_end_with_a_dot():
    assert strip_image_suffix("x..png") == "x..png" and strip_image_suffix("a/..jpg") == "a/..jpg"
    assert strip_image_suffix("x.y.png") == "x.y" and strip_image_suffix("img.png/b") == "img.png/b"


#: Pieces of external ids that make trouble: folders, dots, suffixes, case and normalization twins, reserved
#: names, characters Windows rejects, a name that folds to two letters (ß), the Kelvin sign (folds to k), ...
_PIECES = [
    *("img", "IMG", "a", "A", "k", "\u212a", "b", "images", "x"),
    *("/", "/", "\\", ".", "..", " ", ":", "?", "*"),
    *(".png", ".PNG", ".jpg", ".txt", ".json", ".xml", ".geojson"),
    *(NFC, NFD, "CAF\u00c9", "\u00df", "SS", "\u0345", "\u1f80", "\ufb01", "\u0130"),
    *("COM0", "com\u00b9", "LPT\u00b3", "con", "Nul.txt", "lpt0"),
]
_EXTERNAL_IDS = st.lists(
    st.one_of(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7).map("".join), st.text(max_size=12)),
    max_size=24,
    unique=True,
)
_SUFFIXES = st.sampled_from(["", ".png", ".jpg", ".tif", ".PNG"])


def _files(kind: str, names: NameAllocator, external_id: str, suffix: str, frames: int) -> tuple[str, list[str]]:
    """Name one asset as a format does; its name and its files (as if in one folder)."""
    suffix = safe_suffix(suffix)
    if kind == "labels and images":  # YOLO, Pascal VOC: one name, a label file and an image
        stem = strip_image_suffix(safe_path(external_id))
        name = names.allocate(external_id, stem, (".txt", suffix))
        return name, [name + ".txt", name + suffix]
    if kind == "records":  # Kili, GeoJSON
        name = names.allocate(external_id, safe_path(external_id), (".json",))
        return name, [name + ".json"]
    if kind == "media":  # COCO, Kili and GeoJSON media
        member = names.media(external_id, safe_path(external_id), external_id.replace(" ", "_"), suffix, "m")
        return member[2:], [member[2:]]
    # video frames (YOLO, Pascal VOC): _01.txt, _01.jpg, ...
    numbers = [f"_{index:0{len(str(frames))}d}" for index in range(1, frames + 1)]
    endings = [number + ending for number in numbers for ending in (".txt", ".jpg")]
    name = names.allocate(external_id, strip_image_suffix(safe_path(external_id)), endings)
    return name, [name + ending for ending in endings]


def _allocate_all(kind: str, ids: list[str], suffixes: list[str], frames: int) -> tuple[list[str], list[str], Any]:
    names = NameAllocator()
    allocated, files = [], []
    for external_id, suffix in zip(ids, suffixes, strict=True):
        name, own = _files(kind, names, external_id, suffix, frames)
        allocated.append(name)
        files.extend(own)
    return allocated, files, names.renamed


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["labels and images", "records", "media", "frames"]),
    ids=_EXTERNAL_IDS,
    data=st.data(),
    frames=st.integers(1, 12),
)
def test_any_external_ids_give_portable_unique_names_in_any_order(kind, ids, data, frames):
    suffixes = data.draw(st.lists(_SUFFIXES, min_size=len(ids), max_size=len(ids)))
    order = data.draw(st.permutations(range(len(ids))))
    for ids_in_order, suffixes_in_order in (
        (ids, suffixes),
        ([ids[i] for i in order], [suffixes[i] for i in order]),
    ):
        allocated, files, renamed = _allocate_all(kind, ids_in_order, suffixes_in_order, frames)
        assert_portable(files)
        # deterministic: the same assets in the same order give the same names
        assert _allocate_all(kind, ids_in_order, suffixes_in_order, frames)[:2] == (allocated, files)
        # every name that is not the external id's safe form is reported
        for external_id, name in zip(ids_in_order, allocated, strict=True):
            plain = external_id.replace(" ", "_")
            if kind == "media":
                if name not in (plain, plain + safe_suffix(suffixes_in_order[ids_in_order.index(external_id)])):
                    assert (external_id, f"m/{name}") in renamed
            elif name not in (plain, strip_image_suffix(plain)):
                assert (external_id, name) in renamed


# -- every format, through export_labels -----------------------------------------------------------------------

#: External ids that collide as a file and a folder (each pair in both orders), as Unicode normalization twins and
#: as case twins, for every kind of member: media (``img.png``), Kili labels (``k.json``), YOLO labels
#: (``t.txt``), Pascal VOC labels (``v.xml``); and reserved Windows names.
IMAGE_IDS = [
    *("img", "img.png/b", "pic.png/b", "pic"),
    *("k", "k.json/b", "m.json/b", "m"),
    *("t", "t.txt/b", "u.txt/b", "u"),
    *("v", "v.xml/b", "w.xml/b", "w"),
    *(NFC, NFD, "Photo", "PHOTO", "Dir/x", "dir/X"),
    *("COM0", "lpt\u00b9.png"),
]


@pytest.fixture
def collisions(client: Client, tmp_path: Path) -> str:
    """An IMAGE project whose assets are IMAGE_IDS, each a stored PNG with one box, in that order."""
    project_id = client.create_project("Collisions", "IMAGE", image_interface())["id"]
    factory = ImageFactory(tmp_path / "images")
    files = [factory.make(f"{index}.png", 16, 8) for index in range(len(IMAGE_IDS))]
    client.append_many_to_dataset(project_id, content_array=[str(f) for f in files], external_id_array=IMAGE_IDS)
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=IMAGE_IDS,
        json_response_array=[boxes(box("OBJECT_A", 0.1, 0.2, 0.5, 0.6))] * len(IMAGE_IDS),
    )
    return project_id


def _export(client: Client, project_id: str, path: Path, fmt: str, **options: Any) -> ExportReport:
    return client.export_labels(project_id, str(path), fmt, disable_tqdm=True, **options)


#: The renames of the image project, in export order, by the kind of names the format gives.
MEDIA_RENAMED = [  # COCO's data/, Kili's assets/: the media's name is the id with its suffix
    ("img.png/b", "img.png__2/b.png"),
    ("pic", "pic__2.png"),
    (NFD, NFD + "__2.png"),
    ("PHOTO", "PHOTO__2.png"),
    ("dir/X", "dir/X__2.png"),
    ("COM0", "_COM0.png"),
    ("lpt\u00b9.png", "_lpt\u00b9.png"),
]
#: YOLO and Pascal VOC: one name for the label file and the image, so both files count (``.txt`` or ``.xml``)
YOLO_RENAMED = [
    ("img.png/b", "img.png__2/b"),
    ("pic", "pic__2"),
    ("t.txt/b", "t.txt__2/b"),
    ("u", "u__2"),
    (NFD, NFD + "__2"),
    ("PHOTO", "PHOTO__2"),
    ("dir/X", "dir/X__2"),
    ("COM0", "_COM0"),
    ("lpt\u00b9.png", "_lpt\u00b9"),
]
VOC_RENAMED = [
    ("img.png/b", "img.png__2/b"),
    ("pic", "pic__2"),
    ("v.xml/b", "v.xml__2/b"),
    ("w", "w__2"),
    (NFD, NFD + "__2"),
    ("PHOTO", "PHOTO__2"),
    ("dir/X", "dir/X__2"),
    ("COM0", "_COM0"),
    ("lpt\u00b9.png", "_lpt\u00b9"),
]


def _yolo_pairs(names: list[str], split: bool, copies: int) -> None:
    """Each label file has its image, each image its label file: ``labels/x.txt`` with ``images/x.png``; with
    ``split`` (the media in the job folders), ``<JOB>/labels/[train/]x.txt`` with ``<JOB>/images/[train/]x.png``
    (the media in ``copies`` job folders)."""
    labels = [n for n in names if "labels/" in n and n.endswith(".txt")]
    images = {n for n in names if n.endswith(".png")}
    paired = set()
    for label in labels:
        folder, _, rest = label.partition("labels/")
        image = f"{folder if split else ''}images/{rest[: -len('.txt')]}.png"
        assert image in images, label
        paired.add(image)
    assert paired == images
    assert len(images) == len(IMAGE_IDS) * copies


@pytest.mark.parametrize(
    "options",
    [
        {"layout": "split"},
        {"layout": "merged"},
        {"layout": "split", "split": "train=0.5,val=0.5"},
        {"layout": "merged", "split": "train=0.5,val=0.5"},
    ],
    ids=["split", "merged", "split-with-splits", "merged-with-splits"],
)
def test_yolo_archives_extract_with_every_image_paired(client, collisions, tmp_path, options):
    for fmt in ("yolo_v4", "yolo_v5", "yolo_v7", "yolo_v8"):
        if fmt == "yolo_v4" and "split" in options:
            continue
        path = tmp_path / f"{fmt}.zip"
        report = _export(client, collisions, path, fmt, with_assets=True, **options)
        names = extract(path, tmp_path / fmt)
        # the media in each job folder (JOB_0 and POLY) with a split, or without one when data.yaml points at them
        in_folders = options["layout"] == "split" and ("split" in options or fmt != "yolo_v4")
        _yolo_pairs(names, in_folders, 2 if in_folders else 1)
        assert report.renamed == YOLO_RENAMED
        assert report.skipped == []


def test_pascal_voc_archives_extract_with_every_document_naming_its_image(client, collisions, tmp_path):
    for layout in ("split", "merged"):
        path = tmp_path / f"{layout}.zip"
        report = _export(client, collisions, path, "pascal_voc", with_assets=True, layout=layout)
        names = extract(path, tmp_path / layout)
        documents = [n for n in names if n.endswith(".xml")]
        assert len(documents) == len(IMAGE_IDS) * (2 if layout == "split" else 1)  # JOB_0 and POLY
        with zipfile.ZipFile(path) as archive:
            named = {ElementTree.fromstring(archive.read(d)).findtext("path") for d in documents}
        assert named == {n for n in names if n.startswith("images/")}
        assert report.renamed == VOC_RENAMED


def test_pascal_voc_documents_and_images_share_their_name(client, collisions, tmp_path):
    _export(client, collisions, tmp_path / "voc.zip", "pascal_voc", with_assets=True, layout="merged")
    with zipfile.ZipFile(tmp_path / "voc.zip") as archive:
        for member in archive.namelist():
            if member.endswith(".xml"):
                path = ElementTree.fromstring(archive.read(member)).findtext("path")
                assert path == "images/" + member[len("labels/") : -len(".xml")] + ".png"


def test_coco_archives_extract_with_every_file_name_present(client, collisions, tmp_path):
    for layout in ("split", "merged"):
        path = tmp_path / f"{layout}.zip"
        report = _export(client, collisions, path, "coco", with_assets=True, layout=layout)
        names = extract(path, tmp_path / layout)
        with zipfile.ZipFile(path) as archive:
            document = orjson.loads(archive.read("labels.json" if layout == "merged" else "JOB_0/labels.json"))
        file_names = [image["file_name"] for image in document["images"]]
        assert len(file_names) == len(IMAGE_IDS) and set(file_names) == {n for n in names if n.startswith("data/")}
        assert report.renamed == [(external_id, f"data/{name}") for external_id, name in MEDIA_RENAMED]


def _kili_records(archive: zipfile.ZipFile, single_file: bool) -> list[dict[str, Any]]:
    if single_file:
        return list(orjson.loads(archive.read("data.json")))
    return [orjson.loads(archive.read(n)) for n in archive.namelist() if n.startswith("labels/")]


@pytest.mark.parametrize("single_file", [False, True], ids=["per-asset", "single-file"])
def test_kili_archives_extract_with_every_record_pointing_to_its_media(client, collisions, tmp_path, single_file):
    path = tmp_path / "kili.zip"
    report = _export(client, collisions, path, "kili", with_assets=True, single_file=single_file)
    names = extract(path, tmp_path / "kili")
    with zipfile.ZipFile(path) as archive:
        records = _kili_records(archive, single_file)
    assert sorted(r["externalId"] for r in records) == sorted(IMAGE_IDS)
    assert {r["content"] for r in records} == {n for n in names if n.startswith("assets/")}
    media = [(external_id, f"assets/{name}") for external_id, name in MEDIA_RENAMED]
    labels = [  # labels/<name>.json, the id made safe with its own suffix
        ("k.json/b", "k.json__2/b"),
        ("m", "m__2"),
        (NFD, NFD + "__2"),
        ("PHOTO", "PHOTO__2"),
        ("dir/X", "dir/X__2"),
        ("COM0", "_COM0"),
        ("lpt\u00b9.png", "_lpt\u00b9.png"),
    ]
    if single_file:
        assert report.renamed == media
    else:  # each asset's media first, then its record
        assert report.renamed == sorted(media + labels, key=lambda entry: IMAGE_IDS.index(entry[0]))
        assert "labels/k.json__2/b.json" in names and "labels/k.json" in names


def test_kili_archive_without_media_extracts(client, collisions, tmp_path):
    path = tmp_path / "kili.zip"
    _export(client, collisions, path, "kili", with_assets=False)
    assert len([n for n in extract(path, tmp_path / "kili") if n.startswith("labels/")]) == len(IMAGE_IDS)


GEO_IDS = [
    *("g", "g.geojson/b", "h.geojson/b", "h"),
    *("img", "img.png/b", "pic.png/b", "pic"),
    *(NFC, NFD, "Field", "FIELD", "COM\u00b3"),
]
_GEO_INTERFACE = {
    "jobs": {
        "PARCELS": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "instruction": "Parcels",
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"FIELD": {"name": "Field"}}},
        }
    }
}


@pytest.mark.parametrize("layout", ["split", "merged"])
def test_geojson_archives_extract(client, tmp_path, layout):
    project_id = client.create_project("Fields", "GEOSPATIAL", _GEO_INTERFACE)["id"]
    factory = ImageFactory(tmp_path / "tiles")
    files = [factory.make(f"{index}.png", 8, 8) for index in range(len(GEO_IDS))]
    client.append_many_to_dataset(
        project_id,
        content_array=[str(f) for f in files],
        external_id_array=GEO_IDS,
        json_content_array=[GEO_LAYER] * len(GEO_IDS),
    )
    parcel = {"categories": [{"name": "FIELD"}], "mid": "p", "type": "rectangle", "children": {}}
    parcel["boundingPoly"] = [{"normalizedVertices": rect(2.31, 48.81, 2.32, 48.82)}]
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=GEO_IDS,
        json_response_array=[{"PARCELS": {"annotations": [parcel]}}] * len(GEO_IDS),
    )
    path = tmp_path / "geo.zip"
    report = _export(client, project_id, path, "geojson", with_assets=True, layout=layout)
    names = extract(path, tmp_path / "geo")
    assert len([n for n in names if n.endswith(".geojson")]) == len(GEO_IDS)
    assert len([n for n in names if n.endswith(".png")]) == len(GEO_IDS)
    assert report.renamed == [
        ("g.geojson/b", "g.geojson__2/b"),
        ("h", "h__2"),
        ("img.png/b", "images/img.png__2/b.png"),
        ("pic", "images/pic__2.png"),
        (NFD, NFD + "__2"),
        (NFD, f"images/{NFD}__2.png"),
        ("FIELD", "FIELD__2"),
        ("FIELD", "images/FIELD__2.png"),
        ("COM\u00b3", "_COM\u00b3"),
        ("COM\u00b3", "images/_COM\u00b3.png"),
    ]


#: Videos whose frames collide with another video's folder, in both orders, and normalization twins.
VIDEO_IDS = ["clip", "clip_1.jpg/x", "reel_1.jpg/x", "reel", NFC, NFD]


@pytest.fixture
def video_collisions(client: Client, tmp_path: Path) -> str:
    """A VIDEO project: each asset 2 stored JPEG frames, both annotated."""
    interface = {
        "jobs": {
            "TRACK": {
                "mlTask": "OBJECT_DETECTION",
                "tools": ["rectangle"],
                "instruction": "Track",
                "required": 0,
                "isChild": False,
                "content": {"input": "radio", "categories": {"BALL": {"name": "Ball"}}},
            }
        }
    }
    project_id = client.create_project("Clips", "VIDEO", interface)["id"]
    factory = ImageFactory(tmp_path / "frames")
    frames = [[str(factory.make(f"{v}_{f}.jpg", 16, 8)) for f in range(2)] for v in range(len(VIDEO_IDS))]
    client.append_many_to_dataset(
        project_id,
        json_content_array=frames,
        external_id_array=VIDEO_IDS,
        resolution_array=[{"width": 16, "height": 8}] * len(VIDEO_IDS),
    )
    ball = {"annotations": [box("BALL", 0.1, 0.1, 0.5, 0.5)]}
    client.append_labels(
        project_id=project_id,
        asset_external_id_array=VIDEO_IDS,
        json_response_array=[{"0": {"TRACK": ball}, "1": {"TRACK": ball}}] * len(VIDEO_IDS),
    )
    return project_id


@pytest.mark.parametrize(
    ("fmt", "options", "renamed"),
    [
        ("coco", {}, [("clip_1.jpg/x", "data/clip_1.jpg__2/x_1.jpg"), ("clip_1.jpg/x", "data/clip_1.jpg__2/x_2.jpg"),
                      ("reel", "data/reel_1__2.jpg"), (NFD, f"data/{NFD}_1__2.jpg"), (NFD, f"data/{NFD}_2__2.jpg")]),
        ("yolo_v5", {"layout": "merged"}, [("clip_1.jpg/x", "clip_1.jpg__2/x"), ("reel", "reel__2"), (NFD, f"{NFD}__2")]),
        ("yolo_v8", {"split": "train=0.5,val=0.5"},
         [("clip_1.jpg/x", "clip_1.jpg__2/x"), ("reel", "reel__2"), (NFD, f"{NFD}__2")]),
        ("pascal_voc", {}, [("clip_1.jpg/x", "clip_1.jpg__2/x"), ("reel", "reel__2"), (NFD, f"{NFD}__2")]),
        ("kili", {}, [("clip_1.jpg/x", "assets/clip_1.jpg__2/x_1.jpg"), ("clip_1.jpg/x", "assets/clip_1.jpg__2/x_2.jpg"),
                      ("reel", "assets/reel_1__2.jpg"), (NFD, f"assets/{NFD}_1__2.jpg"), (NFD, f"assets/{NFD}_2__2.jpg"),
                      (NFD, f"{NFD}__2")]),
    ],
    ids=["coco", "yolo_v5-merged", "yolo_v8-split", "pascal_voc", "kili"],
)  # fmt: skip
def test_video_frame_archives_extract(client, video_collisions, tmp_path, fmt, options, renamed):
    path = tmp_path / f"{fmt}.zip"
    report = _export(client, video_collisions, path, fmt, with_assets=True, **options)
    names = extract(path, tmp_path / fmt)
    assert len([n for n in names if n.endswith(".jpg")]) == 2 * len(VIDEO_IDS)
    assert report.renamed == renamed
    assert report.skipped == []


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("coco", {}),
        ("yolo_v8", {"layout": "merged", "with_assets": True}),
        ("yolo_v5", {"split": "train=0.5,val=0.5"}),
        ("pascal_voc", {}),
        ("kili", {}),
    ],
)
def test_parallel_exports_name_colliding_assets_as_serial_ones(client, collisions, tmp_path, monkeypatch, fmt, options):
    monkeypatch.setattr(parallel, "PAGE_SIZE", 3)
    options = {"with_assets": False, **options}
    serial = _export(client, collisions, tmp_path / "serial.zip", fmt, workers=1, **options)
    parallel_report = _export(client, collisions, tmp_path / "parallel.zip", fmt, workers=2, **options)
    assert parallel_report.workers == 2
    dates = re.compile(rb'("date_created":"|- Export date: )[^"\n]*')
    members = []
    for name in ("serial.zip", "parallel.zip"):
        with zipfile.ZipFile(tmp_path / name) as archive:
            members.append({n: dates.sub(rb"\1", archive.read(n)) for n in archive.namelist()})
    assert members[0] == members[1]
    assert parallel_report.renamed == serial.renamed != []
    extract(tmp_path / "parallel.zip", tmp_path / "out")
