"""Crash-safe file writing: whole files are replaced atomically, logs are append-only.

Errors the user's machine causes (disk full, no permission, read-only file system) become
UserErrors naming the path; a run's files have one writer at a time (`exclusive_writer`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from benchmark.core.errors import UserError

# OS errors a user can fix (free space, permissions, a read-only mount), not bugs of ours.
USER_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
                errno.EACCES: "permission denied", errno.EROFS: "read-only file system",
                errno.EISDIR: "is a folder, not a file", errno.ENOTDIR: "a part of the path is a file"}
LOCK_WAIT_S = 2.0  # a second writer waits this long for the first before giving up


@contextlib.contextmanager
def user_io_errors(path: str | Path, doing: str = "writing"):
    """Turn an OS error the user can fix into a UserError naming `path` and what was kept."""
    try:
        yield
    except OSError as err:
        if err.errno not in USER_ERRNOS:
            raise
        raise UserError(f"{USER_ERRNOS[err.errno]} while {doing} {path}; what was written before is intact "
                        "(no partial file replaced it). Fix the cause and rerun the same command.") from None


@contextlib.contextmanager
def exclusive_writer(path: str | Path, wait_s: float = LOCK_WAIT_S):
    """Hold an advisory OS lock (filelock) on `path` for the block; a second writer gets a UserError.

    The lock file is hidden (".NAME.lock") beside `path`. The OS releases the lock when its
    holder dies, even by SIGKILL, so a stale lock file from a crashed run is simply taken over.
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    with user_io_errors(path.parent, "creating"):
        path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_file(path), timeout=wait_s)
    try:
        lock.acquire()
    except Timeout:
        raise UserError(f"another infobench process is writing {path} (lock held for over {wait_s:g} s); "
                        "wait for it to finish, then rerun this command (it resumes), or use another "
                        "--results/--output folder") from None
    try:
        yield
    finally:
        lock.release()


def lock_file(path: str | Path) -> Path:
    """The hidden lock file `exclusive_writer` uses for `path`."""
    path = Path(path)
    return path.parent / f".{path.name}.lock"


def remove_stale_temps(folder: str | Path, names: list[str]) -> list[Path]:
    """Delete temporary files a killed `atomic_write_*` left for `names` in `folder` (call under the lock)."""
    removed = []
    for name in names:
        for tmp in Path(folder).glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it."""
    path = Path(path)
    with user_io_errors(path):
        _replace_atomically(path, data)
    fsync_dir(path.parent)


def _replace_atomically(path: Path, data: bytes) -> None:
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


@contextlib.contextmanager
def staged_directory(target: str | Path) -> Iterator[Path]:
    """Yield an empty directory beside `target` to fill; on success it replaces `target` whole.

    A reader sees the old directory or the new one, never a half-written one: the
    staging directory is renamed into place only after the body finished. If the body
    raises, the staging directory is removed and `target` is left as it was. (A crash
    between the two renames of the swap leaves no `target`: callers treat that as absent.)
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; published folders follow the umask
        yield staging
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, target: Path) -> None:
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, retired)
    os.replace(staging, target)
    fsync_dir(target.parent)
    shutil.rmtree(retired, ignore_errors=True)


def append_jsonl(path: str | Path, obj) -> None:
    """Append one JSON line and fsync it: a line is either fully on disk or not at all."""
    append_jsonl_lines(path, [obj])


def append_jsonl_lines(path: str | Path, objs: list) -> None:
    """Append JSON lines with one write and one fsync (a batch of results: one fsync, not one per line).

    A crash or a full disk mid-write leaves whole lines and at most one torn last line, which
    `read_jsonl_log` drops on the next read.
    """
    text = "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in objs)
    with user_io_errors(path, "appending to"):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())


def read_json_file(path: str | Path, what: str = "valid JSON"):
    """A JSON document, or a UserError "<path>: not <what> (why)". json's parser recurses per
    nesting level, so a hostile file could crash the reader with RecursionError: caught too."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not {what} ({err})") from None
    except RecursionError:
        raise UserError(f"{path}: not {what} (nested too deeply)") from None


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
    for line_no, raw in enumerate(complete.split(b"\n") if complete else [], start=1):
        if raw.strip():
            yield parse_json_line(raw, f"{path}:{line_no}")


def parse_json_line(raw: bytes, where: str) -> dict:
    """One log line as a dict; a damaged line is a UserError naming the file and line."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{where}: damaged line in a per-example log ({err}); move the file away and rerun "
                        "to start that run fresh") from None
    except RecursionError:
        raise UserError(f"{where}: a value nested too deeply to read; move the file away and rerun") from None
    if not isinstance(value, dict):
        raise UserError(f"{where}: a log line must be a JSON object, got {type(value).__name__}; move the file "
                        "away and rerun")
    return value
