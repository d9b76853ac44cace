"""Result records: the typed schema, its modes and the one record builder (schema.py); ids, paths,
atomic writes and the per-example logs (store.py).

Their public names are re-exported here: `from benchmark import records; records.load_record(path)`.
"""

from benchmark.records.schema import (RECORD_KINDS, REQUIRED, SCHEMA_VERSION, CellStatus, CheckpointIdentity,
                                      Evaluation, Precision, Record, RecordKind, Sample, evaluation_of,
                                      group_evaluation, make_record, sha256_json, validate)
from benchmark.records.store import (LOG_HEADER, VOLATILE_FIELDS, attack_record_id, checkpoint_identity,
                                     default_results_dir, evaluate_record_id, evaluation_log_identity,
                                     example_log_path, load_record, logged_wall_time, read_evaluation_log,
                                     record_id, record_path, safe_name, strip_volatile, write_record)
