"""`infobench compare A B`: paired differences between two checkpoints on the examples both saw.

A and B are each a record file, a checkpoint directory (its card.json names the model id) or a
model id whose records lie under --results. Every evaluation both have (same dataset, recipe,
parameters and attack definition, sample) is compared on its per-example log: accuracy-type rates by the exact McNemar
test with Newcombe's paired interval for the difference, SQuAD F1 by a seeded paired bootstrap
interval and a sign-flip permutation p. Differences are B minus A, in percentage points.
Evaluations of the same name on different examples are not compared (two records: an error).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# metric -> how it is compared; rates that are not over the same examples (success rate: among
# each model's own correct examples) are left out: their intervals are in the records.
# The validity-filtered AuA is paired too: a 0/1 outcome per attacked example (docs/validity.md).
PAIRED_METRICS = {"accuracy": "mcnemar", "clean_accuracy": "mcnemar", "accuracy_under_attack": "mcnemar",
                  "accuracy_under_attack_validity_filtered": "mcnemar", "exact_match": "mcnemar", "f1": "bootstrap"}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="paired differences (interval, exact McNemar p) between two checkpoints or records",
        description="Compare two checkpoints (model ids or checkpoint directories) or two record files on every "
                    "evaluation both have on the same examples: B - A with its 95% interval and p value.")
    parser.add_argument("first", metavar="A", help="record file, checkpoint directory or model id")
    parser.add_argument("second", metavar="B", help="record file, checkpoint directory or model id")
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="results folder whose records/ holds the model ids' records (default: results)")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from benchmark.core.errors import UserError

    read: list = []  # the results folder, read once for both sides when they name model ids
    first, second = _resolve(args.first, args.results, read), _resolve(args.second, args.results, read)
    single = len(first) == 1 and len(second) == 1 and all(str(x).endswith(".json") for x in (args.first, args.second))
    pairs, skipped = _match(first, second, strict=single)
    if not pairs:
        why = f" ({'; '.join(skipped)})" if skipped else ""
        raise UserError(f"{args.first} and {args.second} share no evaluation on the same examples{why}")
    rows = [row for a, b in pairs for row in compare_records(a, b)]
    _add_holm(rows)
    if args.format == "json":
        sys.stdout.write(json.dumps({"first": args.first, "second": args.second, "rows": rows, "not_compared": skipped},
                                    indent=2) + "\n")
    else:
        sys.stdout.write(_table(args.first, args.second, rows, skipped))
    return 0


def _resolve(text: str, results: Path, read: list) -> list[dict]:
    """The records meant by a record file, a checkpoint directory or a model id."""
    from benchmark.core.errors import UserError

    path = Path(text)
    if path.suffix == ".json" and path.is_file():
        from benchmark.leaderboard.tables import _load_measured

        return [_load_measured(path)]
    model_id, weights = text, None
    if path.is_dir() and (path / "card.json").is_file():
        card = json.loads((path / "card.json").read_text(encoding="utf-8"))
        model_id, weights = card["model_id"], card.get("weights_sha256")
    if not read:
        from benchmark.leaderboard.tables import load_results

        read.extend(load_results(results).records)
    found = [r for r in read if r["checkpoint"]["model_id"] == model_id
             and weights in (None, r["checkpoint"]["weights_sha256"])]
    if not found:
        raise UserError(f"no records of {model_id!r} under {results}/records (pass a record file, a checkpoint "
                        "directory or a model id that has records)")
    return found


def _evaluation(record: dict, with_sample: bool = True, with_definition: bool = True) -> str:
    """What two records must share to be compared: kind, dataset, recipe, parameters and the attack's
    definition (and, when matching many records, the sample and SAFER's smoothing; two named record
    files are matched without them, then refused when their examples differ: a smoothed classifier
    is another model on the same evaluation)."""
    from benchmark.leaderboard.tables import variant_of

    variant = json.loads(variant_of(record))
    if not with_sample:
        variant.pop("n"), variant.pop("seed"), variant.pop("smoothing", None)
    if not with_definition:
        variant.pop("definition", None)
    return json.dumps([record["kind"], record["evaluation"]["dataset"], variant], sort_keys=True)


def _differences(a: dict, b: dict) -> str:
    """What sets two named records' evaluations apart, e.g. "recipe: pwws vs textfooler": the parts
    of `_evaluation` two record files must share, compared as JSON as it compares them; the attack's
    definition only when nothing else differs (another recipe is another definition anyway)."""
    first, second = (dict(zip(("kind", "dataset", "variant"), json.loads(_evaluation(r, with_sample=False))))
                     for r in (a, b))
    first.update(first.pop("variant")), second.update(second.pop("variant"))
    differing = [key for key in sorted(first.keys() | second.keys())
                 if json.dumps(first.get(key), sort_keys=True) != json.dumps(second.get(key), sort_keys=True)]
    if differing != ["definition"]:
        differing = [key for key in differing if key != "definition"]
    return "; ".join(f"{key}: {first.get(key)} vs {second.get(key)}" for key in differing)


def _other_definition(a: dict, second: list[dict], with_sample: bool) -> str | None:
    """Why a record has no partner when one differs from it only in the attack's definition."""
    from benchmark.leaderboard.tables import attack_definition

    key = _evaluation(a, with_sample, with_definition=False)
    for b in second:
        if _evaluation(b, with_sample, with_definition=False) == key:
            return (f"{_label(a)}: the attacks differ in definition ({attack_definition(a)} vs "
                    f"{attack_definition(b)}: a constraint or resource changed; docs/leaderboard.md)")
    return None


def _label(record: dict) -> str:
    evaluation = record["evaluation"]
    recipe = (evaluation.get("recipe") or {}).get("name")
    return f"{recipe}/{evaluation['dataset']}" if recipe else evaluation["dataset"]


def _pair_label(a: dict, b: dict) -> str:
    """The evaluation's label, naming the side(s) measured through SAFER's smoothed classifier."""
    from benchmark.leaderboard.tables import smoothing_samples

    smoothed = [f"{side} smoothed(N={n})" for side, record in (("A", a), ("B", b))
                if (n := smoothing_samples(record)) is not None]
    if len(smoothed) == 2 and smoothing_samples(a) == smoothing_samples(b):
        smoothed = [f"smoothed(N={smoothing_samples(a)})"]
    return " ".join([_label(a), *smoothed])


def _match(first: list[dict], second: list[dict], strict: bool) -> tuple[list[tuple[dict, dict]], list[str]]:
    from benchmark.core.errors import UserError

    by_key = {_evaluation(r, not strict): r for r in second}
    pairs, skipped = [], []
    for a in sorted(first, key=lambda r: r["record_id"]):
        b = by_key.get(_evaluation(a, not strict))
        if b is None:
            why = _other_definition(a, second, not strict)
            if strict:
                raise UserError(why or f"the two records evaluate different things ({_differences(a, second[0])})")
            skipped += [why] if why else []
            continue
        if a["evaluation"].get("examples_sha256") != b["evaluation"].get("examples_sha256"):
            if strict:
                raise UserError(f"the two records scored different examples on {_label(a)}: no paired comparison")
            skipped.append(f"{_label(a)}: different examples")
            continue
        pairs.append((a, b))
    return pairs, skipped


def compare_records(a: dict, b: dict) -> list[dict]:
    """One row per paired metric of two records of one evaluation on the same examples."""
    from benchmark.core.errors import UserError
    from benchmark.leaderboard.validity_column import checked_outcomes

    # As the leaderboard reads them: an old attack log gets its validity flags computed now.
    found_a, found_b = checked_outcomes(a), checked_outcomes(b)
    rows = []
    for metric, test in PAIRED_METRICS.items():
        oa, ob = found_a.get(metric), found_b.get(metric)
        if oa is None or ob is None:
            continue
        if oa.values is None or ob.values is None:
            rows.append({"evaluation": _pair_label(a, b), "metric": metric, "n": oa.n, "note": "no per-example log"})
            continue
        if set(oa.values) != set(ob.values):
            raise UserError(f"{_label(a)}: the per-example logs hold different examples; no paired comparison")
        rows.append({"evaluation": _pair_label(a, b), "metric": metric, **_compare(oa, ob, test)})
    return rows


def _compare(oa, ob, test: str) -> dict:
    from benchmark.core import stats

    keys = sorted(oa.values)
    first, second = [oa.values[k] for k in keys], [ob.values[k] for k in keys]
    scale = 100.0  # fractions and 0..1 per-example F1 shown in percentage points
    row = {"n": len(keys), "a": sum(first) / len(keys) * scale, "b": sum(second) / len(keys) * scale}
    if test == "mcnemar":
        both = sum(1 for x, y in zip(first, second) if x and y)
        only_a = sum(1 for x, y in zip(first, second) if x and not y)
        only_b = sum(1 for x, y in zip(first, second) if y and not x)
        neither = len(keys) - both - only_a - only_b
        interval = stats.paired_accuracy_difference(both, only_b, only_a, neither)  # B - A
        row.update(only_a=only_a, only_b=only_b, p=stats.mcnemar_exact_p(only_a, only_b),
                   test="exact McNemar; Newcombe paired interval")
    else:
        _, interval, p = stats.paired_mean_difference(second, first)
        row.update(p=p, test="paired bootstrap interval; sign-flip permutation p")
    row.update(difference=row["b"] - row["a"], low=interval.low * scale, high=interval.high * scale)
    return row


def _add_holm(rows: list[dict]) -> None:
    """Many rows are many tests: each p also gets its Holm-adjusted value over all rows."""
    from benchmark.core.stats import holm

    tested = [row for row in rows if "p" in row]
    for row, adjusted in zip(tested, holm([row["p"] for row in tested])):
        row["p_holm"] = adjusted


def _table(first: str, second: str, rows: list[dict], skipped: list[str]) -> str:
    from tabulate import tabulate

    body = []
    for row in rows:
        if "note" in row:
            body.append([row["evaluation"], row["metric"], row["n"], "", "", "", "", row["note"], ""])
            continue
        discordant = f"{row['only_a']} / {row['only_b']}" if "only_a" in row else ""
        body.append([row["evaluation"], row["metric"], row["n"], f"{row['a']:.1f}", f"{row['b']:.1f}",
                     f"{row['difference']:+.1f} ({row['low']:+.1f} to {row['high']:+.1f})", discordant,
                     f"{row['p']:.3g}", f"{row['p_holm']:.3g}"])
    text = (f"A = {first}\nB = {second}\nB - A in percentage points with its 95% interval; discordant = examples "
            "only A / only B gets right; p: exact McNemar (F1: paired permutation); p Holm: adjusted over all rows\n\n")
    text += tabulate(body, headers=["evaluation", "metric", "n", "A", "B", "B - A (95% CI)", "discordant", "p",
                                    "p Holm"], disable_numparse=True) + "\n"
    if skipped:
        text += "\nnot compared: " + "; ".join(skipped) + "\n"
    return text
