"""Validity work (issue 17): case-insensitive stopwords, the substitute's calibrated word-cosine
threshold, the strict recipes, offline validity flags and the validity-filtered metric, `show`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from attack_helpers import small_substitute_embedding

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "results" / "records" / "infobert-minilm-l6-snli-s42__attack__snli-test__textfooler-n200-s0.json"


@pytest.fixture(autouse=True)
def nltk_data():
    if not os.environ.get("NLTK_DATA"):
        pytest.skip("NLTK_DATA is not set to the shared nltk_data folder")


# ---- stopwords --------------------------------------------------------------------------------

def test_sentence_initial_stopword_is_protected_by_the_recipes_component():
    from attacks import textfooler
    from attacks._components import components
    from benchmark.resources import import_textattack

    textattack = import_textattack()
    text = textattack.shared.AttackedText("A man plays the guitar.")
    swap = components().WordSwapWordNet()
    stock = textattack.constraints.pre_transformation.StopwordModification(stopwords=set(textfooler.STOPWORDS))
    ours = components().StopwordModification(stopwords=set(textfooler.STOPWORDS))
    # TextAttack's own check lets WordNet replace the capitalised "A" (angstrom, vitamin A, ...).
    assert any(t.words[0] != "A" for t in swap(text, pre_transformation_constraints=[stock]))
    candidates = swap(text, pre_transformation_constraints=[ours])
    assert candidates, "the other words must still be swappable"
    assert all(t.words[0] == "A" and t.words[3] == "the" for t in candidates)
    assert "(case_insensitive):  True" in repr(ours)  # records (and resumed logs) tell the rules apart


def test_every_builtin_recipe_protecting_stopwords_uses_the_case_insensitive_check():
    from attacks import pwws
    from attacks._components import components

    # The model is not what this checks: the recipe's constraints are.
    attack = pwws.build(SimpleNamespace(model=object()), SimpleNamespace(nltk=lambda: None))
    kinds = [type(c) for c in attack.pre_transformation_constraints]
    assert components().StopwordModification in kinds
    text = "The dog"
    from benchmark.resources import import_textattack

    checker = next(c for c in attack.pre_transformation_constraints if type(c) is components().StopwordModification)
    assert checker._get_modifiable_indices(import_textattack().shared.AttackedText(text)) == {1}


# ---- calibration and the strict recipes --------------------------------------------------------

@pytest.fixture(scope="module")
def substitute(tmp_path_factory, data_root):
    home = tmp_path_factory.getbasetemp() / "validity-infobench-home"
    small_substitute_embedding(home)
    return home


def test_calibration_admits_about_the_reference_sets(substitute, data_root, monkeypatch):
    from benchmark import resources
    from benchmark.resources.calibration import translate

    monkeypatch.setenv("INFOBENCH_HOME", str(substitute))
    monkeypatch.setenv("TA_CACHE_DIR", str(substitute / "ta-cache"))
    embedding, info = resources.word_embedding()
    calibration = info.calibration
    assert calibration["threshold"] > 0.5
    assert calibration["agreement"]["f1"] > calibration["uncalibrated"]["f1"]
    gap = abs(calibration["agreement"]["mean_admitted"] - calibration["reference_mean_size"])
    assert gap < abs(calibration["uncalibrated"]["mean_admitted"] - calibration["reference_mean_size"])
    assert "calibrated:cos0.5->" in info.identity and info.as_record()["calibration"] == calibration
    # TextFooler's 0.5 and Morris et al.'s 0.9 in the substitute's terms, order kept.
    default, strict = (resources.word_cosine_threshold(embedding, c) for c in (0.5, 0.9))
    assert default == pytest.approx(calibration["threshold"]) and calibration["threshold"] < strict < 1
    assert translate(1.0, calibration) == 1.0 and translate(0.9, None) == 0.9


def test_strict_recipes_follow_morris_et_al():
    from attacks.registry import get_recipe

    for name in ("textfooler-strict", "pwws-strict"):
        recipe = get_recipe(name)
        assert recipe.defaults["min_cos_sim"] == 0.9 and recipe.defaults["use_threshold"] == 0.98
        assert "LanguageTool" in recipe.paper and {"word_embedding", "sentence_encoder"} <= set(recipe.resources)


# ---- validity flags ----------------------------------------------------------------------------

@pytest.mark.parametrize("original, perturbed, flag", [
    ("A man is good at chess.", "A man is bad at chess.", "antonym"),
    ("A man is sleeping.", "A dawg is sleeping.", "non_word"),
    ("A woman is touching the ground.", "A woman is implication the ground.", "pos_changed"),
    ("A family is at the beach.", "every family is at the beach.", "case_changed"),
    ("The man sits.", "The man, sits.", "punctuation_changed"),
])
def test_each_flag_on_a_hand_made_pair(original, perturbed, flag):
    from benchmark.metrics.validity import example_flags

    validity = example_flags(original, perturbed, similarity=0.99)
    assert flag in validity["flags"] and validity["flagged"]


def test_a_synonym_swap_raises_no_flag_and_low_similarity_does():
    from benchmark.metrics.validity import SIMILARITY_FLOOR, example_flags

    clean = example_flags("A man is big.", "A man is large.", similarity=0.95)
    assert clean == {"swaps": [["big", "large"]], "similarity": 0.95, "flags": [], "flagged": False}
    assert example_flags("A man is big.", "A man is large.", SIMILARITY_FLOOR - 0.01)["flags"] == ["low_similarity"]


def _entry(result, flagged=None):
    validity = None if flagged is None else {"swaps": [], "similarity": 0.9, "flags": ["antonym"] if flagged else [],
                                             "flagged": flagged}
    return {"result": result, "budget_exhausted": False, "truncated": False, "words_perturbed_pct": 10.0,
            "queries": 5, "similarity": 0.9, "seconds": 0.1, "validity": validity}


def test_validity_filtered_metric_on_a_small_log():
    from benchmark.metrics.attack import counts_from_log, metrics_from_log

    log = [_entry("skipped"), _entry("failed"), _entry("failed"), _entry("successful", flagged=True),
           _entry("successful", flagged=False), _entry("successful", flagged=False)]
    metrics, counts = metrics_from_log(log), counts_from_log(log)
    assert metrics["accuracy_under_attack"] == pytest.approx(2 / 6)  # the raw figure is untouched
    assert metrics["accuracy_under_attack_validity_filtered"] == pytest.approx(3 / 6)
    assert metrics["attack_success_rate_validity_filtered"] == pytest.approx(2 / 5)
    assert metrics["validity_flagged_share"] == pytest.approx(1 / 3)
    assert counts["validity_checked"] == 3 and counts["validity_flagged"] == 1 and counts["validity_flag_antonym"] == 1


def test_logs_without_validity_get_no_validity_figures():
    from benchmark.metrics.attack import metrics_from_log

    log = [{k: v for k, v in _entry(kind).items() if k != "validity"} for kind in ("failed", "successful")]
    assert not any("validity" in key for key in metrics_from_log(log))


# ---- infobench show ----------------------------------------------------------------------------

def test_show_marks_the_swapped_words_of_a_committed_record(run_cli):
    code, out, _ = run_cli("show", str(COMMITTED), "--successful", "-n", "2")
    assert code == 0
    assert "2 of 146 successful examples" in out
    assert "hypothesis: [[A]] family is at the beach." in out and "perturbed:  [[every]] family" in out
    assert "entailment -> neutral" in out and "queries 11" in out and "case_changed" in out
    code, out, _ = run_cli("show", COMMITTED.stem, "--failed", "-n", "0", "--results", str(REPO / "results"))
    failed = [json.loads(line) for line in COMMITTED.with_suffix(".examples.jsonl").read_text().splitlines()[1:]]
    assert code == 0 and out.count("  failed  ") == sum(e["result"] == "failed" for e in failed)


def test_show_rejects_an_unknown_record(run_cli):
    code, _, err = run_cli("show", "no-such-record")
    assert code == 2 and "no record" in err
