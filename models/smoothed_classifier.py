"""SAFER's smoothed classifier (Ye, Gong and Liu, ACL 2020), around any logit scorer.

g(x) = argmax_c P_{Z ~ Pi_x}(f(Z) = c), estimated by N draws of Pi_x: every word of the
input (premise and hypothesis) replaced by a uniform member of its perturbation set
(benchmark.resources.substitutions.sample_text). `SmoothedScorer` wraps a base scorer (the
attacks' fast `CachedScorer` in benchmark/attack/smoothed.py, `LogitScorer` below for
evaluation) without changing it: texts in, and out
one row per input holding the vote shares of the N draws (they sum to 1, so TextAttack's
goal functions read them as probabilities and apply no softmax).

The draws for an input are seeded by a hash of (seed, the input's exact text), so the same
query always gets the same votes: attacks and evaluations on the smoothed model are
reproducible, and the vote counts feed SAFER's certificate (benchmark.metrics.certify).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict

import numpy as np

from benchmark.core.errors import UserError


def _key(text) -> tuple[str, ...]:
    """The exact model input: a single text or a (premise, hypothesis) pair as a tuple."""
    return (text,) if isinstance(text, str) else tuple(text)


class LogitScorer:
    """The plain model as a base scorer: float32 logits per input (models.inference), no cache."""

    def __init__(self, model, tokenizer, max_length: int = 128, batch_size: int = 128):
        self.model, self.tokenizer, self.max_length, self.batch_size = model, tokenizer, max_length, batch_size
        self.stats = None

    def score(self, keys: list[tuple[str, ...]]) -> np.ndarray:
        from models.inference import batched_logits

        return batched_logits(self.model, self.tokenizer, keys, self.batch_size, self.max_length)[0]

    def clear_cache(self) -> None:
        pass


def query_seed(seed: int, key: tuple[str, ...]) -> int:
    """The draws' seed for one input: a function of the run seed and the exact text only."""
    return int.from_bytes(hashlib.sha256(json.dumps([seed, *key]).encode()).digest()[:8], "little")


class SmoothedScorer:
    """Majority vote of a base scorer over `samples` seeded random substitutions of each input."""

    def __init__(self, base, samples: int, seed: int = 0, substitutions=None,
                 cache_size: int = 2**15):
        from benchmark.resources.substitutions import load_substitutions

        if samples < 1:
            raise UserError(f"--smoothing takes the number of random substitutions per input (>= 1), got {samples}")
        self.base, self.samples, self.seed = base, samples, seed
        self.substitutions = substitutions or load_substitutions()
        self.cache_size = cache_size
        self._votes: OrderedDict[tuple[str, ...], np.ndarray] = OrderedDict()
        self.smoothing_seconds = 0.0

    # The attacks and recipes look for these on a model wrapper.
    model = property(lambda self: self.base.model)
    tokenizer = property(lambda self: self.base.tokenizer)
    max_length = property(lambda self: self.base.max_length)
    stats = property(lambda self: self.base.stats)

    def __call__(self, text_input_list, **kwargs):
        import torch

        keys = [_key(text) for text in text_input_list]
        missing = list(dict.fromkeys(k for k in keys if k not in self._votes))
        fresh = dict(zip(missing, self.votes(missing))) if missing else {}
        rows = [fresh[k] if k in fresh else self._votes[k] for k in keys]
        for key, row in fresh.items():
            self._votes[key] = row
            if len(self._votes) > self.cache_size:
                self._votes.popitem(last=False)
        if not rows:
            return torch.zeros((0, self.base.model.config.num_labels))
        return torch.from_numpy(np.stack(rows).astype(np.float32) / self.samples)

    def noisy_inputs(self, key: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The N draws of Pi_x for one input, from its own seeded stream."""
        from benchmark.resources.substitutions import sample_text

        rng = np.random.default_rng(query_seed(self.seed, key))
        return [tuple(sample_text(text, self.substitutions, rng) for text in key) for _ in range(self.samples)]

    def votes(self, keys: list[tuple[str, ...]]) -> np.ndarray:
        """Vote counts (one row per input, one column per class) over each input's N draws."""
        started = time.perf_counter()
        noisy = [draw for key in keys for draw in self.noisy_inputs(key)]
        unique = list(dict.fromkeys(noisy))  # short inputs often draw the same text twice
        by_input = dict(zip(unique, self.base.score(unique).argmax(-1)))
        classes = self.base.model.config.num_labels
        counts = np.zeros((len(keys), classes), dtype=np.int64)
        for row in range(len(keys)):
            for draw in noisy[row * self.samples:(row + 1) * self.samples]:
                counts[row, by_input[draw]] += 1
        self.smoothing_seconds += time.perf_counter() - started
        return counts

    def clear_cache(self) -> None:
        self.base.clear_cache()
        self._votes.clear()

    def describe(self) -> dict:
        return smoothing_description(self.samples, self.seed, self.substitutions)


def smoothing_description(samples: int, seed: int, substitutions=None) -> dict:
    """What records say about a smoothed model: the scheme, N, the seed and the perturbation set."""
    from benchmark.resources.substitutions import load_substitutions

    substitutions = substitutions or load_substitutions()
    return {"method": "SAFER randomized smoothing (Ye et al. 2020)", "samples": samples, "seed": seed,
            "perturbation_set": substitutions.as_record()}
