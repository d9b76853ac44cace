"""SQuAD v1.1 exact match and F1, and Jia and Liang's worst-case rule for Adversarial SQuAD.

The normalisation is the official v1.1 evaluation script's: lower case, drop punctuation,
drop the articles a/an/the, collapse whitespace. A prediction scores the maximum over the
gold answers. Under the adversarial rule, each original question id scores the minimum
over the original and all its variants (ids "<original>-<suffix>"), per metric.
"""

from __future__ import annotations

import re
import string
from collections import Counter

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    lowered = text.lower()
    no_punctuation = "".join(ch for ch in lowered if ch not in _PUNCTUATION)
    no_articles = _ARTICLES.sub(" ", no_punctuation)
    return " ".join(no_articles.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    """Token-overlap F1 of the normalised strings (0 when nothing is shared, as in the official script)."""
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(gold).split()
    shared = sum((Counter(predicted) & Counter(expected)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def score(prediction: str, golds: list[str]) -> dict:
    """EM and F1 of one prediction, each the maximum over the gold answers (0/1 and 0..1)."""
    return {"exact_match": max(exact_match(prediction, g) for g in golds),
            "f1": max(f1(prediction, g) for g in golds)}


def original_id(question_id: str) -> str:
    """The original question an adversarial variant was made from (Jia and Liang's id convention)."""
    return question_id.split("-", 1)[0]


def aggregate(entries: list[dict]) -> tuple[dict, dict]:
    """(metrics on the 0..100 scale, counts) from per-question {"id", "exact_match", "f1"} entries.

    exact_match / f1 follow the worst-case rule over each original id's group; a set
    without variants has one question per group, so they are the plain means. When
    variants are present the breakdown on the originals alone and on the variants alone
    is added.
    """
    worst: dict[str, dict] = {}
    for entry in entries:
        group = worst.setdefault(original_id(entry["id"]), {"exact_match": 1.0, "f1": 1.0})
        for name in group:
            group[name] = min(group[name], entry[name])
    originals = [e for e in entries if original_id(e["id"]) == e["id"]]
    variants = [e for e in entries if original_id(e["id"]) != e["id"]]
    metrics = {name: _percent_mean(list(worst.values()), name) for name in ("exact_match", "f1")}
    counts = {"n": len(worst), "n_questions": len(entries), "n_originals": len(originals),
              "n_variants": len(variants)}
    if variants:
        for prefix, part in (("original", originals), ("variants", variants)):
            if part:
                metrics.update({f"{prefix}_{name}": _percent_mean(part, name) for name in ("exact_match", "f1")})
        counts["groups_with_variants"] = len({original_id(e["id"]) for e in variants})
        counts["groups_without_original"] = len(worst) - len({e["id"] for e in originals})
    return metrics, counts


def _percent_mean(rows: list[dict], name: str) -> float:
    return 100.0 * sum(r[name] for r in rows) / len(rows)
