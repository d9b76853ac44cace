"""Checkpoint contract: a transformers directory (safetensors only) plus card.json.

Loading never unpickles anything: pickle weight files are refused with a message on
how to convert them, `use_safetensors=True` is forced and remote code is never trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from benchmark.core.atomic import atomic_write_json, staged_directory
from benchmark.core.errors import UserError

WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "card.json"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
REQUIRED_CARD_FIELDS = ("model_id", "backbone", "task", "label_names", "method", "hyperparameters",
                        "seed", "weights_sha256")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def read_card(ckpt_dir: str | Path) -> dict:
    """Validate the directory and its card without loading weights."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        raise UserError(f"checkpoint not found: {ckpt_dir} (expected a directory made by `infobench train`)")
    _refuse_pickles(ckpt_dir)
    if not (ckpt_dir / WEIGHTS_FILE).is_file():
        raise UserError(f"{ckpt_dir}: no {WEIGHTS_FILE}; infobench loads safetensors weights only")
    card_path = ckpt_dir / CARD_FILE
    if not card_path.is_file():
        raise UserError(f"{ckpt_dir}: no {CARD_FILE}; it is not an infobench checkpoint")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{card_path}: not valid JSON ({err})") from None
    missing = [f for f in REQUIRED_CARD_FIELDS if not isinstance(card, dict) or f not in card]
    if missing:
        raise UserError(f"{card_path}: missing fields {missing}")
    return card


def _refuse_pickles(ckpt_dir: Path) -> None:
    pickles = sorted(p.name for p in ckpt_dir.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise UserError(
            f"{ckpt_dir}: refusing pickle weight files {pickles}; infobench never unpickles. Convert them once in "
            "a trusted environment: AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True), "
            "then delete the pickle files.")


def verify_weights(ckpt_dir: str | Path, card: dict) -> None:
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
