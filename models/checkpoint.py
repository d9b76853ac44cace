"""Checkpoint contract: a transformers directory (safetensors only) plus card.json.

Loading never unpickles anything: pickle weight files are refused with a message on
how to convert them, `use_safetensors=True` is forced and remote code is never trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from benchmark.core.atomic import atomic_write_json, read_json_file, staged_directory
from benchmark.core.errors import UserError
from models.safe_weights import refuse_pickles, sha256_file

WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "card.json"
REQUIRED_CARD_FIELDS = ("model_id", "backbone", "task", "label_names", "method", "hyperparameters",
                        "seed", "weights_sha256")


def save_checkpoint(model, tokenizer, card: dict, out_dir: str | Path, extra_modules: dict | None = None) -> dict:
    """Write model, tokenizer, extra modules (e.g. the InfoNCE critic) and card atomically.

    Everything goes to a temporary sibling directory first, which then replaces `out_dir`,
    so a crash never leaves a half-written checkpoint under the final name.
    """
    from safetensors.torch import save_file

    with staged_directory(out_dir) as staging:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        for name, module in (extra_modules or {}).items():
            state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
            save_file(state, staging / f"{name}.safetensors")
        card = {**card, "weights_sha256": sha256_file(staging / WEIGHTS_FILE)}
        atomic_write_json(staging / CARD_FILE, card)
    return card


def is_infobench_checkpoint(checkpoint) -> bool:
    return (Path(checkpoint) / CARD_FILE).is_file()


def read_card(checkpoint) -> dict:
    """Validate the checkpoint and its card without loading weights.

    `checkpoint`: a folder (str, Path) or a `models.external.CheckpointRef`. A folder without
    card.json, or a hub id, gets a synthesized card (models/external.py).
    """
    from models.external import as_ref, synthesize_card

    ref = as_ref(checkpoint)
    if not is_infobench_checkpoint(checkpoint):
        return dict(synthesize_card(ref)[0])
    if ref.labels or ref.revision:
        raise UserError(f"{checkpoint}: an infobench checkpoint carries its labels in card.json; leave out "
                        "--labels and --revision")
    ckpt_dir = Path(checkpoint)
    refuse_pickles(ckpt_dir)
    if not (ckpt_dir / WEIGHTS_FILE).is_file():
        raise UserError(f"{ckpt_dir}: no {WEIGHTS_FILE}; infobench loads safetensors weights only")
    card_path = ckpt_dir / CARD_FILE
    if not card_path.is_file():
        raise UserError(f"{ckpt_dir}: no {CARD_FILE}; it is not an infobench checkpoint")
    card = read_json_file(card_path)
    missing = [f for f in REQUIRED_CARD_FIELDS if not isinstance(card, dict) or f not in card]
    if missing:
        raise UserError(f"{card_path}: missing fields {missing}")
    _check_labels_match_config(ckpt_dir, card)
    card["card_sha256"] = card_sha256(card)  # records name the card they were scored with
    return card


# What differs between two runs of the same `train` command; left out of the card's hash so the
# same command twice still gives identical records.
CARD_VOLATILE = ("created", "train_time_s", "device", "torch_threads", "git_commit", "host")


def card_sha256(card: dict) -> str:
    """sha256 of the card's canonical JSON, timing fields aside."""
    stable = {k: v for k, v in card.items() if k not in CARD_VOLATILE and k != "card_sha256"}
    return hashlib.sha256(json.dumps(stable, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _check_labels_match_config(ckpt_dir: Path, card: dict) -> None:
    """The card's label order must be the weights' own: reordering it would silently relabel every prediction."""
    if card.get("task") != "nli":
        return  # span heads have no labels; a card over the wrong head is refused when loading
    try:
        config = json.loads((ckpt_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise UserError(f"{ckpt_dir}: config.json is missing or unreadable") from None
    if not any(str(a).endswith("ForSequenceClassification") for a in config.get("architectures") or []):
        return  # span heads have no labels; a card over the wrong head is refused when loading
    try:
        id2label = {int(k): v for k, v in config["id2label"].items()}
    except (KeyError, AttributeError, ValueError):
        raise UserError(f"{ckpt_dir}: config.json has no id2label to check card.json's label_names against") from None
    from_config = [id2label.get(i) for i in range(len(id2label))]
    if list(card["label_names"]) != from_config:
        raise UserError(f"{ckpt_dir}: card.json label_names {card['label_names']} differ from config.json id2label "
                        f"{from_config}; the weights' label order is config.json's: restore card.json")


def verify_weights(ckpt_dir: str | Path, card: dict) -> None:
    if card.get("method") == "external":
        return  # the synthesized card was hashed from these very files
    actual = sha256_file(Path(ckpt_dir) / WEIGHTS_FILE)
    if actual != card["weights_sha256"]:
        raise UserError(f"{ckpt_dir}: {WEIGHTS_FILE} does not match the sha256 in {CARD_FILE} "
                        "(truncated or modified weights)")


def load_checkpoint(ckpt_dir: str | Path, verify: bool = True, attn_implementation: str | None = None):
    """(model in eval mode, fast tokenizer, card). Safetensors only; no remote code.

    `attn_implementation` defaults to transformers' choice (sdpa, fast for inference); pass
    "eager" to get the exact arithmetic training used.
    """
    import transformers
    from safetensors import SafetensorError

    from models.backbones import model_class

    card = read_card(ckpt_dir)
    if verify:
        verify_weights(ckpt_dir, card)
    if card.get("method") == "external":
        from models.external import as_ref, synthesize_card

        ckpt_dir = synthesize_card(as_ref(ckpt_dir))[1]  # a hub id's files are in the hub cache
    try:
        model, info = model_class(card["task"]).from_pretrained(
            str(ckpt_dir), use_safetensors=True, trust_remote_code=False,
            attn_implementation=attn_implementation, output_loading_info=True)
    except (SafetensorError, OSError, ValueError) as err:
        raise UserError(f"{ckpt_dir}: cannot load weights ({err})") from None
    _require_every_weight(ckpt_dir, model, card["task"], info)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(ckpt_dir), use_fast=True)
    model.eval()
    return model, tokenizer, card


_TASK_WORDS = {"nli": "an NLI", "qa": "a QA"}


def _require_every_weight(ckpt_dir, model, task: str, info: dict) -> None:
    """A head left at random init (e.g. an NLI card over QA weights) would score silently wrong numbers."""
    missing = list(info.get("missing_keys") or []) + [str(k) for k in info.get("mismatched_keys") or []]
    if missing:
        saved_from = ", ".join(getattr(model.config, "architectures", None) or ["an unknown architecture"])
        raise UserError(f"{ckpt_dir}: card.json says task {task!r}, but the weights were saved from {saved_from} "
                        f"and do not fit {_TASK_WORDS.get(task, task)} model (missing or mis-shaped: {', '.join(sorted(missing)[:5])}); "
                        "evaluate it on the task it was trained for, or fix card.json")
