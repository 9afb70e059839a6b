"""labelport: a self-hosted labeling-data platform with a Kili-compatible Python client.

The client and the reports are imported when first used (PEP 562): ``import labelport`` alone, as the
command line does before parsing its arguments, does not load SQLAlchemy and the rest of the store.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from labelport.errors import (
    AttributeNotCompatibleWithJobError,
    DatasetError,
    ExportError,
    FilterError,
    FrameIndexError,
    IncompatibleFormatError,
    JobNotExistingError,
    JsonResponseError,
    LabelportError,
    MediaError,
    NotFound,
    OntologyError,
    ParsedLabelError,
    PermissionDenied,
    RequiredJobMissingError,
    SchemaVersionError,
    StoreConnectionError,
    TimeLimitExceeded,
    UnknownFieldError,
    ValidationError,
)

if _typing.TYPE_CHECKING:
    from labelport.annotations.parsing import ParsedLabel, parse_labels
    from labelport.client import Client
    from labelport.export.report import ExportReport
    from labelport.importers.report import ImportReport

#: The public names imported on first use, and their modules.
_LAZY = {
    "Client": "labelport.client",
    "ExportReport": "labelport.export.report",
    "ImportReport": "labelport.importers.report",
    "ParsedLabel": "labelport.annotations.parsing",
    "parse_labels": "labelport.annotations.parsing",
}

__version__ = "0.1.0"

__all__ = [
    "AttributeNotCompatibleWithJobError",
    "Client",
    "DatasetError",
    "ExportError",
    "ExportReport",
    "FilterError",
    "FrameIndexError",
    "ImportReport",
    "IncompatibleFormatError",
    "JobNotExistingError",
    "JsonResponseError",
    "LabelportError",
    "MediaError",
    "NotFound",
    "OntologyError",
    "ParsedLabel",
    "ParsedLabelError",
    "PermissionDenied",
    "RequiredJobMissingError",
    "SchemaVersionError",
    "StoreConnectionError",
    "TimeLimitExceeded",
    "UnknownFieldError",
    "ValidationError",
    "__version__",
    "parse_labels",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labelport' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
