"""SAFER training (Ye, Gong and Liu, ACL 2020): fine-tune on random synonym substitutions.

SAFER's smoothed classifier votes over inputs whose every word x_j is replaced by a uniform
member of its perturbation set T_{x_j}; the base model is trained on that same
distribution (data augmentation), so that it is accurate under the noise it will be
smoothed with. The perturbation set is counterfitted_neighbors.json
(benchmark.resources.substitutions), the set SAFER's code ships.

Departure: the step substitutes token ids in the tokenized batch, so only words that are one
whole token of the backbone's vocabulary, and their one-token substitutes, take part
(`TokenSubstitutions`). Prediction (benchmark.attack.smoothed) substitutes whole words in
text with the full sets, and its certificate uses the full sets.
"""

from __future__ import annotations

import functools

import torch


class TokenSubstitutions:
    """T(word) as token ids: `ids[t, :size[t]]` lists token t's set (itself first); size 1 = fixed."""

    def __init__(self, table: dict[int, list[int]], vocab_size: int, continuation: list[int], device):
        width = max((len(v) for v in table.values()), default=1)
        ids = torch.arange(vocab_size).unsqueeze(1).repeat(1, width)
        size = torch.ones(vocab_size, dtype=torch.long)
        for token, members in table.items():
            ids[token, :len(members)] = torch.tensor(members)
            size[token] = len(members)
        starts_piece = torch.zeros(vocab_size, dtype=torch.bool)
        starts_piece[continuation] = True
        self.ids, self.size, self.starts_piece = ids.to(device), size.to(device), starts_piece.to(device)

    def substitutable(self, input_ids: torch.Tensor) -> torch.Tensor:
        """True where the token has a substitute and is a whole word (the next token does not continue it)."""
        followed = torch.zeros_like(input_ids, dtype=torch.bool)
        followed[:, :-1] = self.starts_piece[input_ids[:, 1:]]
        return (self.size[input_ids] > 1) & ~followed

    def sample(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Every substitutable token replaced by a uniform member of its set (the global torch RNG draws)."""
        size = self.size[input_ids]
        pick = (torch.rand(input_ids.shape, device=input_ids.device) * size).long().clamp_max(size - 1)
        drawn = self.ids[input_ids, pick] if self.ids.size(1) > 1 else input_ids
        return torch.where(self.substitutable(input_ids), drawn, input_ids)


@functools.lru_cache(maxsize=4)
def token_substitutions(backbone: str, device: str) -> TokenSubstitutions:
    """The perturbation set in the backbone tokenizer's ids (built once per backbone and device)."""
    import transformers

    from benchmark.resources.substitutions import load_substitutions, token_table
    from models.backbones import resolve_backbone

    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_backbone(backbone), use_fast=True)
    vocab = tokenizer.get_vocab()
    continuation = [i for token, i in vocab.items() if token.startswith("##")]
    size = max(len(tokenizer), max(vocab.values()) + 1)
    return TokenSubstitutions(token_table(load_substitutions(), vocab), size, continuation, torch.device(device))


def safer_step(model, batch: dict, ctx) -> dict:
    """Task loss on one random substitution of every example (SAFER's training objective)."""
    subs = token_substitutions(ctx.hp.backbone, str(batch["input_ids"].device))
    noisy = dict(batch, input_ids=subs.sample(batch["input_ids"]))
    changed = (noisy["input_ids"] != batch["input_ids"]).sum()
    loss = model(**noisy).loss
    ctx.accelerator.backward(loss)
    words = batch["attention_mask"].sum()
    return {"task_loss": float(loss.detach()), "substituted_share": float(changed) / max(float(words), 1.0)}
