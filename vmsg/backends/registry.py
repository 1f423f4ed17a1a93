"""A name → class registry that imports an engine's module only when it is asked for."""

from __future__ import annotations

import importlib
import threading
from typing import Generic, TypeVar

from vmsg.errors import BackendError, InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps engine names to 'module:Class' paths for one stage."""

    def __init__(self, stage: str, entries: dict[str, str]) -> None:
        self.stage = stage
        self._entries = dict(entries)
        self._instances: dict[tuple, T] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def check(self, name: str) -> str:
        """Raise a clear error listing the valid names when `name` is unknown."""
        if name not in self._entries:
            raise InputError(f"unknown {self.stage} engine {name!r}; valid engines: {', '.join(self._entries)}")
        return name

    def load(self, name: str) -> type[T]:
        """The engine class; a missing optional package becomes a BackendError naming the extra."""
        module_name, _, class_name = self._entries[self.check(name)].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise BackendError(
                f"{self.stage} engine {name!r} needs the package {exc.name!r}, which is not installed",
                hint=f"pip install 'vmsg[{name}]'",
            ) from exc
        return getattr(module, class_name)

    def create(self, name: str, **kwargs) -> T:
        return self.load(name)(**kwargs)

    def instance(self, name: str, **kwargs) -> T:
        """One shared engine per (name, settings) per process: models load once per batch worker."""
        key = (name, tuple(sorted(kwargs.items())))
        with self._lock:
            if key not in self._instances:
                self._instances[key] = self.create(name, **kwargs)
            return self._instances[key]
