"""The registry of import formats: one module per format, each registering an :class:`ImporterSpec`."""

from __future__ import annotations

from labelport.errors import DatasetError, in_words_of
from labelport.importers.formats.base import Detection, ImporterSpec
from labelport.importers.source import README, Source, readme
from labelport.registry import Registry

_FORMATS: Registry[ImporterSpec] = Registry(
    __name__,
    __path__,
    lambda name, known: DatasetError(f"Unknown import format {name!r}; formats: {', '.join(known)}."),
)


def register(spec: ImporterSpec) -> ImporterSpec:
    return _FORMATS.register(spec, (spec.name, *spec.aliases))


def names() -> list[str]:
    return _FORMATS.names()


def get(name: str) -> ImporterSpec:
    return _FORMATS.get(name)


def detect(source: Source) -> tuple[ImporterSpec, Detection]:
    """The format of ``source``: the one ``README.kili.txt`` names, else the only format whose
    detector recognises the files. None or several is an error naming the files seen."""
    declared = _declared(source)
    if declared is not None:
        return declared
    found = [(spec, detection) for spec in _FORMATS.specs() if (detection := spec.detect(source)) is not None]
    if len(found) == 1:
        return found[0]
    if not found:
        raise DatasetError(
            f"{source.display}: no known dataset format found (looked for Kili labels/*.json or data.json, "
            "a COCO JSON file, YOLO labels/*.txt with classes.txt or data.yaml, Pascal VOC *.xml); "
            f"pass {in_words_of('fmt=', '--format ')}<one of {', '.join(_FORMATS.names())}>."
        )
    listed = "; ".join(f"{d.fmt} ({d.evidence})" for _, d in found)
    raise DatasetError(
        f"{source.display}: ambiguous input, it looks like {listed}; "
        f"pass {in_words_of('fmt=', '--format ')}<the right one>."
    )


def _declared(source: Source) -> tuple[ImporterSpec, Detection] | None:
    """The format written in the ``README.kili.txt`` of a Kili or labelport export, when it is one of ours."""
    fmt = readme(source).get("Exported format", "").strip()
    spec = _FORMATS.lookup(fmt)
    return None if spec is None else (spec, Detection(fmt, f"{README} says '{fmt}'"))
