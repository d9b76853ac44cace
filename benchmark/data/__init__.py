"""Datasets: the registry of named sets and their loaders (registry.py), the SQuAD reader (squad_format.py).

The registry's public names are reached here too: `from benchmark import data; data.load("snli-test")`.
"""


def __getattr__(name: str):
    # PEP 562 facade: every public name of registry.py, including ones added later, without a
    # second list kept by hand; the module is imported on first use only.
    import importlib

    try:
        return getattr(importlib.import_module("benchmark.data.registry"), name)
    except AttributeError:
        raise AttributeError(f"module 'benchmark.data' has no attribute {name!r}") from None
