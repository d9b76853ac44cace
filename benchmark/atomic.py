"""Crash-safe file writing: whole files are replaced atomically, logs are append-only."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Iterator


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; published files follow the umask
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj) -> None:
    """Deterministic JSON (sorted keys, fixed indent), written atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def fsync_dir(directory: str | Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_jsonl(path: str | Path, obj) -> None:
    """Append one JSON line and fsync it: a line is either fully on disk or not at all."""
    append_jsonl_lines(path, [obj])


def append_jsonl_lines(path: str | Path, objs: list) -> None:
    """Append JSON lines with one write and one fsync (a batch of results: one fsync, not one per line).

    A crash mid-write leaves whole lines and at most one torn last line, which `read_jsonl_log` drops.
    """
    text = "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in objs)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def read_jsonl_log(path: str | Path) -> Iterator[dict]:
    """Read an append-only log, dropping a torn last line left by a crash mid-write."""
    path = Path(path)
    if not path.exists():
        return
    data = path.read_bytes()
    complete, _, torn = data.rpartition(b"\n")
    if torn:  # a crash cut the last line: remove it so the next append starts clean
        with open(path, "r+b") as handle:
            handle.truncate(len(complete) + 1 if complete else 0)
    for raw in complete.split(b"\n") if complete else []:
        if raw.strip():
            yield json.loads(raw)
