"""Tokenized training features per task, and dynamic-padding collation."""

from __future__ import annotations

from benchmark.core.errors import UserError


def nli_features(examples: list[dict], tokenizer, label_names: tuple[str, ...], max_length: int):
    """Tokenize pairs once ("longest_first" truncation, as in evaluation and attacks)."""
    label_ids = {name: i for i, name in enumerate(label_names)}
    unknown = sorted({e["label"] for e in examples} - set(label_ids))
    if unknown:
        raise UserError(f"labels {unknown} are not among the model's labels {list(label_names)}")
    premises = [e["premise"] for e in examples]
    hypotheses = [e["hypothesis"] for e in examples]
    full = tokenizer(premises, hypotheses, truncation=False)["input_ids"]
    enc = tokenizer(premises, hypotheses, truncation="longest_first", max_length=max_length)
    features = [{key: enc[key][i] for key in enc} | {"labels": label_ids[e["label"]]}
                for i, e in enumerate(examples)]
    truncated = sum(len(ids) > max_length for ids in full)
    return features, truncated


def collate(tokenizer, features: list[dict]):
    """Pad a batch to its longest member."""
    return tokenizer.pad(features, padding=True, return_tensors="pt")
