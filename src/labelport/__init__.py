"""labelport: a self-hosted labeling-data platform with a Kili-compatible Python client."""

from labelport.annotations.parsing import ParsedLabel, parse_labels
from labelport.client import Client
from labelport.errors import (
    AttributeNotCompatibleWithJobError,
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
    SchemaVersionError,
    UnknownFieldError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "AttributeNotCompatibleWithJobError",
    "Client",
    "ExportError",
    "FilterError",
    "FrameIndexError",
    "IncompatibleFormatError",
    "JobNotExistingError",
    "JsonResponseError",
    "LabelportError",
    "MediaError",
    "NotFound",
    "OntologyError",
    "ParsedLabel",
    "ParsedLabelError",
    "SchemaVersionError",
    "UnknownFieldError",
    "ValidationError",
    "__version__",
    "parse_labels",
]
