"""The word-substitution perturbation set: counter-fitted neighbour lists, as text and as token ids.

`counterfitted_neighbors.json` under $INFOBENCH_DATA (the set of Jia et al. 2019,
robinjia/certified-word-sub, also shipped by SAFER's code) maps a word to the words an
attacker may put in its place. A word's perturbation set is T(w) = {w} + neighbours(w)
(Ye et al. 2020, SAFER, section 3: the set contains the word itself); a word with no
entry has T(w) = {w}. The lists are not symmetric (14,222 of 109,104 links are one-way),
so T(w') for a substitute w' is looked up on its own, as SAFER's certificate requires.

Used by the SAFER and A2T training steps (token ids, `token_table`), by the smoothed
predictor (whole words in text, `sample_text`) and by the certificate (set sizes and
intersections). Pure Python: no torch.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from benchmark.core.errors import UserError
from benchmark.data import DATA_ENV, data_root
from benchmark.resources.counterfit import NEIGHBOURS_FILE, load_neighbour_lists

# Words as the neighbour lists spell them: letters or digits, with an optional "'s"/"n't" tail.
WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")


@dataclass(frozen=True)
class SubstitutionSet:
    neighbours: dict  # word -> tuple of neighbour words (lower case)
    identity: str  # sha256 of the file: records name the set they used

    def members(self, word: str) -> tuple[str, ...]:
        """T(word): the word itself first, then its listed neighbours (lower case)."""
        key = word.lower()
        return (key, *(n for n in self.neighbours.get(key, ()) if n != key))

    def as_record(self) -> dict:
        return {"name": "counterfitted_neighbors", "file": NEIGHBOURS_FILE, "sha256": self.identity,
                "source": "Jia et al. 2019 (robinjia/certified-word-sub)"}


def neighbours_path() -> Path:
    root = data_root()
    if root is None:
        raise UserError(f"{DATA_ENV} is not set: the substitution set is {NEIGHBOURS_FILE} under it")
    return root / NEIGHBOURS_FILE


@functools.lru_cache(maxsize=4)
def load_substitutions(path: str | None = None) -> SubstitutionSet:
    """The perturbation set from `path` (default: $INFOBENCH_DATA/embeddings/counterfitted_neighbors.json)."""
    location = Path(path) if path else neighbours_path()
    lists = load_neighbour_lists(location)
    digest = hashlib.sha256(location.read_bytes()).hexdigest()
    return SubstitutionSet({w.lower(): tuple(n.lower() for n in ns) for w, ns in lists.items()}, digest)


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in WORD.finditer(text)]


def _match_case(original: str, substitute: str) -> str:
    if len(original) > 1 and original.isupper():
        return substitute.upper()
    if original[:1].isupper():
        return substitute[:1].upper() + substitute[1:]
    return substitute


def sample_text(text: str, subs: SubstitutionSet, rng) -> str:
    """One draw of SAFER's perturbation distribution: every word replaced by a uniform member of T(word).

    `rng` is a numpy Generator; words with |T| = 1 draw nothing, so the stream depends only on the text.
    """
    pieces, last = [], 0
    for start, end in word_spans(text):
        word = text[start:end]
        members = subs.members(word)
        if len(members) > 1:
            pieces += [text[last:start], _match_case(word, members[int(rng.integers(len(members)))])]
            last = end
    return "".join(pieces) + text[last:]


def text_words(text: str) -> list[str]:
    return [text[s:e] for s, e in word_spans(text)]


def token_table(subs: SubstitutionSet, vocab: dict[str, int]) -> dict[int, list[int]]:
    """Token id -> ids of T(word) (itself first) for words that are one whole token and have a
    substitute that is one whole token too. Sub-word pieces and multi-piece words are left out."""
    table = {}
    for word, neighbours in subs.neighbours.items():
        own = vocab.get(word)
        if own is None:
            continue
        ids = [own] + [vocab[n] for n in neighbours if n in vocab and n != word]
        if len(ids) > 1:
            table[own] = ids
    return table
