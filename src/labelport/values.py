"""Checks of the values callers give, shared by the services and the importers.

Each check returns the value in the form the store keeps, or raises a
:class:`~labelport.errors.ValidationError` that names the asset (or the argument) and says what is
expected. Nothing here touches the store.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

from labelport.errors import ValidationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(email: Any) -> str:
    """The email as the store keeps it (trimmed, lower case), or a ValidationError."""
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        raise ValidationError(f"{email!r} is not an email address.")
    return email.strip().lower()


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


def check_metadata(value: Any, external_id: str) -> dict[str, Any]:
    """An asset's jsonMetadata (a dict, or a JSON object as text) as a dict that JSON can store."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value) if value.strip() else {}
        except orjson.JSONDecodeError:
            raise ValidationError(f"Asset {external_id!r}: json_metadata is not valid JSON: {value[:80]!r}.") from None
    if not isinstance(value, dict):
        raise ValidationError(f"Asset {external_id!r}: json_metadata must be a dict, got {type(value).__name__}.")
    if not _finite(value):
        raise ValidationError(f"Asset {external_id!r}: json_metadata holds NaN or Infinity, which JSON cannot store.")
    try:
        orjson.dumps(value)
    except TypeError as error:
        raise ValidationError(f"Asset {external_id!r}: json_metadata is not JSON-serializable ({error}).") from None
    return value


def check_resolution(value: Any, external_id: str) -> tuple[int, int]:
    """``{"width": int, "height": int}`` as ``(width, height)``, both positive."""
    if isinstance(value, Mapping):
        width, height = value.get("width"), value.get("height")
    else:
        raise ValidationError(
            f"Asset {external_id!r}: resolution must be {{'width': int, 'height': int}}, got {value!r}."
        )
    for side, number in (("width", width), ("height", height)):
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise ValidationError(
                f"Asset {external_id!r}: resolution {side} must be a positive integer, got {number!r}."
            )
    return width, height  # type: ignore[return-value]


def check_page_resolutions(value: Any, external_id: str) -> str:
    """A PDF's page resolutions, as the JSON text the store keeps (sorted by page number)."""
    if not isinstance(value, list):
        raise ValidationError(
            f"Asset {external_id!r}: page resolutions must be a list of {{pageNumber, width, height, rotation}}."
        )
    pages = []
    for page in value:
        if not isinstance(page, Mapping):
            raise ValidationError(f"Asset {external_id!r}: every page resolution must be a dict, got {page!r}.")
        number = page.get("pageNumber")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValidationError(f"Asset {external_id!r}: pageNumber must be an integer ≥ 1, got {number!r}.")
        width, height = check_resolution(page, f"{external_id}, page {number}")
        rotation = page.get("rotation", 0)
        if rotation not in (0, 90, 180, 270):
            raise ValidationError(f"Asset {external_id!r}, page {number}: rotation must be 0, 90, 180 or 270.")
        pages.append({"pageNumber": number, "width": width, "height": height, "rotation": rotation})
    return orjson.dumps(sorted(pages, key=lambda p: p["pageNumber"])).decode()
