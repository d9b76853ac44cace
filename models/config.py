"""Typed training configuration, the released presets, and validation at the boundary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from benchmark.core.errors import UserError

# Released configurations (docs/INFOBERT.md section 5). FreeLB uses the same adversarial
# values with beta = alpha = 0; standard ignores them.
PRESETS = {
    "nli": dict(lr=2e-5, batch_size=32, max_length=128, epochs=3, weight_decay=1e-5, beta=5e-3, alpha=5e-3,
                c_low=0.5, c_high=0.9, adv_lr=4e-2, adv_init_mag=8e-2, adv_max_norm=0.0, adv_steps=3,
                hidden_dropout=0.1, attention_dropout=0.0),
    "qa": dict(lr=3e-5, batch_size=32, max_length=384, doc_stride=128, epochs=2, weight_decay=0.0, beta=5e-5,
               alpha=5e-3, c_low=0.75, c_high=0.95, adv_lr=2e-2, adv_init_mag=2e-2, adv_max_norm=4e-2,
               adv_steps=2, hidden_dropout=0.1, attention_dropout=0.1),
}
TASK_DATASETS = {"nli": ("snli-train", "snli-dev"), "qa": ("squad-train", "squad-dev-heldout")}
# Per-method adjustments of the task preset (before the user's overrides). PGD's L2 radius is our
# choice (FreeLB's released NLI values set none); the discrete methods use no embedding perturbation.
METHOD_PRESETS = {
    "standard": dict(adv_steps=0, beta=0.0, alpha=0.0),
    "freelb": dict(beta=0.0, alpha=0.0),
    "infobert-std": dict(adv_steps=0),
    "pgd": dict(beta=0.0, alpha=0.0, adv_max_norm=0.1),
    "a2t": dict(adv_steps=0, beta=0.0, alpha=0.0),
    "safer": dict(adv_steps=0, beta=0.0, alpha=0.0),
}
TASK_ALIASES = {"snli": "nli", "nli": "nli", "squad": "qa", "qa": "qa"}


@dataclass
class TrainConfig:
    method: str = "standard"
    backbone: str = "minilm-l6"
    task: str = "nli"
    train_dataset: str | None = None
    dev_dataset: str | None = None
    max_train: int | None = None
    max_dev: int | None = 2000
    epochs: float = 3
    batch_size: int = 32
    lr: float = 2e-5
    warmup_steps: int | None = None  # None: 10% of the optimizer steps
    weight_decay: float = 1e-5
    max_grad_norm: float = 1.0
    max_length: int = 128
    doc_stride: int = 128
    seed: int = 42
    adv_steps: int = 3
    adv_lr: float = 4e-2
    adv_init_mag: float = 8e-2
    adv_max_norm: float = 0.0
    beta: float = 5e-3
    alpha: float = 5e-3
    c_low: float = 0.5
    c_high: float = 0.9
    ib_estimator: str = "sampled"  # sampled (released) | club (paper)
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.0
    mixed_precision: str = "no"  # no | bf16 | fp16 (CUDA)
    save_every: int = 200
    eval_batch_size: int = 128
    # A2T (models/discrete_at.py): share of each batch attacked, max share of words swapped, queries per batch.
    a2t_share: float = 0.25
    a2t_max_rate: float = 0.1
    a2t_query_budget: int = 256
    # PGD (models/pgd.py): weight of the clean loss beside the loss at the last perturbation. 0 is
    # Madry et al.'s pure worst case, which collapsed to uniform predictions in the zoo's run.
    pgd_clean_weight: float = 0.5

    def validate(self) -> "TrainConfig":
        from models.methods import METHODS

        self._check_types()
        METHODS.canonical(self.method)
        checks = [
            (self.task in PRESETS, f"task must be one of {sorted(TASK_ALIASES)}"),
            (self.epochs > 0, "epochs must be positive"),
            (self.batch_size > 0, "batch size must be positive"),
            (self.lr > 0, "learning rate must be positive"),
            (self.max_length >= 16, "max length must be at least 16"),
            (self.doc_stride >= 0, "doc stride must be >= 0"),
            (self.adv_steps >= 0, "adv steps must be >= 0"),
            (self.method != "infobert-std" or self.adv_steps == 0,
             "infobert-std trains without adversarial steps (--adv-steps 0); use --method infobert for K > 0"),
            (0 <= self.c_low <= self.c_high <= 1, "need 0 <= c_low <= c_high <= 1"),
            (self.ib_estimator in ("sampled", "club"), "ib estimator must be sampled or club"),
            (self.mixed_precision in ("no", "bf16", "fp16"), "mixed precision must be no, bf16 or fp16"),
            (self.max_train is None or self.max_train > 0, "max train must be positive"),
            (self.max_dev is None or self.max_dev > 0, "max dev must be positive"),
            (0 <= self.seed < 2**32, "seed must be a whole number from 0 to 2**32 - 1"),
            (self.warmup_steps is None or self.warmup_steps >= 0, "warmup steps must be >= 0"),
            (0 <= self.hidden_dropout < 1 and 0 <= self.attention_dropout < 1, "dropout must be in [0, 1)"),
            (self.save_every > 0, "save every must be positive"),
            (self.method not in ("a2t", "safer") or self.task == "nli",
             "a2t and safer substitute words in NLI hypotheses/premises: use --task snli"),
            (0 <= self.a2t_share <= 1 and 0 < self.a2t_max_rate <= 1 and self.a2t_query_budget >= 0,
             "need 0 <= a2t share <= 1, 0 < a2t max rate <= 1 and a2t query budget >= 0"),
            (min(self.adv_lr, self.adv_init_mag, self.adv_max_norm, self.beta, self.alpha) >= 0,
             "adversarial magnitudes and regularizer weights must be >= 0"),
            (0 <= self.pgd_clean_weight <= 1, "pgd clean weight must be in [0, 1]"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(f"invalid training configuration: {message}")
        return self

    def _check_types(self) -> None:
        """Each field against its annotation ("int", "float | None", ...): ints pass as floats, bools never."""
        allowed = {"int": (int,), "float": (int, float), "str": (str,)}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            options = [t.strip() for t in str(spec.type).split("|")]
            if value is None and "None" in options:
                continue
            kinds = tuple(k for t in options for k in allowed.get(t, ()))
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise UserError(f"invalid training configuration: {spec.name} must be {' or '.join(options)}, "
                                f"got {value!r}")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def resolve_config(method: str, task: str, overrides: dict) -> TrainConfig:
    """Preset for the task, adjusted for the method, then the user's explicit overrides."""
    if task not in TASK_ALIASES:
        raise UserError(f"unknown task {task!r}; expected one of {sorted(TASK_ALIASES)}")
    task = TASK_ALIASES[task]
    values = dict(PRESETS[task])
    values.update(METHOD_PRESETS.get(method, {}))
    train_set, dev_set = TASK_DATASETS[task]
    values.update(train_dataset=train_set, dev_dataset=dev_set)
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"unknown training options {unknown}")
    return TrainConfig(method=method, task=task, **values).validate()


def model_id(cfg: TrainConfig) -> str:
    from pathlib import Path

    backbone = Path(cfg.backbone).name if "/" in cfg.backbone else cfg.backbone
    task_name = {"nli": "snli", "qa": "squad"}[cfg.task] if cfg.train_dataset in ("snli-train", "squad-train") \
        else cfg.train_dataset
    return f"{cfg.method}-{backbone}-{task_name}-s{cfg.seed}"
