"""The grid spec: a small TOML (or YAML) file naming checkpoints, evaluations and execution settings.

    checkpoints = ["checkpoints/standard-minilm-l6-snli-s42", "infobert-minilm-l6-snli-s42"]

    [execution]            # all optional
    workers = 2            # Ray worker actors (local run: also the CPUs Ray is started with)
    shard_size = 25        # examples per attack shard

    [[evaluate]]           # `infobench evaluate` cells
    dataset = ["snli-test", "anli"]
    n = 1000

    [[attack]]             # `infobench attack` cells
    recipe = ["textfooler", "pwws"]
    dataset = "snli-test"
    n = 100
    seed = [0, 1]
    query_budget = 2000

Every list-valued field multiplies: cells = checkpoints x entries x recipes x datasets x seeds.
Loading checks everything a run would trip over later (unknown recipe, dataset or
parameter, missing checkpoint, a dataset of the wrong task, duplicate cells) and raises one
UserError naming the entry, before any model is loaded or any worker started.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.core.errors import UserError

TOP_KEYS = ("checkpoints", "checkpoints_dir", "results", "recipes_dirs", "execution", "evaluate", "attack")
EVALUATE_KEYS = ("dataset", "n", "seed")
ATTACK_KEYS = ("recipe", "dataset", "n", "seed", "query_budget", "params")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Execution:
    """How the grid runs; `workers=None` means one worker per core (local) or per free CPU (cluster)."""

    workers: int | None = None
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    shard_size: int = 25
    max_retries: int = 3
    batch_size: int = 64
    precision: str = "auto"


@dataclass(frozen=True)
class Cell:
    """One (checkpoint, evaluation): exactly what one `infobench evaluate`/`attack` command would run."""

    kind: str  # "evaluate" or "attack"
    checkpoint: str  # the path as the single command would be given it
    dataset: str
    n: int | None = None
    seed: int = 0
    recipe: str | None = None
    query_budget: int | None = None
    params: tuple = ()  # recipe parameters as sorted (key, value) pairs (hashable)
    entry: str = ""  # where it came from in the spec, for error messages

    @property
    def label(self) -> str:
        what = self.dataset if self.kind == "evaluate" else f"{self.recipe} on {self.dataset}"
        extra = f" n={self.n if self.n is not None else 'all'} seed={self.seed}"
        if self.query_budget is not None:
            extra += f" budget={self.query_budget}"
        return f"{Path(self.checkpoint).name}: {self.kind} {what}{extra}"


@dataclass
class GridSpec:
    path: Path
    checkpoints: list[str]
    cells: list[Cell]
    execution: Execution = field(default_factory=Execution)
    results_dir: Path = Path("results")
    recipes_dirs: tuple[str, ...] = ()
    cards: dict = field(default_factory=dict)  # checkpoint path -> card


def load_spec(path: str | Path, results_dir: str | Path | None = None) -> GridSpec:
    """Read and check a grid spec (TOML, or YAML with the same keys); `results_dir` overrides `results`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"grid spec not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not a text file ({err})") from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        raw = _read_yaml(text, path)
    elif suffix == ".toml":
        tomllib = _toml_reader()
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise UserError(f"{path}: not valid TOML ({err})") from None
    else:
        raise UserError(f"{path}: a grid spec is a .toml (or .yaml) file")
    if not isinstance(raw, dict):
        raise UserError(f"{path}: a grid spec is a table of keys (checkpoints, [[evaluate]], [[attack]], ...)")
    return parse_spec(raw, path, results_dir)


def _read_yaml(text: str, path: Path):
    import yaml  # PyYAML comes with transformers and datasets

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML ({err})") from None


def _toml_reader():
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:
        try:
            import tomli as tomllib  # the same parser, from PyPI, for Python 3.10
        except ModuleNotFoundError:
            raise UserError("reading TOML grid specs needs Python 3.11+ or `pip install tomli`") from None
    return tomllib


def parse_spec(raw: dict, path: Path, results_dir: str | Path | None = None) -> GridSpec:
    where = str(path)
    _check_keys(raw, TOP_KEYS, where)
    recipes_dirs = tuple(_strings(raw.get("recipes_dirs", []), f"{where}: recipes_dirs"))
    checkpoints_dir = Path(_string(raw.get("checkpoints_dir", "checkpoints"), f"{where}: checkpoints_dir"))
    checkpoints = [_locate_checkpoint(text, checkpoints_dir, where)
                   for text in _strings(raw.get("checkpoints"), f"{where}: checkpoints", required=True)]
    if len(set(checkpoints)) != len(checkpoints):
        raise UserError(f"{where}: a checkpoint is listed twice in `checkpoints`")
    cards = _read_cards(checkpoints, where)
    execution = _execution(raw.get("execution") or {}, where)
    entries = _entries(raw, "evaluate", where) + _entries(raw, "attack", where)
    if not entries:
        raise UserError(f"{where}: nothing to run: add an [[evaluate]] or [[attack]] table")
    cells = []
    for kind, position, table in entries:
        entry_where = f"{where}: [[{kind}]] #{position + 1}"
        cells += _cells(kind, table, checkpoints, cards, recipes_dirs, entry_where)
    results = Path(results_dir) if results_dir is not None else Path(_string(raw.get("results", "results"),
                                                                              f"{where}: results"))
    return GridSpec(path=path, checkpoints=checkpoints, cells=cells, execution=execution, results_dir=results,
                    recipes_dirs=recipes_dirs, cards=cards)


# ---- checkpoints ------------------------------------------------------------------------------

def _locate_checkpoint(text: str, checkpoints_dir: Path, where: str) -> str:
    """A path (relative to the current folder, as on the command line) or a bare id under checkpoints_dir."""
    if Path(text).is_dir():
        return text
    by_id = checkpoints_dir / text
    if "/" not in text and by_id.is_dir():
        return str(by_id)
    known = sorted(p.name for p in checkpoints_dir.iterdir() if p.is_dir()) if checkpoints_dir.is_dir() else []
    close = difflib.get_close_matches(Path(text).name, known, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    looked = f"the folder {text}" + ("" if "/" in text else f" and {by_id}")
    raise UserError(f"{where}: checkpoint {text!r} not found (looked for {looked}).{hint}")


def _read_cards(checkpoints: list[str], where: str) -> dict:
    from models.checkpoint import read_card

    cards, owners = {}, {}
    for ckpt in checkpoints:
        try:
            card = read_card(ckpt)
        except UserError as err:
            raise UserError(f"{where}: {err}") from None
        if card["model_id"] in owners:
            raise UserError(f"{where}: checkpoints {owners[card['model_id']]} and {ckpt} have the same model_id "
                            f"{card['model_id']!r}, so their records would overwrite each other")
        owners[card["model_id"]] = ckpt
        cards[ckpt] = card
    return cards


# ---- execution --------------------------------------------------------------------------------

def _execution(table, where: str) -> Execution:
    where = f"{where}: [execution]"
    if not isinstance(table, dict):
        raise UserError(f"{where} must be a table")
    _check_keys(table, tuple(Execution.__dataclass_fields__), where)
    settings = dict(table)
    for key in ("workers", "shard_size", "max_retries", "batch_size"):
        if key in settings:
            settings[key] = _int(settings[key], f"{where} {key}", minimum=0 if key == "max_retries" else 1)
    for key in ("cpus_per_worker", "gpus_per_worker"):
        if key in settings:
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise UserError(f"{where} {key} must be a number >= 0, got {value!r}")
            settings[key] = float(value)
    if settings.get("cpus_per_worker", 1.0) == 0 and settings.get("gpus_per_worker", 0.0) == 0:
        raise UserError(f"{where}: a worker needs some CPU or GPU (cpus_per_worker and gpus_per_worker are 0)")
    if settings.get("precision", "auto") not in PRECISIONS:
        raise UserError(f"{where} precision must be one of {', '.join(PRECISIONS)}, got {settings['precision']!r}")
    return Execution(**settings)


# ---- evaluations ------------------------------------------------------------------------------

def _entries(raw: dict, kind: str, where: str) -> list[tuple[str, int, dict]]:
    tables = raw.get(kind) or []
    if isinstance(tables, dict):
        tables = [tables]
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UserError(f"{where}: `{kind}` must be [[{kind}]] tables")
    return [(kind, position, table) for position, table in enumerate(tables)]


def _cells(kind: str, table: dict, checkpoints, cards, recipes_dirs, where: str) -> list[Cell]:
    _check_keys(table, EVALUATE_KEYS if kind == "evaluate" else ATTACK_KEYS, where)
    default_dataset = "snli-test" if kind == "attack" else None
    datasets = _strings(table.get("dataset", default_dataset), f"{where} dataset", required=True)
    seeds = [_int(s, f"{where} seed", minimum=0) for s in _list(table.get("seed", 0))]
    n = _int(table["n"], f"{where} n", minimum=1) if table.get("n") is not None else None
    recipes, budget, params = [None], None, {}
    if kind == "attack":
        recipes = _strings(table.get("recipe"), f"{where} recipe", required=True)
        budget = (_int(table["query_budget"], f"{where} query_budget", minimum=1)
                  if table.get("query_budget") is not None else None)
        params = table.get("params") or {}
        if not isinstance(params, dict):
            raise UserError(f"{where} params must be a table, e.g. params = {{ min_cos_sim = 0.7 }}")
        for recipe in recipes:
            _check_recipe(recipe, params, budget, recipes_dirs, where)
    for dataset in datasets:
        _check_dataset(kind, dataset, where)
    cells = []
    for ckpt, recipe, dataset, seed in itertools.product(checkpoints, recipes, datasets, seeds):
        _check_task(kind, cards[ckpt], ckpt, dataset, where)
        cells.append(Cell(kind=kind, checkpoint=ckpt, dataset=dataset, n=n, seed=seed, recipe=recipe,
                          query_budget=budget, params=tuple(sorted(params.items())), entry=where))
    return cells


def _check_recipe(name: str, params: dict, budget, recipes_dirs, where: str) -> None:
    """Known recipe, known parameters, and the resources it needs are here (checked on this machine)."""
    from attacks.registry import get_recipe, resource_status

    try:
        recipe = get_recipe(name, list(recipes_dirs))
        recipe.resolve_params({**params, "query_budget": budget})
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    for resource in recipe.resources:
        info = resource_status(resource)
        if info.kind == "missing":
            raise UserError(f"{where}: recipe {recipe.name} needs {resource}, which is missing ({info.detail}). "
                            f"Fix: {info.how_to_get}")


def _check_dataset(kind: str, name: str, where: str) -> None:
    from benchmark import data

    try:
        if kind == "evaluate":
            data.expand(name)
        else:
            data.DATASETS.canonical(name)
    except UserError as err:
        group = " (groups such as anli are for [[evaluate]]; attack one set at a time)" \
            if kind == "attack" and name in data.DATASET_GROUPS else ""
        raise UserError(f"{where}: {err}{group}") from None


def _check_task(kind: str, card: dict, ckpt: str, dataset: str, where: str) -> None:
    from benchmark import data

    for name in data.expand(dataset):
        task = data.task_of(name)
        if task != card["task"] or (kind == "attack" and task != "nli"):
            needs = "an NLI" if kind == "attack" else f"a {card['task']}"
            raise UserError(f"{where}: {name} is a {task} dataset but {ckpt} is a {card['task']} checkpoint "
                            f"({kind} needs {needs} dataset)")


# ---- small checks -----------------------------------------------------------------------------

def _check_keys(table: dict, allowed: tuple, where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UserError(f"{where}: unknown key {key!r}.{hint} Allowed: {', '.join(allowed)}.")


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def _string(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise UserError(f"{where} must be a non-empty string, got {value!r}")
    return value


def _strings(value, where: str, required: bool = False) -> list[str]:
    if value is None:
        if required:
            raise UserError(f"{where} is missing")
        return []
    values = [_string(v, where) for v in _list(value)]
    if required and not values:
        raise UserError(f"{where} is an empty list")
    return values


def _int(value, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UserError(f"{where} must be a whole number >= {minimum}, got {value!r}")
    return value
