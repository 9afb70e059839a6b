"""An export stopped by Ctrl-C (SIGINT) or SIGTERM (``timeout``, ``docker stop``, systemd) leaves nothing behind
and says nothing but that it stopped (issue 16, item 1): its temporary ``.partial`` file is removed, its worker
processes end without a traceback, and the command line exits with 130 or 143. A temporary file left by an
export killed outright (SIGKILL) is removed by the next export to the same name that succeeds, unless an
export is still writing it.

Real processes and real signals: the export runs in a subprocess (its own process group, as a shell runs a
command) and is stopped while its exporting process waits for a media download from a server that accepts the
connection and never answers; the test waits for that connection, not for a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import labelport

SRC = Path(__file__).resolve().parents[2] / "src"
WAIT_S = 60  # the longest a step may take on a loaded machine; the test waits for events, not for time

INTERFACE = {
    "jobs": {
        "BOXES": {
            "mlTask": "OBJECT_DETECTION",
            "tools": ["rectangle"],
            "required": 0,
            "isChild": False,
            "content": {"input": "radio", "categories": {"CAR": {"name": "Car", "children": []}}},
        }
    }
}


class SilentServer:
    """A TCP server that accepts connections and never answers: a download from it waits."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        self.connected = threading.Event()
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:  # closed
                return
            self.connections.append(connection)
            self.connected.set()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
        self.socket.close()
        for connection in self.connections:
            connection.close()
        self.thread.join(WAIT_S)


@dataclass
class Setup:
    url: str
    media: Path
    project_id: str
    out: Path
    server: SilentServer


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[Setup]:
    """The store of the test's backend (SQLite file or PostgreSQL: the workers read their pages with their own
    connections, in the exporting process's snapshot)."""
    server = SilentServer()
    url, media = database_url, tmp_path / "media"
    with labelport.Client(url, user_email="admin@example.com", media_dir=media, disable_tqdm=True) as client:
        project_id = client.create_project("Stopped", "IMAGE", INTERFACE)["id"]
        names = [f"car_{index:02d}.jpg" for index in range(40)]
        client.append_many_to_dataset(
            project_id,
            content_array=[f"http://127.0.0.1:{server.port}/{name}" for name in names],
            external_id_array=names,
            resolution_array=[{"width": 64, "height": 48} for _ in names],
        )
        box = {
            "categories": [{"name": "CAR"}],
            "type": "rectangle",
            "boundingPoly": [
                {
                    "normalizedVertices": [
                        {"x": 0.1, "y": 0.9},
                        {"x": 0.1, "y": 0.1},
                        {"x": 0.5, "y": 0.1},
                        {"x": 0.5, "y": 0.9},
                    ]
                }
            ],
        }
        client.append_labels(
            project_id=project_id,
            asset_external_id_array=names,
            json_response_array=[{"BOXES": {"annotations": [box]}} for _ in names],
        )
    out = tmp_path / "out"
    out.mkdir()
    try:
        yield Setup(url, media, project_id, out, server)
    finally:
        server.close()


def environment(setup: Setup) -> dict[str, str]:
    return {
        **os.environ,
        "LABELPORT_MEDIA_DIR": str(setup.media),
        "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "LABELPORT_USER_EMAIL": "admin@example.com",
        "LABELPORT_DISABLE_TQDM": "1",
    }


def cli_export(setup: Setup, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "labelport",
        "project",
        "export",
        "--project-id",
        setup.project_id,
        "--output-format",
        "coco",
        "--output-file",
        str(setup.out / "c.zip"),
        "--workers",
        str(workers),
        "--db",
        setup.url,
    ]


LIBRARY_SCRIPT = """
import sys
import labelport

client = labelport.Client(sys.argv[1], disable_tqdm=True)
try:
    client.export_labels(sys.argv[2], sys.argv[3], "coco", workers=2)
except KeyboardInterrupt:
    sys.exit(130)
"""


def library_export(setup: Setup) -> list[str]:
    return [sys.executable, "-c", LIBRARY_SCRIPT, setup.url, setup.project_id, str(setup.out / "c.zip")]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def start_and_wait_for_the_download(
    setup: Setup, command: list[str], workers: int
) -> tuple[subprocess.Popen[str], list[int]]:
    """Start the export; return once its exporting process is downloading (the workers converting), with the
    worker processes' ids."""
    process = subprocess.Popen(
        command,
        env=environment(setup),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    if not setup.server.connected.wait(WAIT_S):
        process.kill()
        raise AssertionError(f"the export never downloaded: {process.communicate()}")
    partials = [name for name in os.listdir(setup.out) if name.startswith(".c.zip.") and name.endswith(".partial")]
    assert len(partials) == 1, partials
    deadline = time.monotonic() + WAIT_S
    workers_seen = children(process.pid)
    while len(workers_seen) < workers and time.monotonic() < deadline:  # forked at the first page: there
        workers_seen = children(process.pid)
    return process, workers_seen


@pytest.mark.parametrize(
    ("front_door", "signum", "to_group", "code", "said"),
    [
        ("cli", signal.SIGINT, True, 130, "Interrupted (SIGINT).\n"),  # Ctrl-C in a terminal
        ("cli", signal.SIGTERM, True, 143, "Stopped (SIGTERM).\n"),  # kill -TERM -<process group>
        ("cli", signal.SIGTERM, False, 143, "Stopped (SIGTERM).\n"),  # timeout, docker stop: the process only
        ("library", signal.SIGINT, True, 130, ""),  # the script turns KeyboardInterrupt into exit code 130
        ("library", signal.SIGTERM, False, -signal.SIGTERM, ""),  # ends by SIGTERM, as without labelport
    ],
)
def test_a_stopped_export_leaves_nothing_and_says_only_that(setup, front_door, signum, to_group, code, said):
    command = cli_export(setup, 2) if front_door == "cli" else library_export(setup)
    process, workers = start_and_wait_for_the_download(setup, command, 2)
    assert len(workers) == 2
    if to_group:
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    stdout, stderr = process.communicate(timeout=WAIT_S)
    assert (process.returncode, stdout, stderr) == (code, "", said)
    assert os.listdir(setup.out) == []
    assert [pid for pid in workers if alive(pid)] == []


def test_the_next_export_removes_what_a_killed_one_left_but_not_what_one_is_writing(setup):
    process, _workers = start_and_wait_for_the_download(setup, cli_export(setup, 2), 2)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=WAIT_S)
    (left,) = os.listdir(setup.out)
    assert left.startswith(".c.zip.") and left.endswith(".partial")
    # An export writing to the same name meanwhile (stalled, its file not touched for an hour) holds its lock.
    busy = setup.out / ".c.zip.0123abcd.partial"
    other = setup.out / ".d.zip.89abcdef.partial"
    for path in (busy, other):
        path.write_bytes(b"PK")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    setup.server.close()  # the downloads now fail at once: the media are reported as skipped
    with busy.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = subprocess.run(
            cli_export(setup, 1), env=environment(setup), capture_output=True, text=True, timeout=WAIT_S
        )
        assert result.returncode == 0, result.stderr
        assert sorted(os.listdir(setup.out)) == sorted(["c.zip", busy.name, other.name])
