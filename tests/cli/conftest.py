"""The ``cli`` fixture: run a command through click's runner against the test store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from labelport.cli import main


@dataclass
class Cli:
    """Invokes ``labelport`` with the store of the ``client`` fixture in the environment."""

    env: dict[str, str]

    def __call__(self, *args: object, input: str | None = None) -> Result:
        return CliRunner(env=self.env).invoke(
            main, [str(arg) for arg in args], input=input, catch_exceptions=False, prog_name="labelport"
        )


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(
        {
            "LABELPORT_DATABASE_URL": database_url,
            "LABELPORT_MEDIA_DIR": str(tmp_path / "media"),
            "LABELPORT_USER_EMAIL": "admin@example.com",
        }
    )
