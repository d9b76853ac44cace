"""One package-level `__getattr__` (PEP 562) for the packages whose main modules' names are
reached through the package (`from benchmark import data; data.load(...)`).

Every public name of those modules is served, including ones added later, without a second
list kept by hand; the modules are imported on first use only.
"""

from __future__ import annotations

import importlib

_NOT_FOUND = object()


def forward_names(package: str, *modules: str):
    """A module `__getattr__` that looks `name` up in `package.<module>` for each module, in order."""
    def __getattr__(name: str):
        for module in modules:
            found = getattr(importlib.import_module(f"{package}.{module}"), name, _NOT_FOUND)
            if found is not _NOT_FOUND:
                return found
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
