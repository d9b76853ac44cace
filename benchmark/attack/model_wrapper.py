"""A fast TextAttack model wrapper: dynamic padding, length-sorted batches, a query cache.

TextAttack's stock `HuggingFaceModelWrapper` pads every query to the tokenizer's maximum
length (512 for MiniLM, against ~40 real tokens for an SNLI pair), scores under
`no_grad` rather than `inference_mode`, and scores whatever it is handed. This wrapper
returns the same thing (float32 logits, one row per input, in input order; the goal
function applies the softmax) but:

- pads each micro-batch only to its longest member, with inputs sorted by length so
  neighbours in a batch are of similar length;
- runs under `torch.inference_mode`, with bf16/fp16 autocast on CUDA (fp32 on CPU, so
  CPU scores match the stock wrapper's to float rounding);
- keeps an LRU cache keyed by the exact model input (the tuple of input strings), so a
  candidate the search has already scored is never scored again, across examples too
  (the goal function's own cache is cleared after every example).

Truncation follows the one rule used everywhere in infobench (pairs "longest_first" to
`max_length`). The default `max_length` is the stock wrapper's, so the two agree.

The TextAttack subclass is built on first use (`attack_model_wrapper`), because importing
textattack takes seconds and must only happen where an attack runs.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

STOCK_MAX_LENGTH = 512  # what the stock wrapper uses when the tokenizer sets no limit


@dataclass
class QueryStats:
    """What the wrapper did: inputs asked for, answered from cache, scored by the model."""

    calls: int = 0
    inputs: int = 0
    cache_hits: int = 0
    scored: int = 0
    batches: int = 0
    model_seconds: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class CachedScorer:
    """Texts (str or tuple of str) in, float32 logits out; no textattack dependency."""

    def __init__(self, model, tokenizer, max_length: int | None = None, batch_size: int = 64,
                 cache_size: int = 2**17, precision: str = "auto"):
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length or _stock_max_length(tokenizer)
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.device = next(model.parameters()).device
        self.autocast_dtype = _autocast_dtype(precision, self.device, torch)
        self._cache: OrderedDict[tuple[str, ...], np.ndarray] = OrderedDict()
        self.stats = QueryStats()

    def __call__(self, text_input_list, **kwargs):
        import torch

        keys = [_key(text) for text in text_input_list]
        self.stats.calls += 1
        self.stats.inputs += len(keys)
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        self.stats.cache_hits += len(keys) - len(missing)
        fresh = dict(zip(missing, self.score(missing))) if missing else {}
        rows = [fresh[k] if k in fresh else self._lookup(k) for k in keys]
        self._remember(fresh)  # after reading the hits, so no hit is evicted before it is used
        if not rows:
            return torch.zeros((0, self.model.config.num_labels))
        return torch.from_numpy(np.stack(rows))

    def score(self, keys: list[tuple[str, ...]]) -> np.ndarray:
        """Logits for each input (no cache), in input order."""
        import torch

        from models.inference import length_sorted_batches

        started = time.perf_counter()
        columns = [list(column) for column in zip(*keys)]
        encoded = self.tokenizer(*columns, truncation="longest_first", max_length=self.max_length,
                                 padding=False)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        # Tokenizing once and padding per micro-batch is what we want here; silence the
        # fast tokenizer's advice to tokenize again with padding instead.
        self.tokenizer.deprecation_warnings["Asking-to-pad-a-fast-tokenizer"] = True
        out = np.empty((len(keys), self.model.config.num_labels), dtype=np.float32)
        with torch.inference_mode(), self._autocast(torch):
            for batch in length_sorted_batches(lengths, self.batch_size):
                features = [{name: encoded[name][i] for name in encoded.keys()} for i in batch]
                padded = self.tokenizer.pad(features, padding="longest", return_tensors="pt")
                logits = self.model(**{k: v.to(self.device) for k, v in padded.items()}).logits
                out[batch] = logits.float().cpu().numpy()
                self.stats.batches += 1
        self.stats.scored += len(keys)
        self.stats.model_seconds += time.perf_counter() - started
        return out

    def clear_cache(self) -> None:
        self._cache.clear()

    def _autocast(self, torch):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _remember(self, fresh: dict) -> None:
        for key, row in fresh.items():
            self._cache[key] = row
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _lookup(self, key) -> np.ndarray:
        self._cache.move_to_end(key)
        return self._cache[key]


def _key(text) -> tuple[str, ...]:
    """The exact model input: a single text or a (premise, hypothesis) pair as a tuple."""
    return (text,) if isinstance(text, str) else tuple(text)


def _stock_max_length(tokenizer) -> int:
    limit = tokenizer.model_max_length
    return STOCK_MAX_LENGTH if limit is None or limit > 100_000 else int(limit)


def _autocast_dtype(precision: str, device, torch):
    """bf16 (or fp16 where bf16 is unsupported) autocast on CUDA; none on CPU or for "fp32"."""
    if precision not in ("auto", "fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, got {precision!r}")
    if device.type != "cuda" or precision == "fp32":
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if precision == "bf16" else torch.float16


@functools.cache
def wrapper_class():
    """`InfobenchModelWrapper`: CachedScorer as a textattack ModelWrapper (built on first use)."""
    from benchmark.resources import import_textattack

    textattack = import_textattack()

    class InfobenchModelWrapper(CachedScorer, textattack.models.wrappers.ModelWrapper):
        """Fast drop-in for HuggingFaceModelWrapper (same logits, far fewer padded tokens)."""

        def get_grad(self, text_input):
            return self._stock().get_grad(text_input)  # gradient recipes only: rare, keep stock code

        def _tokenize(self, inputs):
            return self._stock()._tokenize(inputs)

        def _stock(self):
            if getattr(self, "_stock_wrapper", None) is None:
                self._stock_wrapper = textattack.models.wrappers.HuggingFaceModelWrapper(self.model, self.tokenizer)
            return self._stock_wrapper

    return InfobenchModelWrapper


def attack_model_wrapper(model, tokenizer, max_length: int | None = None, batch_size: int = 64,
                         cache_size: int = 2**17, precision: str = "auto"):
    """An `InfobenchModelWrapper` around a loaded model (in eval mode) and its fast tokenizer."""
    model.eval()
    return wrapper_class()(model, tokenizer, max_length=max_length, batch_size=batch_size,
                           cache_size=cache_size, precision=precision)
