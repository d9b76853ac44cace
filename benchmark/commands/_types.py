"""Argument types that check numeric flags, devices and output paths at the boundary.

argparse calls these while parsing, so a bad value stops the command before anything is
loaded or written, with argparse's usual one-line error and exit code 2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

MAX_SEED = 2**32 - 1  # numpy's legacy seeding (used by training) takes 32-bit seeds


def _number(text: str, kind):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") \
            from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def seed(text: str) -> int:
    value = _number(text, int)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0 to {MAX_SEED}, got {value}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value:g}")
    return value


def non_negative_float(text: str) -> float:
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value:g}")
    return value


def fraction(text: str) -> float:
    value = _number(text, float)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value:g}")
    return value


def device(text: str) -> str:
    """cpu, cuda or cuda:i, checked against what torch sees here (torch is imported only when given)."""
    kind, _, index = text.partition(":")
    if kind == "cpu" and not index:
        return text
    if kind != "cuda" or (index and not index.isdigit()):
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:i, got {text!r}")
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise argparse.ArgumentTypeError(f"{text} asked for, but torch sees no CUDA device on this machine; "
                                         "use --device cpu (or leave --device out)")
    if index and int(index) >= count:
        raise argparse.ArgumentTypeError(f"{text} asked for, but this machine has {count} CUDA device(s) "
                                         f"(cuda:0..cuda:{count - 1})")
    return text


def folder(text: str) -> Path:
    """A folder to write into: it may not exist yet, but must not be an existing file."""
    path = Path(text)
    for part in (path, *path.parents):  # the nearest existing part decides: "file.txt/sub" fails too
        if part.exists():
            if not part.is_dir():
                raise argparse.ArgumentTypeError(f"{part} is an existing file, not a folder; give a folder path")
            break
    return path
