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
images used L-inf and sign steps); the random start is FreeLB's, projected into the ball.
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
    accelerator.backward(loss)
    figures = {"task_loss": float(loss.detach()), "delta_norm": float(delta.flatten(1).norm(dim=1).mean())}
    if ascent_losses:
        figures["first_ascent_loss"] = ascent_losses[0]
    return figures
