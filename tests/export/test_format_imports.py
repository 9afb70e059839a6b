"""No export format module imports another: what two formats share lives outside ``export/formats/``
(``export/detection.py``, ``export/geometry.py``, ``export/rle.py``…), so each format can change alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import labelport.export.formats

FORMATS_DIR = Path(labelport.export.formats.__file__).resolve().parent
PACKAGE = "labelport.export.formats"
#: The modules of the package that are not formats: the registry and the contract every format uses.
NOT_FORMATS = frozenset({"__init__", "base"})


def format_modules() -> list[str]:
    return sorted(path.stem for path in FORMATS_DIR.glob("*.py") if path.stem not in NOT_FORMATS)


def imported_formats(source: str, module: str, formats: list[str]) -> list[str]:
    """The format modules (other than ``module``) that ``source``, the text of ``PACKAGE.module``, imports:
    ``import a.b.yolo``, ``from a.b.yolo import x``, ``from a.b import yolo``, ``from .yolo import x``,
    ``from . import yolo``, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to the package (a format module is a direct child of it)
                parent = PACKAGE.rsplit(".", node.level - 1)[0] if node.level > 1 else PACKAGE
                base = f"{parent}.{base}" if base else parent
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            head, _, name = target.rpartition(".")
            if head == PACKAGE and name in formats and name != module:
                found.append(name)
    return sorted(set(found))


@pytest.mark.parametrize("module", sorted({*format_modules(), *NOT_FORMATS}))
def test_no_format_module_imports_another(module):
    source = (FORMATS_DIR / f"{module}.py").read_text(encoding="utf-8")
    assert imported_formats(source, module, format_modules()) == [], (
        f"export/formats/{module}.py imports another format module: move what they share out of "
        "export/formats/ (e.g. to export/detection.py)"
    )


def test_the_format_modules_are_found():
    assert {"coco", "geojson", "kili", "pascal_voc", "yolo"} <= set(format_modules())


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from labelport.export.formats.yolo import read_shape", ["yolo"]),
        ("import labelport.export.formats.kili as kili_format", ["kili"]),
        ("from labelport.export.formats import register, kili", ["kili"]),
        ("from .pascal_voc import _document", ["pascal_voc"]),
        ("from . import geojson", ["geojson"]),
        ("def late():\n    from labelport.export.formats import yolo\n", ["yolo"]),
        ("from labelport.export.formats import register\nfrom labelport.export.formats.base import FormatSpec", []),
        ("from labelport.export import detection, geometry, rle", []),
        ("from labelport.export.formats.coco import SPEC", []),  # the module itself
    ],
)
def test_the_check_sees_every_form_of_import(source, found):
    assert imported_formats(source, "coco", ["coco", "geojson", "kili", "pascal_voc", "yolo"]) == found
