"""Result records: the typed schema, its modes and the one record builder (schema.py); ids, paths,
atomic writes and the per-example logs (store.py).

Their public names are reachable here: `from benchmark import records; records.load_record(path)`.
"""

from benchmark.records import schema, store

_MODULES = (schema, store)


def __getattr__(name: str):
    """`benchmark.records.NAME` is the public NAME of schema.py or store.py (names added there included)."""
    for module in _MODULES:
        if not name.startswith("_") and hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'benchmark.records' has no attribute {name!r}")
