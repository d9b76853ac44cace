"""FreeLB perturbation geometry and fixed dropout masks across ascent steps."""

import math

import pytest
import torch

from models.adversarial import FixedDropout, ascend, init_perturbation, project


def test_initial_perturbation_norm_and_padding():
    torch.manual_seed(0)
    embeds = torch.randn(3, 40, 64)
    mask = torch.zeros(3, 40, dtype=torch.long)
    for b, n in enumerate((40, 25, 10)):
        mask[b, :n] = 1
    delta = init_perturbation(embeds, mask, init_mag=0.08)
    assert torch.all(delta[mask == 0] == 0)
    norms = delta.flatten(1).norm(dim=1)
    # Entries are U(-1,1) * 0.08/sqrt(n H): the norm is at most 0.08 and concentrates at 0.08/sqrt(3).
    assert torch.all(norms <= 0.08)
    assert norms.tolist() == pytest.approx([0.08 / math.sqrt(3)] * 3, rel=0.1)
    assert torch.all(init_perturbation(embeds, mask, 0.0) == 0)


def test_ascent_step_is_normalised_and_projection_obeys_max_norm():
    torch.manual_seed(1)
    delta = torch.zeros(2, 5, 4)
    grad = torch.randn(2, 5, 4)
    stepped = ascend(delta, grad, adv_lr=0.3, max_norm=0.0)
    assert stepped.flatten(1).norm(dim=1).tolist() == pytest.approx([0.3, 0.3], rel=1e-5)
    clipped = ascend(delta, grad, adv_lr=0.3, max_norm=0.1)
    assert clipped.flatten(1).norm(dim=1).tolist() == pytest.approx([0.1, 0.1], rel=1e-5)
    small = torch.full((1, 2, 2), 0.01)
    assert torch.equal(project(small, 1.0), small)  # inside the ball: untouched


def _dropout_masks(model, embeds, attention_mask):
    masks = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: masks.append((out == 0) & (inp[0] != 0)))
             for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    model(inputs_embeds=embeds, attention_mask=attention_mask)
    for hook in hooks:
        hook.remove()
    return masks


def test_dropout_masks_identical_across_ascent_steps(tiny_backbone):
    from models.backbones import build_task_model

    torch.manual_seed(2)
    model, _ = build_task_model(tiny_backbone, "nli", hidden_dropout=0.3, attention_dropout=0.3)
    model.train()
    embeds = torch.randn(2, 9, 64)
    mask = torch.ones(2, 9, dtype=torch.long)
    fixed = FixedDropout(torch.device("cpu"))
    with fixed.replay():
        first = _dropout_masks(model, embeds, mask)
    perturbed = embeds + 0.01 * torch.randn_like(embeds)  # drawn outside: replay covers the forward only
    with fixed.replay():
        second = _dropout_masks(model, perturbed, mask)
    assert len(first) > 0 and len(first) == len(second)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    fresh = _dropout_masks(model, embeds, mask)  # outside replay: new masks
    assert not all(torch.equal(a, b) for a, b in zip(first, fresh))
