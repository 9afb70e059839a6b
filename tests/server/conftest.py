"""The ``kili_python`` fixture: the Python of a virtual environment holding the pinned ``kili`` SDK, kept
under ``<repo>/.venv-kili/`` between runs and built there (``python -m venv`` + pip) when missing or
pinned differently. The SDK never goes into labelport's own environment: the server tests talk to it as
a separate process, as users' scripts do. Skipped, with pip's reason, only when PyPI cannot be reached."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import labelport

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


# -- a running server -------------------------------------------------------------------------------------

ADMIN = "admin@example.com"


@dataclass
class RunningServer:
    """``labelport serve`` started on a free loopback port over the test's store (SQLite or PostgreSQL),
    with an organization ADMIN and its API key."""

    url: str
    database_url: str
    media_dir: Path
    admin_key: str
    log: Path

    @property
    def endpoint(self) -> str:
        return self.url + "/api/label/v2/graphql"

    def client(self, email: str = ADMIN) -> labelport.Client:
        """labelport's own client on the same store (in this process)."""
        return labelport.Client(self.database_url, email, media_dir=self.media_dir, disable_tqdm=True)

    def key_for(self, email: str, role: str | None = None) -> str:
        """A new API key for ``email`` (created as an organization USER when new)."""
        with self.client() as admin:
            return admin.create_api_key(email, name=role)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(database_url: str, media_dir: Path, log: Path, *extra: str) -> Iterator[str]:
    """``labelport serve`` in a child process until the block ends; yields its base URL once it answers."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABELPORT_")}
    command = [sys.executable, "-m", "labelport", "serve", "--db", database_url, "--port", str(port)]
    command += ["--media-dir", str(media_dir), "--log-level", "warning", *extra]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # until /health answers (the process imports, opens the store, binds)
            if process.poll() is not None:
                raise RuntimeError(f"labelport serve stopped at start-up:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"labelport serve did not answer in 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    media = tmp_path / "media"
    with labelport.Client(database_url, ADMIN, media_dir=media, disable_tqdm=True) as admin:
        key = admin.create_api_key(ADMIN, name="tests")  # the client's user: an organization ADMIN
    log = tmp_path / "server.log"
    with serving(database_url, media, log) as url:
        yield RunningServer(url, database_url, media, key, log)


def run_kili(
    program: Path, server: RunningServer, key: str, args: list[str], home: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a program of the kili venv (its Python with a script or ``-c``, or its ``kili`` command) against
    the server, with the tutorial's two environment variables and a home of its own (the SDK caches the
    schema there)."""
    env = {key_: value for key_, value in os.environ.items() if not key_.startswith(("KILI_", "LABELPORT_"))}
    env.update({"KILI_API_KEY": key, "KILI_API_ENDPOINT": server.endpoint, "HOME": str(home), "NO_COLOR": "1"})
    return subprocess.run([str(program), *args], capture_output=True, text=True, env=env, timeout=timeout)
