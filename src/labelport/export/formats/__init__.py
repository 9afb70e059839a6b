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
    """Every name a format can be given by (aliases included), sorted."""
    return _FORMATS.names()


def get(name: str) -> FormatSpec:
    return _FORMATS.get(name)


def all_specs() -> dict[str, FormatSpec]:
    """The spec of every name (aliases included)."""
    return _FORMATS.by_name()


def specs() -> list[FormatSpec]:
    """Each format once, by name."""
    return sorted(_FORMATS.specs(), key=lambda spec: spec.name)


def aliases(spec: FormatSpec) -> list[str]:
    """The other names of a format (``raw`` for ``kili``), sorted."""
    return [name for name, other in all_specs().items() if other is spec and name != spec.name]


def honouring(option: str) -> list[str]:
    """The formats (by name, sorted) that take ``option`` in every value, e.g. ``split``: coco, yolo_v5…"""
    return [spec.name for spec in specs() if spec.honours(option)]
