"""What every export shares: checks and errors, selection, names, atomicity, determinism, report."""

from __future__ import annotations

import os
import stat
import zipfile

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelport.errors import ExportError, IncompatibleFormatError, NotFound, ValidationError
from labelport.export import formats
from labelport.export.formats.base import FORMAT_OPTIONS, HONOURED, FormatSpec
from labelport.export.names import DigestSet, NameAllocator, safe_path, strip_image_suffix
from tests.export import projects
from tests.golden import read_archive


@pytest.fixture
def image(client, tmp_path):
    return projects.build_image_project(client, tmp_path / "images")


def names_in(path):
    with zipfile.ZipFile(path) as archive:
        return sorted(archive.namelist())


def test_unknown_format(client, image, tmp_path):
    with pytest.raises(IncompatibleFormatError) as error:
        client.export_labels(image.project_id, tmp_path / "out.zip", "tfrecord")
    assert str(error.value).startswith(
        "Unknown export format 'tfrecord'; formats: coco, geojson, kili, pascal_voc, raw, simple, yolo_v4"
    )
    assert not (tmp_path / "out.zip").exists()


def test_input_type_refused_names_the_formats_that_work(client, tmp_path):
    text = projects.build_text_project(client)
    with pytest.raises(IncompatibleFormatError) as error:
        client.export_labels(text.project_id, tmp_path / "out.zip", "coco")
    assert str(error.value) == (
        f"Project {text.project_id!r} has input type TEXT, which format 'coco' cannot export; "
        "formats for TEXT projects: kili, raw, simple."
    )


def test_no_compatible_job_lists_jobs_and_formats(client, tmp_path):
    interface = {"jobs": {"WEATHER": projects.IMAGE_INTERFACE["jobs"]["WEATHER"]}}
    project_id = client.create_project("Only classes", "IMAGE", interface)["id"]
    with pytest.raises(IncompatibleFormatError) as error:
        client.export_labels(project_id, tmp_path / "out.zip", "coco")
    assert str(error.value) == (
        f"Project {project_id!r} has no job that format 'coco' can export (it needs an OBJECT_DETECTION job with "
        "rectangle, polygon or semantic tools). Jobs: WEATHER (CLASSIFICATION). Formats that can export this project: "
        "kili, raw, simple."
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"export_type": "latest_from_last_step"},
            "export_type 'latest_from_last_step' is not available: labelport projects use workflow V1",
        ),
        ({"layout": "flat"}, "layout must be 'split' or 'merged', not 'flat'."),
        (
            {"label_type_in": ["AUTOSAVE"]},
            "label_type_in: AUTOSAVE labels are drafts and are never exported; remove it.",
        ),
        ({"label_type_in": ["FINAL"]}, "label_type_in 'FINAL' is not valid; use one of: AUTOSAVE, DEFAULT, INFERENCE"),
        (
            {"asset_filter_kwargs": {"colour": "red"}},
            "Unknown asset filter arguments: ['colour']; asset_filter_kwargs takes the filters of assets():",
        ),
    ],
)
def test_bad_options(client, image, tmp_path, kwargs, message):
    with pytest.raises(ValidationError) as error:
        client.export_labels(image.project_id, tmp_path / "out.zip", "kili", **kwargs)
    assert str(error.value).startswith(message)
    assert list(tmp_path.glob("*.zip")) == []


def test_unknown_external_id_is_not_found(client, image, tmp_path):
    with pytest.raises(NotFound, match="No asset with external id 'nope'"):
        client.export_labels(image.project_id, tmp_path / "out.zip", "kili", external_ids=["nope"])


def test_unwritable_output_leaves_nothing(client, image, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(ExportError) as error:
        client.export_labels(image.project_id, blocker / "out.zip", "kili", with_assets=False)
    assert str(error.value).startswith(f"Cannot write the export to {str(blocker / 'out.zip')!r}: ")
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(readonly, os.W_OK):  # running as root: permissions do not bind
            pytest.skip("the directory stays writable for this user")
        with pytest.raises(ExportError):
            client.export_labels(image.project_id, readonly / "out.zip", "kili", with_assets=False)
        assert list(readonly.iterdir()) == []
    finally:
        readonly.chmod(stat.S_IRWXU)


def _tree(folder):
    """Every path under ``folder`` but the SQLite store's files."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if not path.name.startswith("store.db"))


@pytest.mark.parametrize("trailing", ["", "/"])
def test_a_folder_as_the_export_path_is_refused_before_anything_is_written(client, image, tmp_path, trailing):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "kept.txt").write_text("x")
    before = _tree(tmp_path)
    for path in (str(folder) + trailing, str(tmp_path / "new") + "/"):
        with pytest.raises(ExportError) as error:
            client.export_labels(image.project_id, path, "kili")
        assert str(error.value) == (
            f"Cannot write the export to {path!r}: it names a folder; give the path of the zip archive to write "
            f"in it, e.g. {os.path.join(path.rstrip('/'), 'export.zip')!r}."
        )
    assert _tree(tmp_path) == before


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "The export path is empty; give the path of the zip archive to write, e.g. 'export.zip'."),
        (
            "out\0.zip",
            "Cannot write the export to 'out\\x00.zip': the path contains a NUL character, which no file system "
            "accepts; remove it.",
        ),
        (
            "sub\0dir/out.zip",
            "Cannot write the export to 'sub\\x00dir/out.zip': the path contains a NUL character, which no file "
            "system accepts; remove it.",
        ),
        (
            "out\ud800.zip",
            "Cannot write the export to 'out\\ud800.zip': '\\ud800' at position 3 cannot be written in a file name on "
            "this system (a lone surrogate is not text); fix the path.",
        ),
    ],
    ids=["empty", "nul", "nul in a folder", "lone surrogate"],
)
def test_an_empty_path_or_a_nul_character_is_refused_before_anything_is_written(
    client, image, tmp_path, monkeypatch, path, message
):
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    with pytest.raises(ExportError) as error:
        client.export_labels(image.project_id, path, "kili")
    assert str(error.value) == message
    assert _tree(tmp_path) == before


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_the_archive_gets_the_permissions_of_any_new_file(client, image, tmp_path, umask, mode):
    target = tmp_path / "out.zip"
    target.write_bytes(b"previous export")
    target.chmod(0o600)
    previous = os.umask(umask)
    try:
        client.export_labels(image.project_id, target, "kili", with_assets=False)
        client.export_labels(image.project_id, tmp_path / "new" / "out.zip", "kili", with_assets=False)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "new" / "out.zip").stat().st_mode) == mode


def test_a_failed_export_removes_the_folders_it_created(client, tmp_path):
    pdf = projects.build_pdf_project(client, tmp_path / "pdf")
    client.update_properties_in_assets(
        external_ids=["invoice.pdf"], project_id=pdf.project_id, page_resolutions_array=[[]]
    )
    (tmp_path / "exports").mkdir()
    before = _tree(tmp_path)
    with pytest.raises(ExportError, match=r"^Asset 'invoice.pdf': pixel coordinates not added"):
        client.export_labels(
            pdf.project_id,
            tmp_path / "exports" / "new" / "deeper" / "out.zip",
            "kili",
            normalized_coordinates=False,
            strict=True,
        )
    assert _tree(tmp_path) == before


def test_a_failed_export_leaves_no_partial_archive(client, image, tmp_path):
    client.update_properties_in_assets(
        external_ids=["img_1.png"], project_id=image.project_id, resolution_array=[{"width": 200, "height": 100}]
    )
    out = tmp_path / "out" / "export.zip"
    out.parent.mkdir()
    out.write_bytes(b"previous export")
    pdf = projects.build_pdf_project(client, tmp_path / "pdf")
    client.update_properties_in_assets(
        external_ids=["invoice.pdf"], project_id=pdf.project_id, page_resolutions_array=[[]]
    )
    with pytest.raises(ExportError) as error:
        client.export_labels(pdf.project_id, out, "kili", normalized_coordinates=False, strict=True)
    assert str(error.value).startswith(
        "Asset 'invoice.pdf': pixel coordinates not added: the PDF has no pageResolutions"
    )
    assert sorted(p.name for p in out.parent.iterdir()) == ["export.zip"]
    assert out.read_bytes() == b"previous export"  # the previous export is untouched


def test_exports_are_deterministic(client, image, tmp_path):
    client.export_labels(image.project_id, tmp_path / "a.zip", "kili", with_assets=True)
    client.export_labels(image.project_id, tmp_path / "b.zip", "kili", with_assets=True)
    first, second = read_archive(tmp_path / "a.zip"), read_archive(tmp_path / "b.zip")
    assert list(first) == list(second)
    for name in first:
        if name != "README.kili.txt":
            assert first[name] == second[name], name
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_readme(client, image, tmp_path):
    client.export_labels(image.project_id, tmp_path / "out.zip", "raw", with_assets=False, export_type="normal")
    lines = read_archive(tmp_path / "out.zip")["README.kili.txt"].decode().splitlines()
    assert lines[:5] == [
        "Exported Labels from KILI",
        "=========================",
        "",
        "- Project name: Street scenes",
        f"- Project identifier: {image.project_id}",
    ]
    assert lines[5] == "- Project description: export fixtures"
    assert lines[6].startswith("- Export date: ") and len(lines[6]) == len("- Export date: 20240101-120000")
    assert lines[7:] == ["- Exported format: raw", "- Exported labels: normal"]


def test_selection_by_ids_and_filters(client, image, tmp_path):
    ids = {a["externalId"]: a["id"] for a in client.assets(image.project_id, fields=["externalId", "id"])}
    client.export_labels(image.project_id, tmp_path / "a.zip", "kili", with_assets=False, asset_ids=[ids["img_2.jpg"]])
    assert names_in(tmp_path / "a.zip") == ["README.kili.txt", "labels/img_2.jpg.json"]
    client.export_labels(
        image.project_id, tmp_path / "b.zip", "kili", with_assets=False, external_ids=["remote_4", "unlabeled_5"]
    )
    assert names_in(tmp_path / "b.zip") == ["README.kili.txt", "labels/remote_4.json"]
    report = client.export_labels(
        image.project_id,
        tmp_path / "c.zip",
        "kili",
        with_assets=False,
        asset_filter_kwargs={"label_category_search": "BOXES.CAR.count >= 1", "external_id_in": ["img", "remote"]},
    )
    assert names_in(tmp_path / "c.zip") == ["README.kili.txt", "labels/img_1.png.json", "labels/remote_4.json"]
    assert (report.assets_matched, report.assets_exported) == (2, 2)


def test_label_types_and_sent_back_labels(client, image, tmp_path):
    client.create_predictions(
        image.project_id,
        external_id_array=["unlabeled_5"],
        json_response_array=[{"WEATHER": {"categories": [{"name": "RAINY"}]}}],
        model_name="m1",
    )
    client.export_labels(image.project_id, tmp_path / "p.zip", "kili", with_assets=False, label_type_in=["PREDICTION"])
    members = read_archive(tmp_path / "p.zip")
    assert sorted(members) == ["README.kili.txt", "labels/unlabeled_5.json"]
    label = orjson.loads(members["labels/unlabeled_5.json"])["latestLabel"]
    assert (label["labelType"], label["modelName"]) == ("PREDICTION", "m1")
    client.send_back_to_queue(external_ids=["img_1.png"], project_id=image.project_id)
    report = client.export_labels(
        image.project_id, tmp_path / "s.zip", "kili", with_assets=False, include_sent_back_labels=False
    )
    assert "labels/img_1.png.json" not in names_in(tmp_path / "s.zip")
    assert report.assets_without_labels == 2
    client.export_labels(image.project_id, tmp_path / "t.zip", "kili", with_assets=False)
    assert (
        orjson.loads(read_archive(tmp_path / "t.zip")["labels/img_1.png.json"])["latestLabel"]["isSentBackToQueue"]
        is True
    )


def test_unsafe_and_colliding_names(client, tmp_path):
    project_id = client.create_project("Names", "IMAGE", projects.IMAGE_INTERFACE)["id"]
    external_ids = ["../../etc/passwd", "a b.png", "a_b.png", "CON", "A_B.PNG", "x:y?.png"]
    client.append_many_to_dataset(
        project_id,
        content_array=[f"https://h/{i}.png" for i in range(6)],
        external_id_array=external_ids,
        resolution_array=[{"width": 10, "height": 10}] * 6,
    )
    client.append_labels(project_id=project_id, asset_external_id_array=external_ids, json_response_array=[{}] * 6)
    report = client.export_labels(project_id, tmp_path / "out.zip", "kili", with_assets=False)
    assert names_in(tmp_path / "out.zip") == [
        "README.kili.txt",
        "labels/A_B.PNG__3.json",
        "labels/_CON.json",
        "labels/a_b.png.json",
        "labels/a_b.png__2.json",
        "labels/etc/passwd.json",
        "labels/x_y_.png.json",
    ]
    assert report.renamed == [
        ("../../etc/passwd", "etc/passwd"),
        ("a_b.png", "a_b.png__2"),
        ("CON", "_CON"),
        ("A_B.PNG", "A_B.PNG__3"),
        ("x:y?.png", "x_y_.png"),
    ]
    assert "renamed: asset 'CON' is written as '_CON' (its name was taken or unsafe)" in str(report)


def test_safe_names():
    assert safe_path("/abs/path.jpg") == "abs/path.jpg"
    assert safe_path("a/../b") == "a/b"  # ".." segments are dropped
    assert safe_path("   ") == "___" and safe_path("") == "asset" and safe_path("..") == "asset"
    assert safe_path("tab\there") == "tab_here"
    assert len(safe_path("x" * 400).encode()) <= 180
    assert strip_image_suffix("image/1.jpg") == "image/1" and strip_image_suffix("doc.pdf") == "doc.pdf"
    assert strip_image_suffix("a.b/c") == "a.b/c" and strip_image_suffix(".png") == ".png"
    allocator = NameAllocator()
    assert [allocator.allocate(e, b) for e, b in (("a", "a"), ("A", "A"), ("a", "a"))] == ["a", "A__2", "a__3"]


def test_progress_bar_and_report_text(client, image, tmp_path, capsys):
    report = client.export_labels(image.project_id, tmp_path / "out.zip", "kili", with_assets=False, disable_tqdm=False)
    assert "Exporting to kili" in capsys.readouterr().err
    assert str(report).splitlines() == [
        f"Exported project {image.project_id} to kili: {tmp_path / 'out.zip'}",
        "  assets matched: 5, exported: 4, without a label of the selected types (not exported): 1",
        "  labels exported: 4; files in the archive: 5",
        "  annotations written, BOXES: 4",
        "  annotations written, KEYPOINTS: 2",
        "  annotations written, MIXED: 2",
        "  annotations written, REGIONS: 3",
        "  annotations written, WEATHER: 1",
    ]
    assert report.as_dict()["assets_exported"] == 4


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 3000), max_size=1500), st.lists(st.integers(0, 3000), max_size=50))
def test_digest_set_answers_as_a_set_across_growth(added_numbers, probed_numbers):
    # up to 1,500 distinct names: the table (1,024 slots at first) grows once or twice
    added, probed = [f"n{n}" for n in added_numbers], [f"n{n}" for n in probed_numbers]
    digests, reference = DigestSet(), set()
    for name in added:
        digests.add(name)
        reference.add(name)
        assert len(digests) == len(reference)
    for name in [*added, *probed]:
        assert (name in digests) == (name in reference)


def test_digest_set_keeps_each_name_in_at_most_32_bytes():
    digests = DigestSet()
    for index in range(100_000):
        digests.add(f"labels/img_{index:06d}.txt")
    assert len(digests) == 100_000
    assert digests._table.itemsize * len(digests._table) <= 32 * 100_000  # 2.1 MB; a set of ints: ~12 MB


def test_a_format_declares_how_it_takes_every_option():
    kili = formats.get("kili")
    with pytest.raises(IncompatibleFormatError) as error:
        FormatSpec(
            name="tfrecord",
            writer=kili.writer,
            input_types=frozenset({"IMAGE"}),
            media_folder="images",
            job_filter=None,
            needs="any job",
            options={**{o: HONOURED for o in FORMAT_OPTIONS if o not in ("split", "dataset_root")}, "colour": HONOURED},
        )
    assert str(error.value) == (
        "Format 'tfrecord' must declare how it takes each of layout, single_file, with_assets, "
        "normalized_coordinates, annotation_modifier, split, dataset_root, dataset_layout, with Honoured(), "
        "Refused(why, fix, values) or Unused(note) (missing: split, dataset_root; unknown: colour)."
    )
    assert [spec.name for spec in formats.specs()] == sorted({spec.name for spec in formats.all_specs().values()})
    assert all(set(spec.options) == set(FORMAT_OPTIONS) for spec in formats.specs())
    assert formats.honouring("split") == ["coco", "yolo_v5", "yolo_v7", "yolo_v8"]
    assert formats.aliases(kili) == ["raw"]
