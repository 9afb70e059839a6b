from __future__ import annotations

import json

from tests.factories import image_interface

USAGE_IMPORT = (
    "Usage: labelport project import [OPTIONS] [FILES]...\nTry 'labelport project import --help' for help.\n\n"
)


def _external_ids(client, project_id):
    return [row["externalId"] for row in client.assets(project_id, fields=["externalId"])]


def test_import_a_folder_takes_the_images_of_the_project_type(cli, client, image_project, images, tmp_path):
    folder = images.folder
    images.make("a.png", 40, 30)
    images.make("b.jpg", 20, 10)
    (folder / "notes.txt").write_text("not an image")
    (folder / "sub").mkdir()
    images.make("sub/d.png")
    (folder / ".cache").mkdir()
    images.make(".cache/c.png")
    result = cli("project", "import", folder, "--project-id", image_project)
    assert result.exit_code == 0, result.output
    assert result.output == f"Imported 3 asset(s) into project {image_project}.\n"
    rows = client.assets(image_project, fields=["externalId", "resolution.width", "resolution.height", "status"])
    assert rows == [
        {"resolution": {"width": 40, "height": 30}, "externalId": "a", "status": "TODO"},
        {"resolution": {"width": 20, "height": 10}, "externalId": "b", "status": "TODO"},
        {"resolution": {"width": 64, "height": 48}, "externalId": "d", "status": "TODO"},
    ]
    again = cli("project", "import", folder, "--project-id", image_project)
    assert again.exit_code == 0
    assert again.output == (
        f"Imported 0 asset(s) into project {image_project}. "
        "Skipped 3 asset(s) already in the project (same external id).\n"
    )


def test_import_files_and_patterns(cli, client, image_project, images):
    images.make("a.png")
    images.make("b.png")
    images.make("c.jpg")
    extra = images.make("odd.jpeg")
    result = cli("project", "import", str(images.folder / "*.png"), extra, "--project-id", image_project)
    assert result.exit_code == 0, result.output
    assert result.output == f"Imported 3 asset(s) into project {image_project}.\n"
    assert _external_ids(client, image_project) == ["a", "b", "odd"]


def test_import_path_errors(cli, client, image_project, images, tmp_path):
    missing = tmp_path / "nope"
    result = cli("project", "import", missing, "--project-id", image_project)
    assert result.exit_code == 2
    assert result.output == USAGE_IMPORT + (
        f"Error: Invalid value for 'FILES': '{missing}' is neither a file, a folder nor a pattern matching files.\n"
    )
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, second = tmp_path / "one" / "x.png", tmp_path / "two" / "x.png"
    for path in (first, second):
        path.write_bytes(images.make("x.png").read_bytes())
    result = cli("project", "import", tmp_path / "one", tmp_path / "two", "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: Two files would get the external id 'x': {first} and {second}; rename one, "
        "or import with --from-csv to choose the external ids.\n"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("project", "import", empty, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: No file to import in {empty}: files taken from folders for an IMAGE project end with "
        ".bmp, .gif, .jpeg, .jpg, .png, .tif, .tiff, .webp.\n"
    )
    result = cli("project", "import", "--project-id", image_project)
    assert result.exit_code == 2
    assert (
        result.output
        == USAGE_IMPORT + "Error: Give FILES (files, folders or patterns) or --from-csv CSV, one of them.\n"
    )
    result = cli("project", "import", images.folder, "--project-id", "nope")
    assert result.exit_code == 1 and result.output.startswith("Error: Project 'nope' does not exist in this store")
    assert client.count_assets(image_project) == 0


def test_import_from_csv(cli, client, image_project, images, tmp_path):
    images.make("car_1.png", 30, 20)
    csv_path = images.folder / "assets.csv"
    csv_path.write_text(
        "external_id,content,json_metadata\n"
        'car_1,car_1.png,"{""camera"": ""front"", ""speed"": 12}"\n'
        "remote,https://example.com/remote.jpg,\n"
    )
    result = cli("project", "import", "--from-csv", csv_path, "--project-id", image_project)
    assert result.exit_code == 0, result.output
    assert result.output == f"Imported 2 asset(s) into project {image_project}.\n"
    rows = client.assets(image_project, fields=["externalId", "content", "jsonMetadata", "resolution.width"])
    assert [row["externalId"] for row in rows] == ["car_1", "remote"]
    assert rows[0]["jsonMetadata"] == {"camera": "front", "speed": 12} and rows[0]["resolution"] == {"width": 30}
    assert rows[0]["content"].startswith(str(tmp_path / "media"))  # the file was copied into the store
    assert rows[1]["content"] == "https://example.com/remote.jpg" and rows[1]["jsonMetadata"] == {}


def test_import_csv_errors(cli, client, image_project, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,path\na,b\n")
    result = cli("project", "import", "--from-csv", wrong, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {wrong}: the CSV needs the columns external_id and content (and optionally json_metadata); "
        "missing: external_id, content; found: id, path.\n"
    )
    blank = tmp_path / "blank.csv"
    blank.write_text("external_id,content\na,https://h/a.jpg\nb,\n")
    result = cli("project", "import", "--from-csv", blank, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == f"Error: {blank}, line 3: external_id and content must not be empty.\n"
    bad_metadata = tmp_path / "metadata.csv"
    bad_metadata.write_text("external_id,content,json_metadata\na,https://h/a.jpg,{oops\n")
    result = cli("project", "import", "--from-csv", bad_metadata, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == "Error: Asset 'a': json_metadata is not valid JSON: '{oops'.\n"
    missing_file = tmp_path / "missing.csv"
    missing_file.write_text("external_id,content\na,nowhere/a.png\n")
    result = cli("project", "import", "--from-csv", missing_file, "--project-id", image_project)
    assert result.exit_code == 1
    assert result.output == (
        "Error: Asset 'a': content 'nowhere/a.png' is neither an http(s) URL nor an existing file; check the path.\n"
    )
    assert client.count_assets(image_project) == 0


def test_a_failing_batch_stores_nothing_and_a_rerun_imports_the_rest(cli, client, image_project, images):
    for name in ("a.png", "b.png", "c.png"):
        images.make(name)
    broken = images.folder / "d.png"
    broken.write_bytes(b"not a png")
    images.make("e.png")
    result = cli("project", "import", images.folder, "--project-id", image_project, "--batch-size", "2")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: Asset 'd': {broken} is not an image Pillow can read (")
    assert result.output.endswith(
        "2 asset(s) were imported before this batch; run the same command again once fixed: "
        "assets already imported are skipped.\n"
    )
    assert _external_ids(client, image_project) == ["a", "b"]
    images.make("d.png")
    result = cli("project", "import", images.folder, "--project-id", image_project, "--batch-size", "2")
    assert result.output == (
        f"Imported 3 asset(s) into project {image_project}. "
        "Skipped 2 asset(s) already in the project (same external id).\n"
    )
    assert _external_ids(client, image_project) == ["a", "b", "c", "d", "e"]


def test_import_texts(cli, client, tmp_path):
    project_id = client.create_project("Texts", "TEXT", image_interface())["id"]
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "one.txt").write_text("first text")
    (folder / "two.md").write_text("second text")
    (folder / "image.png").write_bytes(b"")
    result = cli("project", "import", folder, "--project-id", project_id)
    assert result.output == f"Imported 2 asset(s) into project {project_id}.\n"
    assert client.assets(project_id, fields=["externalId", "content"]) == [
        {"externalId": "one", "content": "first text"},
        {"externalId": "two", "content": "second text"},
    ]
    assert json.loads(
        cli("asset", "list", "--project-id", project_id, "--fields", "content", "--format", "json").output
    ) == [
        {"content": "first text"},
        {"content": "second text"},
    ]
