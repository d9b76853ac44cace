"""Result records: the typed schema, its modes and the one record builder (schema.py); ids, paths,
atomic writes and the per-example logs (store.py).

Their public names are reached here too: `from benchmark import records; records.load_record(path)`.
"""

from benchmark.core.facade import forward_names

__getattr__ = forward_names("benchmark.records", "schema", "store")
