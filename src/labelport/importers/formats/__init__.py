"""The registry of import formats: one module per format, each registering an :class:`ImporterSpec`."""

from __future__ import annotations

import importlib
import pkgutil

from labelport.importers.dataset import DatasetError
from labelport.importers.formats.base import Detection, ImporterSpec
from labelport.importers.source import README, Source, readme

_REGISTRY: dict[str, ImporterSpec] = {}
_SPECS: list[ImporterSpec] = []


def register(spec: ImporterSpec) -> ImporterSpec:
    _SPECS.append(spec)
    for name in (spec.name, *spec.aliases):
        _REGISTRY[name] = spec
    return spec


def names() -> list[str]:
    _load()
    return sorted(_REGISTRY)


def get(name: str) -> ImporterSpec:
    _load()
    spec = _REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None:
        raise DatasetError(f"Unknown import format {name!r}; formats: {', '.join(sorted(_REGISTRY))}.")
    return spec


def detect(source: Source) -> tuple[ImporterSpec, Detection]:
    """The format of ``source``: the one ``README.kili.txt`` names, else the only format whose
    detector recognises the files. None or several is an error naming the files seen."""
    _load()
    declared = _declared(source)
    if declared is not None:
        return declared
    found = [(spec, detection) for spec in _SPECS if (detection := spec.detect(source)) is not None]
    if len(found) == 1:
        return found[0]
    if not found:
        raise DatasetError(
            f"{source.display}: no known dataset format found (looked for Kili labels/*.json or data.json, "
            "a COCO JSON file, YOLO labels/*.txt with classes.txt or data.yaml, Pascal VOC *.xml); "
            f"pass fmt=<one of {', '.join(sorted(_REGISTRY))}>."
        )
    listed = "; ".join(f"{d.fmt} ({d.evidence})" for _, d in found)
    raise DatasetError(f"{source.display}: ambiguous input, it looks like {listed}; pass fmt=<the right one>.")


def _declared(source: Source) -> tuple[ImporterSpec, Detection] | None:
    """The format written in the ``README.kili.txt`` of a Kili or labelport export, when it is one of ours."""
    fmt = readme(source).get("Exported format", "").strip()
    if fmt in _REGISTRY:
        return _REGISTRY[fmt], Detection(fmt, f"{README} says '{fmt}'")
    return None


_loaded: list[bool] = []


def _load() -> None:
    if _loaded:
        return
    _loaded.append(True)
    # Every module of this package but ``base`` is a format; importing it registers it.
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__)):
        if module != "base":
            importlib.import_module(f"{__name__}.{module}")
