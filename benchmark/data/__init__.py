"""Datasets: the registry of named sets and their loaders (registry.py), the sample an evaluation
draws (sampling.py), the SQuAD reader (squad_format.py).

The public names of registry.py and sampling.py are reached here too: `from benchmark import data;
data.load("snli-test")`.
"""


def __getattr__(name: str):
    # PEP 562 facade: every public name of registry.py or sampling.py, including ones added later, without a
    # second list kept by hand; the modules are imported on first use only.
    import importlib

    for module in ("benchmark.data.registry", "benchmark.data.sampling"):
        found = getattr(importlib.import_module(module), name, _NOT_FOUND)
        if found is not _NOT_FOUND:
            return found
    raise AttributeError(f"module 'benchmark.data' has no attribute {name!r}")


_NOT_FOUND = object()
