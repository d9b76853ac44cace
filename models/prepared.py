"""What a training run starts from, shared by the NLI and QA preparations (models/training.py,
models/qa_training.py): the prepared model and data, the seeding, the method's regularizers.
Kept apart from the loop so the QA preparation does not import the loop that dispatches to it."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch

from models.config import TrainConfig
from models.methods import METHODS


@dataclass
class Prepared:
    model: torch.nn.Module
    tokenizer: object
    train_features: list
    dev_examples: list
    data_card: dict
    regularizers: dict


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_regularizers(cfg: TrainConfig, model) -> dict:
    from models.regularizers import AnchoredFeatureRegularizer, ClubInfoBottleneck, SampledInfoBottleneck

    method = METHODS.get(cfg.method)
    if not method.regularized:
        return {}
    hidden = model.config.hidden_size
    regs = {}
    if cfg.beta > 0:
        regs["info_bottleneck"] = ClubInfoBottleneck(hidden, hidden) if cfg.ib_estimator == "club" \
            else SampledInfoBottleneck()
    if cfg.alpha > 0:
        regs["anchored_feature"] = AnchoredFeatureRegularizer(hidden, cfg.batch_size, cfg.c_low, cfg.c_high)
    return regs
