"""infobench harness: CLI, dataset registry, resources, evaluation, attacks, records."""

__version__ = "0.1.0"
