"""Training methods: each supplies only its step; the loop in training.py owns everything else.

A step takes the model, one batch and the run's `StepContext`, does its forward and
backward passes (gradients accumulate into .grad), and returns loss figures for logging.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchmark.core.registry import Registry

if TYPE_CHECKING:  # torch is imported by the steps only: `infobench methods` lists without it (~3 s)
    import torch


@dataclass
class StepContext:
    """What a step needs besides the batch: hyper-parameters, regularizers, the accelerator."""

    hp: object  # TrainConfig
    accelerator: object
    info_bottleneck: torch.nn.Module | None = None
    anchored_feature: torch.nn.Module | None = None
    stats: dict = field(default_factory=dict)


def standard_step(model, batch: dict, ctx: StepContext) -> dict:
    """Plain fine-tuning: task loss, one backward."""
    loss = model(**batch).loss
    ctx.accelerator.backward(loss)
    return {"task_loss": float(loss.detach())}


def adversarial_step(model, batch: dict, ctx: StepContext) -> dict:
    """FreeLB's K ascent steps, plus InfoBERT's IB and AF terms when their weights are set.

    Objective: (1/K) sum_k [L_task(delta_k) + beta IB(delta_k) - alpha LB(delta_k)].
    When AF is on, g_k (the gradient of L_task + beta IB w.r.t. delta) must be known
    before LB can be formed. It is taken with an input-only autograd.grad (no weight
    gradients), then one backward of the whole step objective fills the weight gradients:
    exactly the released code's gradients, one weight-gradient pass cheaper per step.
    """
    import torch

    from models.adversarial import FixedDropout, ascend, init_perturbation

    hp, accelerator = ctx.hp, ctx.accelerator
    batch = dict(batch)
    input_ids = batch.pop("input_ids")
    mask = batch["attention_mask"]
    lengths = mask.sum(1)
    unwrapped = accelerator.unwrap_model(model)
    embed = unwrapped.get_input_embeddings()
    steps = max(hp.adv_steps, 1)  # adv_steps = 0: one clean pass ("standard training" + regularizers)
    delta = init_perturbation(embed(input_ids).detach(), mask, hp.adv_init_mag if hp.adv_steps > 0 else 0.0)
    dropout = FixedDropout(input_ids.device)
    use_af = ctx.anchored_feature is not None and hp.alpha > 0
    use_ib = ctx.info_bottleneck is not None and hp.beta > 0
    # only the terms this run computes: FreeLB (alpha = beta = 0) logs no IB or AF figure
    totals = {"task_loss": 0.0, **({"ib": 0.0} if use_ib else {}), **({"af_lower_bound": 0.0} if use_af else {})}
    for k in range(steps):
        last = k == steps - 1
        sync = contextlib.nullcontext() if last else accelerator.no_sync(model)
        with sync:
            delta.requires_grad_()
            with dropout.replay():
                out = model(inputs_embeds=embed(input_ids) + delta, output_hidden_states=use_ib or use_af, **batch)
            step_loss = out.loss
            totals["task_loss"] += float(out.loss.detach()) / steps
            if use_ib:
                ib = _information_bottleneck(ctx.info_bottleneck, out, embed(input_ids) + delta, mask)
                step_loss = step_loss + hp.beta * ib
                totals["ib"] += float(ib.detach()) / steps
            step_loss = step_loss / steps
            if use_af:
                (grad,) = torch.autograd.grad(step_loss, delta, retain_graph=True)
                bound = ctx.anchored_feature(out.hidden_states[0], out.hidden_states[-1][:, 0], grad, lengths)
                if bound is not None:
                    step_loss = step_loss - hp.alpha * bound / steps
                    totals["af_lower_bound"] += float(bound.detach()) / steps
                accelerator.backward(step_loss)
            else:
                accelerator.backward(step_loss)
                grad = delta.grad
        if not last:
            delta = ascend(delta.detach(), grad.detach(), hp.adv_lr, hp.adv_max_norm)
    return totals


def _information_bottleneck(module, out, perturbed_embeds, mask):
    from models.regularizers import ClubInfoBottleneck

    if isinstance(module, ClubInfoBottleneck):
        return module(perturbed_embeds, out.hidden_states[-1], mask)
    return module(out.hidden_states[0], mask)


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    step: object
    adversarial: bool
    regularized: bool


METHODS: Registry[Method] = Registry("training method")
METHODS.register("standard", Method("standard", "plain fine-tuning (cross-entropy / span loss)",
                                    standard_step, adversarial=False, regularized=False))
METHODS.register("freelb", Method("freelb", "FreeLB adversarial training (Zhu et al., ICLR 2020)",
                                  adversarial_step, adversarial=True, regularized=False))
METHODS.register("infobert", Method("infobert", "InfoBERT: FreeLB loop + IB and AF regularizers (Wang et al., ICLR 2021)",
                                    adversarial_step, adversarial=True, regularized=True))
# The paper's "standard training" InfoBERT: the same IB and AF terms on clean inputs (K = 0).
METHODS.register("infobert-std", Method("infobert-std",
                                        "InfoBERT standard training: IB and AF regularizers, no adversarial steps "
                                        "(K = 0; Wang et al., ICLR 2021)",
                                        adversarial_step, adversarial=False, regularized=True))


# Defences outside the FreeLB family; their modules load on first use (see each for the paper and departures).
def pgd_step(model, batch: dict, ctx: StepContext) -> dict:
    from models.pgd import pgd_step as step
    return step(model, batch, ctx)


def a2t_step(model, batch: dict, ctx: StepContext) -> dict:
    from models.discrete_at import a2t_step as step
    return step(model, batch, ctx)


def safer_step(model, batch: dict, ctx: StepContext) -> dict:
    from models.smoothing import safer_step as step
    return step(model, batch, ctx)


METHODS.register("pgd", Method("pgd", "PGD-K embedding adversarial training, update on the last perturbation "
                                      "mixed with the clean loss (Madry et al., ICLR 2018; BERT form in Zhu et al., "
                                      "ICLR 2020; clean weight: Goodfellow et al., ICLR 2015)",
                               pgd_step, adversarial=True, regularized=False))
METHODS.register("a2t", Method("a2t", "A2T discrete adversarial training: gradient-ranked synonym swaps mixed "
                                      "into each batch (Yoo and Qi, Findings of EMNLP 2021)",
                               a2t_step, adversarial=True, regularized=False))
METHODS.register("safer", Method("safer", "SAFER: training on random synonym substitutions, for randomized "
                                          "smoothing (Ye et al., ACL 2020)",
                                 safer_step, adversarial=False, regularized=False))
