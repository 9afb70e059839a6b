"""The enumerations of the data model, with Kili's exact strings."""

from __future__ import annotations

from enum import StrEnum


class InputType(StrEnum):
    IMAGE = "IMAGE"
    GEOSPATIAL = "GEOSPATIAL"
    PDF = "PDF"
    TEXT = "TEXT"
    VIDEO = "VIDEO"


class MLTask(StrEnum):
    CLASSIFICATION = "CLASSIFICATION"
    OBJECT_DETECTION = "OBJECT_DETECTION"
    NAMED_ENTITIES_RECOGNITION = "NAMED_ENTITIES_RECOGNITION"
    NAMED_ENTITIES_RELATION = "NAMED_ENTITIES_RELATION"
    OBJECT_RELATION = "OBJECT_RELATION"
    POSE_ESTIMATION = "POSE_ESTIMATION"
    TRANSCRIPTION = "TRANSCRIPTION"


class Tool(StrEnum):
    RECTANGLE = "rectangle"
    POLYGON = "polygon"
    SEMANTIC = "semantic"
    MARKER = "marker"
    POLYLINE = "polyline"
    VECTOR = "vector"
    POSE = "pose"
    RANGE = "range"


class LabelType(StrEnum):
    AUTOSAVE = "AUTOSAVE"
    DEFAULT = "DEFAULT"
    INFERENCE = "INFERENCE"
    PREDICTION = "PREDICTION"
    REVIEW = "REVIEW"


class AssetStatus(StrEnum):
    TODO = "TODO"
    ONGOING = "ONGOING"
    LABELED = "LABELED"
    TO_REVIEW = "TO_REVIEW"
    REVIEWED = "REVIEWED"


class ProjectRole(StrEnum):
    ADMIN = "ADMIN"
    TEAM_MANAGER = "TEAM_MANAGER"
    REVIEWER = "REVIEWER"
    LABELER = "LABELER"


class OrganizationRole(StrEnum):
    ADMIN = "ADMIN"
    USER = "USER"


SINGLE_CHOICE_INPUTS = frozenset({"radio", "singleDropdown"})
MULTIPLE_CHOICE_INPUTS = frozenset({"checkbox", "multipleDropdown"})
#: jsonResponse keys that are not jobs and that every reader tolerates.
SPECIAL_RESPONSE_KEYS = frozenset({"ROTATION_JOB", "ANNOTATION_JOB_COUNTER", "ANNOTATION_NAMES_JOB"})
#: Label types that count as submitted work: the candidates for an asset's latestLabel.
SUBMITTED_LABEL_TYPES = (LabelType.DEFAULT, LabelType.REVIEW)


def parse_enum(enum: type[StrEnum], value: object, what: str) -> str:
    """Return ``value`` as a member string of ``enum`` or raise a ValidationError naming ``what``."""
    from labelport.errors import ValidationError

    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value).value
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValidationError(f"{what} {value!r} is not valid; use one of: {allowed}.") from None
