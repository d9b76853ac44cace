"""`infobench train`: fine-tune a backbone with standard, FreeLB or InfoBERT training."""

from __future__ import annotations

import json
import sys

from benchmark.commands import _types as t
from benchmark.commands import add_threads_option, use_threads

OVERRIDE_FLAGS = {
    # flag: (type, help)
    "max_train": (t.positive_int, "use a seeded sample of N training examples"),
    "max_dev": (t.positive_int, "dev examples for the final evaluation (default 2000)"),
    "epochs": (t.positive_float, "epochs (fractional allowed)"),
    "batch_size": (t.positive_int, "batch size (also the InfoNCE chunk size)"),
    "lr": (t.positive_float, "peak learning rate"),
    "warmup_steps": (t.non_negative_int, "linear warm-up steps (default: 10%% of the steps)"),
    "weight_decay": (t.non_negative_float, "AdamW weight decay"),
    "max_length": (t.positive_int, "max tokens per input (pairs truncated longest-first)"),
    "doc_stride": (t.non_negative_int, "QA: context tokens shared by consecutive windows (default 128)"),
    "adv_steps": (t.non_negative_int, "K ascent steps (0: no perturbation)"),
    "adv_lr": (t.non_negative_float, "ascent step size"),
    "adv_init_mag": (t.non_negative_float, "initial perturbation magnitude"),
    "adv_max_norm": (t.non_negative_float, "L2 projection radius (0: none)"),
    "beta": (t.non_negative_float, "weight of the Information Bottleneck term"),
    "alpha": (t.non_negative_float, "weight of the Anchored Feature term"),
    "c_low": (t.fraction, "anchor rank lower bound"),
    "c_high": (t.fraction, "anchor rank upper bound"),
    "ib_estimator": (str, "sampled (released) or club (learned, paper)"),
    "hidden_dropout": (t.fraction, "hidden dropout"),
    "attention_dropout": (t.fraction, "attention dropout"),
    "mixed_precision": (str, "no, bf16 or fp16 (CUDA)"),
    "a2t_share": (t.fraction, "a2t: share of each batch attacked (default 0.25)"),
    "a2t_max_rate": (t.fraction,
                     "a2t: max share of a hypothesis's words swapped (at least 4; default 0.1)"),
    "a2t_query_budget": (t.positive_int, "a2t: candidate forwards per batch (default 256)"),
    "pgd_clean_weight": (t.fraction, "pgd: weight of the clean loss beside the adversarial one (default 0.5; "
                                     "0 = pure worst case)"),
    "save_every": (t.positive_int, "save resumable state every N steps"),
    "train_dataset": (str, "registered training set (default per task)"),
    "dev_dataset": (str, "registered dev set (default per task)"),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a zoo model (standard, freelb, infobert, pgd, a2t, safer)",
                                   description="Fine-tune a Hugging Face encoder; writes a checkpoint with card.json.")
    parser.add_argument("--method", required=True, help="standard, freelb, infobert, pgd, a2t or safer (see `infobench methods`)")
    parser.add_argument("--backbone", default="minilm-l6", help="alias (minilm-l6), hub id or local directory")
    parser.add_argument("--task", default="snli", help="snli/nli or squad/qa")
    parser.add_argument("--seed", type=t.seed, default=42)
    parser.add_argument("--output", type=t.folder, help="checkpoint directory (default checkpoints/<model id>)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last saved step")
    for name, (kind, text) in OVERRIDE_FLAGS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=text)
    add_threads_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    from pathlib import Path

    from models.config import model_id, resolve_config
    from models.training import train

    # CPU float sums depend on the thread count: the same command gives the same weights only with
    # the same --threads (2 threads vs 1 differed by up to 5e-10 after three steps), so it is fixed, not torch's.
    use_threads(args.threads)
    overrides = {name: getattr(args, name) for name in OVERRIDE_FLAGS}
    overrides["seed"] = args.seed
    overrides["backbone"] = args.backbone
    cfg = resolve_config(args.method, args.task, overrides)
    output = Path(args.output) if args.output else Path("checkpoints") / model_id(cfg)
    card = train(cfg, output, resume=args.resume, quiet=args.quiet)
    summary = {"checkpoint": str(output), "model_id": card["model_id"], "dev_metrics": card["dev_metrics"],
               "train_time_s": card["train_time_s"]}
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    return 0
