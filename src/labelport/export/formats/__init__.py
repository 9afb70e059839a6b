"""The registry of export formats: one module per format, each registering a :class:`FormatSpec`."""

from __future__ import annotations

import importlib
import pkgutil

from labelport.errors import IncompatibleFormatError
from labelport.export.formats.base import FormatSpec

_REGISTRY: dict[str, FormatSpec] = {}


def register(spec: FormatSpec, *aliases: str) -> FormatSpec:
    for name in (spec.name, *aliases):
        _REGISTRY[name] = spec
    return spec


def names() -> list[str]:
    _load()
    return sorted(_REGISTRY)


def get(name: str) -> FormatSpec:
    _load()
    spec = _REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None:
        raise IncompatibleFormatError(f"Unknown export format {name!r}; formats: {', '.join(sorted(_REGISTRY))}.")
    return spec


def all_specs() -> dict[str, FormatSpec]:
    _load()
    return dict(_REGISTRY)


_loaded: list[bool] = []


def _load() -> None:
    if _loaded:
        return
    _loaded.append(True)
    # Every module of this package but ``base`` is a format; importing it registers it.
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
        if module != "base":
            importlib.import_module(f"{__name__}.{module}")
