"""The one training loop: batching, optimizer, schedule, logging, checkpoints, resume.

A method (models/methods.py) supplies only its step. accelerate places the model on the
device, runs bf16/fp16 autocast on CUDA and wraps the model for multi-process (DDP) runs.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import torch

from benchmark import data as data_registry
from benchmark.core.atomic import atomic_write_text
from benchmark.core.errors import UserError
from models.config import TrainConfig, model_id
from models.train_state import check_resume_config
from models.methods import METHODS, StepContext
from models.prepared import Prepared, build_regularizers, seed_everything  # noqa: F401 (re-exported)
from models.train_log import TrainLog, curve_summary

log = logging.getLogger(__name__)


def prepare(cfg: TrainConfig) -> Prepared:
    from models.backbones import TASK_LABELS, build_task_model
    from models.features import nli_features

    if cfg.task != "nli":
        from models.qa_training import prepare_qa
        return prepare_qa(cfg)
    train = data_registry.load(cfg.train_dataset)
    indices = data_registry.sample_indices(len(train), cfg.max_train, cfg.seed)
    examples = [train.examples[i] for i in indices]
    dev = data_registry.load(cfg.dev_dataset)
    dev_examples = [dev.examples[i] for i in data_registry.sample_indices(len(dev), cfg.max_dev, cfg.seed)]
    seed_everything(cfg.seed)
    model, tokenizer = build_task_model(cfg.backbone, cfg.task, cfg.hidden_dropout, cfg.attention_dropout)
    features, truncated = nli_features(examples, tokenizer, TASK_LABELS["nli"], cfg.max_length)
    data_card = {"dataset": train.name, "source": train.source, "n_examples": len(examples),
                 "n_available": len(train), "skipped": train.skipped, "truncated": truncated,
                 "examples_sha256": train.fingerprint(indices), "dev_dataset": dev.name,
                 "dev_n_examples": len(dev_examples)}
    return Prepared(model, tokenizer, features, dev_examples, data_card, build_regularizers(cfg, model))


def build_optimizer(cfg: TrainConfig, model, regularizers: dict, total_steps: int):
    """AdamW with no decay on biases and LayerNorm weights; the AF critic joins the decay group."""
    from transformers import get_linear_schedule_with_warmup

    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    named = list(model.named_parameters())
    critic = regularizers.get("anchored_feature")
    decay = [p for n, p in named if not any(nd in n for nd in no_decay)]
    decay += list(critic.parameters()) if critic is not None else []
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": [p for n, p in named if any(nd in n for nd in no_decay)], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, eps=1e-8)
    warmup = cfg.warmup_steps if cfg.warmup_steps is not None else math.ceil(0.1 * total_steps)
    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, total_steps), warmup


def batch_order(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The epoch's shuffled batches, a pure function of (seed, epoch) so resume needs only a position."""
    generator = torch.Generator().manual_seed(seed * 1000 + epoch)
    order = torch.randperm(n, generator=generator).tolist()
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train(cfg: TrainConfig, output: Path, resume: bool = False, quiet: bool = False) -> dict:
    """Train, evaluate on the dev set and write the checkpoint; returns its card."""
    from benchmark.core.atomic import exclusive_writer

    output = Path(output)
    _check_output(output, resume)
    if resume:
        check_resume_config(output, cfg.as_dict())
    seed_everything(cfg.seed)
    prepared = prepare(cfg)  # checks backbone and data before any folder is made
    # One trainer per output folder; the lock sits beside it (the folder is replaced when saved).
    with exclusive_writer(output):
        _check_output(output, resume)  # again: another process may have finished it meanwhile
        output.mkdir(parents=True, exist_ok=True)
        return _train_prepared(cfg, output, prepared, resume, quiet)


def _train_prepared(cfg: TrainConfig, output: Path, prepared: Prepared, resume: bool, quiet: bool) -> dict:
    from accelerate import Accelerator

    accelerator = Accelerator(mixed_precision=cfg.mixed_precision, cpu=not torch.cuda.is_available())
    steps_per_epoch = math.ceil(len(prepared.train_features) / cfg.batch_size)
    total_steps = math.ceil(cfg.epochs * steps_per_epoch)
    optimizer, scheduler, warmup = build_optimizer(cfg, prepared.model, prepared.regularizers, total_steps)
    model, optimizer = accelerator.prepare(prepared.model, optimizer)
    regs = {k: v.to(accelerator.device) for k, v in prepared.regularizers.items()}
    ctx = StepContext(hp=cfg, accelerator=accelerator, **regs)
    loop = TrainLoop(cfg, output, model, optimizer, scheduler, regs, accelerator, prepared, total_steps)
    started = time.perf_counter()
    if not resume:
        loop.train_log.start_fresh()
    trained_before = loop.resume() if resume else 0.0
    loop.run(ctx, quiet)
    train_time = trained_before + time.perf_counter() - started
    return loop.finish(train_time, warmup, quiet)


def _check_output(output: Path, resume: bool) -> None:
    from models.checkpoint import CARD_FILE

    if (output / CARD_FILE).exists():
        raise UserError(f"{output} already holds a finished checkpoint; choose another --output")
    if resume:
        return
    if (output / "train_state").exists():
        raise UserError(f"{output} already holds a checkpoint or an interrupted run; "
                        "pass --resume to continue it or choose another --output")


class TrainLoop:
    """Runs the optimizer steps, saving resumable state every `save_every` steps."""

    def __init__(self, cfg, output, model, optimizer, scheduler, regs, accelerator, prepared, total_steps):
        self.cfg, self.output, self.model = cfg, output, model
        self.optimizer, self.scheduler, self.regs = optimizer, scheduler, regs
        self.accelerator, self.prepared, self.total_steps = accelerator, prepared, total_steps
        self.step, self.train_time_before = 0, 0.0
        self.method = METHODS.get(cfg.method)
        self.last_losses: dict = {}
        self.train_log = TrainLog(output)

    def state_modules(self) -> dict:
        return {"model": self.accelerator.unwrap_model(self.model), **self.regs}

    def own_optimizers(self) -> dict:
        """Optimizers that regularizers step themselves (CLUB's q), saved and restored with the run."""
        return {name: reg.own_optimizer() for name, reg in self.regs.items() if hasattr(reg, "own_optimizer")}

    def resume(self) -> float:
        from models.train_state import load_train_state

        progress = load_train_state(self.output, self.state_modules(), self.optimizer, self.scheduler,
                                    self.own_optimizers())
        if progress is None:
            log.info("no saved state in %s: starting from step 0", self.output)
            self.train_log.start_fresh()
            return 0.0
        self.step = progress["step"]
        self.train_log.resume_at(self.step)
        log.info("resuming %s at step %d of %d", self.output, self.step, self.total_steps)
        return progress["train_time_s"]

    def batches(self):
        """(step, batch indices) from the current step on, in the same order as an unbroken run."""
        n = len(self.prepared.train_features)
        per_epoch = math.ceil(n / self.cfg.batch_size)
        rank, world = self.accelerator.process_index, self.accelerator.num_processes
        for step in range(self.step, self.total_steps):
            epoch, position = divmod(step, per_epoch)
            # Under DDP each process takes its slice of the global batch; DDP averages the gradients.
            yield step, batch_order(n, self.cfg.batch_size, self.cfg.seed, epoch)[position][rank::world]

    def run(self, ctx: StepContext, quiet: bool) -> None:
        from tqdm.auto import tqdm

        from models.features import collate

        self.model.train()
        started = time.perf_counter()
        bar = tqdm(total=self.total_steps, initial=self.step, desc=f"train {self.cfg.method}", unit="step",
                   disable=quiet or not self.accelerator.is_main_process)
        for step, indices in self.batches():
            features = [self.prepared.train_features[i] for i in indices]
            batch = {k: v.to(self.accelerator.device) for k, v in collate(self.prepared.tokenizer, features).items()}
            lr = self.scheduler.get_last_lr()[0]  # the rate this step's update uses
            with self.accelerator.autocast():
                self.last_losses = self.method.step(self.model, batch, ctx)
            self.accelerator.clip_grad_norm_(self.model.parameters(), self.cfg.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step = step + 1
            if self.accelerator.is_main_process:
                self.train_log.append(self.step, lr, self.last_losses)
            bar.set_postfix({k: f"{v:.4f}" for k, v in self.last_losses.items() if v}, refresh=False)
            bar.update(1)
            if self.step % self.cfg.save_every == 0 and self.step < self.total_steps:
                self.save_state(self.train_time_before + time.perf_counter() - started)
        bar.close()

    def save_state(self, train_time: float) -> None:
        from models.train_state import save_train_state

        if self.accelerator.is_main_process:
            save_train_state(self.output, self.state_modules(), self.optimizer, self.scheduler,
                             {"step": self.step, "total_steps": self.total_steps, "train_time_s": train_time,
                              "config": self.cfg.as_dict()},
                             self.own_optimizers())
        self.accelerator.wait_for_everyone()

    def finish(self, train_time: float, warmup: int, quiet: bool) -> dict:
        from models.card import build_card
        from models.checkpoint import save_checkpoint
        from models.evaluation import dev_metrics

        model = self.accelerator.unwrap_model(self.model)
        model.eval()
        metrics = dev_metrics(model, self.prepared, self.cfg, quiet)
        card = build_card(self.cfg, model_id(self.cfg), self.prepared.data_card, metrics, train_time,
                          self.total_steps, warmup, str(self.accelerator.device), self.last_losses)
        if not self.accelerator.is_main_process:
            return card
        extra = {"critic": self.regs["anchored_feature"].critic} if "anchored_feature" in self.regs else {}
        if "info_bottleneck" in self.regs and list(self.regs["info_bottleneck"].parameters()):
            extra["club"] = self.regs["info_bottleneck"]
        curve = self.train_log.rows()
        card["training_curve"] = curve_summary(curve)
        card = save_checkpoint(model, self.prepared.tokenizer, card, self.output, extra)
        # save_checkpoint replaced the folder: the full per-step log goes back in beside the card.
        atomic_write_text(self.train_log.path, "".join(json.dumps(row) + "\n" for row in curve))
        import shutil
        shutil.rmtree(self.output / "train_state", ignore_errors=True)
        return card
