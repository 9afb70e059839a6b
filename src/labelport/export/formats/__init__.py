"""The registry of export formats: one module per format, each registering a :class:`FormatSpec`."""

from __future__ import annotations

from labelport.errors import IncompatibleFormatError
from labelport.export.formats.base import FormatSpec
from labelport.registry import Registry

_FORMATS: Registry[FormatSpec] = Registry(
    __name__,
    __path__,
    lambda name, known: IncompatibleFormatError(f"Unknown export format {name!r}; formats: {', '.join(known)}."),
)


def register(spec: FormatSpec, *aliases: str) -> FormatSpec:
    return _FORMATS.register(spec, (spec.name, *aliases))


def names() -> list[str]:
    return _FORMATS.names()


def get(name: str) -> FormatSpec:
    return _FORMATS.get(name)


def all_specs() -> dict[str, FormatSpec]:
    return _FORMATS.by_name()
