"""Result records: paths, ids, validation, atomic writes and the per-example logs (store.py).

The store's public names are reached here too: `from benchmark import records; records.load_record(path)`.
"""


def __getattr__(name: str):
    # PEP 562 facade: every public name of store.py, including ones added later, without a
    # second list kept by hand; the module is imported on first use only.
    import importlib

    try:
        return getattr(importlib.import_module("benchmark.records.store"), name)
    except AttributeError:
        raise AttributeError(f"module 'benchmark.records' has no attribute {name!r}") from None
