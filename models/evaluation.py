"""Dev-set metrics at the end of training (the harness's `evaluate` reuses the same scoring)."""

from __future__ import annotations

import numpy as np


def nli_accuracy(model, tokenizer, examples: list[dict], label_names, max_length: int, batch_size: int,
                 quiet: bool = True) -> dict:
    """Accuracy with labels mapped by name; also returns the predictions and truncation count."""
    from tqdm.auto import tqdm

    from models.inference import batched_logits

    pairs = [(e["premise"], e["hypothesis"]) for e in examples]
    with tqdm(total=len(pairs), desc="evaluate", unit="ex", disable=quiet) as bar:
        logits, truncated = batched_logits(model, tokenizer, pairs, batch_size, max_length, bar)
    predicted = [label_names[i] for i in logits.argmax(-1)]
    correct = np.array([p == e["label"] for p, e in zip(predicted, examples)])
    return {"accuracy": float(correct.mean()), "n": len(examples), "truncated": truncated,
            "predictions": predicted}


def dev_metrics(model, prepared, cfg, quiet: bool) -> dict:
    if cfg.task == "qa":
        from models.qa_training import qa_dev_metrics
        return qa_dev_metrics(model, prepared, cfg, quiet)
    labels = tuple(model.config.id2label[i] for i in range(model.config.num_labels))
    result = nli_accuracy(model, prepared.tokenizer, prepared.dev_examples, labels, cfg.max_length,
                          cfg.eval_batch_size, quiet)
    return {"dataset": cfg.dev_dataset, "accuracy": result["accuracy"], "n": result["n"],
            "truncated": result["truncated"]}
