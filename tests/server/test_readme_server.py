"""The README's server section runs as written: a key, `labelport serve` in the background, the two
environment variables, then its Python snippet with the unmodified kili SDK (on a free port instead of
4000, so that test runs side by side do not collide)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import labelport
from tests import factories
from tests.server.conftest import free_port

README = Path(__file__).resolve().parents[2] / "README.md"
REPO = README.parent


def _section() -> tuple[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Kili's SDK against your labelport", 1)[1].split("\n## ", 1)[0]
    (bash,) = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    (python,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    return bash, python


def test_the_readme_server_section_runs(kili_python, tmp_path):
    with labelport.Client(f"sqlite:///{tmp_path / 'quickstart.db'}", disable_tqdm=True) as client:
        project_id = client.create_project("Cars", "IMAGE", factories.image_interface())["id"]
        client.append_many_to_dataset(
            project_id, [str(factories.ImageFactory(tmp_path / "i").make("car.png"))], external_id_array=["car"]
        )
        client.append_labels(
            json_response_array=[factories.boxes(factories.box("OBJECT_B", 0.1, 0.1, 0.5, 0.5))],
            asset_external_id_array=["car"],
            project_id=project_id,
        )
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    port = str(free_port())
    bash, python = (block.replace("4000", port) for block in _section())
    (tmp_path / "snippet.py").write_text(python)
    waited = "\n".join(
        [
            "trap 'kill %1 2>/dev/null' EXIT",
            *(
                line
                + f"\nfor _ in $(seq 100); do curl -sf http://127.0.0.1:{port}/health >/dev/null && break; sleep 0.2; done"
                if "labelport serve" in line
                else line
                for line in bash.splitlines()
            ),
            f"{kili_python} snippet.py",
        ]
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LABELPORT_", "KILI_"))}
    env["HOME"] = str(tmp_path / "home")
    env["LABELPORT_HOME"] = str(tmp_path / "labelport-home")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", waited], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    with zipfile.ZipFile(tmp_path / "export_from_sdk.zip") as archive:
        assert "images/car.png" in archive.namelist()
