"""What the front doors read from the environment, in one place.

Nothing below the front doors (services, store, export, importers, quality) reads the environment:
the Python client and the command line resolve their defaults here and pass explicit values down.

- ``LABELPORT_DATABASE_URL``: the store (default: ``$LABELPORT_HOME/labelport.db``);
- ``LABELPORT_HOME``: labelport's folder (default ``~/.labelport``);
- ``LABELPORT_MEDIA_DIR``: where media files are copied (default: ``media/`` next to a SQLite file,
  else ``$LABELPORT_HOME/media``);
- ``LABELPORT_USER_EMAIL``: the acting user (default ``<login>@localhost``);
- ``LABELPORT_DISABLE_TQDM``: hide (1/true/yes/on) or show progress bars (default: on terminals).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from labelport.store.engine import normalize_database_url


def home() -> Path:
    """``$LABELPORT_HOME``, by default ``~/.labelport``."""
    return Path(os.environ.get("LABELPORT_HOME") or "~/.labelport").expanduser()


def database_url(given: str | None) -> str:
    """The store to open: ``given``, else ``$LABELPORT_DATABASE_URL``, else a SQLite file in the home."""
    url = given or os.environ.get("LABELPORT_DATABASE_URL")
    if not url:
        folder = home()
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'labelport.db'}"
    return normalize_database_url(url)


def media_dir(given: str | Path | None, url: str) -> Path | None:
    """Where media files go: ``given``, else ``$LABELPORT_MEDIA_DIR``, else None (the store's default,
    next to a SQLite file) or, for a server database, ``$LABELPORT_HOME/media``."""
    chosen = given or os.environ.get("LABELPORT_MEDIA_DIR")
    if chosen:
        return Path(chosen).expanduser().resolve()
    if make_url(url).get_backend_name() == "sqlite":
        return None
    return home() / "media"


def user_email(given: str | None) -> str:
    """The acting user: ``given``, else ``$LABELPORT_USER_EMAIL``, else ``<login>@localhost``."""
    if given:
        return given
    configured = os.environ.get("LABELPORT_USER_EMAIL")
    if configured:
        return configured
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "labelport"
    return f"{name}@localhost"


def disable_tqdm(given: bool | None) -> bool | None:
    """``given``, else ``$LABELPORT_DISABLE_TQDM`` read as a flag, else None (bars on terminals)."""
    if given is not None:
        return given
    value = os.environ.get("LABELPORT_DISABLE_TQDM")
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")
