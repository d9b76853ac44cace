"""One small registry class for datasets, recipes and training methods."""

from __future__ import annotations

import difflib
import importlib
from typing import Generic, Iterator, TypeVar

from benchmark.core.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> entry, with aliases, lazy "module:attr" targets and "did you mean" on a miss."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T | str] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, entry: T | str, aliases: tuple[str, ...] = ()) -> None:
        """Add an entry (or a lazy "module:attr" string); duplicates are a bug."""
        for key in (name, *aliases):
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} {key!r} is registered twice")
        self._entries[name] = entry
        for alias in aliases:
            self._aliases[alias] = name

    def __contains__(self, name: str) -> bool:
        return name in self._entries or name in self._aliases

    def canonical(self, name: str) -> str:
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        known = sorted(self._entries) + sorted(self._aliases)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UserError(f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(sorted(self._entries))}.")

    def get(self, name: str) -> T:
        key = self.canonical(name)
        entry = self._entries[key]
        if isinstance(entry, str):
            entry = _resolve_target(entry)
            self._entries[key] = entry
        return entry

    def names(self) -> list[str]:
        return list(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)


def _resolve_target(target: str):
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module
