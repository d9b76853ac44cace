"""Shared fixtures: real local data, a tiny random BERT backbone built here, the real MiniLM."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = os.environ.get("INFOBENCH_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("INFOBENCH_DATA is not set to the shared data folder")
    return Path(root)


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> str:
    """A 2-layer, 64-wide random BERT with MiniLM's real tokenizer, saved as a local backbone."""
    import torch
    import transformers

    from models.backbones import resolve_backbone

    out = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=30522, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=128, max_position_embeddings=512)
    transformers.BertModel(config).save_pretrained(out, safe_serialization=True)
    transformers.AutoTokenizer.from_pretrained(resolve_backbone("minilm-l6")).save_pretrained(out)
    return str(out)


@pytest.fixture()
def run_cli(monkeypatch, capsys):
    """Run `infobench ARGS` in-process; returns (exit code, stdout, stderr), argparse's own exits included."""
    from benchmark.cli import main

    def _run(*argv: str):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse rejects a flag (or prints --help) by exiting
            code = exit_.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


def loss_before_and_after_steps(method: str, cfg, model, batch, steps: int = 6):
    """Run `steps` optimizer steps of a training method on one batch: (loss before, loss after, last figures).

    Shared by the NLI and QA method tests so both drive the real step the same way.
    """
    import torch
    from accelerate import Accelerator

    from models.methods import METHODS, StepContext
    from models.training import build_regularizers

    regs = build_regularizers(cfg, model)
    assert bool(regs) == METHODS.get(method).regularized
    params = list(model.parameters()) + [p for r in regs.values() for p in r.parameters()]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr)
    ctx = StepContext(hp=cfg, accelerator=Accelerator(cpu=True), **regs)

    def eval_loss():
        model.eval()
        with torch.no_grad():
            return float(model(**batch).loss)

    before = eval_loss()
    figures = {}
    for _ in range(steps):
        model.train()
        figures = METHODS.get(method).step(model, batch, ctx)
        optimizer.step()
        optimizer.zero_grad()
    return before, eval_loss(), figures
