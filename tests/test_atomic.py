"""benchmark.core.atomic.staged_directory: the one "stage a folder, then swap it in" used by checkpoints,
train state and the counter-fitted embedding build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.core.atomic import staged_directory

REPO = Path(__file__).resolve().parents[1]


def _old_folder(tmp_path: Path) -> Path:
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "old.txt").write_text("old")
    (target / "shared.txt").write_text("old")
    return target


def test_a_finished_stage_replaces_the_folder_whole_and_leaves_nothing_beside_it(tmp_path):
    target = _old_folder(tmp_path)
    with staged_directory(target) as staging:
        assert staging.parent == tmp_path and staging != target and not any(staging.iterdir())
        (staging / "shared.txt").write_text("new")
        assert (target / "shared.txt").read_text() == "old"  # readers still see the old folder
    assert sorted(p.name for p in target.iterdir()) == ["shared.txt"]
    assert (target / "shared.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no staging or retired folder left
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's 0700


def test_a_new_folder_is_created_with_its_parents(tmp_path):
    with staged_directory(tmp_path / "a" / "b") as staging:
        (staging / "x").write_text("x")
    assert (tmp_path / "a" / "b" / "x").read_text() == "x"


def test_a_failed_stage_leaves_the_old_folder_untouched(tmp_path):
    target = _old_folder(tmp_path)
    with pytest.raises(RuntimeError, match="disk full"):
        with staged_directory(target) as staging:
            (staging / "shared.txt").write_text("half")
            raise RuntimeError("disk full")
    assert sorted(p.name for p in target.iterdir()) == ["old.txt", "shared.txt"]
    assert (target / "shared.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]


def test_a_process_killed_mid_stage_leaves_the_old_folder_untouched(tmp_path):
    target = _old_folder(tmp_path)
    code = ("import sys, time\nfrom pathlib import Path\nfrom benchmark.core.atomic import staged_directory\n"
            "with staged_directory(Path(sys.argv[1])) as staging:\n"
            "    (staging / 'shared.txt').write_text('half')\n"
            "    print('staged', flush=True)\n"
            "    time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True,
                               cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert process.stdout.readline().strip() == "staged"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert (target / "shared.txt").read_text() == "old" and (target / "old.txt").exists()


def test_read_json_file_names_the_file_for_bad_or_hostile_json(tmp_path):
    from benchmark.core.atomic import read_json_file
    from benchmark.core.errors import UserError

    good, bad, deep = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "deep.json"
    good.write_text('{"a": [1, 2]}')
    bad.write_text('{"a": ')
    deep.write_text("[" * 200_000 + "]" * 200_000)  # json recurses per level: RecursionError, not a crash
    assert read_json_file(good) == {"a": [1, 2]}
    with pytest.raises(UserError, match=r"bad\.json: not valid JSON \(Expecting value"):
        read_json_file(bad)
    with pytest.raises(UserError, match=r"deep\.json: not a card \(nested too deeply\)"):
        read_json_file(deep, "a card")
