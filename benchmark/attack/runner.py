"""Run a recipe against a checkpoint on a dataset sample, resumably: load -> attack -> score -> record.

The per-example JSONL log (fsynced, one line per attacked example) is the run's state: its
first line is a header naming everything that identifies the run, each later line one
example. A rerun of the same command reads the log, checks the header, skips what is logged
and attacks the rest; the record is computed from the log alone, so an interrupted and
resumed run ends with the same record as an unbroken one (timing fields aside). Each example
is attacked with RNGs seeded from (seed, example index) and an empty query cache, so its
outcome does not depend on which examples ran before it in the same process.

Sharding (`shard=(i, N)`) attacks every N-th sampled example starting at i, with its own log
and record; `merge_attack_logs` combines complete shard logs into the record a single process
would have written (the Ray grid calls `run_attack_shard` per shard, then the merge).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmark.records.adversarial import load_dataset
from benchmark import records
from benchmark.core.atomic import append_jsonl, atomic_write_text, exclusive_writer, read_jsonl_log
from benchmark.core.errors import UserError
from benchmark.core.modes import Precision, RecordKind
from benchmark.data import DrawnSample, LoadedDataset, draw_sample

log = logging.getLogger(__name__)
HEADER_KEY = "header"
# Header fields two runs must share to write to the same log (anything else would mix runs).
IDENTITY_FIELDS = ("record_id", "weights_sha256", "dataset", "sample", "examples_sha256", "recipe",
                   "resources_identity", "max_length", "label_names", "smoothing")
# Header fields that are not part of the record's evaluation block.
HEADER_ONLY = ("record_id", "weights_sha256", "label_names", "resources_identity", "device", "shard")
# The part of them known before the model is loaded and the attack built (checked on every rerun).
PLANNED_FIELDS = ("record_id", "weights_sha256", "label_names", "dataset", "sample", "examples_sha256",
                  "recipe_settings", "max_length", "shard")


@dataclass(frozen=True)
class AttackSpec:
    """Everything a user chooses for one attack run."""

    checkpoint: Path
    recipe: str
    dataset: str = "snli-test"
    n: int | None = None
    seed: int = 0
    query_budget: int | None = None
    recipe_params: dict = field(default_factory=dict)
    shard: tuple[int, int] | None = None  # (i, N): every N-th sampled example from position i
    results_dir: Path = Path("results")
    recipes_dirs: tuple[str, ...] = ()
    batch_size: int = 64
    precision: Precision = Precision.AUTO
    device: str | None = None
    smoothing: int | None = None  # N: attack SAFER's smoothed classifier (N votes per query; benchmark/attack/smoothed.py)


@dataclass(frozen=True)
class AttackPlan:
    """The run a spec names, worked out before any model or textattack is loaded."""

    card: dict
    recipe: object  # attacks.registry.Recipe
    params: dict  # the recipe's resolved parameters
    loaded: LoadedDataset
    sample: DrawnSample
    shard_indices: list[int]  # the sample's positions this shard attacks
    record_id: str  # this shard's (or the unsharded run's) record
    log_path: Path
    max_length: int


@dataclass(frozen=True)
class AttackContext:
    """What attacking one example needs, built once per run."""

    loaded: LoadedDataset
    attack: object  # textattack.Attack
    wrapper: object  # the model wrapper (its query cache is cleared per example)
    tokenizer: object
    encoder: object | None  # sentence encoder scoring successful attacks
    seed: int
    label_names: list[str]
    max_length: int
    query_budget: int | None
    tracer: object | None = None  # benchmark.attack.budget's tracer: the budgets under which an attack succeeds


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """"i/N" (0 <= i < N) -> (i, N)."""
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise UserError(f"--shard takes i/N with whole numbers (e.g. 0/4), got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise UserError(f"--shard {text}: need 0 <= i < N (shards are numbered from 0)")
    return index, count


def run_attack_shard(spec: AttackSpec, quiet: bool = False, loaded=None) -> dict:
    """Attack (the rest of) one shard, or the whole sample when spec.shard is None; returns its record.

    `loaded`: (model, tokenizer, card) already loaded from spec.checkpoint (a grid worker loads a
    checkpoint once for all its shards); None loads it here.
    """
    plan = _plan(spec)
    with exclusive_writer(plan.log_path):  # one writer per run (grid workers included)
        done = _read_log(plan)
        header = done.pop(HEADER_KEY, None)
        if header is None and done:
            raise UserError(f"{plan.log_path} has examples but no header line, so nothing says which weights "
                            f"and sample it holds; start fresh: `rm {plan.log_path}` and rerun")
        if header is not None:  # before anything is reused, whether or not work remains
            _check_same_run(plan.log_path, header, _planned_identity(spec, plan), fields=PLANNED_FIELDS)
        todo = [i for i in plan.shard_indices if i not in done]
        if todo:
            header = _attack_missing(spec, plan, header, done, todo, quiet, loaded)
        entries = [done[i] for i in plan.shard_indices]
        record = _record(plan.card, spec.checkpoint, header, entries, shard=spec.shard)
        records.write_record(spec.results_dir, record)
        return record


def run_attack(spec: AttackSpec, quiet: bool = False) -> dict:
    """The whole run in this process (what `infobench attack` does without --shard/--merge)."""
    return run_attack_shard(spec, quiet)


def merge_attack_logs(spec: AttackSpec, shard_count: int) -> dict:
    """Combine the complete logs of shards 0..N-1 into the unsharded log and record."""
    from models.checkpoint import read_card

    card = read_card(spec.checkpoint)
    headers, entries = [], {}
    for index in range(shard_count):
        shard_spec = replace(spec, shard=(index, shard_count))
        path = records.example_log_path(spec.results_dir,
                                        records.attack_record_id(card["model_id"], shard_spec, _recipe_name(spec)))
        lines = list(read_jsonl_log(path))
        if not lines or HEADER_KEY not in lines[0]:
            raise UserError(f"shard {index}/{shard_count}: no log at {path}; run that shard first")
        header = lines[0][HEADER_KEY]
        missing = header["shard"]["n"] - (len(lines) - 1)
        if missing:
            raise UserError(f"shard {index}/{shard_count} is incomplete ({missing} examples left); rerun it")
        headers.append(header)
        entries.update({e["index"]: e for e in lines[1:]})
    common = _check_shard_headers(headers)
    rid = records.attack_record_id(card["model_id"], replace(spec, shard=None), common["recipe"]["name"])
    if common["record_id"] != rid:
        raise UserError(f"shard logs were made for {common['record_id']}, not {rid}")
    ordered = [entries[i] for i in sorted(entries)]
    lines = [{HEADER_KEY: common}, *ordered]
    merged_log = records.example_log_path(spec.results_dir, rid)
    with exclusive_writer(merged_log):
        atomic_write_text(merged_log, "".join(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n"
                                              for line in lines))
        record = _record(card, spec.checkpoint, common, ordered, shard=None)
        records.write_record(spec.results_dir, record)
    return record


# ---- load -------------------------------------------------------------------------------------

def _plan(spec: AttackSpec) -> AttackPlan:
    """Cheap checks and the sample, before any model or textattack is loaded."""
    from attacks.registry import get_recipe
    from models.checkpoint import read_card

    card = read_card(spec.checkpoint)
    recipe = get_recipe(spec.recipe, list(spec.recipes_dirs))
    from benchmark.attack.budget import resolve_params

    params = resolve_params(recipe, {**spec.recipe_params, "query_budget": spec.query_budget})
    _check_resources(recipe)
    loaded = load_dataset(spec.dataset, spec.results_dir)
    _check_compatible(card, loaded)
    sample = draw_sample(loaded, spec.n, spec.seed)
    indices = sample.indices
    shard_indices = indices if spec.shard is None else indices[spec.shard[0]::spec.shard[1]]
    if not shard_indices:
        raise UserError(f"shard {spec.shard[0]}/{spec.shard[1]} of {len(indices)} examples is empty; use fewer shards")
    rid = records.attack_record_id(card["model_id"], spec, recipe.name)
    return AttackPlan(card=card, recipe=recipe, params=params, loaded=loaded, sample=sample,
                      shard_indices=shard_indices, record_id=rid, log_path=records.example_log_path(spec.results_dir, rid),
                      max_length=int(card["hyperparameters"].get("max_length", 128)))


def _check_compatible(card: dict, loaded) -> None:
    from models.external import two_way_hint

    if loaded.task != "nli" or card["task"] != "nli":
        raise UserError(f"attacks run on NLI checkpoints and datasets; got a {card['task']} checkpoint and "
                        f"{loaded.name} ({loaded.task})")
    missing = sorted({e["label"] for e in loaded.examples} - set(card["label_names"]))
    if missing:
        raise UserError(f"{loaded.name} has labels {missing} that checkpoint {card['model_id']} does not know "
                        f"(its labels: {card['label_names']})"
                        f"{two_way_hint(card) or '; attack a checkpoint trained on these labels'}")


def _check_resources(recipe) -> None:
    """Fail before loading anything when a resource the recipe declares is missing."""
    from attacks.registry import resource_status

    for name in recipe.resources:
        info = resource_status(name)
        if info.kind == "missing":
            raise UserError(f"recipe {recipe.name!r} needs {info.name}, which is missing ({info.location}: "
                            f"{info.detail}). Fix: {info.how_to_get}")


def _recipe_name(spec: AttackSpec) -> str:
    from attacks.registry import get_recipe

    return get_recipe(spec.recipe, list(spec.recipes_dirs)).name


def _read_log(plan: AttackPlan) -> dict:
    """{index: entry} from the log, plus the header under HEADER_KEY."""
    path = plan.log_path
    path.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    wanted = set(plan.shard_indices)
    for position, line in enumerate(read_jsonl_log(path)):
        if HEADER_KEY in line:
            if position != 0:
                raise UserError(f"{path}: a header in the middle of the log; move the file away and rerun")
            done[HEADER_KEY] = line[HEADER_KEY]
        elif line.get("index") not in wanted:
            raise UserError(f"{path}: example {line.get('index')} is not in this run's sample; the log belongs "
                            "to another run: move it away and rerun")
        else:
            done[line["index"]] = line
    return done


# ---- attack -----------------------------------------------------------------------------------

def _attack_missing(spec, plan: AttackPlan, header, done: dict, todo: list[int], quiet: bool, loaded=None) -> dict:
    from attacks.registry import RecipeResources
    from benchmark.attack.model_wrapper import attack_model_wrapper
    from models.checkpoint import load_checkpoint

    model, tokenizer, card = loaded or load_checkpoint(spec.checkpoint)
    device = spec.device or _default_device()
    model.to(device)
    wrapper = attack_model_wrapper(model, tokenizer, max_length=plan.max_length, batch_size=spec.batch_size,
                                   precision=spec.precision)
    if spec.smoothing is not None:  # the ensemble is the model under attack, seeded per query text
        from benchmark.attack.smoothed import smoothed_model_wrapper
        wrapper = smoothed_model_wrapper(wrapper, spec.smoothing, seed=spec.seed)
    resources = RecipeResources()
    from benchmark.attack.budget import build_attack, install_budget_tracer

    attack = build_attack(plan.recipe, wrapper, resources, plan.params)  # + the perturbation cap, if set
    tracer = install_budget_tracer(attack)  # logs the budgets that would succeed (robustness curves)
    _freeze_premise(attack)
    # The wrapper batches by length itself: hand it every candidate of a step at once.
    attack.goal_function.batch_size = max(attack.goal_function.batch_size, 4096)
    encoder, encoder_record = _similarity_encoder(resources)
    fresh = _header(spec, plan, attack, resources, encoder_record, device)
    if header is None:
        append_jsonl(plan.log_path, {HEADER_KEY: fresh})
    else:
        _check_same_run(plan.log_path, header, fresh)
    context = AttackContext(loaded=plan.loaded, attack=attack, wrapper=wrapper, tokenizer=tokenizer, encoder=encoder,
                            seed=spec.seed, label_names=card["label_names"], max_length=plan.max_length,
                            query_budget=plan.params.get("query_budget"), tracer=tracer)
    _attack_loop(plan, context, done, todo, quiet)
    return fresh if header is None else header


def _attack_loop(plan: AttackPlan, context: AttackContext, done: dict, todo: list[int], quiet: bool) -> None:
    from tqdm.auto import tqdm

    total = len(plan.shard_indices)
    with tqdm(total=total, initial=total - len(todo), desc=f"attack {plan.recipe.name}", unit="ex",
              disable=quiet) as bar:
        _show_success_rate(bar, done)
        for index in todo:
            entry = attack_one(context, index)
            append_jsonl(plan.log_path, entry)  # fsynced: the example is done once this returns
            done[index] = entry
            bar.update(1)
            _show_success_rate(bar, done)


def attack_one(context: AttackContext, index: int) -> dict:
    """Attack one sampled example; its outcome depends only on (seed, index) and the example."""
    from collections import OrderedDict

    from benchmark.metrics.attack import columns, cosine_similarity, example_entry
    from benchmark.metrics.validity import example_flags

    attack = context.attack
    example = context.loaded.examples[index]
    _seed_everything(context.seed, index)
    context.wrapper.clear_cache()
    started = time.perf_counter()
    label = context.label_names.index(example["label"])  # mapped by name, never by position
    result = attack.attack(OrderedDict(premise=example["premise"], hypothesis=example["hypothesis"]), label)
    seconds = time.perf_counter() - started
    similarity = validity = None
    if type(result).__name__ == "SuccessfulAttackResult":
        perturbed = columns(result.perturbed_result.attacked_text)["hypothesis"]
        if context.encoder is not None:
            similarity = cosine_similarity(context.encoder, example["hypothesis"], perturbed)
        validity = example_flags(example["hypothesis"], perturbed, similarity)
    truncated = len(context.tokenizer(example["premise"], example["hypothesis"])["input_ids"]) > context.max_length
    entry = example_entry(index, example, context.label_names, result, attack.goal_function,
                          context.query_budget, similarity, truncated, seconds, validity)
    if context.tracer is not None:
        entry.update(context.tracer.fields(result))
    return entry


def _show_success_rate(bar, done: dict) -> None:
    kinds = [e["result"] for key, e in done.items() if key != HEADER_KEY]
    decided = kinds.count("successful") + kinds.count("failed")
    if decided:
        bar.set_postfix(success=f"{kinds.count('successful') / decided:.1%}", refresh=False)


def _seed_everything(seed: int, index: int) -> None:
    import random

    import numpy as np
    import torch

    example_seed = int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:4], "little")
    random.seed(example_seed)
    np.random.seed(example_seed)
    torch.manual_seed(example_seed)


def _freeze_premise(attack) -> None:
    """NLI: perturb only the hypothesis, whatever the recipe (TextAttack's own way of saying so)."""
    from benchmark.resources import import_textattack

    pre = import_textattack().constraints.pre_transformation
    for constraint in attack.pre_transformation_constraints:
        if isinstance(constraint, pre.InputColumnModification) and "premise" in constraint.columns_to_ignore:
            return
    attack.pre_transformation_constraints.append(pre.InputColumnModification(["premise", "hypothesis"], {"premise"}))


def _similarity_encoder(resources):
    """The sentence encoder that scores successful attacks, and how the record names it."""
    try:
        encoder, info = resources.similarity_encoder()
    except UserError as err:
        log.warning("no sentence encoder, so no similarity metric: %s", err)
        return None, {"encoder": None, "metric": "cosine", "texts": "hypothesis"}
    return encoder, {"encoder": info, "metric": "cosine", "texts": "hypothesis"}


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# ---- record -----------------------------------------------------------------------------------

def _planned_identity(spec, plan: AttackPlan) -> dict:
    """The header fields that follow from the card, sample and recipe settings alone (no model, no attack)."""
    evaluation = records.evaluation_of(plan.loaded, plan.sample)
    return json.loads(json.dumps({  # as the log holds it (tuples become lists), so a logged header compares equal
        "record_id": records.attack_record_id(plan.card["model_id"], replace(spec, shard=None), plan.recipe.name),
        "weights_sha256": plan.card["weights_sha256"], "label_names": list(plan.card["label_names"]),
        "dataset": evaluation["dataset"], "sample": evaluation["sample"], "examples_sha256": evaluation["examples_sha256"],
        "recipe_settings": {"name": plan.recipe.name, "params": plan.params}, "max_length": plan.max_length,
        "shard": _shard_identity(spec, plan)}))


def _shard_identity(spec, plan: AttackPlan) -> dict | None:
    if spec.shard is None:
        return None
    shard_indices = plan.shard_indices
    return {"index": spec.shard[0], "count": spec.shard[1], "n": len(shard_indices), "record_id": plan.record_id,
            "indices_sha256": records.sha256_json(shard_indices), "examples_sha256": plan.loaded.fingerprint(shard_indices)}


def _header(spec, plan: AttackPlan, attack, resources, similarity: dict, device: str) -> dict:
    """The log's first line: the record's evaluation block (the one builder's), plus what a resumed or
    merged run must match (HEADER_ONLY)."""
    loaded, used = plan.loaded, resources.used()
    recipe = {"name": plan.recipe.name, "params": plan.params, "paper": plan.recipe.paper, "attack_repr": repr(attack)}
    evaluation = records.evaluation_of(loaded, plan.sample, recipe=recipe, resources=used, similarity=similarity,
                                       max_length=plan.max_length)
    header = {
        "record_id": records.attack_record_id(plan.card["model_id"], replace(spec, shard=None), plan.recipe.name),
        "weights_sha256": plan.card["weights_sha256"], "label_names": list(plan.card["label_names"]),
        **evaluation, "resources_identity": [[r["role"], r["name"], r["kind"]] for r in used], "device": device,
        "shard": _shard_identity(spec, plan),
    }
    if spec.smoothing is not None:  # absent otherwise, so unsmoothed logs keep their headers
        header["smoothing"] = _smoothing(spec)
    return header


def _smoothing(spec) -> dict:
    from models.smoothed_classifier import smoothing_description

    return smoothing_description(spec.smoothing, spec.seed)


def _check_same_run(path: Path, logged: dict, fresh: dict, fields=(*IDENTITY_FIELDS, "shard")) -> None:
    if "recipe" in logged:  # name and parameters, comparable before the attack is built
        logged = {**logged, "recipe_settings": {k: logged["recipe"].get(k) for k in ("name", "params")}}
    for key in fields:
        if logged.get(key) != fresh.get(key):
            raise UserError(f"{path} was written by a different run ({key} differs: {logged.get(key)!r} vs "
                            f"{fresh.get(key)!r}); move the log away (or use another --results folder) and rerun")


def _check_shard_headers(headers: list[dict]) -> dict:
    common = {k: v for k, v in headers[0].items() if k not in ("shard", "device")}
    for header in headers[1:]:
        for key in IDENTITY_FIELDS:
            if header.get(key) != common.get(key):
                raise UserError(f"shard {header['shard']['index']} differs from shard 0 in {key}; "
                                "shards of one run must share checkpoint, sample, recipe and resources")
    return {**common, "shard": None, "device": headers[0].get("device")}


def _record(card: dict, checkpoint: Path, header: dict, entries: list[dict], shard) -> dict:
    from benchmark.metrics.attack import counts_from_log, metrics_from_log
    from benchmark.metrics.outcomes import intervals

    evaluation = {key: value for key, value in header.items() if key not in HEADER_ONLY}
    rid = header["record_id"]
    if shard is not None:
        evaluation["shard"] = header["shard"]
        rid = header["shard"]["record_id"]
    metrics, counts = metrics_from_log(entries), counts_from_log(entries)
    return records.make_record(
        rid=rid, kind=RecordKind.ATTACK, checkpoint=records.checkpoint_identity(card, checkpoint), evaluation=evaluation,
        metrics=metrics, counts=counts, wall_time_s=sum(e["seconds"] for e in entries),
        device=header.get("device") or "unknown", intervals=intervals(RecordKind.ATTACK, metrics, counts, entries))
