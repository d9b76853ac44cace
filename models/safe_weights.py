"""Weights files read without trust: pickle formats refused, safetensors hashed.

Shared by infobench checkpoints (checkpoint.py) and checkpoints made elsewhere (external.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from benchmark.core.errors import UserError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def refuse_pickles(ckpt_dir: Path) -> None:
    pickles = sorted(p.name for p in ckpt_dir.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise UserError(
            f"{ckpt_dir}: refusing pickle weight files {pickles}; infobench never unpickles. Convert them once in "
            "a trusted environment: AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True), "
            "then delete the pickle files.")
