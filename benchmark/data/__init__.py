"""Datasets: the registry of named sets and their loaders (registry.py), the sample an evaluation
draws (sampling.py), the SQuAD reader (squad_format.py).

The public names of registry.py and sampling.py are reached here too: `from benchmark import data;
data.load("snli-test")`.
"""

from benchmark.core.facade import forward_names

__getattr__ = forward_names("benchmark.data", "registry", "sampling")
