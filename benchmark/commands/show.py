"""`infobench show RECORD`: read an attack run's examples as text, with the swapped words marked."""

from __future__ import annotations

import sys

_ANSI = {"original": "\033[1;31m", "substitute": "\033[1;32m", "reset": "\033[0m"}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "show", help="print an attack record's examples with swapped words highlighted",
        description="Print the examples of an attack record (its per-example log): premise, hypothesis and the "
                    "perturbed hypothesis with the swapped words highlighted (colour on a terminal, [[brackets]] "
                    "otherwise), labels before and after, queries and validity flags.")
    parser.add_argument("record", help="a record file (results/records/ID.json) or a record id")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--successful", action="store_true", help="only successful attacks")
    which.add_argument("--failed", action="store_true", help="only failed attacks (the best text reached)")
    parser.add_argument("-n", type=int, default=10, help="examples to print (default 10; 0 for all)")
    parser.add_argument("--results", default="results", help="results folder for a record id (default results)")
    parser.set_defaults(handler=run_show)


def run_show(args) -> int:
    from benchmark.core.errors import UserError

    if args.n < 0:
        raise UserError(f"-n must be 0 (all) or more, got {args.n}")
    record, entries = load_examples(args.record, args.results)
    wanted = "successful" if args.successful else "failed" if args.failed else None
    chosen = [e for e in entries if wanted is None or e["result"] == wanted]
    shown = chosen if args.n == 0 else chosen[:args.n]
    colour = sys.stdout.isatty()
    out = [f"{record['record_id']}: {len(shown)} of {len(chosen)} {wanted or 'logged'} examples "
           f"({len(entries)} in the log)\n"]
    out += [format_example(entry, colour) for entry in shown]
    sys.stdout.write("\n".join(out))
    return 0


def load_examples(record_arg: str, results: str) -> tuple[dict, list[dict]]:
    """The record and its per-example log entries (header left out)."""
    from pathlib import Path

    from benchmark import records
    from benchmark.core.atomic import read_jsonl_log
    from benchmark.core.errors import UserError

    path = Path(record_arg)
    if not path.is_file():
        path = records.record_path(Path(results), record_arg)
    if not path.is_file():
        raise UserError(f"no record {record_arg!r}: give a record file or the id of one under {results}/records")
    record = records.load_record(path)
    if record["kind"] != "attack":
        raise UserError(f"{path} is an {record['kind']} record; `show` reads attack records")
    log_path = path.with_name(path.name[:-len(".json")] + ".examples.jsonl")
    if not log_path.is_file():
        raise UserError(f"{path} has no per-example log beside it ({log_path.name})")
    entries = [line for line in read_jsonl_log(log_path) if "header" not in line]
    return record, entries


def format_example(entry: dict, colour: bool) -> str:
    from benchmark.metrics.validity import example_flags, swapped_words

    perturbed = entry.get("perturbed_hypothesis")
    swaps = swapped_words(entry["hypothesis"], perturbed) if perturbed is not None else []
    lines = [f"#{entry['index']} {entry['id']}  {entry['result']}  gold {entry['label']}  "
             f"prediction {entry['prediction']} -> {entry['perturbed_prediction']}  queries {entry['queries']}",
             f"  premise:    {entry['premise']}",
             f"  hypothesis: {mark(entry['hypothesis'], {s['at'] for s in swaps}, 'original', colour)}"]
    if perturbed is not None and entry["result"] != "skipped":
        lines.append(f"  perturbed:  {mark(perturbed, {s['at_perturbed'] for s in swaps}, 'substitute', colour)}")
    if entry["result"] == "successful":
        validity = entry.get("validity")
        note = ""
        if validity is None:  # logs from before the check: computed now, and said so
            validity, note = example_flags(entry["hypothesis"], perturbed, entry.get("similarity")), " (computed now)"
        pairs = ", ".join(f"{a or '∅'} -> {b or '∅'}" for a, b in validity["swaps"]) or "none"
        similarity = "n/a" if validity["similarity"] is None else f"{validity['similarity']:.3f}"
        lines.append(f"  swaps: {pairs}   similarity {similarity}   "
                     f"flags{note}: {', '.join(validity['flags']) or 'none'}")
    return "\n".join(lines) + "\n"


def mark(text: str, positions: set, side: str, colour: bool) -> str:
    """`text` with the tokens at `positions` (indices into validity.tokens) highlighted."""
    from benchmark.metrics.validity import _TOKEN

    pieces, last = [], 0
    for position, match in enumerate(_TOKEN.finditer(text)):
        if position in positions:
            word = match.group(0)
            pieces += [text[last:match.start()],
                       f"{_ANSI[side]}{word}{_ANSI['reset']}" if colour else f"[[{word}]]"]
            last = match.end()
    return "".join(pieces) + text[last:]
