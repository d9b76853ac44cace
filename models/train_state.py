"""Resumable training state without pickle: tensors in safetensors, the rest in JSON."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch

from benchmark.core.atomic import atomic_write_json, staged_directory
from benchmark.core.errors import UserError

STATE_DIR = "train_state"


def save_train_state(out_dir: Path, modules: dict, optimizer, scheduler, progress: dict,
                     own_optimizers: dict | None = None) -> None:
    """Atomically replace out_dir/train_state with the full state needed to resume exactly.

    `own_optimizers` are optimizers a regularizer steps itself (CLUB's q), saved by name.
    """
    from safetensors.torch import save_file

    tensors, meta = {}, {"progress": progress}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"module/{name}/{key}"] = value.detach().cpu().contiguous()
    meta["param_groups"] = _save_optimizer(optimizer, "optim/", tensors)
    meta["own_optimizers"] = {name: _save_optimizer(own, f"own_optim/{name}/", tensors)
                              for name, own in (own_optimizers or {}).items()}
    meta["scheduler"] = {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"}
    tensors["rng/torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda{i}"] = state
    meta["rng_python"] = _jsonable(random.getstate())
    meta["rng_numpy"] = _jsonable(np.random.get_state())
    with staged_directory(out_dir / STATE_DIR) as staging:
        save_file(tensors, staging / "state.safetensors")
        atomic_write_json(staging / "state.json", meta)


def load_train_state(out_dir: Path, modules: dict, optimizer, scheduler,
                     own_optimizers: dict | None = None) -> dict | None:
    """Restore everything saved by save_train_state; returns its progress dict, or None if absent."""
    from safetensors.torch import load_file

    state_dir = out_dir / STATE_DIR
    if not (state_dir / "state.json").is_file():
        return None
    tensors = load_file(state_dir / "state.safetensors")
    meta = json.loads((state_dir / "state.json").read_text())
    for name, module in modules.items():
        prefix = f"module/{name}/"
        module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    optimizer.load_state_dict({"state": _optimizer_slots(tensors, "optim/"), "param_groups": meta["param_groups"]})
    saved_own = meta.get("own_optimizers", {})
    for name, own in (own_optimizers or {}).items():
        if name not in saved_own:
            raise UserError(f"{state_dir} holds no state for the {name} optimizer (saved by an older "
                            "infobench); it cannot resume exactly: start again with another --output")
        own.load_state_dict({"state": _optimizer_slots(tensors, f"own_optim/{name}/"),
                             "param_groups": saved_own[name]})
    scheduler.load_state_dict({**scheduler.state_dict(), **meta["scheduler"]})
    torch.set_rng_state(tensors["rng/torch"])
    cuda_states = [tensors[k] for k in sorted(tensors) if k.startswith("rng/cuda")]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    random.setstate(_python_state(meta["rng_python"]))
    kind, keys, pos, has_gauss, gauss = meta["rng_numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    return meta["progress"]


def _save_optimizer(optimizer, prefix: str, tensors: dict) -> list:
    """Put the optimizer's per-parameter slots into `tensors` under `prefix`; returns its param groups."""
    state = optimizer.state_dict()
    for param_id, slots in state["state"].items():
        for slot, value in slots.items():
            tensors[f"{prefix}{param_id}/{slot}"] = torch.as_tensor(value).cpu().contiguous()
    return state["param_groups"]


def _optimizer_slots(tensors: dict, prefix: str) -> dict:
    slots: dict = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            param_id, slot = key[len(prefix):].split("/", 1)
            slots.setdefault(int(param_id), {})[slot] = value
    return slots


def _jsonable(value):
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _python_state(value):
    version, internal, gauss = value
    return version, tuple(internal), gauss
