"""Datasets: the registry of named sets and their loaders (registry.py), the SQuAD reader (squad_format.py).

The registry's public names are re-exported here: `from benchmark import data; data.load("snli-test")`.
"""

from benchmark.data.registry import (DATA_ENV, DATASET_GROUPS, DATASETS, NLI_LABELS, data_root, DatasetSpec,
                                     expand, load, LoadedDataset, sample_indices)
