"""Validity flags over committed attack logs: how many "successes" a careful reader would accept.

For every results/records/*__attack__*.examples.jsonl (or the logs given), per model and recipe:
successes, the share of successes each offline flag marks (benchmark/metrics/validity.py), the
share marked by any flag, after-attack accuracy raw and validity-filtered (flagged successes
count as failed attacks), and the filtered figure without the similarity flag (lexical flags
only). Two estimates of what the recipe fixes would have removed, from the logs alone:
- stopword: successes that swap a stopword (the recipe's own list, any case): the fixed,
  case-insensitive check forbids those swaps;
- cos<cal: TextFooler successes with a swap whose cosine in the substitute embedding is below the
  calibrated threshold (needs the built substitute);
- strict-ok: successes the strict recipe would also accept as they are: no stopword swap, every
  swap at or above Morris et al.'s 0.9 translated for the substitute (words outside its vocabulary
  pass, as in TextAttack), sentence similarity >= 0.98. The part-of-speech check is left out.
The search of a fixed recipe may find another swap where one is forbidden, so these bound the
change from one side rather than measure it: rerunning the attacks measures it.
Logs are read, never rewritten. Flags are computed now for logs written before the check.

    python scripts/validity_report.py [LOG ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="*", help="per-example attack logs (default: the committed ones)")
    parser.add_argument("--json", help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    paths = args.logs or sorted(glob.glob(str(REPO / "results/records/*__attack__*.examples.jsonl")))
    if not paths:
        sys.exit("no attack logs found")
    cosine = substitute_cosine()
    rows = [log_row(Path(p), cosine) for p in paths]
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


def log_row(path: Path, cosine) -> dict:
    from benchmark.metrics.validity import FLAGS, example_flags

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    header, entries = lines[0]["header"], lines[1:]
    successes = [e for e in entries if e["result"] == "successful"]
    checks = [e.get("validity") or example_flags(e["hypothesis"], e["perturbed_hypothesis"], e.get("similarity"))
              for e in successes]
    n, failed = len(entries), sum(e["result"] == "failed" for e in entries)
    flagged = sum(c["flagged"] for c in checks)
    lexical = sum(bool(set(c["flags"]) - {"low_similarity"}) for c in checks)
    recipe = header["recipe"]["name"]
    row = {"model": header["record_id"].split("__")[0], "recipe": recipe, "n": n, "successes": len(successes),
           "after_attack_accuracy": failed / n,
           "after_attack_accuracy_validity_filtered": (failed + flagged) / n,
           "after_attack_accuracy_lexical_filtered": (failed + lexical) / n,
           "flagged_share": flagged / len(successes) if successes else None}
    row.update({f"share_{name}": sum(name in c["flags"] for c in checks) / len(successes) if successes else None
                for name in FLAGS})
    row["share_stopword_swap"] = share(checks, lambda c: any(a.lower() in stopwords(recipe) for a, _ in c["swaps"]))
    if cosine is not None:
        threshold, strict, cos = cosine
        below = lambda c, t: any(cos(a, b) is not None and cos(a, b) < t for a, b in c["swaps"])  # noqa: E731
        if "word_embedding" in {r["role"] for r in header["resources"]}:
            row["share_below_calibrated_cos"] = share(checks, lambda c: below(c, threshold))
        row["share_strict_ok"] = share(checks, lambda c: not below(c, strict) and (c["similarity"] or 0) >= 0.98
                                       and not any(a.lower() in stopwords(recipe) for a, _ in c["swaps"]))
    return row


def share(checks, predicate):
    return sum(bool(predicate(c)) for c in checks) / len(checks) if checks else None


def stopwords(recipe: str) -> frozenset:
    if recipe.startswith("textfooler"):
        from attacks.textfooler import STOPWORDS

        return STOPWORDS
    from nltk.corpus import stopwords as nltk_stopwords

    return frozenset(nltk_stopwords.words("english"))


def substitute_cosine():
    """(calibrated threshold, strict threshold, cosine(a, b)) in the built substitute; None when not built."""
    import numpy as np

    from benchmark.resources.locate import NEIGHBOURS_FILE
    from benchmark.data import data_root
    from benchmark.resources.calibration import calibrate, translate
    from benchmark.resources import SUBSTITUTE_METADATA, read_embedding_folder, substitute_embedding_dir

    folder = substitute_embedding_dir()
    if not (folder / SUBSTITUTE_METADATA).is_file() or data_root() is None:
        return None
    matrix, word2index, nn_matrix = read_embedding_folder(folder)
    metadata = json.loads((folder / SUBSTITUTE_METADATA).read_text(encoding="utf-8"))
    calibration = metadata.get("calibration") or calibrate(
        matrix, word2index, nn_matrix, json.loads((data_root() / NEIGHBOURS_FILE).read_text(encoding="utf-8")))
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def cos(a: str, b: str):
        i, j = word2index.get(a.lower()), word2index.get(b.lower())
        return None if i is None or j is None else float(unit[i] @ unit[j])

    return calibration["threshold"], translate(0.9, calibration), cos


def print_table(rows: list[dict]) -> None:
    from tabulate import tabulate

    columns = [("model", "model"), ("recipe", "recipe"), ("successes", "succ"),
               ("after_attack_accuracy", "acc raw"), ("after_attack_accuracy_validity_filtered", "acc filtered"),
               ("after_attack_accuracy_lexical_filtered", "acc lexical-filtered"), ("flagged_share", "any flag"),
               ("share_non_word", "non_word"), ("share_antonym", "antonym"), ("share_pos_changed", "pos"),
               ("share_case_changed", "case"), ("share_punctuation_changed", "punct"),
               ("share_low_similarity", "low_sim"), ("share_stopword_swap", "stopword"),
               ("share_below_calibrated_cos", "cos<cal"), ("share_strict_ok", "strict-ok")]
    table = [[row.get(key) for key, _ in columns] for row in rows]
    sys.stdout.write(tabulate(table, headers=[h for _, h in columns], floatfmt=".3f", missingval="-") + "\n")


if __name__ == "__main__":
    sys.exit(main())
