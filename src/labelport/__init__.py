"""labelport: a self-hosted labeling-data platform with a Kili-compatible Python client."""

from labelport.annotations.parsing import ParsedLabel, parse_labels
from labelport.client import Client
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
    TimeLimitExceeded,
    UnknownFieldError,
    ValidationError,
)
from labelport.export.report import ExportReport
from labelport.importers.report import ImportReport

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
    "TimeLimitExceeded",
    "UnknownFieldError",
    "ValidationError",
    "__version__",
    "parse_labels",
]
