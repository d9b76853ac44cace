"""User datasets without code edits: TOML declarations and plain file paths (docs/adding-a-dataset.md).

A declaration is a small TOML file:

    name = "snli-hard"
    task = "nli"                      # nli or qa
    description = "SNLI test, hard subset (Gururangan et al. 2018)"
    file = "snli_1.0_test_hard.jsonl" # relative to this file; or hub = "org/name", config, split
    format = "jsonl"                  # optional: jsonl, json, tsv, tsv-header, squad (from the suffix)
    json_key = "mnli"                 # json files keyed by subset: the key that holds the rows
    [columns]                         # optional: our field = the file's column
    premise = "sentence1"
    hypothesis = "sentence2"
    label = "gold_label"
    id = "pairID"
    labels = ["entailment", "neutral", "contradiction"]   # integer labels 0, 1, 2 in this order
    [label_map]                                           # or: the file's label text -> label name
    "not_entailment" = "not_entailment"

Declarations are read from `--datasets-dir` folders and INFOBENCH_DATASETS_PATH (os.pathsep
separated), and from packages through the `infobench.datasets` entry point (a TOML file or folder
path, or a callable returning such paths). A path given as `--dataset` is read the same way,
with its format, columns and label names detected; integer labels need `--dataset-labels`.
Records of user datasets carry the declaration and the sha256 of the file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from benchmark.core.atomic import read_json_file
from benchmark.core.errors import UserError

DATASETS_ENV = "INFOBENCH_DATASETS_PATH"
ENTRY_POINT_GROUP = "infobench.datasets"
KEYS = ("name", "task", "description", "file", "hub", "config", "split", "format", "json_key", "columns", "labels",
        "label_map")
COLUMNS = ("premise", "hypothesis", "label", "id")
LABEL_NAMES = ("entailment", "neutral", "contradiction", "not_entailment")
# Label names in users' files and model configs, read case-insensitively (docs/label-mapping.md).
LABEL_ALIASES = {
    "entailment": ("entailment", "entails", "entail", "entailed", "ent", "e"),
    "neutral": ("neutral", "neutrality", "neu", "n"),
    "contradiction": ("contradiction", "contradicts", "contradict", "contradictory", "con", "c"),
    "not_entailment": ("not_entailment", "not-entailment", "not entailment", "non_entailment", "non-entailment",
                       "not_entails", "no_entailment"),
}
_ALIAS_TO_NAME = {alias: name for name, aliases in LABEL_ALIASES.items() for alias in aliases}
_FORMATS = {".jsonl": "jsonl", ".gz": "jsonl", ".tsv": "tsv", ".json": "json"}
_discovered = False


def canonical_label(name) -> str | None:
    return _ALIAS_TO_NAME.get(str(name).strip().lower())


# ---- finding declarations -----------------------------------------------------------------------

def add_datasets_dirs(dirs: list[str]) -> None:
    """`--datasets-dir`: prepended to INFOBENCH_DATASETS_PATH, so grid workers see the same declarations."""
    global _discovered
    missing = [d for d in dirs if not Path(d).is_dir()]
    if missing:
        raise UserError(f"--datasets-dir {missing[0]}: not a folder")
    if dirs:
        os.environ[DATASETS_ENV] = os.pathsep.join([*dirs, *filter(None, [os.environ.get(DATASETS_ENV)])])
        _discovered = False


def declaration_files() -> list[Path]:
    paths = [Path(p) for p in os.environ.get(DATASETS_ENV, "").split(os.pathsep) if p]
    paths += _entry_point_paths()
    found = []
    for path in paths:
        found += sorted(path.glob("*.toml")) if path.is_dir() else [path]
    return found


def _entry_point_paths() -> list[Path]:
    from importlib.metadata import entry_points

    out = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            value = point.load()
            value = value() if callable(value) else value
        except Exception as err:  # a broken plugin names itself instead of a traceback
            raise UserError(f"entry point {point.name} ({point.value}) of {ENTRY_POINT_GROUP} failed: {err}") from None
        out += [Path(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    return out


def discover() -> list:
    """Register every declared dataset once per process (and again after --datasets-dir); returns their specs."""
    global _discovered
    from benchmark.data import DATASETS

    specs = [read_declaration(path) for path in declaration_files()]
    if not _discovered:
        for spec in specs:
            if spec.name in DATASETS and DATASETS.get(spec.name) != spec:
                raise UserError(f"{spec.declaration['declared_in']}: a dataset named {spec.name!r} already exists; "
                                "choose another name")
            if spec.name not in DATASETS:
                DATASETS.register(spec.name, spec)
        _discovered = True
    return specs


def register_user_dataset(name: str, labels: str | None = None) -> str:
    """Make `name` known: a declared dataset, or a data file path (registered under its stem)."""
    from benchmark.data import DATASETS

    discover()
    path = Path(name)
    if not path.is_file():
        return DATASETS.canonical(name) if name in DATASETS else name  # else "unknown dataset, did you mean"
    spec = path_spec(path, labels)
    if spec.name not in DATASETS:
        DATASETS.register(spec.name, spec, aliases=(name,) if name != spec.name else ())
    elif DATASETS.get(spec.name).file_path != spec.file_path:
        raise UserError(f"{path}: a dataset named {spec.name!r} already exists; rename the file or declare it "
                        "under another name (docs/adding-a-dataset.md)")
    else:
        DATASETS.replace(spec.name, spec)  # the same file, perhaps with other --dataset-labels
    return spec.name


# ---- reading a declaration ----------------------------------------------------------------------

def read_declaration(path: Path):
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # Python 3.10: the same parser from PyPI
        import tomli as tomllib
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read dataset declaration ({err})") from None
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{path}: not valid TOML ({err})") from None
    for key in raw:
        if key not in KEYS:
            raise UserError(f"{_line(path, text, key)}: unknown key {key!r}; allowed: {', '.join(KEYS)}")
    return _spec_from(raw, path, text)


def _spec_from(raw: dict, path: Path, text: str):
    from benchmark.data import DatasetSpec

    name, task = raw.get("name"), raw.get("task", "nli")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][\w.-]*", name):
        raise UserError(f"{_line(path, text, 'name')}: name must be a word like snli-hard, got {name!r}")
    if task not in ("nli", "qa"):
        raise UserError(f"{_line(path, text, 'task')}: task must be nli or qa, got {task!r}")
    if ("file" in raw) == ("hub" in raw):
        raise UserError(f"{path}: give either file = \"...\" or hub = \"org/name\" (with split)")
    columns = raw.get("columns", {})
    if not isinstance(columns, dict) or any(k not in COLUMNS for k in columns):
        raise UserError(f"{_line(path, text, 'columns')}: [columns] maps {', '.join(COLUMNS)} to the file's columns")
    file_path = str((path.parent / raw["file"]).resolve()) if "file" in raw else None
    fmt = raw.get("format") or ("squad" if task == "qa" else _format_of(Path(raw.get("file", "x.jsonl"))))
    labels = tuple(_checked_names(raw.get("labels", []), path, text))
    label_map = tuple((str(k), v) for k, v in raw.get("label_map", {}).items())
    _checked_names([v for _, v in label_map], path, text)
    return DatasetSpec(
        name=name, task=task, description=raw.get("description", f"declared in {path}"), file_path=file_path,
        local_format=fmt, hub_id=raw.get("hub"), hub_config=raw.get("config"), hub_split=raw.get("split"),
        json_key=raw.get("json_key"), premise=columns.get("premise", "premise"),
        hypothesis=columns.get("hypothesis", "hypothesis"), label=columns.get("label", "label"),
        id_column=columns.get("id"), index_labels=labels, label_map=label_map, user_labels=True,
        declaration={"declared_in": str(path.resolve()), **raw})


def _checked_names(names, path: Path, text: str) -> list[str]:
    """Label names in a declaration must be ours; a typo is named with its line."""
    if not isinstance(names, list):
        raise UserError(f"{_line(path, text, 'labels')}: labels must be a list of names in id order")
    for value in names:
        if value not in LABEL_NAMES:
            raise UserError(f"{_line(path, text, repr(value)[1:-1])}: unknown label name {value!r}; use "
                            f"{', '.join(LABEL_NAMES)}")
    return names


def _line(path: Path, text: str, needle: str) -> str:
    """`file:line` of the first line that mentions `needle` (tomllib does not report value positions)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return f"{path}:{number}"
    return str(path)


def _format_of(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"{path}: cannot tell the format from the suffix; use .jsonl, .jsonl.gz, .tsv, .json or "
                        "set format in a declaration")
    return fmt


def provenance(spec) -> dict:
    """The declaration as records carry it, with the sha256 of the data file."""
    import hashlib

    out = {k: v for k, v in spec.declaration.items()}
    if spec.file_path is not None:
        digest = hashlib.sha256()
        with open(spec.file_path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        out["file_sha256"] = digest.hexdigest()
    return out


# ---- a file given as --dataset PATH -------------------------------------------------------------

_KNOWN_LAYOUTS = (  # (columns that identify it, premise, hypothesis, label)
    (("sentence1", "sentence2", "gold_label"), "sentence1", "sentence2", "gold_label"),
    (("premise", "hypothesis", "label"), "premise", "hypothesis", "label"),
    (("sentence1", "sentence2", "label"), "sentence1", "sentence2", "label"),
)
_ID_COLUMNS = ("pairID", "uid", "id", "idx", "guid")


def path_spec(path: Path, labels: str | None):
    """A DatasetSpec for a data file, its layout detected; ambiguity is refused with one line."""
    from benchmark.data import DatasetSpec

    name = re.sub(r"(\.jsonl\.gz|\.jsonl|\.tsv|\.json)$", "", path.name, flags=re.I)
    fmt = "jsonl" if path.name.lower().endswith(".jsonl.gz") else _format_of(path)
    first = _first_row(path, fmt)
    if first is None:  # SQuAD JSON
        return DatasetSpec(name=name, task="qa", description=f"file {path}", file_path=str(path.resolve()),
                           local_format="squad", declaration={"file": str(path.resolve()), "format": "squad"})
    if fmt == "tsv" and not first:
        premise, hypothesis, label, id_column = "premise", "hypothesis", "label", None  # TextFooler's layout
    else:
        premise, hypothesis, label = _layout(first, path)
        id_column = next((c for c in _ID_COLUMNS if c in first), None)
        fmt = "tsv-header" if fmt == "tsv" else fmt
    index_labels, label_map = parse_dataset_labels(labels)
    return DatasetSpec(name=name, task="nli", description=f"file {path}", file_path=str(path.resolve()),
                       local_format=fmt, premise=premise, hypothesis=hypothesis, label=label, id_column=id_column,
                       index_labels=index_labels, label_map=label_map, user_labels=True,
                       declaration={"file": str(path.resolve()), "format": fmt,
                                    "columns": {"premise": premise, "hypothesis": hypothesis, "label": label,
                                                "id": id_column},
                                    "labels": list(index_labels), "label_map": dict(label_map)})


def _first_row(path: Path, fmt: str) -> dict | None:
    """The first example's fields ({} for a header-less 3-column TSV); None for a SQuAD file."""
    from benchmark.data import _jsonl_rows

    if fmt == "json":
        doc = read_json_file(path)
        if isinstance(doc, dict) and isinstance(doc.get("data"), list):
            return None
        if not isinstance(doc, list) or not doc or not isinstance(doc[0], dict):
            keys = list(doc)[:8] if isinstance(doc, dict) else type(doc).__name__
            raise UserError(f"{path}: a JSON object keyed by {keys}; say which key holds the examples with "
                            "json_key in a declaration (docs/adding-a-dataset.md)")
        return doc[0]
    if fmt == "jsonl":
        return next((row for _, row in _jsonl_rows(path)), {})
    header = path.open(encoding="utf-8", errors="replace").readline().rstrip("\r\n").split("\t")
    if {"premise", "hypothesis", "label"} <= {h.strip().lower() for h in header}:
        return {h.strip().lower(): None for h in header}
    if len(header) == 3:
        return {}
    raise UserError(f"{path}: a TSV file needs a header with premise, hypothesis and label, or exactly three "
                    "columns (label, premise, hypothesis); got " + repr(header[:6]))


def _layout(first: dict, path: Path) -> tuple[str, str, str]:
    lowered = {k.lower(): k for k in first}
    for needed, premise, hypothesis, label in _KNOWN_LAYOUTS:
        if all(n in lowered for n in needed):
            return lowered[premise], lowered[hypothesis], lowered[label]
    raise UserError(f"{path}: cannot tell which columns hold premise, hypothesis and label (found "
                    f"{sorted(first)[:10]}); write a declaration with [columns] (docs/adding-a-dataset.md)")


def parse_dataset_labels(text: str | None) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """`--dataset-labels entailment,neutral,contradiction` (integers in order) or `yes=entailment,no=...`."""
    if not text:
        return (), ()
    order, mapping = [], []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        raw, sep, value = item.partition("=")
        name = canonical_label(value if sep else raw)
        if name is None:
            raise UserError(f"--dataset-labels: unknown label name {(value if sep else raw)!r}; use "
                            f"{', '.join(LABEL_NAMES)}")
        (mapping.append((raw, name)) if sep else order.append(name))
    return tuple(order), tuple(mapping)


def user_label(value, spec, where: str) -> str:
    """A user file's label -> our name: integers by the declared order, text by map, then by name/alias."""
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit() and spec.index_labels):
        index = int(value)
        if not spec.index_labels:
            raise UserError(f"{where}: integer label {value}; say what the integers mean, in order, with "
                            "--dataset-labels entailment,neutral,contradiction (labels = [...] in a declaration)")
        if not 0 <= index < len(spec.index_labels):
            raise UserError(f"{where}: label index {index} out of range for {list(spec.index_labels)}")
        return spec.index_labels[index]
    name = dict(spec.label_map).get(value) or canonical_label(value)
    if name is None:
        raise UserError(f"{where}: unknown label {value!r}; map it with --dataset-labels {value}=NAME "
                        "([label_map] in a declaration)")
    return name


def json_rows(path: Path, key: str | None):
    """Rows of a JSON list, or of the list under `key` in a JSON object (AdvGLUE's dev.json)."""
    doc = read_json_file(path)
    if key is not None:
        if not isinstance(doc, dict) or key not in doc:
            keys = list(doc)[:10] if isinstance(doc, dict) else type(doc).__name__
            raise UserError(f"{path}: no key {key!r} (found {keys})")
        doc = doc[key]
    if not isinstance(doc, list):
        raise UserError(f"{path}: expected a list of examples{f' under {key!r}' if key else ''}")
    for i, row in enumerate(doc):
        if not isinstance(row, dict):
            raise UserError(f"{path} row {i}: expected a JSON object")
        yield f"{path} row {i}", row


def tsv_header_rows(path: Path):
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            yield f"{path}:{line_no}", {k.strip().lower() if k else k: v for k, v in row.items()}
