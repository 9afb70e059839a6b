"""The ``kili_python`` fixture: the Python of a virtual environment holding the pinned ``kili`` SDK, kept
under ``<repo>/.venv-kili/`` between runs and built there (``python -m venv`` + pip) when missing or
pinned differently. The SDK never goes into labelport's own environment: the server tests talk to it as
a separate process, as users' scripts do. Skipped, with pip's reason, only when PyPI cannot be reached."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The SDK version labelport's server is proven against.
KILI_VERSION = "26.2.4"
#: The extras: the CLI (pandas, tabulate), imports of local images (imagesize), COCO exports (numpy, shapely).
KILI_REQUIREMENT = f"kili[cli,image,coco]=={KILI_VERSION}"

REPO = Path(__file__).resolve().parents[2]
KILI_VENV = REPO / ".venv-kili"
#: Written once the install succeeded: the requirement the environment holds.
MARKER = KILI_VENV / "labelport-requirement.txt"
#: Words of pip's output that say the index could not be reached (as opposed to a broken install or a
#: version the index does not have, where pip lists the versions it found).
UNREACHABLE = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ProxyError",
    "Max retries exceeded",
    "Could not fetch URL",
    "(from versions: none)",
)


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time when several test runs share the checkout (POSIX; elsewhere, no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build() -> None:
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(KILI_VENV)], check=True, capture_output=True)
    pip = subprocess.run(
        [
            str(_venv_python(KILI_VENV)),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            KILI_REQUIREMENT,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if pip.returncode != 0:
        output = (pip.stdout + pip.stderr).strip()
        tail = "\n".join(output.splitlines()[-15:])
        if any(words in output for words in UNREACHABLE):
            pytest.skip(f"PyPI cannot be reached to install {KILI_REQUIREMENT} into {KILI_VENV}:\n{tail}")
        pytest.fail(f"pip could not install {KILI_REQUIREMENT} into {KILI_VENV}:\n{tail}", pytrace=False)
    MARKER.write_text(KILI_REQUIREMENT + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def kili_python() -> Path:
    """The Python of ``.venv-kili``, where ``kili`` (the pinned version, with its CLI) is installed."""
    with _locked(REPO / ".venv-kili.lock"):
        if not (MARKER.is_file() and MARKER.read_text(encoding="utf-8").strip() == KILI_REQUIREMENT):
            _build()
    return _venv_python(KILI_VENV)
