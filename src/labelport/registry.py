"""A registry of format specs filled by the modules of a package (export formats, import formats)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

S = TypeVar("S")


class Registry(Generic[S]):
    """Specs by name and alias. Every module of ``package`` but ``base`` is a format, registered by
    importing it: the modules are imported on first use, so the package loads nothing it need not."""

    def __init__(self, package: str, path: Iterable[str], unknown: Callable[[str, list[str]], Exception]) -> None:
        self._package = package
        self._path = list(path)
        self._unknown = unknown  # the error for an unknown name, given the name and the known ones
        self._by_name: dict[str, S] = {}
        self._specs: list[S] = []
        self._loaded = False

    def register(self, spec: S, names: Iterable[str]) -> S:
        self._specs.append(spec)
        for name in names:
            self._by_name[name] = spec
        return spec

    def names(self) -> list[str]:
        self._load()
        return sorted(self._by_name)

    def get(self, name: str) -> S:
        self._load()
        spec = self._by_name.get(name) if isinstance(name, str) else None
        if spec is None:
            raise self._unknown(name, sorted(self._by_name))
        return spec

    def lookup(self, name: str) -> S | None:
        self._load()
        return self._by_name.get(name)

    def by_name(self) -> dict[str, S]:
        self._load()
        return dict(self._by_name)

    def specs(self) -> list[S]:
        """Each spec once, in registration order."""
        self._load()
        return list(self._specs)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in sorted(info.name for info in pkgutil.iter_modules(self._path)):
            if module != "base":
                importlib.import_module(f"{self._package}.{module}")
