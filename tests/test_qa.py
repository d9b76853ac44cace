"""Extractive QA: SQuAD reading, windows and offsets, EM/F1, the worst-case rule, training and evaluation."""

import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import loss_before_and_after_steps
import torch

from benchmark.core.errors import UserError
from benchmark.metrics.squad import aggregate, exact_match, f1, normalize_answer, score
from models.config import resolve_config

ENV_DATA = "INFOBENCH_DATA"


# ---------------------------------------------------------------- metrics

def test_official_normalisation_and_em_f1_on_known_cases():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("An apple, a day; the end.") == "apple day end"
    assert normalize_answer("banana theory") == "banana theory"  # articles only as whole words
    assert exact_match("the Broncos", "Broncos.") == 1.0
    assert exact_match("Denver", "Denver Broncos") == 0.0
    assert f1("Denver Broncos", "the Denver Broncos team") == pytest.approx(0.8)
    assert f1("", "Broncos") == 0.0 and f1("a", "the") == 0.0  # nothing left after normalising: 0
    # Max over gold answers, each metric separately (SQuAD dev question 56be4db0acb8001400a502ee).
    golds = ["Santa Clara, California", "Levi's Stadium", "Levi's Stadium in the San Francisco Bay Area"]
    assert score("Santa Clara", golds) == {"exact_match": 0.0, "f1": pytest.approx(0.8)}
    assert score("levis stadium", golds) == {"exact_match": 1.0, "f1": 1.0}


def test_worst_case_over_original_and_variants_per_metric():
    entries = [
        {"id": "q1", "exact_match": 1.0, "f1": 1.0},
        {"id": "q1-high-conf-turk0", "exact_match": 0.0, "f1": 0.5},
        {"id": "q1-high-conf-turk1", "exact_match": 1.0, "f1": 1.0},
        {"id": "q2", "exact_match": 1.0, "f1": 1.0},
        {"id": "q3", "exact_match": 0.0, "f1": 0.4},
        {"id": "q3-high-conf-turk0", "exact_match": 1.0, "f1": 0.9},
    ]
    metrics, counts = aggregate(entries)
    # Groups: q1 -> (0, .5), q2 -> (1, 1), q3 -> (0, .4): the minimum of each metric on its own.
    assert metrics["exact_match"] == pytest.approx(100 / 3)
    assert metrics["f1"] == pytest.approx(100 * 1.9 / 3)
    assert metrics["original_exact_match"] == pytest.approx(200 / 3)
    assert metrics["original_f1"] == pytest.approx(80.0)
    assert metrics["variants_exact_match"] == pytest.approx(200 / 3)
    assert counts == {"n": 3, "n_questions": 6, "n_originals": 3, "n_variants": 3, "groups_with_variants": 2,
                      "groups_without_original": 0}
    plain, plain_counts = aggregate(entries[3:5])  # no variants: the plain means, no breakdown
    assert plain == {"exact_match": 50.0, "f1": pytest.approx(70.0)} and plain_counts["n"] == 2


def test_sampling_draws_whole_groups_of_the_real_addsent_set(data_root):
    from benchmark import data
    from benchmark.evaluation.qa import sample_groups
    from benchmark.metrics.squad import original_id

    addsent = data.load("adv-squad-addsent")
    assert len(addsent) == 3560 and addsent.skipped == {}
    indices, chosen, total = sample_groups(addsent.examples, 10, seed=0)
    assert (chosen, total) == (10, 1000)
    ids = [addsent.examples[i]["id"] for i in indices]
    groups = {original_id(i) for i in ids}
    assert len(groups) == 10 and groups <= set(ids)  # every original is there with its variants
    every_variant = [e["id"] for e in addsent.examples if original_id(e["id"]) in groups]
    assert sorted(ids) == sorted(every_variant) and len(ids) > 10


# ---------------------------------------------------------------- windows and spans

def _minilm_tokenizer():
    import transformers

    from models.backbones import resolve_backbone

    return transformers.AutoTokenizer.from_pretrained(resolve_backbone("minilm-l6"))


def test_windows_and_offsets_recover_every_gold_answer_of_two_dev_articles(data_root):
    from benchmark.data.squad_format import read_squad_file
    from models.qa_features import answer_tokens, make_windows, train_features

    examples = read_squad_file(data_root / "squad/dev-v1.1.json", Counter())
    titles = list(dict.fromkeys(e["title"] for e in examples))[:2]
    examples = [e for e in examples if e["title"] in titles]
    tokenizer = _minilm_tokenizer()
    windows, stats = make_windows(tokenizer, examples, max_length=128, doc_stride=64)
    assert stats["multi_window_questions"] > 100 and stats["windows"] > len(examples)
    assert all(len(w.inputs["input_ids"]) <= 128 for w in windows)
    inside_a_token, covered = Counter(), set()
    for window in windows:
        example = examples[window.example]
        for text, start in zip(example["answers"]["text"], example["answers"]["answer_start"]):
            span = answer_tokens(window, start, text)
            if span is None:
                continue
            covered.add((window.example, start, text))
            (first, _), (_, last) = window.offsets[span[0]], window.offsets[span[1]]
            recovered = example["context"][first:last]
            if recovered != text:
                # The only loss allowed: a gold boundary inside a word piece ("gold" of "golden"),
                # where the span grows to the whole token and still contains the gold text.
                assert (first < start or last > start + len(text)) and recovered[start - first:].startswith(text)
                inside_a_token[(text, recovered)] += 1
    answers = {(i, s, t) for i, e in enumerate(examples) for t, s in zip(e["answers"]["text"],
                                                                          e["answers"]["answer_start"])}
    assert covered == answers  # every gold answer lies whole inside at least one window
    # Measured on these 1057 questions (3,000+ gold answers): 17 distinct answers such as
    # ("gold", "golden"), ("wards", "backwards"), ("8", "18"), ("e Red Army", "the Red Army").
    assert ("gold", "golden") in inside_a_token and len(inside_a_token) <= 20
    features, feature_stats = train_features(tokenizer, examples, 128, 64)
    assert feature_stats["windows_without_answer"] > 0
    outside = [f for f in features if f["start_positions"] == 0]
    assert len(outside) == feature_stats["windows_without_answer"] and all(f["end_positions"] == 0 for f in outside)


def test_long_questions_are_cut_and_overlap_shrinks_instead_of_crashing():
    from models.qa_features import make_windows

    tokenizer = _minilm_tokenizer()
    example = {"id": "x", "question": "why " * 200, "context": "word " * 300,
               "answers": {"text": ["word"], "answer_start": [0]}}
    windows, stats = make_windows(tokenizer, [example], max_length=64, doc_stride=60)
    assert stats["questions_cut"] == 1 and stats["stride_reduced"] == 1
    assert all(len(w.inputs["input_ids"]) <= 64 for w in windows) and len(windows) > 1


def test_best_span_stays_in_context_in_order_and_short():
    import numpy as np

    from models.qa_features import best_span

    offsets = [None, None, None] + [(i, i + 1) for i in range(40)] + [None]  # [CLS] q q context... [SEP]

    def best(**logits):
        start, end = np.full(44, -10.0), np.full(44, -10.0)
        for name, value in logits.items():
            (start if name[0] == "s" else end)[int(name[1:])] = value
        return best_span(start, end, offsets)

    assert best(s1=50, e1=50, s10=1, e12=1) == (2.0, 10, 12)  # question tokens never answer
    assert best(s20=5, e10=5, s15=1, e16=1) == (2.0, 15, 16)  # end before start is invalid
    assert best(s5=5, e40=5, e8=1) == (6.0, 5, 8)  # 36 tokens is longer than 30: invalid
    assert best_span(np.zeros(3), np.zeros(3), [None, None, None]) is None


# ---------------------------------------------------------------- training

def _qa_batch(tokenizer, n=8):
    from benchmark import data
    from models.features import collate
    from models.qa_features import train_features

    features, _ = train_features(tokenizer, data.load("squad-train").examples[:n], 96, 32)
    batch = collate(tokenizer, features[:n])
    assert batch["start_positions"].dtype == torch.long and batch["start_positions"].shape == (n,)
    return batch


@pytest.mark.parametrize("method", ["standard", "freelb", "infobert"])
def test_a_few_steps_of_each_method_lower_the_span_loss(method, tiny_backbone, data_root):
    from models.backbones import build_task_model

    torch.manual_seed(0)
    cfg = resolve_config(method, "squad", {"batch_size": 8, "lr": 1e-3, "max_length": 96})
    model, tokenizer = build_task_model(tiny_backbone, "qa", cfg.hidden_dropout, cfg.attention_dropout)
    batch = _qa_batch(tokenizer)
    before, after, figures = loss_before_and_after_steps(method, cfg, model, batch)
    assert after < before - 0.2
    if method == "infobert":
        assert figures["ib"] > 0 and figures["af_lower_bound"] != 0


@pytest.fixture(scope="module")
def tiny_qa_checkpoint(tiny_backbone, tmp_path_factory, data_root):
    """A QA checkpoint made by the real loop (infobert, a few steps) on the offline SQuAD split."""
    from models.training import train

    out = tmp_path_factory.mktemp("qa") / "ckpt"
    cfg = resolve_config("infobert", "squad", {"backbone": tiny_backbone, "max_train": 24, "max_dev": 12,
                                               "batch_size": 8, "max_length": 96, "doc_stride": 32, "epochs": 1})
    card = train(cfg, out, quiet=True)
    return out, card


def test_training_loop_writes_a_qa_checkpoint_with_span_metrics(tiny_qa_checkpoint):
    out, card = tiny_qa_checkpoint
    assert card["task"] == "qa" and card["label_names"] == [] and card["model_id"].endswith("-squad-s42")
    assert card["dev_metrics"]["dataset"] == "squad-dev-heldout" and card["dev_metrics"]["n"] == 12
    assert 0 <= card["dev_metrics"]["exact_match"] <= card["dev_metrics"]["f1"] <= 100
    data_card = card["training_data"]
    assert data_card["dataset"] == "squad-train" and data_card["windows"] >= 24
    assert (out / "critic.safetensors").is_file()
    assert json.loads((out / "config.json").read_text())["architectures"] == ["BertForQuestionAnswering"]


def test_adversarial_evaluation_record_and_resume(tiny_qa_checkpoint, tmp_path):
    from benchmark.core.atomic import read_jsonl_log
    from benchmark.evaluation.evaluate import evaluate
    from benchmark.records import example_log_path, strip_volatile

    ckpt, _ = tiny_qa_checkpoint
    (record,) = evaluate(ckpt, "adv-squad-addonesent", n=6, seed=1, results_dir=tmp_path, batch_size=16,
                         quiet=True)
    counts, metrics = record["counts"], record["metrics"]
    assert counts["n"] == 6 and counts["n_originals"] == 6 and counts["n_questions"] == 6 + counts["n_variants"]
    assert record["evaluation"]["aggregation"].startswith("worst case")
    assert counts["n_variants"] > 0 and {"original_f1", "variants_f1"} <= set(metrics)
    for name in ("exact_match", "f1"):  # the worst case can only lose against the originals alone
        assert metrics[name] <= metrics[f"original_{name}"] + 1e-9
    assert set(metrics) >= {"exact_match", "f1"} and all(isinstance(v, float) for v in metrics.values())
    log_path = example_log_path(tmp_path, record["record_id"])
    logged = list(read_jsonl_log(log_path))
    assert len(logged) == 1 + counts["n_questions"] and "header" in logged[0]
    kept = log_path.read_text().splitlines()[:3]  # a run killed after two questions, mid-line on the third
    log_path.write_text("\n".join(kept) + '\n{"id": "torn')
    (resumed,) = evaluate(ckpt, "adv-squad-addonesent", n=6, seed=1, results_dir=tmp_path, batch_size=16,
                          quiet=True)
    assert strip_volatile(resumed) == strip_volatile(record)
    assert len(list(read_jsonl_log(log_path))) == 1 + counts["n_questions"]


# ---------------------------------------------------------------- bad input

def _squad(qas=None, context="Paris is the capital of France.", **article):
    qas = qas if qas is not None else [{"id": "q1", "question": "What is the capital?",
                                       "answers": [{"text": "Paris", "answer_start": 0}]}]
    return {"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": context, "qas": qas}], **article}]}


def _write_squad(tmp_path, monkeypatch, payload) -> Path:
    path = tmp_path / "squad/dev-v1.1.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    monkeypatch.setenv(ENV_DATA, str(tmp_path))
    return path


_Q = {"id": "q1", "question": "What?", "answers": [{"text": "Paris", "answer_start": 0}]}


@pytest.mark.parametrize("payload,message", [
    (b'{"data": [', "malformed JSON (Expecting value at line 1 column 11)"),
    (b"\xff\xfe{}", "not UTF-8"),
    ([1, 2], "expected a SQuAD object with a 'data' array, got an array"),
    ({"version": "1.1"}, "$: missing field 'data'"),
    (_squad(context=5), "data[0].paragraphs[0].context: expected a string, got an integer"),
    (_squad(context="  "), "data[0].paragraphs[0].context: is empty"),
    (_squad([{**_Q, "question": ""}]), "data[0].paragraphs[0].qas[0].question: is empty"),
    (_squad([{**_Q, "answers": [{"text": "Paris", "answer_start": "0"}]}]),
     "qas[0].answers[0].answer_start: expected an integer, got a string"),
    (_squad([{**_Q, "answers": {"text": "Paris"}}]), "qas[0].answers: expected an array, got an object"),
    (_squad([_Q, {**_Q, "question": "Again?"}]), "qas[1].id: duplicate question id 'q1' (first at"),
    (_squad(title=3), "data[0].title: expected a string, got an integer"),
])
def test_malformed_squad_files_name_file_and_json_path(tmp_path, monkeypatch, payload, message):
    from benchmark import data

    path = _write_squad(tmp_path, monkeypatch, payload)
    with pytest.raises(UserError) as err:
        data.load("squad-dev")
    assert str(path) in str(err.value) and message in str(err.value)


def test_answers_with_wrong_offsets_are_dropped_and_counted(tmp_path, monkeypatch):
    from benchmark import data

    qas = [{"id": "q1", "question": "Capital?", "answers": [{"text": "Paris", "answer_start": 0},
                                                            {"text": "Paris", "answer_start": 3}]},
           {"id": "q2", "question": "Country?", "answers": [{"text": "France", "answer_start": 99}]},
           {"id": "q3", "question": "Country?", "answers": [{"text": "France", "answer_start": 24}]}]
    _write_squad(tmp_path, monkeypatch, _squad(qas))
    loaded = data.load("squad-dev")
    assert [e["id"] for e in loaded.examples] == ["q1", "q3"]
    assert loaded.examples[0]["answers"] == {"text": ["Paris"], "answer_start": [0]}
    assert loaded.skipped == {"answer offset mismatch": 2, "question without a usable answer": 1}


def test_hub_rows_are_validated_like_files():
    from benchmark.data.squad_format import squad_example

    row = {"id": "a", "title": "T", "context": "Paris is big.", "question": "What?",
           "answers": {"text": ["Paris", "big"], "answer_start": [0, 1]}}
    skipped = Counter()
    assert squad_example(row, "hub row 0", skipped)["answers"] == {"text": ["Paris"], "answer_start": [0]}
    assert skipped == {"answer offset mismatch": 1}
    with pytest.raises(UserError, match=r"hub row 1.answers: 2 texts but 1 answer_start values"):
        squad_example({**row, "answers": {"text": ["a", "b"], "answer_start": [0]}}, "hub row 1", skipped)
    with pytest.raises(UserError, match=r"hub row 2: missing field 'question'"):
        squad_example({k: v for k, v in row.items() if k != "question"}, "hub row 2", skipped)


def _saved(tiny_backbone, tmp_path, task, card_task):
    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    model, tokenizer = build_task_model(tiny_backbone, task, 0.1, 0.0)
    card = {"model_id": f"tiny-{task}", "backbone": tiny_backbone, "task": card_task,
            "label_names": ["entailment", "neutral", "contradiction"] if card_task == "nli" else [],
            "method": "standard", "hyperparameters": {"max_length": 64, "doc_stride": 16}, "seed": 0}
    save_checkpoint(model, tokenizer, card, tmp_path / task)
    return tmp_path / task


def test_task_mismatch_is_a_clear_error_in_both_directions(tiny_backbone, tmp_path, data_root, run_cli):
    nli = _saved(tiny_backbone, tmp_path, "nli", "nli")
    code, _, err = run_cli("evaluate", str(nli), "--dataset", "squad-dev", "--results", str(tmp_path))
    assert code == 2
    assert "tiny-nli is an NLI (3-way classification) model, but squad-dev is an extractive QA" in err
    qa = _saved(tiny_backbone, tmp_path, "qa", "qa")
    code, _, err = run_cli("evaluate", str(qa), "--dataset", "anli-r1-test", "--results", str(tmp_path))
    assert code == 2 and "tiny-qa is an extractive QA (SQuAD span) model, but anli-r1-test is an NLI" in err


def test_card_claiming_qa_over_classifier_weights_is_refused(tiny_backbone, tmp_path, data_root):
    from benchmark.evaluation.evaluate import evaluate

    (tmp_path / "nli").mkdir()
    relabelled = _saved(tiny_backbone, tmp_path / "nli", "nli", "qa")
    with pytest.raises(UserError, match=r"says task 'qa', but the weights were saved from BertForSequenceClassification"):
        evaluate(relabelled, "adv-squad-addonesent", n=2, seed=0, results_dir=tmp_path)
