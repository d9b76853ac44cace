"""The QA side of training: SQuAD windows as features, and EM/F1 on the dev set at the end.

The loop in training.py is shared with NLI; only data preparation and dev scoring differ.
"""

from __future__ import annotations

from benchmark import data as data_registry
from benchmark.core.errors import UserError

DEV_CHUNK = 256  # questions predicted between two progress updates


def _load_qa(name: str, role: str):
    loaded = data_registry.load(name)
    if loaded.task != "qa":
        raise UserError(f"{role} set {loaded.name} is a {loaded.task} dataset; QA training needs SQuAD-style "
                        "sets (see `infobench datasets`)")
    return loaded


def prepare_qa(cfg):
    """Model with a fresh span head, windowed training features, dev questions and the data card."""
    from models.backbones import build_task_model
    from models.qa_features import train_features
    from models.prepared import Prepared, build_regularizers, seed_everything

    train = _load_qa(cfg.train_dataset, "training")
    indices = data_registry.sample_indices(len(train), cfg.max_train, cfg.seed)
    examples = [train.examples[i] for i in indices]
    dev = _load_qa(cfg.dev_dataset, "dev")
    dev_examples = [dev.examples[i] for i in data_registry.sample_indices(len(dev), cfg.max_dev, cfg.seed)]
    seed_everything(cfg.seed)
    model, tokenizer = build_task_model(cfg.backbone, "qa", cfg.hidden_dropout, cfg.attention_dropout)
    tokenizer.padding_side = "right"  # span labels are token positions from the left
    features, window_stats = train_features(tokenizer, examples, cfg.max_length, cfg.doc_stride)
    data_card = {"dataset": train.name, "source": train.source, "n_examples": len(examples),
                 "n_available": len(train), "skipped": train.skipped, **window_stats,
                 "examples_sha256": train.fingerprint(indices), "dev_dataset": dev.name,
                 "dev_n_examples": len(dev_examples)}
    return Prepared(model, tokenizer, features, dev_examples, data_card, build_regularizers(cfg, model))


def qa_dev_metrics(model, prepared, cfg, quiet: bool) -> dict:
    """Exact match and F1 (0..100, official SQuAD v1.1 normalisation) on the dev questions."""
    from tqdm.auto import tqdm

    from benchmark.metrics.squad import score
    from models.qa_features import predict_answers

    examples = prepared.dev_examples
    totals = {"exact_match": 0.0, "f1": 0.0}
    with tqdm(total=len(examples), desc="evaluate", unit="q", disable=quiet) as bar:
        for start in range(0, len(examples), DEV_CHUNK):
            chunk = examples[start:start + DEV_CHUNK]
            predictions, _ = predict_answers(model, prepared.tokenizer, chunk, cfg.max_length, cfg.doc_stride,
                                             cfg.eval_batch_size)
            for example, predicted in zip(chunk, predictions):
                for name, value in score(predicted, example["answers"]["text"]).items():
                    totals[name] += value
            bar.update(len(chunk))
    n = len(examples)
    return {"dataset": cfg.dev_dataset, "exact_match": 100.0 * totals["exact_match"] / n,
            "f1": 100.0 * totals["f1"] / n, "n": n}
