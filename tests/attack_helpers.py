"""Shared by the attack tests: a small fine-tuned MiniLM NLI checkpoint, made once per session.

A plain AdamW loop of its own (not models/training.py), so the attack tests do not depend
on the training code: ~40 steps on a seeded sample of SNLI train, enough for a model that
gets some examples right (attacks need something to flip) and some wrong (skips).
"""

from __future__ import annotations

from pathlib import Path

MODEL_ID = "test-minilm-l6-snli-attack"
MAX_LENGTH = 64


def finetuned_checkpoint(out_dir: Path, n_train: int = 320, epochs: int = 2, batch_size: int = 16) -> Path:
    """Fine-tune MiniLM on n_train SNLI-train pairs and save an infobench checkpoint (reused if present)."""
    if (out_dir / "card.json").is_file():
        return out_dir
    import torch

    from benchmark.data import NLI_LABELS, load, sample_indices
    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model, tokenizer = build_task_model("minilm-l6", "nli", hidden_dropout=0.1, attention_dropout=0.1)
    train = load("snli-train")
    examples = [train.examples[i] for i in sample_indices(len(train), n_train, seed=0)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(epoch)).tolist()
        for start in range(0, len(order), batch_size):
            batch = [examples[i] for i in order[start:start + batch_size]]
            enc = tokenizer([e["premise"] for e in batch], [e["hypothesis"] for e in batch], truncation=True,
                            max_length=MAX_LENGTH, padding=True, return_tensors="pt")
            labels = torch.tensor([NLI_LABELS.index(e["label"]) for e in batch])
            loss = model(**enc, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    card = {"model_id": MODEL_ID, "backbone": "minilm-l6", "task": "nli", "label_names": list(NLI_LABELS),
            "method": "standard", "seed": 0, "training_data": {"dataset": "snli-train", "n": n_train},
            "hyperparameters": {"max_length": MAX_LENGTH, "lr": 1e-4, "epochs": epochs, "batch_size": batch_size}}
    save_checkpoint(model, tokenizer, card, out_dir)
    return out_dir


def untrained_checkpoint(out_dir: Path, label_names=None, model_id: str = "test-minilm-l6-untrained") -> Path:
    """The real MiniLM with a fresh NLI head, saved without training (for equivalence checks)."""
    if (out_dir / "card.json").is_file():
        return out_dir
    import torch

    from benchmark.data import NLI_LABELS
    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    torch.manual_seed(1)
    model, tokenizer = build_task_model("minilm-l6", "nli", hidden_dropout=0.1, attention_dropout=0.1)
    card = {"model_id": model_id, "backbone": "minilm-l6", "task": "nli",
            "label_names": list(label_names or NLI_LABELS), "method": "standard", "seed": 1,
            "hyperparameters": {"max_length": MAX_LENGTH}}
    save_checkpoint(model, tokenizer, card, out_dir)
    return out_dir
