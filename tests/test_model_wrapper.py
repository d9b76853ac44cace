"""The fast attack wrapper scores like TextAttack's stock HuggingFaceModelWrapper, and its cache is exact."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def minilm():
    """The real MiniLM with a fresh NLI head (no training needed to compare two wrappers)."""
    import torch

    from models.backbones import build_task_model

    torch.manual_seed(1)
    model, tokenizer = build_task_model("minilm-l6", "nli", hidden_dropout=0.1, attention_dropout=0.1)
    return model.eval(), tokenizer


@pytest.fixture(scope="module")
def snli_pairs(data_root):
    from benchmark.data import load

    examples = load("snli-test").examples[:8]
    pairs = [(e["premise"], e["hypothesis"]) for e in examples]
    # Attack-like candidates: the same premise with one hypothesis word replaced.
    variants = [(p, h.replace(h.split()[1], "[UNK]", 1)) for p, h in pairs[:3]]
    return pairs + variants


@pytest.fixture(scope="module")
def stock_logits(minilm, snli_pairs):
    """What TextAttack's stock wrapper returns (it pads every pair to 512 tokens: slow, so once)."""
    from benchmark.resources import import_textattack

    model, tokenizer = minilm
    return import_textattack().models.wrappers.HuggingFaceModelWrapper(model, tokenizer)(snli_pairs)


def _softmax(logits) -> np.ndarray:
    import torch

    return torch.as_tensor(logits).float().softmax(-1).numpy()


def test_same_predictions_as_the_stock_wrapper(minilm, snli_pairs, stock_logits):
    from benchmark.attack.model_wrapper import attack_model_wrapper

    model, tokenizer = minilm
    expected = stock_logits
    for max_length in (None, 128):  # the stock limit, and a checkpoint's (no SNLI pair reaches it)
        fast = attack_model_wrapper(model, tokenizer, max_length=max_length, batch_size=5)
        got = fast(snli_pairs)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(got.argmax(-1).numpy(), expected.argmax(-1).numpy())
        np.testing.assert_allclose(_softmax(got), _softmax(expected), atol=1e-4, rtol=0)
        assert fast.stats.batches == 3  # 11 inputs in length-sorted micro-batches of 5


def test_goal_function_sees_the_stock_probabilities(minilm, snli_pairs, stock_logits):
    from collections import OrderedDict

    from benchmark.attack.model_wrapper import attack_model_wrapper
    from benchmark.resources import import_textattack

    textattack = import_textattack()
    model, tokenizer = minilm
    texts = [textattack.shared.AttackedText(OrderedDict(premise=p, hypothesis=h)) for p, h in snli_pairs]
    goal = textattack.goal_functions.UntargetedClassification(attack_model_wrapper(model, tokenizer))
    goal.init_attack_example(texts[0], 0)
    results, _ = goal.get_results(texts)
    probabilities = np.array([np.asarray(r.raw_output) for r in results])
    np.testing.assert_allclose(probabilities, _softmax(stock_logits), atol=1e-4, rtol=0)
    assert [r.output for r in results] == stock_logits.argmax(-1).tolist()


def test_cache_returns_what_a_fresh_query_returns(minilm, snli_pairs):
    from benchmark.attack.model_wrapper import attack_model_wrapper

    model, tokenizer = minilm
    cached = attack_model_wrapper(model, tokenizer, batch_size=4)
    first = cached(snli_pairs[:8]).numpy()
    # Overlapping request with a duplicate: only the 3 new inputs reach the model.
    request = snli_pairs[4:] + [snli_pairs[4]]
    second = cached(request).numpy()
    assert cached.stats.scored == 8 + 3 and cached.stats.cache_hits == 4 + 1
    fresh = attack_model_wrapper(model, tokenizer, batch_size=16)(request).numpy()
    np.testing.assert_allclose(second, fresh, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(second[:4], first[4:8])  # cache hits are the stored rows, exactly
    np.testing.assert_array_equal(second[-1], second[0])


def test_cache_is_bounded_and_single_texts_work(minilm, snli_pairs):
    from benchmark.attack.model_wrapper import attack_model_wrapper

    model, tokenizer = minilm
    wrapper = attack_model_wrapper(model, tokenizer, cache_size=3)
    hypotheses = [h for _, h in snli_pairs[:5]]  # single-text inputs (a str per query)
    once = wrapper(hypotheses).numpy()
    assert len(wrapper._cache) == 3 and wrapper.stats.scored == 5
    again = wrapper(hypotheses[:1]).numpy()  # evicted: scored again, same answer
    assert wrapper.stats.scored == 6
    np.testing.assert_allclose(again[0], once[0], atol=1e-5, rtol=0)
    wrapper.clear_cache()
    assert len(wrapper._cache) == 0 and wrapper([]).shape == (0, 3)
