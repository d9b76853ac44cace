"""Discrete adversarial training in the style of A2T (Yoo and Qi, Findings of EMNLP 2021).

A2T trains on adversarial examples made on the fly by a cheap word-substitution attack:
words ranked once by the gradient of the loss w.r.t. their embeddings, then greedily
swapped for counter-fitted synonyms, a swap kept when it lowers the model's probability
of the true label, until the prediction flips or the budget is spent (TextAttack's
`a2t_yoo_2021` recipe: GreedyWordSwapWIR(wir_method="gradient"), MaxModificationRate(0.1,
min_threshold=4), stopwords and the NLI premise frozen). Here, in every step, the first
`a2t_share` of the batch (the batch order is already a seeded shuffle) is attacked and the
adversarial copies join the batch: the update is on the mean loss of clean + adversarial rows.

Departures, all for cost: candidates are the counter-fitted neighbour lists
(benchmark.resources.substitutions; A2T takes 20 embedding neighbours with cos >= 0.8),
restricted to one-token words with one-token substitutes so the attack edits token ids in
place (models.smoothing.TokenSubstitutions); no part-of-speech or DistilBERT-similarity
constraint; the examples are attacked with the current weights in every step rather than
once per epoch; and a query budget per batch (`a2t_query_budget` candidate forwards) caps the
search. Everything is deterministic (no random draws): a killed run resumes exactly.
"""

from __future__ import annotations

import functools
import math

import torch

from models.smoothing import token_substitutions

MIN_SWAPS = 4  # A2T's MaxModificationRate(max_rate=0.1, min_threshold=4)


@functools.lru_cache(maxsize=4)
def _stopword_mask(backbone: str, device: str) -> torch.Tensor:
    """True for the token ids of NLTK's English stopwords (A2T's StopwordModification)."""
    import transformers
    from nltk.corpus import stopwords

    from benchmark.resources import require_nltk_data
    from models.backbones import resolve_backbone

    require_nltk_data()
    vocab = transformers.AutoTokenizer.from_pretrained(resolve_backbone(backbone), use_fast=True).get_vocab()
    mask = torch.zeros(max(vocab.values()) + 1, dtype=torch.bool)
    mask[[vocab[w] for w in stopwords.words("english") if w in vocab]] = True
    return mask.to(device)


def a2t_step(model, batch: dict, ctx) -> dict:
    hp = ctx.hp
    n_adv = math.ceil(hp.a2t_share * batch["input_ids"].size(0))
    stats = {"adv_examples": 0, "adv_flipped": 0, "queries": 0, "swaps": 0}
    if n_adv:
        head = {k: v[:n_adv] for k, v in batch.items()}
        adversarial, stats = attack_rows(ctx.accelerator.unwrap_model(model), head, hp)
        batch = {k: torch.cat([v, adversarial[k]]) for k, v in batch.items()}
    loss = model(**batch).loss
    ctx.accelerator.backward(loss)
    return {"task_loss": float(loss.detach()), **{k: float(v) for k, v in stats.items()}}


def attack_rows(model, rows: dict, hp) -> tuple[dict, dict]:
    """A2T's greedy gradient-ranked swap attack on `rows`, in eval mode; returns adversarial rows and counts."""
    device = rows["input_ids"].device
    subs = token_substitutions(hp.backbone, str(device))
    stopword = _stopword_mask(hp.backbone, str(device))[rows["input_ids"]]
    allowed = subs.substitutable(rows["input_ids"]) & ~stopword
    if "token_type_ids" in rows:  # NLI: the premise stays fixed, as in A2T's InputColumnModification
        allowed &= rows["token_type_ids"] == 1
    was_training = model.training
    model.eval()
    try:
        order, probs = _rank_by_gradient(model, rows, allowed)
        ids, stats = _greedy_swaps(model, rows, allowed, order, probs, subs, hp)
    finally:
        model.train(was_training)
    return dict(rows, input_ids=ids), stats


def _rank_by_gradient(model, rows: dict, allowed: torch.Tensor):
    """Positions by the L1 norm of d loss / d embedding (TextAttack's gradient WIR), and p(true label)."""
    inputs = {k: v for k, v in rows.items() if k != "input_ids"}
    embeds = model.get_input_embeddings()(rows["input_ids"]).detach().requires_grad_()
    out = model(inputs_embeds=embeds, **inputs)
    (grad,) = torch.autograd.grad(out.loss, embeds)
    importance = grad.abs().sum(-1).masked_fill(~allowed, -1.0)
    probs = out.logits.detach().float().softmax(-1).gather(1, rows["labels"].unsqueeze(1)).squeeze(1)
    return importance.argsort(dim=1, descending=True, stable=True), probs


def _swap_budget(mask_row: torch.Tensor, max_rate: float) -> int:
    words = int(mask_row.sum())
    return min(words, max(MIN_SWAPS, math.ceil(max_rate * words)))


def _greedy_swaps(model, rows, allowed, order, probs, subs, hp):
    ids = rows["input_ids"].clone()
    budgets = [_swap_budget(allowed[i], hp.a2t_max_rate) for i in range(ids.size(0))]
    done = [False] * ids.size(0)
    stats = {"adv_examples": ids.size(0), "adv_flipped": 0, "queries": 0, "swaps": 0}
    for rank in range(max(budgets, default=0)):
        pairs = []  # (row, position, candidate token)
        for i in range(ids.size(0)):
            if done[i] or rank >= budgets[i]:
                continue
            pos = int(order[i, rank])
            token = int(rows["input_ids"][i, pos])
            pairs += [(i, pos, int(c)) for c in subs.ids[token, 1:int(subs.size[token])]]
        pairs = pairs[:max(hp.a2t_query_budget - stats["queries"], 0)]
        if not pairs:
            break
        stats["queries"] += len(pairs)
        p_true, flipped = _score_candidates(model, rows, ids, pairs)
        for i in sorted({p[0] for p in pairs}):
            mine = [k for k, p in enumerate(pairs) if p[0] == i]
            best = min(mine, key=lambda k: (float(p_true[k]), k))
            if float(p_true[best]) < float(probs[i]):
                ids[i, pairs[best][1]] = pairs[best][2]
                probs[i] = p_true[best]
                stats["swaps"] += 1
                if bool(flipped[best]):
                    done[i] = True
                    stats["adv_flipped"] += 1
    return ids, stats


@torch.no_grad()
def _score_candidates(model, rows, ids, pairs):
    """p(true label) and whether the prediction flips, for each single-swap candidate."""
    index = torch.tensor([p[0] for p in pairs], device=ids.device)
    candidates = ids[index].clone()
    candidates[torch.arange(len(pairs), device=ids.device), torch.tensor([p[1] for p in pairs], device=ids.device)] = \
        torch.tensor([p[2] for p in pairs], device=ids.device)
    inputs = {k: v[index] for k, v in rows.items() if k not in ("input_ids", "labels")}
    logits = model(input_ids=candidates, **inputs).logits.float()
    labels = rows["labels"][index]
    return logits.softmax(-1).gather(1, labels.unsqueeze(1)).squeeze(1), logits.argmax(-1) != labels
