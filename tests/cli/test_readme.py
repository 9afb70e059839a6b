"""The README's quickstart runs as written: its Python snippets, then its shell commands."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import labelport

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("## Where data lives", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", quickstart, flags=re.DOTALL)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABELPORT_")}
    env["LABELPORT_HOME"] = str(tmp_path / "home")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_quickstart_runs_in_python_then_in_a_shell(tmp_path):
    script = tmp_path / "quickstart.py"
    script.write_text("\n".join(_blocks("python")))
    python = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert python.returncode == 0, python.stderr
    assert "  annotations written, JOB_0: 3" in python.stdout
    assert (tmp_path / "car_1.txt").read_text() == "OBJECT_A"
    # the latest REVIEW labels: the honeypot's ground truth (car_1) and Rita's review (car_2)
    assert sorted(path.name for path in tmp_path.glob("car_?.json")) == ["car_1.json", "car_2.json"]
    assert len(list(tmp_path.glob("car_?_per_annotator.json"))) == 3
    for name in ("export_kili.zip", "export_kili_single.zip", "export_yolo_v5.zip", "export_coco.zip"):
        assert zipfile.is_zipfile(tmp_path / name), name
    assert (tmp_path / "preview.png").exists()

    shell = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(_blocks("bash"))],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shell.returncode == 0, shell.stderr
    assert re.search(r"^Imported 3 asset\(s\) into project [0-9a-f]{32}\.$", shell.stdout, flags=re.MULTILINE)
    assert "Imported 3 DEFAULT label(s) by jane.roe@example.com into project" in shell.stdout
    assert re.search(r"^Project consensus +0\.\d+$", shell.stdout, flags=re.MULTILINE)  # two labelers, a little apart
    for name in ("cli_kili.zip", "cli_kili_single.zip", "cli_yolo_v5.zip", "cli_coco.zip", "cli_preview.png"):
        assert (tmp_path / name).exists(), name
    # each car got its own box, as in the Python part: John's on the car, Jane's a little to the right
    python_cars = re.search(r"^cars = (\{.*\})$", "\n".join(_blocks("python")), flags=re.MULTILINE)
    assert python_cars is not None
    cars = ast.literal_eval(python_cars.group(1))
    with labelport.Client(f"sqlite:///{tmp_path / 'quickstart-cli.db'}", media_dir=tmp_path / "media") as client:
        project_id = client.projects(fields=["id"])[0]["id"]
        labels = client.labels(project_id, fields=["labelOf.externalId", "author.email", "jsonResponse"])
    boxes = {}
    for label in labels:
        (annotation,) = label["jsonResponse"]["JOB_0"]["annotations"]
        vertices = annotation["boundingPoly"][0]["normalizedVertices"]
        xs, ys = [v["x"] for v in vertices], [v["y"] for v in vertices]
        boxes[label["labelOf"]["externalId"], label["author"]["email"]] = (min(xs), min(ys), max(xs), max(ys))
    for car, (x0, y0, x1, y1) in cars.items():
        assert boxes[car, "john.doe@example.com"] == pytest.approx((x0, y0, x1, y1))
        assert boxes[car, "jane.roe@example.com"] == pytest.approx((x0 + 0.03, y0, x1 + 0.03, y1))
