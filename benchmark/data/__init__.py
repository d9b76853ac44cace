"""Datasets: the registry of named sets and their loaders (registry.py), the sample an evaluation
draws (sampling.py), the SQuAD reader (squad_format.py).

The public names of registry.py and sampling.py are reachable here: `from benchmark import data;
data.load("snli-test")`.
"""

from benchmark.data import registry, sampling

_MODULES = (registry, sampling)


def __getattr__(name: str):
    """`benchmark.data.NAME` is the public NAME of registry.py or sampling.py (names added there included)."""
    for module in _MODULES:
        if not name.startswith("_") and hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'benchmark.data' has no attribute {name!r}")
