"""Batched, dynamically padded inference shared by evaluation, training dev checks and attacks."""

from __future__ import annotations

import numpy as np


def token_lengths(tokenizer, firsts: list[str], seconds: list[str]) -> list[int]:
    """Untruncated token counts of (first, second) pairs: a sort key and the truncation test."""
    # Counting is all we do with them: silence the warning that a long one would break the model.
    tokenizer.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"] = True
    return [len(ids) for ids in tokenizer(firsts, seconds, truncation=False)["input_ids"]]


def length_sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Index batches of similar length, so padding wastes little compute."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def batched_logits(model, tokenizer, texts: list[tuple[str, ...]], batch_size: int = 64,
                   max_length: int = 128, progress=None) -> tuple[np.ndarray, int]:
    """float32 logits for every input (in input order) and the number of truncated inputs."""
    import torch

    device = next(model.parameters()).device
    lengths = [len(t) for t in tokenizer(*list(zip(*texts)), truncation=False)["input_ids"]]
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode():
        for batch in length_sorted_batches(lengths, batch_size):
            columns = list(zip(*[texts[i] for i in batch]))
            enc = tokenizer(*columns, truncation="longest_first", max_length=max_length, padding=True,
                            return_tensors="pt")  # encode()'s rule, without its second, untruncated pass
            logits = model(**{k: v.to(device) for k, v in enc.items()}).logits
            out[batch] = logits.float().cpu().numpy()
            if progress is not None:
                progress.update(len(batch))
    truncated = sum(n > max_length for n in lengths)
    return out, truncated
