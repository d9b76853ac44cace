"""Result records: paths, ids, validation, atomic writes and the per-example logs (store.py).

The store's public names are re-exported here: `from benchmark import records; records.load_record(path)`.
"""

from benchmark.records.store import (LOG_HEADER, RECORD_KINDS, REQUIRED, SCHEMA_VERSION, VOLATILE_FIELDS,
                                     checkpoint_identity, default_results_dir, evaluation_log_identity,
                                     example_log_path, load_record, logged_wall_time, make_record,
                                     read_evaluation_log, record_id, record_path, safe_name, strip_volatile,
                                     validate, write_record)
