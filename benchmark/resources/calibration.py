"""Calibrate the substitute embedding's cosine threshold against the real counter-fitted neighbour lists.

TextFooler keeps a swap when the two words' cosine in TextAttack's 300-d counter-fitted
"paragramcf" space is at least 0.5. The offline substitute (50-d GloVe, counter-fitted here)
is denser: nearly all of a word's 50 nearest neighbours sit above 0.5, so 0.5 lets through
words the real space keeps apart (man -> hombre, guy -> cat). We cannot load the real vectors
offline, but $INFOBENCH_DATA/embeddings/counterfitted_neighbors.json lists, for 49,975 words,
their neighbours in the real space. The calibration takes that list as the set the real space
admits at `reference_threshold` (0.5) and finds the substitute threshold whose admitted set
agrees with it best:

- sample `sample` words (seeded) that are in both the reference and the substitute's vocabulary,
  empty reference lists included (a word the real space gives no neighbour counts too);
- for each, the candidates TextFooler would see (the `candidates` nearest substitute neighbours)
  and the reference neighbours that are in the substitute's vocabulary;
- for each threshold on a 0.005 grid, micro precision/recall/F1 of "candidate with cosine >=
  threshold" against the reference; the threshold with the highest F1 is chosen. The threshold
  at which the mean admitted-set size equals the reference's is reported beside it.

Other thresholds (the strict preset's 0.9) are translated by `translate`: linear in cosine
distance (1 - cos), anchored at identical words (distance 0 both sides) and at the calibrated
pair (reference_threshold <-> chosen threshold).
"""

from __future__ import annotations

import numpy as np

METHOD = ("F1-maximising threshold of the substitute's top-{candidates} candidates against "
          "counterfitted_neighbors.json (taken as the real space's set at cosine {reference}), micro-averaged "
          "over {sample} seeded words (seed {seed}); other thresholds translated linearly in cosine distance")
GRID = np.round(np.arange(0.5, 0.9951, 0.005), 3)


def calibrate(matrix, word2index: dict, nn_matrix, reference: dict, *, sample: int = 5000, seed: int = 0,
              candidates: int = 50, reference_threshold: float = 0.5) -> dict:
    """The calibration record: chosen threshold, method, and agreement figures (see module doc)."""
    words = sorted(w for w in reference if w in word2index)
    if not words:
        return {"threshold": None, "reason": "no reference word is in the embedding's vocabulary"}
    chosen_words = np.random.default_rng(seed).permutation(words)[:sample]
    rows = np.array([word2index[w] for w in chosen_words])
    neighbours = nn_matrix[rows, 1:candidates + 1]  # column 0 is the word itself
    unit = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    cosines = np.einsum("kd,knd->kn", unit[rows], unit[neighbours])
    gold = [{word2index[n] for n in reference[w] if n in word2index and n != w} for w in chosen_words]
    in_gold = np.array([[int(j) in g for j in row] for row, g in zip(neighbours, gold)])
    gold_total = sum(len(g) for g in gold)
    curve = [_agreement(cosines >= t, in_gold, gold_total) for t in GRID]
    best = int(np.argmax([c["f1"] for c in curve]))
    reference_size = gold_total / len(rows)
    size_match = int(np.argmin([abs(c["mean_admitted"] - reference_size) for c in curve]))
    return {
        "threshold": float(GRID[best]), "reference_threshold": reference_threshold,
        "method": METHOD.format(candidates=candidates, reference=reference_threshold, sample=len(rows), seed=seed),
        "words": int(len(rows)), "seed": seed, "candidates": candidates,
        "agreement": curve[best], "reference_mean_size": round(reference_size, 3),
        "size_matching_threshold": float(GRID[size_match]),
        "uncalibrated": {"threshold": reference_threshold, **_agreement(cosines >= reference_threshold, in_gold,
                                                                       gold_total)},
    }


def _agreement(admitted: np.ndarray, in_gold: np.ndarray, gold_total: int) -> dict:
    hits = int((admitted & in_gold).sum())
    kept = int(admitted.sum())
    precision = hits / kept if kept else 0.0
    recall = hits / gold_total if gold_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "mean_admitted": round(kept / len(admitted), 3)}


def translate(real_cos: float, calibration: dict | None) -> float:
    """A cosine threshold meant for the real counter-fitted space, in the substitute's terms."""
    if not calibration or calibration.get("threshold") is None:
        return real_cos
    anchor_real, anchor_sub = calibration["reference_threshold"], calibration["threshold"]
    distance = (1.0 - real_cos) * (1.0 - anchor_sub) / (1.0 - anchor_real)
    return round(min(1.0, max(-1.0, 1.0 - distance)), 4)


def identity_suffix(calibration: dict | None) -> str:
    """What the resource identity adds, so a record names the threshold mapping it ran with."""
    if not calibration or calibration.get("threshold") is None:
        return ";uncalibrated"
    return (f";calibrated:cos{calibration['reference_threshold']}->{calibration['threshold']}"
            f"(f1={calibration['agreement']['f1']},n={calibration['words']},seed={calibration['seed']})")
