"""PGD-K adversarial training in embedding space (Madry et al., ICLR 2018).

min_theta E max_{||delta|| <= eps} L(f_theta(E(x) + delta), y), the inner max by K steps of
projected normalized-gradient ascent on the word-embedding perturbation, as the PGD
baseline for BERT in FreeLB's paper (Zhu et al., ICLR 2020, section 2 and Table 1). Unlike
FreeLB, which averages the parameter gradients of all K steps, the model is updated on the
loss of the LAST perturbation only; the K ascent passes take input gradients only
(`torch.autograd.grad` w.r.t. delta), so they leave the parameter gradients untouched.

Shared with FreeLB (models/adversarial.py): the random start (per-example L2 variant,
`init_perturbation`), the step (delta + adv_lr * g / ||g||_F, `ascend`), the projection onto
the L2 ball of radius adv_max_norm, and one dropout mask across all passes of a step
(`FixedDropout`), so the ascent attacks the sub-network that is then trained.
Departures from Madry et al.: L2 ball per example over the whole embedded sequence (their
images used L-inf and sign steps); the random start is FreeLB's, projected into the ball; and
by default the update is on (1 - w) * L(delta_K) + w * L(clean) with w = `pgd_clean_weight` = 0.5,
the clean-plus-adversarial objective of Goodfellow et al. (ICLR 2015) and Miyato et al. (ICLR
2017) for text. The pure worst case (w = 0, Madry et al.) was run at the zoo's scale (MiniLM-L6,
18k SNLI pairs, one epoch, radius 0.1) and never left the uniform-prediction plateau: its task loss
stayed at 1.097-1.100 (ln 3 = 1.0986) through step 330 of 563, where standard fine-tuning on the
same batches was below 0.98 by step 81. Early in fine-tuning the adversary's 0.01-0.015 of loss
matches the whole learning signal, and predicting uniformly is the minimax answer.
"""

from __future__ import annotations

import torch

from models.adversarial import FixedDropout, ascend, init_perturbation, project


def pgd_step(model, batch: dict, ctx) -> dict:
    hp, accelerator = ctx.hp, ctx.accelerator
    batch = dict(batch)
    input_ids = batch.pop("input_ids")
    embed = accelerator.unwrap_model(model).get_input_embeddings()
    delta = init_perturbation(embed(input_ids).detach(), batch["attention_mask"], hp.adv_init_mag)
    if hp.adv_max_norm > 0:
        delta = project(delta, hp.adv_max_norm)
    dropout = FixedDropout(input_ids.device)
    ascent_losses = []
    for _ in range(hp.adv_steps):
        # Input gradients only: no parameter gradient (and no DDP all-reduce) for the ascent passes.
        with accelerator.no_sync(model):
            delta.requires_grad_()
            with dropout.replay():
                loss = model(inputs_embeds=embed(input_ids) + delta, **batch).loss
            (grad,) = torch.autograd.grad(loss, delta)
        ascent_losses.append(float(loss.detach()))
        delta = ascend(delta.detach(), grad.detach(), hp.adv_lr, hp.adv_max_norm)
    with dropout.replay():
        loss = model(inputs_embeds=embed(input_ids) + delta.detach(), **batch).loss
    figures = {"task_loss": float(loss.detach()), "delta_norm": float(delta.flatten(1).norm(dim=1).mean())}
    if hp.pgd_clean_weight > 0:
        with dropout.replay():
            clean = model(inputs_embeds=embed(input_ids), **batch).loss
        loss = (1 - hp.pgd_clean_weight) * loss + hp.pgd_clean_weight * clean
        figures["clean_loss"] = float(clean.detach())
    accelerator.backward(loss)
    if ascent_losses:
        figures["first_ascent_loss"] = ascent_losses[0]
    return figures
