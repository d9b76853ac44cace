"""FreeLB's embedding perturbation (Zhu et al., ICLR 2020) and fixed dropout across ascent steps."""

from __future__ import annotations

import contextlib

import torch


def init_perturbation(embeds: torch.Tensor, attention_mask: torch.Tensor, init_mag: float) -> torch.Tensor:
    """delta_1 = U(-1, 1) * mask * init_mag / sqrt(n_b * H), per example (L2 variant); zeros if init_mag = 0."""
    if init_mag <= 0:
        return torch.zeros_like(embeds)
    mask = attention_mask.to(embeds.dtype).unsqueeze(-1)
    dims = attention_mask.sum(1).to(embeds.dtype) * embeds.size(-1)
    scale = (init_mag / dims.sqrt()).view(-1, 1, 1)
    return torch.empty_like(embeds).uniform_(-1, 1) * mask * scale


def ascend(delta: torch.Tensor, grad: torch.Tensor, adv_lr: float, max_norm: float) -> torch.Tensor:
    """delta + adv_lr * g / ||g||_F per example, then projection onto the L2 ball when max_norm > 0."""
    grad_norm = grad.flatten(1).norm(dim=1).clamp_min(1e-8).view(-1, 1, 1)
    delta = delta + adv_lr * grad / grad_norm
    return project(delta, max_norm) if max_norm > 0 else delta


def project(delta: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Scale each example's perturbation back into the L2 ball of radius max_norm."""
    norms = delta.flatten(1).float().norm(dim=1).view(-1, 1, 1)
    factor = torch.where(norms > max_norm, max_norm / norms.clamp_min(1e-12), torch.ones_like(norms))
    return delta * factor.to(delta.dtype)


class FixedDropout:
    """Replays the same dropout masks in every forward pass of one adversarial step.

    The K ascent steps must see the same sub-network. Dropout masks come from the global
    RNG in a fixed call order, so restoring one RNG snapshot before each forward reproduces
    them for any architecture (module or functional dropout). After the forward the live
    RNG stream is put back, so other draws (IB partners, anchor shuffles) stay fresh.
    Attention dropout must run through eager attention for this (backbones.py sets it).
    """

    def __init__(self, device: torch.device):
        self.device = device
        live = self._get_state()
        # The masks get a stream of their own, seeded from the live one (reproducible from the run seed).
        torch.manual_seed(int(torch.randint(0, 2**62, (1,))))
        self._snapshot = self._get_state()
        self._set_state(live)
        torch.randint(0, 2, (1,))  # the live stream moves on past the seed it handed out

    def _get_state(self):
        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return torch.get_rng_state(), cuda

    def _set_state(self, state) -> None:
        cpu, cuda = state
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state(cuda, self.device)

    @contextlib.contextmanager
    def replay(self):
        live = self._get_state()
        self._set_state(self._snapshot)
        try:
            yield
        finally:
            self._set_state(live)
