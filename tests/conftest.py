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
    """Run `infobench ARGS` in-process; returns (exit code, stdout, stderr)."""
    from benchmark.cli import main

    def _run(*argv: str):
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run
