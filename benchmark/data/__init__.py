"""Datasets: the registry of named sets and their loaders (registry.py), the SQuAD reader (squad_format.py).

The registry's public names are re-exported here: `from benchmark import data; data.load("snli-test")`.
"""

from benchmark.data.registry import (ADVERSARIAL_PREFIX, DATA_ENV, DATASET_GROUPS, DATASETS, NLI_LABELS, AttackSource,
                                     data_root, DatasetSpec, expand, is_adversarial, load, LoadedDataset,
                                     sample_indices, task_of)
