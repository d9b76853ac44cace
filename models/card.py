"""card.json: everything that identifies how a checkpoint was made."""

from __future__ import annotations

from benchmark.core.provenance import git_commit, now_iso, package_versions
from models.backbones import TASK_LABELS, resolve_backbone


def build_card(cfg, model_id: str, data_card: dict, dev_metrics: dict, train_time_s: float, total_steps: int,
               warmup_steps: int, device: str, last_losses: dict) -> dict:
    hyper = cfg.as_dict()
    hyper["warmup_steps"] = warmup_steps  # the resolved value, not "auto"
    return {
        "card_version": 1,
        "model_id": model_id,
        "backbone": cfg.backbone,
        "backbone_location": resolve_backbone(cfg.backbone),
        "task": cfg.task,
        "label_names": list(TASK_LABELS.get(cfg.task, ())),
        "method": cfg.method,
        "hyperparameters": hyper,
        "seed": cfg.seed,
        "training_data": data_card,
        "optimizer_steps": total_steps,
        "final_losses": {k: round(float(v), 6) for k, v in last_losses.items()},
        "dev_metrics": dev_metrics,
        "train_time_s": round(train_time_s, 1),
        "device": device,
        "torch_threads": torch_threads(),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "created": now_iso(),
    }


def torch_threads() -> int:
    """The CPU thread count training ran with: bitwise reproduction of the weights needs the same."""
    import torch

    return torch.get_num_threads()
