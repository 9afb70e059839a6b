"""Checks of the values callers give, shared by the services and the importers.

Each check returns the value in the form the store keeps, or raises a
:class:`~labelport.errors.ValidationError` that names the asset (or the argument) and says what is
expected. Nothing here touches the store.

What the store keeps, the same on SQLite and PostgreSQL (docs/concepts.md, "Values the store refuses"):

- text is valid Unicode (no lone surrogate such as ``"\ud800"``) without NUL characters; external ids
  and emails hold no control character at all; limited texts have a maximum length (:data:`MAX_LENGTH`);
- JSON values (jsonResponse, jsonContent, jsonMetadata, jsonInterface) are dicts with string keys,
  lists, strings, finite numbers (no NaN or Infinity), integers within 64 bits, booleans and null,
  nested at most :data:`MAX_JSON_DEPTH` levels;
- whole numbers stored in integer columns (priority, width, height) fit 32 bits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any
from uuid import UUID

import orjson

from labelport.errors import ValidationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_NUL = re.compile("\x00")

#: The longest texts the store keeps in its limited columns, by kind.
MAX_LENGTH = {
    "external_id": 1000,
    "title": 500,
    "email": 320,
    "model_name": 500,
    "name": 200,  # first and last names, job names, category keys, metadata keys
}
#: How deep JSON values may nest (orjson, which writes them, stops at 255).
MAX_JSON_DEPTH = 200
#: The whole numbers integer columns hold (32 bits on PostgreSQL).
INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**64 - 1)  # what JSON integers may be (orjson's range)
#: Dates and dataclasses are not JSON values: orjson would write them as text and objects, silently.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def shown(value: Any, width: int = 80) -> str:
    """``repr(value)`` for a message, cut to ``width`` characters, and safe whatever was given: an
    integer too long to print (Python refuses beyond 4,300 digits) is described by its size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    try:
        text = repr(value)
    except ValueError:  # a container holding an integer too long to print
        return f"a {type(value).__name__}"
    return text if len(text) <= width else f"{text[: width - 1]}…"


def text_problem(value: str, *, printable: bool = False) -> str | None:
    """What keeps the store from keeping ``value`` as it is: a lone surrogate, a NUL character, or
    (``printable``) any control character; None when it can be stored."""
    found = _SURROGATE.search(value)
    if found is not None:
        return (
            f"holds a lone surrogate (U+{ord(found.group()):04X}) at position {found.start()}, which is not "
            "text (UTF-8 cannot encode it): fix how it was decoded"
        )
    found = (_CONTROL if printable else _NUL).search(value)
    if found is not None:
        if found.group() == "\x00":
            return (
                f"holds a NUL character (U+0000) at position {found.start()}, which PostgreSQL cannot store: remove it"
            )
        return f"holds a control character (U+{ord(found.group()):04X}) at position {found.start()}: remove it"
    return None


def check_text(
    value: Any,
    what: str,
    *,
    kind: str | None = None,
    printable: bool = False,
    error: type[ValidationError] = ValidationError,
) -> str:
    """``value`` if it is a string the store can keep (see :func:`text_problem`), at most
    ``MAX_LENGTH[kind]`` characters long; else an ``error`` naming ``what``."""
    if not isinstance(value, str):
        raise error(f"{what} must be a string, got {shown(value)}.")
    problem = text_problem(value, printable=printable)
    if problem is not None:
        raise error(f"{what} {shown(value)} {problem}.")
    limit = MAX_LENGTH.get(kind or "")
    if limit is not None and len(value) > limit:
        raise error(f"{what} is {len(value)} characters long; the store keeps at most {limit}.")
    return value


def check_int(value: Any, what: str, bounds: tuple[int, int] = INT32) -> int:
    """A whole number within ``bounds`` (bools are not numbers here)."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{what} must be a whole number from {low} to {high}, got {shown(value)}.")
    return value


def check_json(value: Any, what: str, *, nul: bool = True, error: type[ValidationError] = ValidationError) -> bytes:
    """``value`` written as JSON, or a ValidationError naming ``what`` and the path inside it of the
    first thing JSON cannot hold (see the module's docstring). ``nul=False``: strings may not hold NUL
    either (for values also stored as plain text)."""
    try:
        data = orjson.dumps(value, option=_STRICT)
    except TypeError:  # orjson.JSONEncodeError too: a type, a key, an integer, a surrogate, the depth
        data = None
    # orjson writes NaN and Infinity as null: without a null, nothing was changed; with one, the value
    # read back equals the value given unless a NaN or an Infinity became that null.
    if data is not None and (nul or b"\\u0000" not in data) and (b"null" not in data or orjson.loads(data) == value):
        return data
    # A NaN, a NUL where none may be, or a tuple written as a list: find out whether anything is wrong.
    problem = _json_problem(value, nul=nul)
    if problem is not None:
        where, why = problem
        if len(where) > 100:  # a deep path: its start and its end
            where = f"{where[:40]}…{where[-60:]}"
        raise error(f"{what}{where} {why}.")
    assert data is not None
    return data


def _json_problem(value: Any, *, nul: bool) -> tuple[str, str] | None:
    """The path (``["key"][0]``) and the fault of the first value JSON cannot hold, depth first, in
    order; None when there is none. Iterative: any depth is walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return path, f"nests deeper than {MAX_JSON_DEPTH} levels"
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, str):
            problem = _string_problem(item, nul)
            if problem is not None:
                return path, problem
        elif isinstance(item, int):
            if not _INT64[0] <= item <= _INT64[1]:
                return path, f"is {shown(item, 30)}, outside the 64-bit integers JSON readers take"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return path, f"is {item!r}, which JSON cannot hold; use null or a number"
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                if not isinstance(key, str):
                    return path, f"has the key {shown(key)}, which is not a string (JSON keys are strings)"
                problem = _string_problem(key, nul)
                if problem is not None:
                    return f"{path}[{shown(key)}]", f"has a key that {problem}"
                children.append((child, f"{path}[{key!r}]", depth + 1))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item)]))
        elif isinstance(item, Enum):  # written as its value
            stack.append((item.value, path, depth))
        elif not isinstance(item, UUID):  # a UUID is written as its text
            return path, f"is a {type(item).__module__}.{type(item).__qualname__}, which is not a JSON value"
    return None


def _string_problem(text: str, nul: bool) -> str | None:
    """A JSON string's fault: a lone surrogate, or a NUL when ``nul`` is False (JSON text escapes NUL)."""
    if nul and _SURROGATE.search(text) is None:
        return None
    return text_problem(text)


def normalize_email(email: Any) -> str:
    """The email as the store keeps it (trimmed, lower case), or a ValidationError."""
    if isinstance(email, str) and text_problem(email) is not None:
        check_text(email, "Email")  # says what is wrong with the text
    if not isinstance(email, str) or text_problem(email, printable=True) or not _EMAIL.match(email.strip()):
        raise ValidationError(f"{shown(email)} is not an email address.")
    return check_text(email.strip().lower(), "Email", kind="email")


def check_metadata(value: Any, external_id: str) -> dict[str, Any]:
    """An asset's jsonMetadata (a dict, or a JSON object as text) as a dict that JSON can store; its
    top-level keys are at most ``MAX_LENGTH["name"]`` characters (each is also stored as plain text)."""
    if isinstance(value, str):
        check_text(value, f"Asset {external_id!r}: json_metadata")
        try:
            value = orjson.loads(value) if value.strip() else {}
        except orjson.JSONDecodeError:
            raise ValidationError(f"Asset {external_id!r}: json_metadata is not valid JSON: {value[:80]!r}.") from None
    if not isinstance(value, dict):
        raise ValidationError(f"Asset {external_id!r}: json_metadata must be a dict, got {type(value).__name__}.")
    check_json(value, f"Asset {external_id!r}: json_metadata", nul=False)
    for key in value:
        check_text(key, f"Asset {external_id!r}: json_metadata key", kind="name")
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
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= INT32[1]:
            raise ValidationError(
                f"Asset {external_id!r}: resolution {side} must be a positive integer up to {INT32[1]}, "
                f"got {shown(number)}."
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
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= INT32[1]:
            raise ValidationError(f"Asset {external_id!r}: pageNumber must be an integer ≥ 1, got {shown(number)}.")
        width, height = check_resolution(page, f"{external_id}, page {number}")
        rotation = page.get("rotation", 0)
        if rotation not in (0, 90, 180, 270):
            raise ValidationError(f"Asset {external_id!r}, page {number}: rotation must be 0, 90, 180 or 270.")
        pages.append({"pageNumber": number, "width": width, "height": height, "rotation": rotation})
    return orjson.dumps(sorted(pages, key=lambda p: p["pageNumber"])).decode()
