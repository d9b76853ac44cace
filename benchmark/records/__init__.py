"""Result records: the typed schema, its modes and the one record builder (schema.py); ids, paths,
atomic writes and the per-example logs (store.py).

Their public names are reached here too: `from benchmark import records; records.load_record(path)`.
"""


def __getattr__(name: str):
    # PEP 562 facade: every public name of schema.py or store.py, including ones added later, without a
    # second list kept by hand; the modules are imported on first use only.
    import importlib

    for module in ("benchmark.records.schema", "benchmark.records.store"):
        found = getattr(importlib.import_module(module), name, _NOT_FOUND)
        if found is not _NOT_FOUND:
            return found
    raise AttributeError(f"module 'benchmark.records' has no attribute {name!r}")


_NOT_FOUND = object()
