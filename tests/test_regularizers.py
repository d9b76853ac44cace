"""The IB, anchor and InfoNCE math against their formulas, on hand-made tensors."""

import math

import pytest
import torch

from models.regularizers import (AnchoredFeatureRegularizer, InfoNCECritic, SampledInfoBottleneck,
                                 select_anchors)


def test_sampled_ib_equals_its_formula_on_non_pad_tokens():
    features = torch.tensor([[[0.0, 0.0], [1.0, 2.0], [9.0, 9.0]],
                             [[3.0, 4.0], [7.0, 7.0], [7.0, 7.0]]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])  # tokens kept: (0,0), (1,2), (3,4)
    partner = torch.tensor([2, 0, 1])
    tokens = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
    expected = sum(0.5 * float((tokens[i] - tokens[partner[i]]).pow(2).sum()) for i in range(3)) / 3
    assert float(SampledInfoBottleneck()(features, mask, partner)) == pytest.approx(expected)


def test_sampled_ib_is_half_the_mean_squared_pair_distance_in_expectation():
    torch.manual_seed(0)
    features = torch.randn(4, 50, 8) * 3
    mask = torch.ones(4, 50, dtype=torch.long)
    draws = torch.stack([SampledInfoBottleneck()(features, mask) for _ in range(400)]).mean()
    tokens = features.reshape(-1, 8)
    trace_cov = tokens.var(dim=0, unbiased=False).sum()  # E 0.5||a-b||^2 over uniform pairs
    assert float(draws) == pytest.approx(float(trace_cov), rel=0.05)


@pytest.mark.parametrize("n,c_low,c_high", [(10, 0.5, 0.9), (7, 0.5, 0.9), (13, 0.75, 0.95), (1, 0.5, 0.9)])
def test_anchor_selection_keeps_exactly_the_rank_window(n, c_low, c_high):
    torch.manual_seed(n)
    norms = torch.randperm(20).float()[:n] + 1.0
    grad = torch.zeros(1, 20, 3)
    grad[0, :n, 0] = norms  # ||g_t|| = norms[t]; positions past n are padding with huge gradients
    grad[0, n:, 0] = 1000.0
    anchors = select_anchors(grad, torch.tensor([n]), c_low, c_high)[0]
    ranks = torch.argsort(torch.argsort(norms))
    expected = {t for t in range(n) if math.ceil(c_low * n) <= int(ranks[t]) < math.ceil(c_high * n)}
    assert set(anchors.tolist()) == expected
    assert len(anchors) == math.ceil(c_high * n) - math.ceil(c_low * n)


def test_critic_scores_are_the_critic_applied_to_each_concatenated_pair():
    torch.manual_seed(4)
    critic = InfoNCECritic(6, 5)
    x, y = torch.randn(7, 6), torch.randn(7, 5)
    by_pair = torch.stack([torch.stack([critic.net(torch.cat([x[j], y[i]])).squeeze() for i in range(7)])
                           for j in range(7)])
    assert torch.allclose(critic.scores(x, y), by_pair, atol=1e-6)


def test_infonce_bound_never_exceeds_log_m():
    torch.manual_seed(1)
    critic = InfoNCECritic(6, 6)
    for m in (2, 5, 16):
        x, y = torch.randn(m, 6), torch.randn(m, 6)
        assert float(critic.lower_bound(x, y).detach()) <= math.log(m) + 1e-6


def test_infonce_bound_is_zero_for_one_pair_and_such_chunks_are_skipped():
    torch.manual_seed(2)
    critic = InfoNCECritic(4, 4)
    assert float(critic.lower_bound(torch.randn(1, 4), torch.randn(1, 4)).detach()) == pytest.approx(0.0, abs=1e-6)
    regularizer = AnchoredFeatureRegularizer(hidden_size=4, chunk_size=2, c_low=0.0, c_high=1.0)
    h0, cls = torch.randn(1, 3, 4), torch.randn(1, 4)
    grad = torch.randn(1, 3, 4)
    # 3 anchors in chunks of 2 -> chunks of sizes 2 and 1; the single pair must not count.
    torch.manual_seed(3)
    bound = regularizer(h0, cls, grad, torch.tensor([3]))
    order = select_anchors(grad, torch.tensor([3]), 0.0, 1.0)[0]  # all tokens, by gradient norm
    torch.manual_seed(3)
    shuffled = order[torch.randperm(3)]
    first_chunk = regularizer.critic.lower_bound(h0[0, shuffled[:2]], cls[[0, 0]])
    assert float(bound) == pytest.approx(float(first_chunk), abs=1e-6)
    assert regularizer(h0[:, :1], cls, grad[:, :1], torch.tensor([1])) is None


def _trained_bound(paired: bool) -> float:
    torch.manual_seed(4)
    critic = InfoNCECritic(8, 8)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-2)
    for _ in range(150):
        x = torch.randn(16, 8)
        y = x.clone() if paired else torch.randn(16, 8)
        loss = -critic.lower_bound(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x = torch.randn(16, 8)
    return float(critic.lower_bound(x, x.clone() if paired else torch.randn(16, 8)))


def test_infonce_bound_rises_when_paired_features_are_identical():
    identical, independent = _trained_bound(True), _trained_bound(False)
    assert identical > independent + 1.0
    assert identical <= math.log(16) + 1e-6
