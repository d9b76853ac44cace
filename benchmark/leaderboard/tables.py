"""Leaderboard data: result records in, validated and de-duplicated, out as pandas tables.

Everything shown is derived from files: measured rows from results/records/*.json (schema
in benchmark/records/), literature rows from results/reported/*.json (schema below).
The two never share a table. Rendering lives in leaderboard_render, plots in
leaderboard_plots; this module only decides which numbers go in which cell.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.core.atomic import read_json_file
from benchmark.core.errors import UserError
from benchmark.records import load_record

log = logging.getLogger(__name__)

REPORTED_SCHEMA_VERSION = 1
# Units shared by measured and reported metrics: accuracies and rates are fractions in [0, 1];
# SQuAD EM/F1 and the share of perturbed words are percentages, as the producers write them.
FRACTION_METRICS = ("accuracy", "clean_accuracy", "accuracy_under_attack", "attack_success_rate",
                    "accuracy_under_attack_validity_filtered", "attack_success_rate_validity_filtered",
                    "certified_accuracy", "certified_accuracy_1word")
PERCENT_METRICS = ("exact_match", "f1", "avg_words_perturbed_pct")
COUNT_METRICS = ("avg_queries",)
# (metric, header label, unit) for each attack recipe column group, in display order.
# The validity-filtered AuA (flagged successes count as failed attacks, docs/validity.md) is its own
# column beside the raw AuA, never instead of it.
ATTACK_METRICS = (("clean_accuracy", "clean%", "fraction"), ("accuracy_under_attack", "AuA%", "fraction"),
                  ("accuracy_under_attack_validity_filtered", "AuA% validity-filtered", "fraction"),
                  ("attack_success_rate", "Suc%", "fraction"), ("avg_queries", "queries", "number"),
                  ("avg_words_perturbed_pct", "pert%", "percent"), ("auc_queries", "AuA-AUC%", "fraction"))
QA_METRICS = (("exact_match", "EM"), ("f1", "F1"))
# The combined "anli" set and its rounds get fixed, familiar headers, after the other sets.
ANLI_HEADERS = {"anli-r1-test": "ANLI R1", "anli-r2-test": "ANLI R2", "anli-r3-test": "ANLI R3", "anli": "ANLI all"}
QA_HEADERS = {"squad-dev": "squad-dev", "squad-dev-heldout": "squad-dev-heldout",
              "adv-squad-addsent": "AddSent", "adv-squad-addonesent": "AddOneSent"}
TASK_TITLES = {"nli": "NLI", "qa": "QA"}
METHOD_ORDER = ("standard", "freelb", "infobert", "pgd", "a2t", "safer")  # baseline first, then the defences


@dataclass(frozen=True)
class Column:
    key: str  # machine name: CSV header, JSON key, HTML data-key
    header: str  # human header for Markdown and HTML
    unit: str  # text | int | fraction (shown x100) | percent | number
    order: tuple = ()  # layout position among the metric columns


IDENTITY_COLUMNS = (Column("task", "task", "text"), Column("backbone", "backbone", "text"),
                    Column("method", "method", "text"), Column("checkpoint", "checkpoint", "text"),
                    Column("seed", "seed", "int"))
REPORTED_IDENTITY = (Column("model", "model", "text"), Column("backbone", "backbone", "text"),
                     Column("method", "method", "text"))
REPORTED_SOURCE = Column("source", "source", "text", order=(9,))


@dataclass
class Table:
    slug: str  # "nli", "qa", "reported": HTML ids and sort anchors
    title: str
    columns: list[Column]
    frame: "pandas.DataFrame"  # noqa: F821 - one column per Column.key, raw values, None when absent
    # (row position, column key) -> leaderboard_stats.CellStats: interval, seed spread, tie mark
    cells: dict = field(default_factory=dict)
    single_seeds: "Table | None" = None  # the rows before seed aggregation, when any were merged


@dataclass
class RecordSet:
    records: list[dict] = field(default_factory=list)
    reported: list[dict] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (loser file, winner file)


# ---------------------------------------------------------------- loading and checking


def load_results(results_dir: Path) -> RecordSet:
    """Read and check every record and reported row; collect problems instead of stopping."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise UserError(f"no results directory at {results_dir} (pass --results DIR)")
    found = RecordSet()
    measured = _read_folder(results_dir / "records", _load_measured, found)
    # A shard record covers part of a sample; only the merged record belongs on the board.
    shards = [r for r in measured if r["evaluation"].get("shard")]
    for record in shards:
        log.info("leaving out shard record %s (merge the shards for the full run)", record["record_id"])
    measured = [r for r in measured if not r["evaluation"].get("shard")]
    found.records, found.superseded = newest_per_evaluation(measured)
    found.reported = sorted(_read_folder(results_dir / "reported", _load_reported, found),
                            key=lambda doc: doc["reported_id"])
    return found


def _read_folder(folder: Path, loader, found: RecordSet) -> list[dict]:
    if not folder.is_dir():
        log.info("%s does not exist: nothing to read there", folder)
        return []
    loaded = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith(".examples.jsonl"):
            continue  # hidden/temporary files and per-example logs are not records
        if path.suffix != ".json" or not path.is_file():
            found.invalid.append((str(path), "not a record file (records are *.json)"))
            continue
        try:
            loaded.append(loader(path))
        except UserError as err:  # the checks name the file; keep the reason only
            found.invalid.append((str(path), str(err).removeprefix(f"{path}: ")))
    return loaded


def _load_measured(path: Path) -> dict:
    from benchmark.data import canonical_name

    record = load_record(path)
    check_measured(record, str(path))
    record["_file"] = path.name
    record["_dir"] = str(path.parent)  # its per-example log lies beside it
    # Records written under a dataset's earlier name ("snli-textfooler") land in its current column.
    record["evaluation"]["dataset"] = canonical_name(record["evaluation"]["dataset"])
    return record


def check_measured(record: dict, where: str) -> None:
    """What the leaderboard needs beyond schema v1: a recipe for attacks, sane metric ranges."""
    if record["kind"] == "attack":
        recipe = record["evaluation"].get("recipe")
        if not isinstance(recipe, dict) or not isinstance(recipe.get("name"), str):
            raise UserError(f"{where}: an attack record needs evaluation.recipe.name")
    created = record.get("created")
    if created is not None and _parse_time(created) is None:
        raise UserError(f"{where}: created {created!r} is not an ISO timestamp")
    for name in ("backbone", "task", "method"):
        value = record["checkpoint"].get(name)
        if value is not None and not isinstance(value, str):
            raise UserError(f"{where}: checkpoint.{name} must be a string")
    check_count_types(record, where)
    check_metric_ranges(record["metrics"], where)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_count_types(record: dict, where: str) -> None:
    """Counts, sample sizes and seeds become row and column labels: only whole numbers may go there."""
    for name, value in record["counts"].items():
        if value is not None and not _is_count(value):
            raise UserError(f"{where}: counts.{name} must be a whole number >= 0, got {value!r}")
    if "n" in record["counts"] and record["counts"]["n"] is None:
        raise UserError(f"{where}: counts.n must be a whole number >= 0, got None")
    sample = record["evaluation"].get("sample")
    if sample is not None and not isinstance(sample, dict):
        raise UserError(f"{where}: evaluation.sample must be an object")
    labelled = {"checkpoint.seed": record["checkpoint"].get("seed"),
                **{f"evaluation.sample.{key}": (sample or {}).get(key) for key in ("n", "seed")}}
    for name, value in labelled.items():
        if value is not None and not _is_count(value):
            raise UserError(f"{where}: {name} must be a whole number >= 0, got {value!r}")


def check_metric_ranges(metrics: dict, where: str) -> None:
    for name, value in metrics.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if name in FRACTION_METRICS and not 0 <= value <= 1:
            raise UserError(f"{where}: metric {name!r} = {value} is not a fraction in [0, 1]")
        if name in PERCENT_METRICS and not 0 <= value <= 100:
            raise UserError(f"{where}: metric {name!r} = {value} is not a percentage in [0, 100]")
        if name in COUNT_METRICS and value < 0:
            raise UserError(f"{where}: metric {name!r} = {value} is negative")


def _parse_time(text) -> datetime.datetime | None:
    try:
        stamp = datetime.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.timezone.utc)


def _load_reported(path: Path) -> dict:
    doc = read_json_file(path, "a JSON document")
    validate_reported(doc, str(path))
    if doc["reported_id"] != path.stem:
        raise UserError(f"{path}: reported_id {doc['reported_id']!r} does not match the file name")
    return doc


def validate_reported(doc, where: str) -> None:
    """Reported rows: numbers from the literature, with their source; see docs/leaderboard.md."""
    if not isinstance(doc, dict):
        raise UserError(f"{where}: a reported row is a JSON object")
    if doc.get("schema_version") != REPORTED_SCHEMA_VERSION:
        raise UserError(f"{where}: schema_version {doc.get('schema_version')!r} is not {REPORTED_SCHEMA_VERSION}")
    if doc.get("reported") is not True or doc.get("kind") != "reported":
        raise UserError(f"{where}: not a reported row (needs kind 'reported' and reported: true)")
    for key in ("reported_id", "model", "backbone", "method", "task"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise UserError(f"{where}: field {key!r} must be a non-empty string")
    source = doc.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("citation"), str):
        raise UserError(f"{where}: source.citation is required (where the numbers come from)")
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        raise UserError(f"{where}: results must be a non-empty list of {{dataset, metrics}}")
    for entry in results:
        if not isinstance(entry, dict) or not isinstance(entry.get("dataset"), str):
            raise UserError(f"{where}: every result needs a dataset name")
        metrics = entry.get("metrics")
        if not isinstance(metrics, dict) or not metrics:
            raise UserError(f"{where}: result {entry.get('dataset')!r} has no metrics")
        for name, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UserError(f"{where}: metric {name!r} must be a number, got {value!r}")
        check_metric_ranges(metrics, f"{where} ({entry['dataset']})")


# ---------------------------------------------------------------- duplicates


def evaluation_key(record: dict) -> str:
    """The (checkpoint, evaluation) identity two runs of the same command share."""
    checkpoint, evaluation = record["checkpoint"], record["evaluation"]
    return json.dumps([checkpoint["model_id"], checkpoint["weights_sha256"], record["kind"],
                       evaluation["dataset"], variant_of(record)], sort_keys=True)


def variant_of(record: dict) -> str:
    """What tells two evaluations of one dataset apart: recipe parameters and sample."""
    evaluation = record["evaluation"]
    recipe = evaluation.get("recipe") or {}
    sample = evaluation.get("sample") or {}
    variant = {"recipe": recipe.get("name"), "params": recipe.get("params"), "n": sample.get("n"),
               "seed": sample.get("seed")}
    if recipe:  # what the attack really was: equal names and parameters can hide a changed constraint
        variant["definition"] = attack_definition(record)
    if smoothing_samples(record) is not None:  # a smoothed run is another classifier, never a rerun
        variant["smoothing"] = smoothing_samples(record)
    return json.dumps(variant, sort_keys=True)


def attack_definition(record: dict) -> str:
    """Digest of an attack's full definition: TextAttack's own description of the built attack (every
    constraint with its effective threshold, e.g. a calibrated word-cosine or case-insensitive
    stopwords) and the identities of the resources it used. Records of one recipe made before and
    after such a change must not share a column (issue 17's fixes kept name and parameters)."""
    evaluation = record["evaluation"]
    resources = sorted(json.dumps([r.get("role") or r.get("name"), r.get("identity")], default=str)
                       for r in evaluation.get("resources") or [] if isinstance(r, dict))
    text = json.dumps([(evaluation.get("recipe") or {}).get("attack_repr"), resources])
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def smoothing_samples(record: dict) -> int | None:
    """N of a record made on SAFER's smoothed classifier (benchmark/evaluation/smoothed.py), else None."""
    return ((record["evaluation"].get("smoothing") or {}).get("samples"))


def _recency(record: dict) -> tuple:
    stamp = _parse_time(record["created"]) if record.get("created") else None
    oldest = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    return (stamp or oldest, record["record_id"], record["_file"])


def newest_per_evaluation(records: list[dict]) -> tuple[list[dict], list[tuple[str, str]]]:
    """Keep the newest record per evaluation key (ties: record_id, then file name)."""
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(evaluation_key(record), []).append(record)
    kept, superseded = [], []
    for key in sorted(groups):
        ranked = sorted(groups[key], key=_recency)
        winner = ranked[-1]
        kept.append(winner)
        superseded += [(older["_file"], winner["_file"]) for older in ranked[:-1]]
    return kept, sorted(superseded)


# ---------------------------------------------------------------- filters and tables


def select(found: RecordSet, task=None, backbone=None, method=None) -> RecordSet:
    """Only the rows matching every given filter (measured and reported alike)."""
    wanted = {"task": task, "backbone": backbone, "method": method}

    def keep(fields: dict) -> bool:
        return all(value is None or fields.get(name) == value for name, value in wanted.items())

    return RecordSet(records=[r for r in found.records if keep(r["checkpoint"])],
                     reported=[d for d in found.reported if keep(d)],
                     invalid=found.invalid, superseded=found.superseded)


def order_rank(value: str, order: tuple) -> tuple:
    return (order.index(value), "") if value in order else (len(order), value)


def dataset_order(dataset: str) -> tuple:
    """Registered sets in registry order, unknown ones alphabetically after them."""
    from benchmark.data import DATASETS

    known = DATASETS.names()
    return (0, known.index(dataset), "") if dataset in known else (1, 0, dataset)


def _is_transfer(dataset: str) -> bool:
    """Sets made from another model's attack (tf-transfer-*, adv:...) and their group totals."""
    from benchmark.data import DATASET_GROUPS, is_adversarial

    members = DATASET_GROUPS.get(dataset)
    return is_adversarial(dataset) or bool(members) and all(is_adversarial(m) for m in members)


def transfer_order(dataset: str) -> tuple:
    """Transfer columns lead the NLI table (issue 18's primary endpoint): each group's total, then its sets."""
    from benchmark.data import DATASET_GROUPS

    for position, (group, members) in enumerate(DATASET_GROUPS.items()):
        if dataset == group:
            return (position, 0, dataset_order(dataset))
        if dataset in members:
            return (position, 1, dataset_order(dataset))
    return (len(DATASET_GROUPS), 0, dataset_order(dataset))


def variant_labeller(records: list[dict]):
    """record -> (key suffix, header suffix), non-empty only where one dataset/recipe has variants."""
    def slot(record: dict) -> tuple:
        return (record["kind"], record["evaluation"]["dataset"], (record["evaluation"].get("recipe") or {}).get("name"),
                smoothing_samples(record))

    slots: dict[tuple, dict[str, object]] = {}
    for record in records:
        sample = record["evaluation"].get("sample") or {}
        slots.setdefault(slot(record), {})[variant_of(record)] = sample.get("n")

    def label(record: dict) -> tuple[str, str]:
        variants, variant = slots[slot(record)], variant_of(record)
        if len(variants) == 1:
            return ("", "")
        return _variant_label(json.loads(variant), [json.loads(v) for v in variants])

    return label


def _variant_label(mine: dict, variants: list[dict]) -> tuple[str, str]:
    """(key suffix, header suffix) naming what sets this variant apart: its sample size, sample seed,
    the parameters that differ, or its attack definition's digest (docs/leaderboard.md); the
    variant's own digest where those names would not keep two variants apart."""
    parts = _label_parts(mine, variants)
    if not parts or any(_label_parts(v, variants) == parts for v in variants if v != mine):
        digest = hashlib.sha256(json.dumps(mine, sort_keys=True).encode()).hexdigest()[:6]
        parts = [(f"h{digest}", digest)]
    return ("".join(f"+{key}" for key, _ in parts), f" ({', '.join(header for _, header in parts)})")


def _label_parts(mine: dict, variants: list[dict]) -> list[tuple[str, str]]:
    def differs(field: str) -> bool:
        return len({json.dumps(v.get(field), sort_keys=True) for v in variants}) > 1

    parts = [(f"n{mine.get('n')}", f"n={mine.get('n')}")] if differs("n") else []
    parts += [(f"seed{mine.get('seed')}", f"sample seed={mine.get('seed')}")] if differs("seed") else []
    if differs("params"):
        every = [v.get("params") or {} for v in variants]
        changed = sorted({k for p in every for k in p if len({json.dumps(q.get(k)) for q in every}) > 1})
        values = {k: json.dumps((mine.get("params") or {}).get(k)) for k in changed}
        parts += [(f"{k}{v}", f"{k}={v}") for k, v in values.items()]
    if differs("definition"):
        parts.append((f"d{mine.get('definition')}", f"attack {mine.get('definition')}"))
    return parts


def full_suffix(record: dict, suffix: tuple[str, str]) -> tuple[str, str]:
    """The variant's (key suffix, header suffix), plus the smoothing mark: smoothed runs get columns of their own."""
    key_suffix, header_suffix = suffix
    if smoothing_samples(record) is not None:
        key_suffix += f"+smooth{smoothing_samples(record)}"
        header_suffix += f" smoothed(N={smoothing_samples(record)})"
    return key_suffix, header_suffix


def attack_group(record: dict, suffix: tuple[str, str]) -> tuple[str, str]:
    """An attack record's column group: key prefix ("pwws@snli-test+n200") and heading ("pwws/snli-test (n=200)")."""
    recipe, dataset = record["evaluation"]["recipe"]["name"], record["evaluation"]["dataset"]
    key_suffix, header_suffix = full_suffix(record, suffix)
    return f"{recipe}@{dataset}{key_suffix}", f"{recipe}/{dataset}{header_suffix}"


def record_cells(record: dict, suffix: tuple[str, str]) -> list[tuple[Column, float]]:
    """The (column, value) cells one measured record contributes to its checkpoint's row."""
    dataset, metrics = record["evaluation"]["dataset"], record["metrics"]
    key_suffix, header_suffix = full_suffix(record, suffix)
    if record["kind"] == "attack":
        recipe = record["evaluation"]["recipe"]["name"]
        group, heading = attack_group(record, suffix)
        cells = [(Column(f"{group}.{name}", f"{heading} {label}", unit,
                         (3, recipe, dataset_order(dataset), key_suffix, i)), metrics.get(name))
                 for i, (name, label, unit) in enumerate(ATTACK_METRICS)]
    elif any(name in metrics for name, _ in QA_METRICS):
        shown = QA_HEADERS.get(dataset, dataset)
        cells = [(Column(f"{dataset}{key_suffix}.{name}", f"{shown}{header_suffix} {label}", "percent",
                         (2, dataset_order(dataset), key_suffix, i)), metrics.get(name))
                 for i, (name, label) in enumerate(QA_METRICS)]
    else:
        position = list(ANLI_HEADERS).index(dataset) if dataset in ANLI_HEADERS else None
        header = ANLI_HEADERS[dataset] if position is not None else dataset
        order = (1, position, key_suffix) if position is not None else \
            (-1, *transfer_order(dataset), key_suffix) if _is_transfer(dataset) else \
            (0, dataset_order(dataset), key_suffix)
        cells = [(Column(f"{dataset}{key_suffix}.accuracy", f"{header}{header_suffix} acc%", "fraction", order),
                  metrics.get("accuracy"))]
        # SAFER's certified accuracy: its own column beside the empirical one, never merged into it.
        cells.append((Column(f"{dataset}{key_suffix}.certified_accuracy", f"{header}{header_suffix} certified%",
                             "fraction", (*order, "certified")), metrics.get("certified_accuracy")))
    return [(column, value) for column, value in cells if _present(value)]


def _white_box_ids(records: list[dict]) -> set[str]:
    """Evaluations on adversarial sets made against the very checkpoint evaluated (transfer's diagonal),
    and group totals made only of such: a model scores 0 on its own attack's successes by construction."""
    found = set()
    for record in records:
        source = (record.get("evaluation") or {}).get("adversarial_source") or {}
        if source and source.get("weights_sha256") == record["checkpoint"].get("weights_sha256"):
            found.add(record["record_id"])
    for record in records:
        members = (record.get("evaluation") or {}).get("members") or []
        if members and all(member in found for member in members):
            found.add(record["record_id"])
    return found


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def measured_tables(records: list[dict]) -> list[Table]:
    """One table per task; one row per checkpoint (model id + weights hash), seeds of one
    configuration merged into one row; every cell with its interval and tie mark."""
    from benchmark.leaderboard.stats import record_evidence
    from benchmark.leaderboard.auc_column import fill_query_auc
    from benchmark.leaderboard.validity_column import fill_validity_filtered

    label = variant_labeller(records)
    rows: dict[tuple, dict] = {}
    columns: dict[str, dict[str, Column]] = {}
    white_box = _white_box_ids(records)
    for record in sorted(records, key=lambda r: r["record_id"]):
        if record["record_id"] in white_box:
            continue  # a model on its own attack's successes scores 0 by construction: the matrix's diagonal only
        checkpoint = record["checkpoint"]
        task = checkpoint.get("task") or "unknown"
        row = rows.setdefault((checkpoint["model_id"], checkpoint["weights_sha256"]), _identity(checkpoint))
        fill_validity_filtered(record)  # old attack logs: the validity-filtered AuA computed now
        fill_query_auc(record)  # from the log: merges across seeds and gets its interval like any metric
        evidence = record_evidence(record)
        for column, value in record_cells(record, label(record)):
            columns.setdefault(task, {})[column.key] = column
            row[column.key] = value
            row["_evidence"][column.key] = evidence.get(column.key.rsplit(".", 1)[-1])
    _disambiguate_checkpoints(rows)
    tables = []
    for task in sorted({row["task"] for row in rows.values()}, key=lambda t: order_rank(t, tuple(TASK_TITLES))):
        ordered = sorted((row for row in rows.values() if row["task"] == task), key=_row_order)
        metric_columns = sorted(columns.get(task, {}).values(), key=lambda c: (c.order, c.key))
        tables.append(_task_table(task, ordered, metric_columns))
    return tables


def _task_table(task: str, ordered: list[dict], metric_columns: list[Column]) -> Table:
    from benchmark.leaderboard.stats import aggregate_seeds, mark_ties

    keys = [c.key for c in metric_columns]
    merged = aggregate_seeds(ordered, keys)
    mark_ties(merged, keys)
    title = f"{TASK_TITLES.get(task, task)} (measured)"
    table = _frame_table(task, title, merged, metric_columns)
    if len(merged) < len(ordered):
        table.single_seeds = _frame_table(f"{task}-seeds", f"{title}: single seeds", ordered, metric_columns,
                                          ties=False)
    return table


def _frame_table(slug: str, title: str, rows: list[dict], metric_columns: list[Column], ties: bool = True) -> Table:
    import pandas as pd

    from benchmark.leaderboard.stats import cell_stats

    all_columns = list(IDENTITY_COLUMNS) + metric_columns
    frame = pd.DataFrame([[row.get(c.key) for c in all_columns] for row in rows],
                         columns=[c.key for c in all_columns], dtype=object)
    cells = {(position, column.key): stats for position, row in enumerate(rows) for column in metric_columns
             if (stats := cell_stats(row["_evidence"].get(column.key), ties)) is not None}
    return Table(slug, title, all_columns, frame, cells)


def _identity(checkpoint: dict) -> dict:
    from benchmark.leaderboard.stats import seed_group_key

    return {"task": checkpoint.get("task") or "unknown", "backbone": checkpoint.get("backbone") or "unknown",
            "method": checkpoint.get("method") or "unknown", "checkpoint": checkpoint["model_id"],
            "seed": checkpoint.get("seed"), "_weights": checkpoint["weights_sha256"],
            "_seed_group": seed_group_key(checkpoint), "_evidence": {}}


def _disambiguate_checkpoints(rows: dict[tuple, dict]) -> None:
    """Two weight files under one model id (a retrained checkpoint) get the hash shown."""
    counts: dict[str, int] = {}
    for model_id, _ in rows:
        counts[model_id] = counts.get(model_id, 0) + 1
    for (model_id, weights), row in rows.items():
        if counts[model_id] > 1:
            row["checkpoint"] = f"{model_id}@{weights[:8]}"


def _row_order(row: dict) -> tuple:
    return (row["backbone"], order_rank(row["method"], METHOD_ORDER), row["checkpoint"], row["_weights"])


def reported_table(docs: list[dict]) -> Table:
    """Numbers from the literature, one row per source row, in their own table."""
    import pandas as pd

    columns: dict[str, Column] = {}
    rows = []
    for doc in sorted(docs, key=lambda d: (order_rank(d["task"], tuple(TASK_TITLES)), d["backbone"],
                                           order_rank(d["method"], METHOD_ORDER), d["reported_id"])):
        row = {"model": doc["model"], "backbone": doc["backbone"], "method": doc["method"],
               "source": doc["source"]["citation"]}
        for entry in doc["results"]:
            fake = {"kind": "evaluate", "record_id": doc["reported_id"],
                    "evaluation": {"dataset": entry["dataset"]}, "metrics": entry["metrics"]}
            for column, value in record_cells(fake, ("", "")):
                columns[column.key] = column
                row[column.key] = value
        rows.append(row)
    all_columns = (list(REPORTED_IDENTITY) + sorted(columns.values(), key=lambda c: (c.order, c.key))
                   + [REPORTED_SOURCE])
    frame = pd.DataFrame([[row.get(c.key) for c in all_columns] for row in rows],
                         columns=[c.key for c in all_columns], dtype=object)
    return Table("reported", "Reported in the literature", all_columns, frame)
