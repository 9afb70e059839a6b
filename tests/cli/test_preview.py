from __future__ import annotations

import pytest
from PIL import Image

from labelport.preview import BACKGROUND, FILL_ALPHA, PALETTE, render_preview
from tests.factories import box, boxes, image_interface, rect

GREEN = (10, 120, 30)
OBJECT_A = (0x47, 0x2C, 0xED)  # the ontology's colour of JOB_0 / OBJECT_A


def _hex(color):
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


@pytest.fixture
def scene(client, image_project, images):
    """A 200×100 green image whose label is a box from (0.25, 0.2) to (0.75, 0.8): pixels 50–149, 20–79."""
    path = images.make("scene.png", 200, 100, GREEN)
    client.append_many_to_dataset(image_project, content_array=[str(path)], external_id_array=["scene"])
    return image_project


def _label(client, project_id, response, external_id="scene"):
    client.append_labels(project_id=project_id, asset_external_id_array=[external_id], json_response_array=[response])


def _tile_pixels(report, output):
    """The pixels of the first tile, in the image's own coordinates."""
    sheet = Image.open(output).convert("RGB")
    left, top, _width, _height = report.tiles[0].box
    return sheet, lambda x, y: sheet.getpixel((left + x, top + y))


def _assert_box_edges(pixel):
    for y in (30, 50, 70):  # left and right edges, 2 pixels wide, drawn inside the box
        assert [pixel(x, y) for x in (48, 49, 50, 51, 52)] == [GREEN, GREEN, OBJECT_A, OBJECT_A, GREEN]
        assert [pixel(x, y) for x in (147, 148, 149, 150, 151)] == [GREEN, OBJECT_A, OBJECT_A, GREEN, GREEN]
    for x in (60, 100, 140):  # bottom edge
        assert [pixel(x, y) for y in (76, 77, 78, 79, 80, 81)] == [GREEN, GREEN, OBJECT_A, OBJECT_A, GREEN, GREEN]
    for x in (100, 140):  # top edge (the name sits above it, at the left)
        assert [pixel(x, y) for y in (20, 21, 22)] == [OBJECT_A, OBJECT_A, GREEN]
    assert pixel(100, 50) == GREEN and pixel(10, 90) == GREEN and pixel(190, 5) == GREEN


def test_a_box_is_drawn_at_its_pixels_in_the_category_colour(client, scene, tmp_path):
    _label(client, scene, boxes(box("OBJECT_A", 0.25, 0.2, 0.75, 0.8)))
    output = tmp_path / "preview.png"
    report = render_preview(client, scene, output, thumb=200)
    assert report.tiles[0].box[2:] == (200, 100) and report.tiles[0].annotations == 1
    sheet, pixel = _tile_pixels(report, output)
    _assert_box_edges(pixel)
    assert sheet.getpixel((0, 0)) == BACKGROUND
    name = {pixel(x, y) for x in range(50, 70) for y in range(0, 18)}
    assert OBJECT_A in name  # the category's name is written on a patch of its colour, above the box


def test_a_rotated_label_is_drawn_in_the_image_axes(client, scene, tmp_path):
    # Drawn on the view turned by 90°: (x', y') in the view is (y', 1 − x') in the image, so this box
    # of the view, x' 0.2–0.8 and y' 0.25–0.75, is the image's box x 0.25–0.75, y 0.2–0.8.
    _label(client, scene, {**boxes(box("OBJECT_A", 0.2, 0.25, 0.8, 0.75)), "ROTATION_JOB": {"rotation": 90}})
    output = tmp_path / "preview.png"
    report = render_preview(client, scene, output, thumb=200)
    _assert_box_edges(_tile_pixels(report, output)[1])


def test_thumbnails_scale_the_drawing_with_the_image(client, scene, tmp_path):
    _label(client, scene, boxes(box("OBJECT_A", 0.25, 0.2, 0.75, 0.8)))
    output = tmp_path / "preview.png"
    report = render_preview(client, scene, output, thumb=100)  # the 200×100 image becomes 100×50
    assert report.tiles[0].box[2:] == (100, 50)
    pixel = _tile_pixels(report, output)[1]
    assert [pixel(x, 33) for x in (24, 25, 26, 27)] == [GREEN, OBJECT_A, OBJECT_A, GREEN]
    assert [pixel(x, 33) for x in (72, 73, 74, 75)] == [GREEN, OBJECT_A, OBJECT_A, GREEN]


def test_regions_points_and_lines(client, scene, tmp_path):
    sky = _hex(PALETTE[1])  # POLY: ROAD, SKY have no colour: the palette's first two
    key = _hex(PALETTE[2])  # POINTS: KEY, the third
    region = {
        "mid": "sky",
        "type": "semantic",
        "categories": [{"name": "SKY"}],
        "boundingPoly": [
            {"normalizedVertices": rect(0.0, 0.0, 0.5, 1.0)},
            {"normalizedVertices": rect(0.1, 0.3, 0.3, 0.7)},
        ],
    }
    marker = {"mid": "k", "type": "marker", "categories": [{"name": "KEY"}], "point": {"x": 0.75, "y": 0.5}}
    line = {
        "mid": "l",
        "type": "polyline",
        "categories": [{"name": "KEY"}],
        "polyline": [{"x": 0.6, "y": 0.9}, {"x": 0.95, "y": 0.9}],
    }
    _label(client, scene, {"POLY": {"annotations": [region]}, "POINTS": {"annotations": [marker, line]}})
    output = tmp_path / "preview.png"
    report = render_preview(client, scene, output, thumb=200)
    assert report.tiles[0].annotations == 3
    pixel = _tile_pixels(report, output)[1]
    alpha = FILL_ALPHA / 255
    tinted = pixel(80, 50)  # inside the region, outside its hole
    for channel, (base, color) in enumerate(zip(GREEN, sky, strict=True)):
        assert abs(tinted[channel] - (base * (1 - alpha) + color * alpha)) <= 1
    assert pixel(40, 50) == GREEN  # inside the hole
    assert pixel(150, 50) == key  # the marker's dot
    assert pixel(170, 90) == key  # on the line
    assert pixel(170, 70) == GREEN


def test_the_report_lists_skipped_assets(client, image_project, images, tmp_path):
    path = images.make("one.png", 60, 40)
    client.append_many_to_dataset(
        image_project,
        content_array=["https://h/remote.jpg", str(path), str(path)],
        external_id_array=["remote", "one", "two"],
    )
    _label(client, image_project, boxes(box("OBJECT_B", 0.1, 0.1, 0.9, 0.9)), "two")
    output = tmp_path / "out" / "sheet.png"
    report = render_preview(client, image_project, output, max_images=1)
    assert [tile.external_id for tile in report.tiles] == ["one"]
    assert str(report) == (
        f"Wrote {output}: 1 image(s) of project {image_project}, 0 annotation(s) drawn from their latest labels "
        "(1 image(s) without a label).\n"
        "  skipped remote: its content is a URL; the preview draws stored files only"
    )
    report = render_preview(client, image_project, output, external_ids=["two", "one"])
    assert [(tile.external_id, tile.annotations, tile.labeled) for tile in report.tiles] == [
        ("two", 1, True),
        ("one", 0, False),
    ]
    with Image.open(output) as sheet:
        assert sheet.size[0] == 2 * (256 + 16)  # two columns of 256-pixel thumbnails with their padding


def test_preview_errors(client, image_project, tmp_path):
    with pytest.raises(Exception, match=r"^Cannot write the preview to .*preview\.gif: give a file name ending"):
        render_preview(client, image_project, tmp_path / "preview.gif")
    with pytest.raises(Exception, match=r"^Nothing to preview in project '.*': no asset has a stored image\.$"):
        render_preview(client, image_project, tmp_path / "p.png")
    text = client.create_project("Texts", "TEXT", image_interface())["id"]
    with pytest.raises(Exception, match=r"is a TEXT project; the preview draws IMAGE projects only\.$"):
        render_preview(client, text, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def test_preview_command(cli, client, scene, tmp_path):
    _label(client, scene, boxes(box("OBJECT_A", 0.25, 0.2, 0.75, 0.8)))
    output = tmp_path / "preview.png"
    result = cli("preview", "--project-id", scene, "--output", output, "--thumb", "200")
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == f"Wrote {output}: 1 image(s) of project {scene}, 1 annotation(s) drawn from their latest labels.\n"
    )
    with Image.open(output) as sheet:
        assert sheet.format == "PNG" and sheet.width == 216
    result = cli("preview", "--project-id", scene, "--output", output, "--external-ids", "scene,ghost")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: No asset with external id 'ghost' in project '{scene}'; "
        f"list them with `labelport asset list --project-id {scene}`.\n"
    )
    result = cli("preview", "--project-id", "nope", "--output", output)
    assert result.exit_code == 1 and result.output.startswith("Error: Project 'nope' does not exist in this store")
    result = cli("preview", "--project-id", scene, "--output", output, "--max", "0")
    assert result.exit_code == 2 and "Invalid value for '--max': 0 is not in the range 1<=x<=1000." in result.output
