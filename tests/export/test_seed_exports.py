"""The seed tutorial's export snippets, run as they are written, give the trees the tutorial describes."""

from __future__ import annotations

import zipfile

import pytest
import yaml

from tests.factories import ImageFactory
from tests.test_seed import INTERFACE, response


@pytest.fixture
def tutorial(client, tmp_path):
    kili = client
    project_id = kili.create_project(title="Export tutorial", input_type="IMAGE", json_interface=INTERFACE)["id"]
    images = ImageFactory(tmp_path / "images")
    paths = [images.make("car_1.jpg", 640, 480), images.make("car_2.jpg", 320, 240)]
    kili.append_many_to_dataset(project_id, content_array=[str(p) for p in paths], external_id_array=["car_1", "car_2"])
    kili.append_labels(
        project_id=project_id,
        asset_external_id_array=["car_1"],
        json_response_array=[response(0.5, 0.4, 0.8, 0.8, "a")],
    )
    return kili, project_id, paths


def tree(path):
    with zipfile.ZipFile(path) as archive:
        return sorted(archive.namelist())


def test_kili_format_one_file_per_asset(tutorial, tmp_path):
    kili, your_project_id, _ = tutorial
    kili.export_labels(project_id=your_project_id, filename=str(tmp_path / "export.zip"), fmt="kili")
    assert tree(tmp_path / "export.zip") == ["README.kili.txt", "assets/car_1.jpg", "labels/car_1.json"]


def test_kili_format_one_file_for_the_whole_project(tutorial, tmp_path):
    kili, your_project_id, _ = tutorial
    kili.export_labels(project_id=your_project_id, filename=str(tmp_path / "export.zip"), fmt="kili", single_file=True)
    assert tree(tmp_path / "export.zip") == ["README.kili.txt", "assets/car_1.jpg", "data.json"]


def test_yolo_v5(tutorial, tmp_path):
    kili, your_project_id, paths = tutorial
    kili.export_labels(project_id=your_project_id, filename=str(tmp_path / "export.zip"), fmt="yolo_v5")
    # With the media, each job folder is a dataset that trains as it is (Kili puts images/ at the root, where no
    # trainer pairs them with JOB_0/labels/): docs/export/yolo.md.
    assert tree(tmp_path / "export.zip") == [
        "JOB_0/data.yaml",
        "JOB_0/images/car_1.jpg",
        "JOB_0/labels/car_1.txt",
        "README.kili.txt",
    ]
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        # class x-centre y-centre width height, relative to the image
        assert archive.read("JOB_0/labels/car_1.txt") == b"0 0.650000 0.600000 0.300000 0.400000\n"
        assert yaml.safe_load(archive.read("JOB_0/data.yaml")) == {
            "path": "",
            "train": "images",
            "val": "images",
            "names": {0: "OBJECT_A", 1: "OBJECT_B"},
        }
        assert archive.read("JOB_0/images/car_1.jpg") == paths[0].read_bytes()


def test_coco(tutorial, tmp_path):
    kili, your_project_id, paths = tutorial
    kili.export_labels(project_id=your_project_id, filename=str(tmp_path / "export.zip"), fmt="coco")
    # the COCO annotation file and the data/ folder with the assets
    assert tree(tmp_path / "export.zip") == ["JOB_0/labels.json", "README.kili.txt", "data/car_1.jpg"]
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        assert archive.read("data/car_1.jpg") == paths[0].read_bytes()
