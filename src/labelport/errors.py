"""The exception tree of labelport.

Every error labelport raises on purpose derives from :class:`LabelportError`, so callers (and the
CLI) can catch one class. Messages name the object at fault (project, asset external id, job,
category, field) and say what to do.

::

    LabelportError
    ├── NotFound                  a project, asset, label or user id that does not exist
    ├── ValidationError           a bad argument or a bad value (also a ValueError)
    │   ├── OntologyError         an invalid jsonInterface
    │   ├── JsonResponseError     a jsonResponse that does not fit the ontology
    │   ├── UnknownFieldError     a field path that does not exist
    │   ├── FilterError           an unknown filter or a bad filter value
    │   └── DatasetError          a dataset that cannot be imported (names the file and line)
    ├── ParsedLabelError          misuse of the ParsedLabel API
    │   ├── JobNotExistingError   a job the ontology does not define (also a KeyError)
    │   ├── RequiredJobMissingError  a required job the label does not answer (also a KeyError)
    │   ├── AttributeNotCompatibleWithJobError  (also an AttributeError)
    │   └── FrameIndexError       (also an IndexError)
    ├── PermissionDenied          an action the acting user's role does not allow
    ├── IncompatibleFormatError   an export format that cannot hold the project or an option
    ├── ExportError               an export that could not be written
    ├── MediaError                a media file that cannot be read or stored
    ├── SchemaVersionError        a database written by a newer labelport
    ├── StoreConnectionError      a database that cannot be reached, opened or written
    └── TimeLimitExceeded         work stopped at its time limit (a server request); nothing it was writing stored
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

#: The front door in use, for hints that name an argument: ``"python"`` (the client, the server) or ``"cli"``.
_FRONT_DOOR: ContextVar[str] = ContextVar("labelport_front_door", default="python")


@contextmanager
def front_door(name: str) -> Iterator[None]:
    """While this lasts, :func:`in_words_of` picks the words of front door ``name``: ``"cli"`` for the command
    line's, ``"python"`` or ``"server"`` (an HTTP API, even when started from the command line) for the
    library's."""
    token = _FRONT_DOOR.set(name)
    try:
        yield
    finally:
        _FRONT_DOOR.reset(token)


def in_words_of(python: T, cli: T) -> T:
    """A hint in the words of the caller: ``python`` for the client (``pass fmt=…``), ``cli`` for the command
    line (``pass --format …``)."""
    return cli if _FRONT_DOOR.get() == "cli" else python


def a_or_an(word: str) -> str:
    """``an IMAGE``, ``a PDF``, ``an OBJECT_DETECTION``, ``a LABELER``: the article a word reads with."""
    vowel = word[:1].upper() in ("A", "E", "I", "O") or word.upper().startswith(("UND", "UNK", "UNS", "UNL"))
    return f"an {word}" if vowel else f"a {word}"


class LabelportError(Exception):
    """Root of every error raised by labelport on purpose."""


class NotFound(LabelportError, LookupError):
    """A project, asset, label, role or user that does not exist."""


class ValidationError(LabelportError, ValueError):
    """A bad argument or value; nothing was stored."""


class OntologyError(ValidationError):
    """The jsonInterface (ontology) is invalid."""


class JsonResponseError(ValidationError):
    """A label's jsonResponse does not fit the project's ontology."""


class UnknownFieldError(ValidationError):
    """A requested field path does not exist."""


class FilterError(ValidationError):
    """An unknown filter keyword, or a filter value of the wrong kind."""


class DatasetError(ValidationError):
    """A dataset that cannot be read or imported: the message names the file and line (or record)."""


class ParsedLabelError(LabelportError):
    """Misuse of the ParsedLabel API."""


class JobNotExistingError(ParsedLabelError, KeyError):
    """A job name that the ontology does not define."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class RequiredJobMissingError(ParsedLabelError, KeyError):
    """A required job (or one of its keys) that the label does not answer."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class AttributeNotCompatibleWithJobError(ParsedLabelError, AttributeError):
    """An attribute that does not apply to the job's task or to the annotation's tool."""


class FrameIndexError(ParsedLabelError, IndexError):
    """A video frame index outside the label's frames."""


class PermissionDenied(LabelportError, PermissionError):
    """An action the acting user's organization or project role does not allow; the message says
    which role it needs."""


class IncompatibleFormatError(LabelportError, ValueError):
    """An export format that cannot represent the project, a job, or an option."""


class ExportError(LabelportError):
    """An export that could not be completed."""


class MediaError(LabelportError):
    """A media file that cannot be read, probed or stored."""


class SchemaVersionError(LabelportError):
    """The database schema is newer than this version of labelport understands."""


class StoreConnectionError(LabelportError):
    """The database cannot be reached, opened or written: a PostgreSQL server that does not answer or lacks
    the database, a SQLite file that is locked, read-only or cannot be created. The message names the server
    (host, port, database) or the file, and says what to check."""


class TimeLimitExceeded(LabelportError, TimeoutError):
    """Work that ran past its time limit (:mod:`labelport.store.deadline`, set per server request) and was
    stopped: the write transaction it was in was rolled back, so nothing of that write is stored."""
