"""Dataset registry: a name maps to a declaration; loaders return one schema per task.

NLI examples: {"id", "premise", "hypothesis", "label"} with the label as a name.
QA examples: SQuAD fields {"id", "title", "context", "question", "answers"}.

Offline (INFOBENCH_DATA set) the local copy is read by a validating reader that names
file and line on bad input (datasets' json builder cannot); online the Hugging Face hub
is read through `datasets`. Labels are always mapped by name, never by position.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from benchmark.core.errors import UserError
from benchmark.core.registry import Registry

log = logging.getLogger(__name__)

NLI_LABELS = ("entailment", "neutral", "contradiction")
DATA_ENV = "INFOBENCH_DATA"


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives offline and online, and how its columns map to our schema."""

    name: str
    task: str  # "nli" or "qa"
    description: str
    local_path: str | None = None  # relative to $INFOBENCH_DATA
    local_format: str = "jsonl"  # jsonl | tsv | squad
    hub_id: str | None = None
    hub_config: str | None = None
    hub_split: str | None = None
    premise: str = "premise"
    hypothesis: str = "hypothesis"
    label: str = "label"
    id_column: str | None = None
    index_labels: tuple[str, ...] = NLI_LABELS  # meaning of integer labels in the local file
    attack_source: "AttackSource | None" = None  # set: the successful examples of that attack record


@dataclass(frozen=True)
class AttackSource:
    """The attack record whose successful examples form a named adversarial set (see benchmark/records/adversarial.py)."""

    model_id: str
    recipe: str
    dataset: str
    n: int
    seed: int = 0


@dataclass
class LoadedDataset:
    name: str
    task: str
    examples: list[dict]
    source: str
    skipped: dict[str, int] = field(default_factory=dict)
    provenance: dict | None = None  # adversarial sets: the attack record they come from

    def __len__(self) -> int:
        return len(self.examples)

    def fingerprint(self, indices: list[int] | None = None) -> str:
        """sha256 of the canonical JSON of the (selected) examples."""
        chosen = self.examples if indices is None else [self.examples[i] for i in indices]
        payload = json.dumps(chosen, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(payload).hexdigest()


DATASETS: Registry[DatasetSpec] = Registry("dataset")
# A group name expands to several registered sets, evaluated one by one and combined.
DATASET_GROUPS: dict[str, tuple[str, ...]] = {
    "anli": ("anli-r1-test", "anli-r2-test", "anli-r3-test"),
    "tf1k-clean": ("snli-tf1k-clean", "mnli-m-tf1k-clean", "mnli-mm-tf1k-clean"),
}
# Earlier names of the TextFooler clean 1k samples: they said "textfooler" but hold clean examples
# (the inputs the paper attacked, not its adversarial outputs). Kept so old commands and record
# ids still resolve.
GROUP_ALIASES = {"textfooler": "tf1k-clean"}


def _declare(*specs: DatasetSpec) -> None:
    for spec in specs:
        DATASETS.register(spec.name, spec)


_SNLI = dict(task="nli", hub_id="stanfordnlp/snli")
_SNLI_ORIGINAL = dict(local_format="jsonl", premise="sentence1", hypothesis="sentence2",
                      label="gold_label", id_column="pairID")
_declare(
    DatasetSpec("snli-train", description="SNLI train (offline: fixed 18k subset)",
                local_path="snli/train_subset_18k.jsonl", hub_split="train", **_SNLI),
    DatasetSpec("snli-dev", description="SNLI 1.0 dev", local_path="snli/snli_1.0_dev.jsonl.gz",
                hub_split="validation", **_SNLI, **_SNLI_ORIGINAL),
    DatasetSpec("snli-test", description="SNLI 1.0 test", local_path="snli/snli_1.0_test.jsonl.gz",
                hub_split="test", **_SNLI, **_SNLI_ORIGINAL),
)
for _round in (1, 2, 3):
    _declare(
        DatasetSpec(f"anli-r{_round}-test", task="nli", description=f"ANLI v1.0 round {_round} test",
                    local_path=f"anli/test_r{_round}.jsonl", hub_id="facebook/anli",
                    hub_split=f"test_r{_round}", id_column="uid"),
        DatasetSpec(f"anli-r{_round}-train", task="nli", description=f"ANLI round {_round} train (hub only)",
                    hub_id="facebook/anli", hub_split=f"train_r{_round}", id_column="uid"),
        DatasetSpec(f"anli-r{_round}-dev", task="nli", description=f"ANLI round {_round} dev (hub only)",
                    hub_id="facebook/anli", hub_split=f"dev_r{_round}", id_column="uid"),
    )
# Clean samples: accuracy on them is clean accuracy. Attack them (`infobench attack --dataset
# snli-tf1k-clean`) to measure robustness on the examples the TextFooler paper used.
for _name, _file, _what in (("snli", "snli.tsv", "SNLI test"), ("mnli-m", "mnli_matched.tsv", "MNLI dev-matched"),
                            ("mnli-mm", "mnli_mismatched.tsv", "MNLI dev-mismatched")):
    DATASETS.register(f"{_name}-tf1k-clean", DatasetSpec(
        f"{_name}-tf1k-clean", task="nli", local_path=f"textfooler_1k/{_file}", local_format="tsv",
        description=f"{_what} clean sample (1k, unperturbed) that the TextFooler paper attacked; "
                    f"formerly {_name}-textfooler"), aliases=(f"{_name}-textfooler",))
_declare(
    DatasetSpec("mnli-train", task="nli", description="MultiNLI train (hub only)",
                hub_id="nyu-mll/multi_nli", hub_split="train", id_column="pairID"),
    DatasetSpec("mnli-dev-m", task="nli", description="MultiNLI dev matched (hub only)",
                hub_id="nyu-mll/multi_nli", hub_split="validation_matched", id_column="pairID"),
    DatasetSpec("mnli-dev-mm", task="nli", description="MultiNLI dev mismatched (hub only)",
                hub_id="nyu-mll/multi_nli", hub_split="validation_mismatched", id_column="pairID"),
)
_SQUAD = dict(task="qa", local_format="squad")
_declare(
    DatasetSpec("squad-train", description="SQuAD v1.1 train (offline: dev paragraphs unused by the adversarial sets)",
                local_path="squad/dev_split_train.json", hub_id="rajpurkar/squad", hub_split="train", **_SQUAD),
    DatasetSpec("squad-dev", description="SQuAD v1.1 dev", local_path="squad/dev-v1.1.json",
                hub_id="rajpurkar/squad", hub_split="validation", **_SQUAD),
    DatasetSpec("squad-dev-heldout", description="SQuAD v1.1 dev paragraphs used by AddSent/AddOneSent (offline only)",
                local_path="squad/dev_split_heldout.json", **_SQUAD),
    DatasetSpec("adv-squad-addsent", description="Adversarial SQuAD AddSent (Jia and Liang 2017)",
                local_path="squad/adversarial/sample1k-HCVerifyAll.json", hub_id="stanfordnlp/squad_adversarial",
                hub_config="AddSent", hub_split="validation", **_SQUAD),
    DatasetSpec("adv-squad-addonesent", description="Adversarial SQuAD AddOneSent",
                local_path="squad/adversarial/sample1k-HCVerifySample.json", hub_id="stanfordnlp/squad_adversarial",
                hub_config="AddOneSent", hub_split="validation", **_SQUAD),
)

# Transfer sets (the InfoBERT paper's TextFooler protocol, offline): the TextFooler examples that fooled
# a standard MiniLM trained with a seed no compared model uses, on the three clean TextFooler 1k samples.
ADVERSARIAL_PREFIX = "adv:"  # "adv:<attack record id>": any finished attack record's successful examples
TRANSFER_SOURCE_MODEL = "standard-minilm-l6-snli-s7"
for _short in ("snli", "mnli-m", "mnli-mm"):
    _clean = f"{_short}-tf1k-clean"  # the clean TextFooler 1k sample (formerly <short>-textfooler)
    _declare(DatasetSpec(f"tf-transfer-{_short}", task="nli",
                         description=f"transfer set: TextFooler examples that fooled {TRANSFER_SOURCE_MODEL} "
                                     f"on {_clean} (built from its attack record in the results folder)",
                         attack_source=AttackSource(TRANSFER_SOURCE_MODEL, "textfooler", _clean, n=1000)))
DATASET_GROUPS["tf-transfer"] = ("tf-transfer-snli", "tf-transfer-mnli-m", "tf-transfer-mnli-mm")


def data_root() -> Path | None:
    root = os.environ.get(DATA_ENV)
    return Path(root) if root else None


def expand(name: str) -> tuple[str, ...]:
    """A group name ("anli") to its member sets; a plain name to itself."""
    if name.startswith(ADVERSARIAL_PREFIX):
        return (name,)
    name = GROUP_ALIASES.get(name, name)
    if name in DATASET_GROUPS:
        return DATASET_GROUPS[name]
    try:
        return (DATASETS.canonical(name),)
    except UserError as err:
        raise UserError(f"{err} Groups: {', '.join(DATASET_GROUPS)}.") from None


def is_adversarial(name: str) -> bool:
    """Built from an attack record (loaded by benchmark.records.adversarial), not from a data file."""
    return name.startswith(ADVERSARIAL_PREFIX) or (name in DATASETS and DATASETS.get(name).attack_source is not None)


def task_of(name: str) -> str:
    """The task of a registered set or an adversarial "adv:" set (attacks run on NLI only)."""
    return "nli" if name.startswith(ADVERSARIAL_PREFIX) else DATASETS.get(name).task


def canonical_name(name: str) -> str:
    """The current name of a dataset or group, for names recorded under an earlier one; unknown names as given."""
    if name in GROUP_ALIASES:
        return GROUP_ALIASES[name]
    return DATASETS.canonical(name) if name in DATASETS else name


def load(name: str) -> LoadedDataset:
    """Load a registered dataset from $INFOBENCH_DATA when set, else from the hub.

    Adversarial sets ("adv:<record id>", tf-transfer-*) are made from attack records, a layer up:
    benchmark.records.adversarial.load_dataset loads those and everything else.
    """
    if is_adversarial(name):
        raise UserError(f"{name} is an adversarial set (made from an attack record); this command takes "
                        "datasets only (use it with evaluate, transfer, export or a grid's [[evaluate]])")
    spec = DATASETS.get(name)
    root = data_root()
    if root is not None and spec.local_path is not None:
        return _load_local(spec, root / spec.local_path)
    if spec.hub_id is None:
        raise UserError(f"dataset {spec.name!r} exists only as a local file ({spec.local_path}); "
                        f"set {DATA_ENV} to the folder that holds it")
    if root is not None:
        log.info("%s has no local copy; reading %s from the hub", spec.name, spec.hub_id)
    return _load_hub(spec)


def _load_local(spec: DatasetSpec, path: Path) -> LoadedDataset:
    if not path.is_file():
        raise UserError(f"{spec.name}: file not found: {path} (is {DATA_ENV} right?)")
    skipped: Counter = Counter()
    if spec.local_format == "squad":
        from benchmark.data.squad_format import read_squad_file
        examples = read_squad_file(path, skipped)
    else:
        rows = _jsonl_rows(path) if spec.local_format == "jsonl" else _tsv_rows(path)
        examples = _nli_examples(spec, rows, skipped)
    return _finish(spec, examples, f"local:{path}", skipped)


def _load_hub(spec: DatasetSpec) -> LoadedDataset:
    import datasets  # slow import: only where a hub set is read

    try:
        hub = datasets.load_dataset(spec.hub_id, spec.hub_config, split=spec.hub_split)
    except (OSError, ValueError) as err:  # ConnectionError and DatasetNotFoundError are OSErrors
        raise UserError(f"{spec.name}: cannot read {spec.hub_id} from the Hugging Face hub "
                        f"({type(err).__name__}: {str(err)[:300]}). Offline, set {DATA_ENV} to a folder "
                        "laid out as docs/resources.md describes.") from None
    skipped: Counter = Counter()
    if spec.task == "qa":
        from benchmark.data.squad_format import squad_example
        examples = [squad_example(row, f"{spec.hub_id} row {i}", skipped) for i, row in enumerate(hub)]
        examples = [e for e in examples if e is not None]
    else:
        label_names = tuple(hub.features[spec.label].names)
        rows = ((f"{spec.hub_id}[{spec.hub_split}] row {i}", row) for i, row in enumerate(hub))
        examples = _nli_examples(spec, rows, skipped, label_names)
    return _finish(spec, examples, f"hub:{spec.hub_id}/{spec.hub_config or ''}/{spec.hub_split}", skipped)


def _finish(spec: DatasetSpec, examples: list[dict], source: str, skipped: Counter) -> LoadedDataset:
    for reason, count in skipped.items():
        log.info("%s: skipped %d examples (%s)", spec.name, count, reason)
    if not examples:
        raise UserError(f"{spec.name}: no usable examples in {source}")
    return LoadedDataset(spec.name, spec.task, examples, source, dict(skipped))


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            where = f"{path}:{line_no}"
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as err:
                raise UserError(f"{where}: not UTF-8 ({err.reason})") from None
            except json.JSONDecodeError as err:
                raise UserError(f"{where}: malformed JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise UserError(f"{where}: expected a JSON object, got {type(row).__name__}")
            yield where, row


def _tsv_rows(path: Path) -> Iterator[tuple[str, dict]]:
    """TextFooler's files: label name, premise, hypothesis; no header."""
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            where = f"{path}:{line_no}"
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                raise UserError(f"{where}: not UTF-8 ({err.reason})") from None
            if not text.strip():
                continue
            fields = text.split("\t")
            if len(fields) != 3:
                raise UserError(f"{where}: expected 3 tab-separated fields (label, premise, hypothesis), "
                                f"got {len(fields)}")
            yield where, {"label": fields[0], "premise": fields[1], "hypothesis": fields[2]}


def _nli_examples(spec: DatasetSpec, rows, skipped: Counter, label_names=None) -> list[dict]:
    examples = []
    for where, row in rows:
        example = _nli_example(spec, where, row, label_names or spec.index_labels, skipped)
        if example is not None:
            example["id"] = str(row.get(spec.id_column, len(examples))) if spec.id_column else str(len(examples))
            examples.append(example)
    return examples


def _nli_example(spec, where: str, row: dict, label_names, skipped: Counter) -> dict | None:
    for column in (spec.premise, spec.hypothesis, spec.label):
        if column not in row:
            raise UserError(f"{where}: missing field {column!r}")
    label = _label_name(row[spec.label], label_names, where)
    if label is None:
        skipped["unlabelled (no gold label)"] += 1
        return None
    texts = {}
    for key, column in (("premise", spec.premise), ("hypothesis", spec.hypothesis)):
        value = row[column]
        if not isinstance(value, str):
            raise UserError(f"{where}: field {column!r} must be text, got {type(value).__name__}")
        if not value.strip():
            raise UserError(f"{where}: field {column!r} is empty")
        texts[key] = value
    return {**texts, "label": label}


def _label_name(value, label_names, where: str) -> str | None:
    """Map a label to its name; None for the sets' 'no gold label' markers ('-' / -1)."""
    if value in ("-", -1):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise UserError(f"{where}: label must be a name or an index, got {value!r}")
    if isinstance(value, int):
        if not 0 <= value < len(label_names):
            raise UserError(f"{where}: label index {value} out of range for {list(label_names)}")
        value = label_names[value]
    if value not in NLI_LABELS:
        raise UserError(f"{where}: unknown label {value!r}; expected one of {list(NLI_LABELS)}")
    return value


def sample_indices(total: int, n: int | None, seed: int) -> list[int]:
    """A seeded sample of n indices (all when n is None or >= total), in ascending order."""
    import numpy as np

    if n is None or n >= total:
        return list(range(total))
    if n <= 0:
        raise UserError(f"sample size must be positive, got {n}")
    chosen = np.random.default_rng(seed).choice(total, size=n, replace=False)
    return sorted(int(i) for i in chosen)
