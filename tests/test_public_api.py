"""The public surface: exactly what ``labelport`` exports, and the error tree drawn in errors.py."""

from __future__ import annotations

import inspect
import re

import labelport
from labelport import errors

EXPECTED = [
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
    "StoreConnectionError",
    "TimeLimitExceeded",
    "UnknownFieldError",
    "ValidationError",
    "__version__",
    "parse_labels",
]


def _error_classes() -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.LabelportError)
    }


def test_all_is_exact_and_every_name_resolves():
    assert labelport.__all__ == EXPECTED
    for name in EXPECTED:
        assert getattr(labelport, name) is not None
    public = {name for name in vars(labelport) if not name.startswith("_") and name not in ("annotations",)}
    modules = {name for name in public if inspect.ismodule(getattr(labelport, name))}
    assert public - modules == set(EXPECTED) - {"__version__"}


def test_every_error_class_is_exported_and_labelport_defines_no_other():
    classes = _error_classes()
    exported = [getattr(labelport, name) for name in EXPECTED]
    exported_errors = [
        value for value in exported if inspect.isclass(value) and issubclass(value, errors.LabelportError)
    ]
    assert sorted(value.__name__ for value in exported_errors) == sorted(classes)
    for name, cls in classes.items():
        assert getattr(labelport, name) is cls
    # No module of the package defines a LabelportError outside errors.py (internal control-flow
    # exceptions that never reach a caller are not errors of the API).
    import importlib
    import pkgutil

    stray = []
    for info in pkgutil.walk_packages(labelport.__path__, "labelport."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, errors.LabelportError)
                and value.__module__ == info.name
                and info.name != "labelport.errors"
            ):
                stray.append(f"{info.name}.{name}")
    assert stray == []


def test_the_drawn_error_tree_is_complete_and_true():
    drawn = errors.__doc__ or ""
    tree = drawn[drawn.index("::\n") + 3 :]
    depth_of: dict[str, int] = {}
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in tree.splitlines():
        match = re.match(r"^(?P<indent>[\s│├└─]*)(?P<name>[A-Za-z]+)", line)
        if match is None:
            continue
        depth = len(match.group("indent"))
        name = match.group("name")
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        depth_of[name] = depth
        stack.append((depth, name))
    classes = _error_classes()
    assert sorted(depth_of) == sorted(classes)
    for name, parent in parents.items():
        labelport_bases = [base.__name__ for base in classes[name].__bases__ if issubclass(base, errors.LabelportError)]
        assert labelport_bases == [parent], name
